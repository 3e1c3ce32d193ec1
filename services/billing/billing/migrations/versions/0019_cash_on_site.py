"""cash taken on site by the worker who did a paid repair (a payment for one charge), and the workers' daily cash
handovers to a clerk; repair charges keep who did the repair

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charge_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_charge_id'), ['charge_id'], unique=False)
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=64), nullable=True))

    op.create_table('cash_collections',
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('client_key', sa.String(length=40), nullable=False),
    sa.Column('charge_id', sa.String(length=64), nullable=False),
    sa.Column('work_order_id', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('collected_by', sa.String(length=128), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('by_assignee', sa.Boolean(), nullable=False),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collected_on', sa.Date(), nullable=False),
    sa.Column('handover_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_cash_collections')),
    sa.UniqueConstraint('site', 'client_key', name='uq_cash_collections_site_client_key')
    )
    with op.batch_alter_table('cash_collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_collections_charge_id'), ['charge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cash_collections_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index('ix_cash_collections_pending', ['site', 'collected_by', 'collected_on'], unique=False)

    op.create_table('cash_handovers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('worker', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('receipts', sa.BigInteger(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('received_by', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_handovers'))
    )
    with op.batch_alter_table('cash_handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_handovers_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_cash_handovers_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_table('cash_handovers')
    op.drop_table('cash_collections')
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_column('department')
        batch_op.drop_column('worker')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_charge_id'))
        batch_op.drop_column('charge_id')
