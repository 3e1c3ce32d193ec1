"""outbox keeps tracestate and baggage beside traceparent

Revision ID: 0003_outbox_trace_context
Revises: 0002
Create Date: 2026-12-01 03:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


# A named revision id: other branches may add their own 0003 to this history at the same time.
revision = '0003_outbox_trace_context'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The relay publishes each row inside the full W3C trace context of the transaction that wrote it.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracestate', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('baggage', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('baggage')
        batch_op.drop_column('tracestate')
