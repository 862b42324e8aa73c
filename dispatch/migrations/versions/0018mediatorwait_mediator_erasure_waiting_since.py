"""mediator: erasure_waiting_since, since when an automatic erasure waits for money owed

Revision ID: 0018mediatorwait
Revises: 0017erasurewait
Create Date: 2026-12-02

A mediator out of the pool is erased MEDIATOR_DATA_DAYS later; while the town
still owes them money, a job of theirs is not settled or they hold one to come,
it retries weekly, and the coordination is told once per waiting period.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispatch.storage import UTCDateTime

revision: str = '0018mediatorwait'
down_revision: str | None = '0017erasurewait'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'mediator', sa.Column('erasure_waiting_since', UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table('mediator') as batch_op:
        batch_op.drop_column('erasure_waiting_since')
