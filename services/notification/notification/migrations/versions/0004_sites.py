"""sites: the slim copy of intake's sites (intake.site.upserted.v1)

Revision ID: 0004_sites
Revises: 0003_template_language
Create Date: 2026-12-01 03:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_sites'
down_revision = '0003_template_language'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sites',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('service_center', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_sites'))
    )


def downgrade() -> None:
    op.drop_table('sites')
