"""last_bills: each unit's latest bill (billing.bill.issued.v1), shown with its payment status in caller lookup

Revision ID: 0012_last_bills
Revises: 0011_registers
Create Date: 2026-12-03 07:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_last_bills'
down_revision = '0011_registers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('last_bills',
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('bill_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount_due_cents', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_last_bills'))
    )
    with op.batch_alter_table('last_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_last_bills_site'), ['site'], unique=False)


def downgrade() -> None:
    op.drop_table('last_bills')
