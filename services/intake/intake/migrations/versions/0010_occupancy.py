"""occupancy: move-in, move-out and ownership transfer at the front desk, and each site's checklists

Revision ID: 0010_occupancy
Revises: 0009_request_traces
Create Date: 2026-12-02 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_occupancy'
down_revision = '0009_request_traces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'occupancy_config',
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('move_in_items', sa.JSON(), nullable=False),
        sa.Column('move_out_items', sa.JSON(), nullable=False),
        sa.Column('balance_rule', sa.String(length=16), nullable=False),
        sa.Column('updated_by', sa.String(length=128), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['site'], ['sites.code']),
        sa.PrimaryKeyConstraint('site'),
    )
    op.create_table(
        'occupancy_handovers',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('procedure', sa.String(length=16), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('party_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('checklist', sa.JSON(), nullable=False),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('defect_request_ids', sa.JSON(), nullable=False),
        sa.Column('agent_signed_by', sa.String(length=128), nullable=True),
        sa.Column('agent_signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('owner_signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('owner_signature_key', sa.String(length=300), nullable=True),
        sa.Column('settlement_cleared', sa.Boolean(), nullable=True),
        sa.Column('owed_cents', sa.BigInteger(), nullable=True),
        sa.Column('balance_cents', sa.BigInteger(), nullable=True),
        sa.Column('cancel_reason', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['site'], ['sites.code']),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id']),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('occupancy_handovers', schema=None) as batch_op:
        for column in ('procedure', 'site', 'unit_id', 'party_id', 'status', 'created_at'):
            batch_op.create_index(batch_op.f(f'ix_occupancy_handovers_{column}'), [column], unique=False)
    op.create_table(
        'occupancy_transfers',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('old_party_id', sa.String(length=64), nullable=False),
        sa.Column('new_party_id', sa.String(length=64), nullable=True),
        sa.Column('new_owner', sa.JSON(), nullable=False),
        sa.Column('transfer_date', sa.Date(), nullable=False),
        sa.Column('balance_rule', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('settlement_cleared', sa.Boolean(), nullable=True),
        sa.Column('owed_cents', sa.BigInteger(), nullable=True),
        sa.Column('balance_cents', sa.BigInteger(), nullable=True),
        sa.Column('cancel_reason', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['site'], ['sites.code']),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id']),
        sa.ForeignKeyConstraint(['old_party_id'], ['parties.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('occupancy_transfers', schema=None) as batch_op:
        for column in ('site', 'unit_id', 'old_party_id', 'new_party_id', 'status', 'created_at'):
            batch_op.create_index(batch_op.f(f'ix_occupancy_transfers_{column}'), [column], unique=False)


def downgrade() -> None:
    op.drop_table('occupancy_transfers')
    op.drop_table('occupancy_handovers')
    op.drop_table('occupancy_config')
