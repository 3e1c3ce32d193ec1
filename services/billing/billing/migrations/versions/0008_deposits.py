"""deposits: held money per purpose and reference, a deposit receipt series

Revision ID: 0008_deposits
Revises: 0007_settlements
Create Date: 2026-12-02 10:09:33.075829
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_deposits'
down_revision = '0007_settlements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deposit_receipt_counters',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_deposit_receipt_counters'))
    )
    op.create_table('deposits',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('payer_party_id', sa.String(length=64), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fee_charge_id', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('payment_reference', sa.String(length=64), nullable=True),
    sa.Column('receipt_seq', sa.BigInteger(), nullable=True),
    sa.Column('receipt_no', sa.String(length=80), nullable=True),
    sa.Column('received_by', sa.String(length=128), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deductions', sa.JSON(), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deducted_cents', sa.BigInteger(), nullable=True),
    sa.Column('returned_cents', sa.BigInteger(), nullable=True),
    sa.Column('shortfall_charge_id', sa.String(length=64), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits')),
    sa.UniqueConstraint('site', 'purpose', 'reference', name='uq_deposits_site_purpose_reference'),
    sa.UniqueConstraint('site', 'receipt_seq', name='uq_deposits_site_receipt_seq')
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index('ix_deposits_site_unit', ['site', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deposits_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_status'))
        batch_op.drop_index('ix_deposits_site_unit')

    op.drop_table('deposits')
    op.drop_table('deposit_receipt_counters')
