"""directory copy: one slim copy of intake's units and parties

Revision ID: 0004_directory_copy
Revises: 0003_outbox_trace_context
Create Date: 2026-12-02 03:40:14.059695
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_directory_copy'
down_revision = '0003_outbox_trace_context'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows copied before this revision lack the columns this service did not keep: they get placeholders
    # (never read by this service's code so far) until intake's next event about the row replaces them.
    op.execute("UPDATE parties SET language = 'zh-CN' WHERE language IS NULL")
    op.execute('UPDATE units SET floor = 0 WHERE floor IS NULL')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('extra_care', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pays', sa.Boolean(), nullable=True))
        batch_op.alter_column('language',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_m2', sa.Numeric(precision=10, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('use', sa.String(length=16), nullable=False, server_default='other'))
        batch_op.add_column(sa.Column('paying_party_id', sa.String(length=64), nullable=True))
        batch_op.alter_column('building',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.String(length=32),
               existing_nullable=False)
        batch_op.alter_column('number',
               existing_type=sa.VARCHAR(length=64),
               type_=sa.String(length=32),
               existing_nullable=False)
        batch_op.alter_column('floor',
               existing_type=sa.INTEGER(),
               nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.alter_column('floor',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('number',
               existing_type=sa.String(length=32),
               type_=sa.VARCHAR(length=64),
               existing_nullable=False)
        batch_op.alter_column('building',
               existing_type=sa.String(length=32),
               type_=sa.VARCHAR(length=64),
               existing_nullable=False)
        batch_op.drop_column('paying_party_id')
        batch_op.drop_column('use')
        batch_op.drop_column('area_m2')

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.alter_column('language',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)
        batch_op.drop_column('pays')
        batch_op.drop_column('extra_care')
        batch_op.drop_column('email')
