"""series: an Idempotency-Key per user, so a retried POST returns the series filed first

Revision ID: 0010serieskey
Revises: 0010erase
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010serieskey'
down_revision: str | None = '0010erase'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_series_created_by_user_id'), ['created_by_user_id', 'idempotency_key']
        )


def downgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_series_created_by_user_id'), type_='unique')
        batch_op.drop_column('idempotency_fingerprint')
        batch_op.drop_column('idempotency_key')
