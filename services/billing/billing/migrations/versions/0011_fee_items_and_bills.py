"""fee items with effective-dated rates, bills per unit and period; a charge names its fee item and bill

Each site's published management-fee rate becomes its management_fee item, in force from the first period.

Revision ID: 0011_fee_items_and_bills
Revises: 0010_refunds
Create Date: 2026-12-03 06:40:00.000000
"""
import uuid
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0011_fee_items_and_bills'
down_revision = '0010_refunds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    fee_items = op.create_table('fee_items',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('formula', sa.String(length=16), nullable=False),
    sa.Column('cycle_months', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_items')),
    sa.UniqueConstraint('site', 'code', name='uq_fee_items_site_code')
    )
    with op.batch_alter_table('fee_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_items_site'), ['site'], unique=False)

    fee_rates = op.create_table('fee_rates',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('fee_item_id', sa.String(length=64), nullable=False),
    sa.Column('effective_from', sa.String(length=7), nullable=False),
    sa.Column('rate', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('by_use', sa.JSON(), nullable=False),
    sa.Column('vacant_rate', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('set_by', sa.String(length=128), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rates')),
    sa.UniqueConstraint('fee_item_id', 'effective_from', name='uq_fee_rates_item_from')
    )
    with op.batch_alter_table('fee_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_rates_fee_item_id'), ['fee_item_id'], unique=False)

    op.create_table('bills',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('billing_period_id', sa.String(length=64), nullable=False),
    sa.Column('payer_party_id', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('previous_balance_cents', sa.BigInteger(), nullable=False),
    sa.Column('charges_cents', sa.BigInteger(), nullable=False),
    sa.Column('amount_due_cents', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
    sa.UniqueConstraint('site', 'unit_id', 'period', name='uq_bills_unit_period')
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bills_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_item', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('bill_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_charges_bill_id'), ['bill_id'], unique=False)
        batch_op.drop_constraint('uq_charges_unit_kind_period', type_='unique')
        batch_op.create_unique_constraint('uq_charges_unit_fee_period', ['site', 'unit_id', 'fee_item', 'period'])
    op.execute("UPDATE charges SET fee_item = 'management_fee' WHERE kind = 'management_fee'")

    # Each site's published rate: its management_fee item, in force from the first period.
    connection = op.get_bind()
    now = datetime.now(UTC)
    for site, rate in connection.execute(sa.text("SELECT site, fee_rate_per_m2 FROM site_billing")).all():
        item_id = uuid.uuid4().hex
        connection.execute(fee_items.insert().values(
            id=item_id, site=site, code='management_fee', name='Property management fee', formula='area',
            cycle_months=1, active=True, created_at=now, updated_at=now,
        ))
        connection.execute(fee_rates.insert().values(
            id=uuid.uuid4().hex, fee_item_id=item_id, effective_from='2000-01', rate=rate, by_use={},
            vacant_rate=None, set_by='migration', set_at=now,
        ))


def downgrade() -> None:
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_constraint('uq_charges_unit_fee_period', type_='unique')
        batch_op.create_unique_constraint('uq_charges_unit_kind_period', ['site', 'unit_id', 'kind', 'period'])
        batch_op.drop_index(batch_op.f('ix_charges_bill_id'))
        batch_op.drop_column('bill_id')
        batch_op.drop_column('fee_item')
    op.drop_table('bills')
    op.drop_table('fee_rates')
    op.drop_table('fee_items')
