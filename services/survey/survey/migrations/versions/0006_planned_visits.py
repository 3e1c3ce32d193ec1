"""planned_visits: home visits asked for by billing's dunning ladder, open until a visit to the unit is recorded

Revision ID: 0006_planned_visits
Revises: 0005_request_traces
Create Date: 2026-12-03 08:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_planned_visits'
down_revision = '0005_request_traces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planned_visits',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visit_id', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_visits')),
    sa.UniqueConstraint('source_id', name=op.f('uq_planned_visits_source_id'))
    )
    with op.batch_alter_table('planned_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_visits_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_visits_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('planned_visits')
