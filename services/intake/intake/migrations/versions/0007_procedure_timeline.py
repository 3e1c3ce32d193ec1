"""procedure timeline: the unit's timeline also holds its site procedures' steps (no request)

Revision ID: 0007_procedure_timeline
Revises: 0006_handover_acceptance
Create Date: 2026-12-02 10:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_procedure_timeline'
down_revision = '0006_handover_acceptance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.alter_column('request_id', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('procedure', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('procedure_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_timeline_procedure_id'), ['procedure_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_procedure_id'))
        batch_op.drop_column('procedure_id')
        batch_op.drop_column('procedure')
        batch_op.alter_column('request_id', existing_type=sa.String(length=64), nullable=False)
