"""request traces: the trace of each correlation, and timers keep the trace context that scheduled them

Revision ID: 0009_request_traces
Revises: 0008_decoration
Create Date: 2026-12-02 10:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# A named revision id: other branches may add their own 0007 to this history at the same time.
revision = '0009_request_traces'
down_revision = '0008_decoration'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An HTTP step on a request's aggregate links to the trace the request lives in (and continues it).
    op.create_table(
        'request_traces',
        sa.Column('correlation_id', sa.String(length=128), nullable=False),
        sa.Column('traceparent', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('correlation_id'),
    )
    op.create_index('ix_request_traces_created_at', 'request_traces', ['created_at'], unique=False)
    # A timer fires inside the trace context that scheduled it.
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('tracestate', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('baggage', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_column('baggage')
        batch_op.drop_column('tracestate')
        batch_op.drop_column('traceparent')
    op.drop_index('ix_request_traces_created_at', table_name='request_traces')
    op.drop_table('request_traces')
