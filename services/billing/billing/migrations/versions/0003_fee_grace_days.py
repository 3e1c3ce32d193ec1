"""fee grace days

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sites configured before this column get the default grace (15 days).
    with op.batch_alter_table('site_billing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_grace_days', sa.Integer(), nullable=False, server_default='15'))


def downgrade() -> None:
    with op.batch_alter_table('site_billing', schema=None) as batch_op:
        batch_op.drop_column('fee_grace_days')
