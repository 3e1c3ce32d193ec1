"""directory copy: one slim copy of intake's units and parties

Revision ID: 0005_directory_copy
Revises: 0004_sites
Create Date: 2026-12-02 03:40:19.883796
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_directory_copy'
down_revision = '0004_sites'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows copied before this revision lack the columns this service did not keep: they get placeholders
    # (never read by this service's code so far) until intake's next event about the row replaces them.
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pays', sa.Boolean(), nullable=True))

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('floor', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('area_m2', sa.Numeric(precision=10, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('use', sa.String(length=16), nullable=False, server_default='other'))
        batch_op.add_column(sa.Column('paying_party_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('paying_party_id')
        batch_op.drop_column('use')
        batch_op.drop_column('area_m2')
        batch_op.drop_column('floor')
        batch_op.drop_column('number')

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('pays')
