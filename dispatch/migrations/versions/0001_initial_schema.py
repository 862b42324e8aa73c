"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_entity_id'), ['entity_id'], unique=False)

    op.create_table('mediator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('german_level', sa.String(length=10), nullable=True),
    sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('home_lat', sa.Float(), nullable=True),
    sa.Column('home_lon', sa.Float(), nullable=True),
    sa.Column('travel_mode', sa.String(length=10), nullable=False),
    sa.Column('max_travel_km', sa.Float(), nullable=True),
    sa.Column('max_hours_per_week', sa.Float(), nullable=True),
    sa.Column('qualifications', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('message_locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('consent_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('erased_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator'))
    )
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_phone'), ['phone'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('contact_hint', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_place')),
    sa.UniqueConstraint('name', name=op.f('uq_place_name'))
    )
    op.create_table('absence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('start', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_absence_mediator_id_mediator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absence'))
    )
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('availability_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_availability_slot_mediator_id_mediator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_slot'))
    )
    with op.batch_alter_table('availability_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_slot_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('mediator_language',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_mediator_language_mediator_id_mediator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator_language')),
    sa.UniqueConstraint('mediator_id', 'language', name=op.f('uq_mediator_language_mediator_id'))
    )
    with op.batch_alter_table('mediator_language', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_language_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediator_language_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('min_level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('start', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=True),
    sa.Column('location_lat', sa.Float(), nullable=True),
    sa.Column('location_lon', sa.Float(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('qualification', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('gender_value', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('gender_strength', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('client_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('contact_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('idempotency_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('filled_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], name=op.f('fk_request_created_by_user_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_request_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], name=op.f('fk_request_place_id_place')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request')),
    sa.UniqueConstraint('created_by_user_id', 'idempotency_key', name=op.f('uq_request_created_by_user_id'))
    )
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_client_ref'), ['client_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_status'), ['status'], unique=False)
        batch_op.create_index('ix_request_status_start', ['status', 'start'], unique=False)

    op.create_table('offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('short_code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_offer_mediator_id_mediator')),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_offer_request_id_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_offer_token_hash'))
    )
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_short_code'), ['short_code'], unique=False)
        batch_op.create_index('ix_offer_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('reconfirmed_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes_worked', sa.Integer(), nullable=True),
    sa.Column('travel_km', sa.Float(), nullable=True),
    sa.Column('completed_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.Column('no_show', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], name=op.f('fk_assignment_created_by_user_id_user')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_assignment_mediator_id_mediator')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_assignment_offer_id_offer')),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_assignment_request_id_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_assignment_live_request', ['request_id'], unique=True, sqlite_where=sa.text('cancelled_at IS NULL'), postgresql_where=sa.text('cancelled_at IS NULL'))

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('recipient_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_message_offer_id_offer')),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_message_request_id_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_message_idempotency_key'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_message_status_next', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_status_next')
        batch_op.drop_index(batch_op.f('ix_message_request_id'))
        batch_op.drop_index(batch_op.f('ix_message_provider_id'))

    op.drop_table('message')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('uq_assignment_live_request', sqlite_where=sa.text('cancelled_at IS NULL'), postgresql_where=sa.text('cancelled_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_assignment_request_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_mediator_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index('ix_offer_status_expires')
        batch_op.drop_index(batch_op.f('ix_offer_short_code'))
        batch_op.drop_index(batch_op.f('ix_offer_request_id'))
        batch_op.drop_index(batch_op.f('ix_offer_mediator_id'))

    op.drop_table('offer')
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index('ix_request_status_start')
        batch_op.drop_index(batch_op.f('ix_request_status'))
        batch_op.drop_index(batch_op.f('ix_request_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_request_client_ref'))

    op.drop_table('request')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_organisation_id'))

    op.drop_table('user')
    with op.batch_alter_table('mediator_language', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_language_mediator_id'))
        batch_op.drop_index(batch_op.f('ix_mediator_language_language'))

    op.drop_table('mediator_language')
    with op.batch_alter_table('availability_slot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_slot_mediator_id'))

    op.drop_table('availability_slot')
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_absence_mediator_id'))

    op.drop_table('absence')
    op.drop_table('place')
    op.drop_table('organisation')
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_phone'))

    op.drop_table('mediator')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
