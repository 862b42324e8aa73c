"""throttle_hit: attempts counted in the database (forgotten-password limits)

Revision ID: 0009rest
Revises: 0009load
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dispatch.storage

revision: str = '0009rest'
down_revision: str | None = '0009load'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'throttle_hit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=30), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_throttle_hit_scope_key_at', 'throttle_hit', ['scope', 'key_hash', 'at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_throttle_hit_scope_key_at', table_name='throttle_hit')
    op.drop_table('throttle_hit')
