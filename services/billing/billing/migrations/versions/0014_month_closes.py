"""month_closes: a site's closed months, each with its report as it stood

Revision ID: 0014_month_closes
Revises: 0013_late_fees
Create Date: 2026-12-03 07:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_month_closes'
down_revision = '0013_late_fees'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('month_closes',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('closed_by', sa.String(length=128), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('site', 'month', name=op.f('pk_month_closes'))
    )


def downgrade() -> None:
    op.drop_table('month_closes')
