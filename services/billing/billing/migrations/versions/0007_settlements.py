"""settlements: intake's settlement requests (move-out, transfer) and billing's answer to each

Revision ID: 0007_settlements
Revises: 0006_request_traces
Create Date: 2026-12-02 10:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_settlements'
down_revision = '0006_request_traces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'settlements',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('procedure', sa.String(length=16), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('party_id', sa.String(length=64), nullable=False),
        sa.Column('move_out_date', sa.Date(), nullable=False),
        sa.Column('final_readings', sa.JSON(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared', sa.Boolean(), nullable=False),
        sa.Column('balance_cents', sa.BigInteger(), nullable=False),
        sa.Column('owed_cents', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_settlements_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlements_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_settlements_cleared'), ['cleared'], unique=False)


def downgrade() -> None:
    op.drop_table('settlements')
