"""meters per unit, building and site with their readings per period; metered fee items (a meter kind) with tiered
tariffs (tiers on a rate version)

Revision ID: 0016_meters
Revises: 0015_dunning
Create Date: 2026-12-03 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_meters'
down_revision = '0015_dunning'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meters',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('building', sa.String(length=32), nullable=True),
    sa.Column('apportion_by', sa.String(length=16), nullable=True),
    sa.Column('opening_reading', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('rollover_at', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('site', 'serial', name='uq_meters_site_serial')
    )
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meters_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_meters_unit_id'), ['unit_id'], unique=False)

    op.create_table('meter_readings',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('meter_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('previous_value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('consumption', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('read_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by', sa.String(length=128), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_readings')),
    sa.UniqueConstraint('meter_id', 'period', name='uq_meter_readings_meter_period')
    )
    with op.batch_alter_table('meter_readings', schema=None) as batch_op:
        batch_op.create_index('ix_meter_readings_site_period', ['site', 'period'], unique=False)

    with op.batch_alter_table('fee_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meter_kind', sa.String(length=16), nullable=True))
    with op.batch_alter_table('fee_rates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tiers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fee_rates', schema=None) as batch_op:
        batch_op.drop_column('tiers')
    with op.batch_alter_table('fee_items', schema=None) as batch_op:
        batch_op.drop_column('meter_kind')
    op.drop_table('meter_readings')
    op.drop_table('meters')
