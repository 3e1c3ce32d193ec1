"""sites: each site's time zone (from intake.site.upserted.v1), which cuts its days and months

Revision ID: 0009_site_timezones
Revises: 0008_deposits
Create Date: 2026-12-02 20:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_site_timezones'
down_revision = '0008_deposits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sites',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_sites'))
    )


def downgrade() -> None:
    op.drop_table('sites')
