"""inspections: decoration inspections carried out as work orders

Revision ID: 0005_inspections
Revises: 0004_request_traces
Create Date: 2026-12-02 10:14:35.927926
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_inspections'
down_revision = '0004_request_traces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspections',
    sa.Column('work_order_id', sa.String(length=64), nullable=False),
    sa.Column('inspection_id', sa.String(length=64), nullable=False),
    sa.Column('permit_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('items', sa.JSON(), nullable=True),
    sa.Column('photos', sa.JSON(), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=True),
    sa.Column('inspector', sa.String(length=128), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('work_order_id', name=op.f('pk_inspections')),
    sa.UniqueConstraint('site', 'inspection_id', name='uq_inspections_site_inspection')
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_permit_id'), ['permit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_permit_id'))

    op.drop_table('inspections')
