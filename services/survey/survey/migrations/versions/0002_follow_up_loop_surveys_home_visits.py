"""follow-up loop, surveys, home visits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:54:41.325539
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing follow-ups (work orders only until now) get defaults for the new non-null columns.
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.String(length=64), nullable=False),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_party_at', ['party_id', 'contacted_at'], unique=False)

    op.create_table('followup_policies',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('sample_percent', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', 'category', name=op.f('pk_followup_policies'))
    )
    op.create_table('home_visits',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('manager', sa.String(length=128), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('raise_request', sa.JSON(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits'))
    )
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.create_index('ix_home_visits_manager_at', ['manager', 'visited_at'], unique=False)
        batch_op.create_index('ix_home_visits_site_at', ['site', 'visited_at'], unique=False)
        batch_op.create_index('ix_home_visits_unit_at', ['unit_id', 'visited_at'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index('ix_parties_site_active', ['site', 'active'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_unit_id'), ['unit_id'], unique=False)

    op.create_table('requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('party_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests'))
    )
    op.create_table('site_configs',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('followup_due_hours', sa.Integer(), nullable=False),
    sa.Column('followup_max_attempts', sa.Integer(), nullable=False),
    sa.Column('followup_retry_hours', sa.Integer(), nullable=False),
    sa.Column('low_score_threshold', sa.Integer(), nullable=False),
    sa.Column('fatigue_max_contacts', sa.Integer(), nullable=False),
    sa.Column('fatigue_window_days', sa.Integer(), nullable=False),
    sa.Column('visits_per_manager_week', sa.Integer(), nullable=False),
    sa.Column('visits_per_household_year', sa.Integer(), nullable=False),
    sa.Column('managers', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_site_configs'))
    )
    op.create_table('surveys',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('buildings', sa.JSON(), nullable=False),
    sa.Column('sample_method', sa.String(length=16), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('excluded_by_budget', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_site_status', ['site', 'status'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('building', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('occupied', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_site_building', ['site', 'building'], unique=False)

    op.create_table('follow_up_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('followup_id', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['followup_id'], ['follow_ups.id'], name=op.f('fk_follow_up_attempts_followup_id_follow_ups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_attempts'))
    )
    with op.batch_alter_table('follow_up_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_attempts_followup_id'), ['followup_id'], unique=False)

    op.create_table('survey_invitations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('survey_id', sa.String(length=64), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('building', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_invitations_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_survey_invitations_party', ['party_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_questions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('survey_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions'))
    )
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_questions_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('invitation_id', sa.String(length=64), nullable=False),
    sa.Column('survey_id', sa.String(length=64), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('value_int', sa.Integer(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_answers_invitation_id_survey_invitations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_survey_id'), ['survey_id'], unique=False)

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='work_order'))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('category', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('skip_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('solved', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('score_overall', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score_speed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('score_attitude', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reopen', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('answered_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('work_order_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('department',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.create_index('ix_follow_ups_party_status', ['party_id', 'status'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_party_status')
        batch_op.alter_column('department',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('work_order_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('completed_at')
        batch_op.drop_column('answered_by')
        batch_op.drop_column('reopen')
        batch_op.drop_column('comment')
        batch_op.drop_column('score_attitude')
        batch_op.drop_column('score_speed')
        batch_op.drop_column('score_overall')
        batch_op.drop_column('solved')
        batch_op.drop_column('outcome')
        batch_op.drop_column('attempts')
        batch_op.drop_column('overdue')
        batch_op.drop_column('skip_reason')
        batch_op.drop_column('category')
        batch_op.drop_column('kind')
        batch_op.drop_column('source')
        batch_op.drop_column('party_id')

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_invitation_id'))

    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_questions_survey_id'))

    op.drop_table('survey_questions')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitations_survey_id'))
        batch_op.drop_index('ix_survey_invitations_party')

    op.drop_table('survey_invitations')
    with op.batch_alter_table('follow_up_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_attempts_followup_id'))

    op.drop_table('follow_up_attempts')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_site_building')

    op.drop_table('units')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_site_status')

    op.drop_table('surveys')
    op.drop_table('site_configs')
    op.drop_table('requests')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_unit_id'))
        batch_op.drop_index('ix_parties_site_active')

    op.drop_table('parties')
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_home_visits_unit_at')
        batch_op.drop_index('ix_home_visits_site_at')
        batch_op.drop_index('ix_home_visits_manager_at')

    op.drop_table('home_visits')
    op.drop_table('followup_policies')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_party_at')

    op.drop_table('contacts')
    # ### end Alembic commands ###
