"""handover acceptance: the incoming agent accepts the handed-over shift

Revision ID: 0006_handover_acceptance
Revises: 0005_work_facts
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_handover_acceptance'
down_revision = '0005_work_facts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('accepted_by')
