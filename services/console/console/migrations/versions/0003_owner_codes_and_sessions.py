"""owners' one-time codes and sessions

Revision ID: 0003
Revises: 0002_accounts
Create Date: 2026-12-02 07:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('owner_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_codes'))
    )
    with op.batch_alter_table('owner_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_codes_phone_hash'), ['phone_hash'], unique=False)

    op.create_table('owner_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('service_token', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_owner_sessions'))
    )
    with op.batch_alter_table('owner_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_sessions_party_id'), ['party_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('owner_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_sessions_party_id'))

    op.drop_table('owner_sessions')
    with op.batch_alter_table('owner_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_codes_phone_hash'))

    op.drop_table('owner_codes')
