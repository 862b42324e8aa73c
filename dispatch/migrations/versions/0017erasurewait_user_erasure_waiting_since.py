"""user: erasure_waiting_since, since when an automatic staff erasure waits for open work

Revision ID: 0017erasurewait
Revises: 0016stafferase
Create Date: 2026-12-03

The automatic erasure of someone who left retries weekly while requests still
need them; the coordination is told once per waiting period, and the staff
page says that it waits.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispatch.storage import UTCDateTime

revision: str = '0017erasurewait'
down_revision: str | None = '0016stafferase'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'user', sa.Column('erasure_waiting_since', UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('erasure_waiting_since')
