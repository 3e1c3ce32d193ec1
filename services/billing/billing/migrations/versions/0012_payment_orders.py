"""payment_orders: owners' online payments, settled once by the gateway's signed callback

Revision ID: 0012_payment_orders
Revises: 0011_fee_items_and_bills
Create Date: 2026-12-03 07:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_payment_orders'
down_revision = '0011_fee_items_and_bills'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_orders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('bill_id', sa.String(length=64), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('return_url', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gateway_txn_id', sa.String(length=64), nullable=True),
    sa.Column('payment_id', sa.String(length=64), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_orders')),
    sa.UniqueConstraint('gateway_txn_id', name=op.f('uq_payment_orders_gateway_txn_id'))
    )
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_orders_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('payment_orders')
