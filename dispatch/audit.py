"""Audit trail: who did what to which record, when.

Details carry field names and ids, not personal data; the one exception is
a free-text `reason` someone typed (why a job was given back), which
erasing a mediator replaces in the events of their offers and assignments.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from dispatch.storage import UTCDateTime, insert_later, write_later


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_kind: str = Field(max_length=20)
    actor_id: int | None = None
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: int | None = Field(default=None, index=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


#: Built once: intake writes two events per request.
_INSERT = sa.insert(SQLModel.metadata.tables["audit_event"])


def record(
    session: Session,
    *,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one event, in the session's transaction: now, or at the end of the
    ``storage.rows_later`` block around it.

    A plain INSERT, not an object for the next flush: nothing reads an event
    back in the transaction that wrote it by its object, and the unit of
    work's bookkeeping for it cost more than the statement. A step that reads
    events calls `written` first.
    """
    insert_later(
        session,
        _INSERT,
        {
            "at": at,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "details": details,
        },
    )


def written(session: Session) -> None:
    """Events held back in this transaction (``storage.rows_later``) go in before a read."""
    write_later(session, _INSERT)


def erase_reasons(
    session: Session, *, entity: str, entity_ids: Collection[int], keep: Collection[str] = ()
) -> int:
    """Replace the typed `reason` in the events of these records; returns how many changed.

    Reasons in `keep` are the service's own words (why a job changed hands), which name
    nobody: they stay, so the record still says what happened."""
    if not entity_ids:
        return 0
    written(session)
    changed = 0
    for event in session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == entity, col(AuditEvent.entity_id).in_(list(entity_ids))
        )
    ):
        details = dict(event.details or {})
        reason = details.get("reason")
        if reason is not None and reason not in keep:
            details["reason"] = "[erased]"
            event.details = details
            session.add(event)
            changed += 1
    return changed
