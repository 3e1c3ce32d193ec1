"""occupancy per unit (stays from intake's move-ins and move-outs), the charges a move-out's settlement posts, the
account's closure after it; deposits of tenancy and keys/cards with their items

Revision ID: 0017
Revises: 0016_meters
Create Date: 2026-12-03 11:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016_meters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('occupancies',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('move_in_id', sa.String(length=64), nullable=True),
    sa.Column('move_in_date', sa.Date(), nullable=True),
    sa.Column('moved_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('move_out_id', sa.String(length=64), nullable=True),
    sa.Column('move_out_date', sa.Date(), nullable=True),
    sa.Column('moved_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupancies')),
    sa.UniqueConstraint('site', 'unit_id', 'party_id', name='uq_occupancies_site_unit_party')
    )
    with op.batch_alter_table('occupancies', schema=None) as batch_op:
        batch_op.create_index('ix_occupancies_site', ['site'], unique=False)

    op.create_table('final_charges',
    sa.Column('charge_id', sa.String(length=64), nullable=False),
    sa.Column('settlement_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('fee_item', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('span_days', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('charge_id', name=op.f('pk_final_charges'))
    )
    with op.batch_alter_table('final_charges', schema=None) as batch_op:
        batch_op.create_index('ix_final_charges_site_period', ['site', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_final_charges_settlement_id'), ['settlement_id'], unique=False)

    op.create_table('account_closures',
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('settlement_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('move_out_date', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_move_in', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_account_closures'))
    )
    with op.batch_alter_table('account_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_closures_site'), ['site'], unique=False)

    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('final_charges_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('final_notes', sa.JSON(), nullable=True))
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('items', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_column('items')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('final_notes')
        batch_op.drop_column('final_charges_cents')
        batch_op.drop_column('finalized_at')
    op.drop_table('account_closures')
    op.drop_table('final_charges')
    op.drop_table('occupancies')
