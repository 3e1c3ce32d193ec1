"""late fees: each site's late-fee terms, late-fee charges (on the charge they are for) and their waivers

Revision ID: 0013_late_fees
Revises: 0012_payment_orders
Create Date: 2026-12-03 07:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_late_fees'
down_revision = '0012_payment_orders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('late_fee_policies',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('daily_rate', sa.Numeric(precision=8, scale=6), nullable=False),
    sa.Column('fixed_cents', sa.BigInteger(), nullable=False),
    sa.Column('cap_pct', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_late_fee_policies'))
    )
    op.create_table('late_fee_waivers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('charge_id', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_fee_waivers'))
    )
    with op.batch_alter_table('late_fee_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_late_fee_waivers_charge_id'), ['charge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_fee_waivers_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_fee_waivers_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_fee_waivers_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_fee_waivers_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_fee_of', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('waived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_charges_late_fee_of'), ['late_fee_of'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charges_late_fee_of'))
        batch_op.drop_column('waived_at')
        batch_op.drop_column('late_fee_of')
    op.drop_table('late_fee_waivers')
    op.drop_table('late_fee_policies')
