"""work facts: dispatch's completions and survey's follow-up outcomes, kept so a request's status converges
whatever order the two streams deliver in

Revision ID: 0005_work_facts
Revises: 0004_site_onboarding
Create Date: 2026-12-01 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_work_facts'
down_revision = '0004_site_onboarding'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_facts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('work_order_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_facts'))
    )
    with op.batch_alter_table('work_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_facts_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('work_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_facts_request_id'))
    op.drop_table('work_facts')
