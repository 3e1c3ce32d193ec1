"""directory copy: one slim copy of intake's units and parties

Revision ID: 0005_directory_copy
Revises: 0004_outbox_trace_context
Create Date: 2026-12-02 03:40:08.207131
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_directory_copy'
down_revision = '0004_outbox_trace_context'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows copied before this revision lack the columns this service did not keep: they get placeholders
    # (never read by this service's code so far) until intake's next event about the row replaces them.
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=False, server_default='zh-CN'))
        batch_op.add_column(sa.Column('extra_care', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index('ix_parties_site_active', ['site', 'active'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_site'))
        batch_op.create_index('ix_units_site_building', ['site', 'building'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_site_building')
        batch_op.create_index(batch_op.f('ix_units_site'), ['site'], unique=False)

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index('ix_parties_site_active')
        batch_op.drop_column('extra_care')
        batch_op.drop_column('language')
