"""dunning: each site's ladder, the steps taken per arrears episode with their contacts, the valid complaints and
instalment plans that hold dunning

Revision ID: 0015_dunning
Revises: 0014_month_closes
Create Date: 2026-12-03 08:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_dunning'
down_revision = '0014_month_closes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dunning_ladders',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_dunning_ladders'))
    )
    op.create_table('dunning_steps',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('episode', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('days_overdue', sa.Integer(), nullable=False),
    sa.Column('overdue_cents', sa.BigInteger(), nullable=False),
    sa.Column('payer_party_id', sa.String(length=64), nullable=True),
    sa.Column('extra_care', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_steps')),
    sa.UniqueConstraint('unit_id', 'episode', 'action', name='uq_dunning_steps_episode_action')
    )
    with op.batch_alter_table('dunning_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_steps_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_steps_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dunning_steps_unit_id'), ['unit_id'], unique=False)
    op.create_table('dunning_contacts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('promised_on', sa.Date(), nullable=True),
    sa.Column('made_by', sa.String(length=128), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_contacts'))
    )
    with op.batch_alter_table('dunning_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dunning_contacts_step_id'), ['step_id'], unique=False)
    op.create_table('complaint_holds',
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_complaint_holds'))
    )
    with op.batch_alter_table('complaint_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_holds_unit_id'), ['unit_id'], unique=False)
    op.create_table('installment_plans',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('agreed_by', sa.String(length=128), nullable=False),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_plans'))
    )
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_installment_plans_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_installment_plans_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_installment_plans_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('installment_plans')
    op.drop_table('complaint_holds')
    op.drop_table('dunning_contacts')
    op.drop_table('dunning_steps')
    op.drop_table('dunning_ladders')
