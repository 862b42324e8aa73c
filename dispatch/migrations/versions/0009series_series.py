"""series: a request that repeats every N weeks until a date; each occurrence is a request

Revision ID: 0009series
Revises: 0009find
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dispatch.storage

revision: str = '0009series'
down_revision: str | None = '0009find'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'series',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('created_by_user_id', sa.Integer(), nullable=False),
        sa.Column('interval_weeks', sa.Integer(), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('first_start', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('template', sa.JSON(), nullable=False),
        sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('cancelled_from', sa.Date(), nullable=True),
        sa.Column('cancel_reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id']),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_series_organisation_id'), 'series', ['organisation_id'])
    # A plain ADD COLUMN with its reference: batch mode would copy the request table on
    # SQLite, and the tables that refer to it.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE request ADD COLUMN series_id INTEGER REFERENCES series (id)')
    else:
        op.add_column('request', sa.Column('series_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            'request_series_id_fkey', 'request', 'series', ['series_id'], ['id']
        )
    op.create_index(op.f('ix_request_series_id'), 'request', ['series_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_request_series_id'), table_name='request')
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_column('series_id')
    op.drop_index(op.f('ix_series_organisation_id'), table_name='series')
    op.drop_table('series')
