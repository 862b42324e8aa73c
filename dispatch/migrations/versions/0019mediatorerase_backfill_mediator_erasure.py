"""mediators: everyone taken out of the pool before 0018 gets their data-erasure deadline

Revision ID: 0019mediatorerase
Revises: 0018mediatorwait
Create Date: 2026-12-02

Since 0018 a mediator taken out of the pool (`active` false) gets a deadline that
erases their data ``MEDIATOR_DATA_DAYS`` later (waiting while money is owed or a
job is open). Those taken out before had none, so their data would have been kept
for ever. When they left is not recorded; their record's last change (`updated_at`)
came at or after it, so counting from there never erases anyone earlier than
leaving now would. One already due fires at the scheduler's next poll.
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from config.settings import Settings

revision: str = '0019mediatorerase'
down_revision: str | None = '0018mediatorwait'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``MediatorDeadlineKind.erase_data`` as stored (a migration keeps its own copy).
ERASE_DATA = "mediator_data_erase"

_mediator = sa.table(
    "mediator",
    sa.column("id", sa.Integer()),
    sa.column("active", sa.Boolean()),
    sa.column("erased_at", sa.DateTime(True)),
    sa.column("updated_at", sa.DateTime(True)),
)
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
        .where(_deadline.c.kind == ERASE_DATA, _deadline.c.subject_id == _mediator.c.id)
        .exists()
    )
    missing = connection.execute(
        sa.select(_mediator.c.id, _mediator.c.updated_at).where(
            _mediator.c.active.is_(False), _mediator.c.erased_at.is_(None), ~has_deadline
        )
    ).all()
    if not missing:
        return
    days = Settings().mediator_data_days
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
                "subject_id": mediator_id,
                "sequence": 0,
                "due_at": stored(updated_at) + timedelta(days=days),
                "created_at": now,
            }
            for mediator_id, updated_at in missing
        ],
    )


def downgrade() -> None:
    # The deadlines stay: they are right under the older revision too, and which of them
    # this revision added is not recorded.
    pass
