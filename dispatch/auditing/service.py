"""Queries of the audit trail, filtered by record, person, period, and by the history of
one mediator or one request (the events about them and about their offers, jobs and
job reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from dispatch.audit import AuditEvent
from dispatch.auditing.schemas import AuditEventPublic, AuditPage
from dispatch.errors import InvalidInput
from dispatch.jobs.models import JobReport
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, Offer
from dispatch.requests.models import Request
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
    mediator_id: int | None = None
    """A mediator's history: events about them, their offers, jobs and job reports, and
    what they did themselves (by their link or SMS)."""
    request_id: int | None = None
    """A request's history: events about it, its offers, its jobs and their reports."""


def _about(entity: str, ids: SelectOfScalar[int]) -> sa.ColumnElement[bool]:
    return sa.and_(col(AuditEvent.entity) == entity, col(AuditEvent.entity_id).in_(ids))


def _history_of_mediator(mediator_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(col(AuditEvent.entity) == "mediator", col(AuditEvent.entity_id) == mediator_id),
        sa.and_(col(AuditEvent.actor_kind) == "mediator", col(AuditEvent.actor_id) == mediator_id),
        _about("offer", select(col(Offer.id)).where(col(Offer.mediator_id) == mediator_id)),
        _about(
            "assignment",
            select(col(Assignment.id)).where(col(Assignment.mediator_id) == mediator_id),
        ),
        _about(
            "job_report", select(col(JobReport.id)).where(col(JobReport.mediator_id) == mediator_id)
        ),
    )


def _history_of_request(request_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(col(AuditEvent.entity) == "request", col(AuditEvent.entity_id) == request_id),
        _about("offer", select(col(Offer.id)).where(col(Offer.request_id) == request_id)),
        _about(
            "assignment", select(col(Assignment.id)).where(col(Assignment.request_id) == request_id)
        ),
        _about(
            "job_report", select(col(JobReport.id)).where(col(JobReport.request_id) == request_id)
        ),
    )


def _check_exists(session: Session, where: AuditFilter) -> None:
    """A history of nobody is a typing error, not an empty page: say so by its field."""
    if where.mediator_id is not None and session.get(Mediator, where.mediator_id) is None:
        raise InvalidInput(
            f"There is no mediator with id {where.mediator_id}.",
            field="mediator_id",
            reason="unknown_mediator",
            params={"id": where.mediator_id},
        )
    if where.request_id is not None and session.get(Request, where.request_id) is None:
        raise InvalidInput(
            f"There is no request with id {where.request_id}.",
            field="request_id",
            reason="unknown_request",
            params={"id": where.request_id},
        )


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
    _check_exists(session, where)
    query = select(AuditEvent)
    if where.mediator_id is not None:
        query = query.where(_history_of_mediator(where.mediator_id))
    if where.request_id is not None:
        query = query.where(_history_of_request(where.request_id))
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
