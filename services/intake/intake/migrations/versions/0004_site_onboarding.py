"""site onboarding: each site's time zone and when it last changed

Revision ID: 0004_site_onboarding
Revises: 0003_outbox_trace_context
Create Date: 2026-12-01 03:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_site_onboarding'
down_revision = '0003_outbox_trace_context'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sites seeded before this column are in the group's zone.
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False,
                                      server_default='Asia/Shanghai'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('timezone')
