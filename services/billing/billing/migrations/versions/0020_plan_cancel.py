"""an instalment plan can be cancelled: who, when and why

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancelled_by')
