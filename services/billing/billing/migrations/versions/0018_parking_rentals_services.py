"""parking spaces, the temporary-parking tariff and gate sessions; rental contracts; the price list of paid services;
income receipts not tied to a unit (temporary parking, outside renters' rent) with their own receipt series

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 11:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parking_spaces',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('zone', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('monthly_fee_cents', sa.BigInteger(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_spaces')),
    sa.UniqueConstraint('site', 'code', name='uq_parking_spaces_site_code')
    )
    with op.batch_alter_table('parking_spaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_spaces_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_parking_spaces_unit_id'), ['unit_id'], unique=False)

    op.create_table('parking_tariffs',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('free_minutes', sa.Integer(), nullable=False),
    sa.Column('hourly_cents', sa.BigInteger(), nullable=False),
    sa.Column('daily_cap_cents', sa.BigInteger(), nullable=False),
    sa.Column('owned_monthly_fee_cents', sa.BigInteger(), nullable=True),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_parking_tariffs'))
    )

    op.create_table('parking_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('open_plate', sa.String(length=16), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(length=128), nullable=False),
    sa.Column('exited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exited_by', sa.String(length=128), nullable=True),
    sa.Column('fee_cents', sa.BigInteger(), nullable=True),
    sa.Column('income_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_sessions')),
    sa.UniqueConstraint('site', 'open_plate', name='uq_parking_sessions_site_open_plate')
    )
    with op.batch_alter_table('parking_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_sessions_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_parking_sessions_plate'), ['plate'], unique=False)
        batch_op.create_index(batch_op.f('ix_parking_sessions_entered_at'), ['entered_at'], unique=False)

    op.create_table('rental_contracts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('renter_name', sa.String(length=120), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('rent_cents', sa.BigInteger(), nullable=False),
    sa.Column('cycle_months', sa.Integer(), nullable=False),
    sa.Column('deposit_cents', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rental_contracts'))
    )
    with op.batch_alter_table('rental_contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rental_contracts_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_rental_contracts_unit_id'), ['unit_id'], unique=False)

    op.create_table('service_items',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('price_cents', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', 'code', name=op.f('pk_service_items'))
    )

    op.create_table('income_receipts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('fee_item', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('settles', sa.String(length=96), nullable=True),
    sa.Column('payer', sa.String(length=120), nullable=False),
    sa.Column('item', sa.String(length=160), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('receipt_seq', sa.BigInteger(), nullable=False),
    sa.Column('receipt_no', sa.String(length=80), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by', sa.String(length=128), nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_receipts')),
    sa.UniqueConstraint('site', 'receipt_seq', name='uq_income_receipts_site_seq'),
    sa.UniqueConstraint('site', 'reference', name='uq_income_receipts_site_reference'),
    sa.UniqueConstraint('settles', name=op.f('uq_income_receipts_settles'))
    )
    with op.batch_alter_table('income_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_receipts_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_income_receipts_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_income_receipts_received_at'), ['received_at'], unique=False)

    op.create_table('income_receipt_counters',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_income_receipt_counters'))
    )


def downgrade() -> None:
    op.drop_table('income_receipt_counters')
    op.drop_table('income_receipts')
    op.drop_table('service_items')
    op.drop_table('rental_contracts')
    op.drop_table('parking_sessions')
    op.drop_table('parking_tariffs')
    op.drop_table('parking_spaces')
