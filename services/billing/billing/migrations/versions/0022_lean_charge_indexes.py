"""leaner indexes on charges and bills, for the monthly run's inserts: no index that is a prefix of a unique one, and
the columns a billing run leaves empty (late fee of, work order, source event) indexed only where they are set

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 23:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

SPARSE = ('late_fee_of', 'work_order_id')


def _set(column: str) -> dict[str, sa.TextClause]:
    where = sa.text(f'{column} IS NOT NULL')
    return {'postgresql_where': where, 'sqlite_where': where}


def upgrade() -> None:
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_index('ix_charges_site_unit')  # uq_charges_unit_fee_period begins with (site, unit_id)
        batch_op.drop_constraint('uq_charges_source_event_id', type_='unique')
        for column in SPARSE:
            batch_op.drop_index(f'ix_charges_{column}')
    for column in SPARSE:
        op.create_index(f'ix_charges_{column}', 'charges', [column], unique=False, **_set(column))
    op.create_index(
        'uq_charges_source_event_id', 'charges', ['source_event_id'], unique=True, **_set('source_event_id')
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index('ix_bills_site')  # uq_bills_unit_period begins with site


def downgrade() -> None:
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index('ix_bills_site', ['site'], unique=False)
    op.drop_index('uq_charges_source_event_id', table_name='charges')
    for column in SPARSE:
        op.drop_index(f'ix_charges_{column}', table_name='charges')
    with op.batch_alter_table('charges', schema=None) as batch_op:
        for column in SPARSE:
            batch_op.create_index(f'ix_charges_{column}', [column], unique=False)
        batch_op.create_unique_constraint('uq_charges_source_event_id', ['source_event_id'])
        batch_op.create_index('ix_charges_site_unit', ['site', 'unit_id'], unique=False)
