"""requests: every request filed before 0009addr gets its data-erasure deadline

Revision ID: 0010erase
Revises: 0009series
Create Date: 2026-11-30

Since 0009addr a request is filed with a deadline that erases its personal
data (contact, notes, connection, a home visit's street) ``REQUEST_DATA_DAYS``
after its end. Requests filed before had none, so their data would have been
kept for ever. This gives each of them the deadline it would have got, from
the same setting; one already due fires at the scheduler's next poll.
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from config.settings import Settings

revision: str = '0010erase'
down_revision: str | None = '0009series'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``RequestDeadlineKind.erase_data`` as stored (a migration keeps its own copy).
ERASE_DATA = "request_data_erase"


_request = sa.table("request", sa.column("id", sa.Integer()), sa.column("end", sa.DateTime(True)))
_deadline = sa.table(
    "deadline",
    sa.column("kind", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("sequence", sa.Integer()),
    sa.column("due_at", sa.DateTime(True)),
    sa.column("created_at", sa.DateTime(True)),
)


def upgrade() -> None:
    connection = op.get_bind()
    has_deadline = (
        sa.select(sa.literal(1))
        .select_from(_deadline)
        .where(_deadline.c.kind == ERASE_DATA, _deadline.c.subject_id == _request.c.id)
        .exists()
    )
    missing = connection.execute(
        sa.select(_request.c.id, _request.c.end).where(~has_deadline)
    ).all()
    if not missing:
        return
    days = Settings().request_data_days
    # The application's UTCDateTime keeps naive UTC on SQLite and aware values elsewhere.
    sqlite = connection.dialect.name == "sqlite"

    def stored(moment: datetime) -> datetime:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return moment.replace(tzinfo=None) if sqlite else moment

    now = stored(datetime.now(UTC))
    op.bulk_insert(
        _deadline,
        [
            {
                "kind": ERASE_DATA,
                "subject_id": request_id,
                "sequence": 0,
                "due_at": stored(end) + timedelta(days=days),
                "created_at": now,
            }
            for request_id, end in missing
        ],
    )


def downgrade() -> None:
    # The deadlines stay: they are right under the older revision too, and which of them
    # this revision added is not recorded.
    pass
