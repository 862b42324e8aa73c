"""web sessions: signed-in browsers and single-purpose links (sign-in, mediator page)

Revision ID: 0004w
Revises: 0003
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0004w'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('access_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(purpose = 'sign_in' AND user_id IS NOT NULL) OR (purpose = 'mediator_page' AND mediator_id IS NOT NULL)", name=op.f('ck_access_link_subject')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_access_link_mediator_id_mediator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_access_link_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_link_token_hash'))
    )
    with op.batch_alter_table('access_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_link_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_link_user_id'), ['user_id'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('absolute_expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_web_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_session_token_hash'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))

    op.drop_table('web_session')
    with op.batch_alter_table('access_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_link_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_link_mediator_id'))

    op.drop_table('access_link')
