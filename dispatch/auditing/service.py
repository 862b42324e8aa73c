"""Queries of the audit trail, filtered by record, person and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from dispatch.audit import AuditEvent
from dispatch.auditing.schemas import AuditEventPublic, AuditPage
from dispatch.errors import InvalidInput
from dispatch.users.models import User

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class AuditFilter:
    """Which events: of one kind of record (and one record), by one person, in a period.

    `start` and `end` are days in the town's time zone, both included.
    """

    entity: str | None = None
    entity_id: int | None = None
    actor_id: int | None = None
    start: date | None = None
    end: date | None = None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def events(
    session: Session, *, where: AuditFilter, tz: ZoneInfo, page: int, per_page: int
) -> AuditPage:
    """One page of events, newest first, each with the acting staff member's name."""
    if where.start and where.end and where.end < where.start:
        raise InvalidInput(
            "The end of the period must be on or after its start.",
            field="to",
            reason="period_order",
        )
    query = select(AuditEvent)
    if where.entity:
        query = query.where(col(AuditEvent.entity) == where.entity)
    if where.entity_id is not None:
        query = query.where(col(AuditEvent.entity_id) == where.entity_id)
    if where.actor_id is not None:
        query = query.where(
            col(AuditEvent.actor_kind) == "user", col(AuditEvent.actor_id) == where.actor_id
        )
    if where.start:
        query = query.where(col(AuditEvent.at) >= _midnight(where.start, tz))
    if where.end:
        query = query.where(col(AuditEvent.at) < _midnight(where.end + timedelta(days=1), tz))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(
        session.exec(
            query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    actor_ids = {e.actor_id for e in rows if e.actor_kind == "user" and e.actor_id is not None}
    names = (
        dict(session.exec(select(User.id, User.name).where(col(User.id).in_(actor_ids))).all())
        if actor_ids
        else {}
    )
    items = [
        AuditEventPublic(
            id=e.id,
            at=e.at,
            actor_kind=e.actor_kind,
            actor_id=e.actor_id,
            actor_name=names.get(e.actor_id) if e.actor_kind == "user" and e.actor_id else None,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            details=e.details,
        )
        for e in rows
    ]
    return AuditPage(items=items, total=total, page=page, per_page=per_page)
