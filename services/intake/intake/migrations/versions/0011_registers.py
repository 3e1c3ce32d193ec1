"""registers: release passes, visitors, held keys, parcels, document tasks, register settings

Revision ID: 0011_registers
Revises: 0010_occupancy
Create Date: 2026-12-02 10:12:23.386622
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_registers'
down_revision = '0010_occupancy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('person', sa.String(length=120), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('signature_name', sa.String(length=120), nullable=True),
    sa.Column('signature_key', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_movements'))
    )
    with op.batch_alter_table('key_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_movements_key_id'), ['key_id'], unique=False)

    op.create_table('register_settings',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('release_in_arrears', sa.String(length=16), nullable=False),
    sa.Column('parcel_reminder_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_register_settings'))
    )
    op.create_table('document_tasks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pickup_location', sa.String(length=200), nullable=True),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_by', sa.String(length=120), nullable=True),
    sa.Column('signature_name', sa.String(length=120), nullable=True),
    sa.Column('signature_key', sa.String(length=200), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_document_tasks_site_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_document_tasks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_tasks'))
    )
    with op.batch_alter_table('document_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_tasks_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_tasks_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_tasks_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_tasks_unit_id'), ['unit_id'], unique=False)

    op.create_table('held_keys',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.Column('opens', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_held_keys_site_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_held_keys_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_keys')),
    sa.UniqueConstraint('site', 'tag', name=op.f('uq_held_keys_site'))
    )
    with op.batch_alter_table('held_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_keys_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_keys_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_keys_unit_id'), ['unit_id'], unique=False)

    op.create_table('parcels',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('addressee', sa.String(length=120), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('shelf', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=128), nullable=False),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('collected_by', sa.String(length=120), nullable=True),
    sa.Column('collector', sa.String(length=16), nullable=True),
    sa.Column('nominated_by', sa.String(length=120), nullable=True),
    sa.Column('signature_name', sa.String(length=120), nullable=True),
    sa.Column('signature_key', sa.String(length=200), nullable=True),
    sa.Column('handed_over_by', sa.String(length=128), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_parcels_site_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_parcels_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels'))
    )
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcels_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_unit_id'), ['unit_id'], unique=False)

    op.create_table('release_passes',
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('carrier', sa.String(length=120), nullable=True),
    sa.Column('vehicle_plate', sa.String(length=16), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('authorisation_method', sa.String(length=16), nullable=True),
    sa.Column('authorised_by', sa.String(length=128), nullable=True),
    sa.Column('authorisation_note', sa.Text(), nullable=True),
    sa.Column('authorisation_key', sa.String(length=200), nullable=True),
    sa.Column('authorised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_by', sa.String(length=128), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrears_override', sa.Text(), nullable=True),
    sa.Column('used_by', sa.String(length=128), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gate', sa.String(length=64), nullable=True),
    sa.Column('revoked_by', sa.String(length=128), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_release_passes_site_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_release_passes_unit_id_units')),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_release_passes'))
    )
    with op.batch_alter_table('release_passes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_passes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_passes_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_passes_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_passes_unit_id'), ['unit_id'], unique=False)

    op.create_table('visitors',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('id_last4', sa.String(length=4), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('vehicle_plate', sa.String(length=16), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('signed_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_by', sa.String(length=128), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site'], ['sites.code'], name=op.f('fk_visitors_site_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_visitors_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitors'))
    )
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitors_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitors_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitors_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visitors_valid_to'), ['valid_to'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitors_valid_to'))
        batch_op.drop_index(batch_op.f('ix_visitors_unit_id'))
        batch_op.drop_index(batch_op.f('ix_visitors_status'))
        batch_op.drop_index(batch_op.f('ix_visitors_site'))

    op.drop_table('visitors')
    with op.batch_alter_table('release_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_passes_unit_id'))
        batch_op.drop_index(batch_op.f('ix_release_passes_status'))
        batch_op.drop_index(batch_op.f('ix_release_passes_site'))
        batch_op.drop_index(batch_op.f('ix_release_passes_created_at'))

    op.drop_table('release_passes')
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcels_unit_id'))
        batch_op.drop_index(batch_op.f('ix_parcels_status'))
        batch_op.drop_index(batch_op.f('ix_parcels_site'))
        batch_op.drop_index(batch_op.f('ix_parcels_received_at'))

    op.drop_table('parcels')
    with op.batch_alter_table('held_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_keys_unit_id'))
        batch_op.drop_index(batch_op.f('ix_held_keys_status'))
        batch_op.drop_index(batch_op.f('ix_held_keys_site'))

    op.drop_table('held_keys')
    with op.batch_alter_table('document_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_tasks_unit_id'))
        batch_op.drop_index(batch_op.f('ix_document_tasks_status'))
        batch_op.drop_index(batch_op.f('ix_document_tasks_site'))
        batch_op.drop_index(batch_op.f('ix_document_tasks_requested_at'))

    op.drop_table('document_tasks')
    op.drop_table('register_settings')
    with op.batch_alter_table('key_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_movements_key_id'))

    op.drop_table('key_movements')
