"""Series, one step at a time: the occurrences' dates, reading a series, who holds it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from config import data as config_data
from dispatch import audit, idempotency
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.offers.models import Assignment
from dispatch.requests import service as requests
from dispatch.requests.models import Request, RequestStatus
from dispatch.series.models import Series
from dispatch.series.schemas import MAX_OCCURRENCES, SeriesCreate, SeriesPublic
from dispatch.users.models import Role, User
from dispatch.validation import fixed_offset, wall_clock

#: What the series keeps of the body: the terms, not the contact, notes, connection or
#: address (those stay on the occurrences only, so the series holds no more personal data).
TEMPLATE_LEAVES_OUT = frozenset(
    {
        "start",
        "end",
        "interval_weeks",
        "until",
        "allow_duplicate",
        "contact_name",
        "contact_phone",
        "notes",
        "connection",
        "urgency_reason",
        "override_reason",
        "address",
        "location",
    }
)
#: An occurrence whose mediator carries the series on to the next ones.
HELD = (RequestStatus.assigned, RequestStatus.completed)


def occurrence_starts(
    *, first: datetime, interval_weeks: int, until: date, tz: ZoneInfo
) -> list[datetime]:
    """The starts of a series: every `interval_weeks` weeks at the first one's local time.

    The wall-clock time in the town's zone is kept, not the UTC instant, so
    a 09:00 appointment stays at 09:00 across the change to and from summer
    time. At most one more than MAX_OCCURRENCES is computed (enough to refuse).
    An occurrence whose time the clocks skip that day (02:00-03:00 at the change to
    summer time) starts at the moment it names, an hour later on the clock.
    """
    local = first.astimezone(tz)
    starts: list[datetime] = []
    day = local.date()
    while day <= until and len(starts) <= MAX_OCCURRENCES:
        skipped = datetime.combine(day, local.time(), tzinfo=tz)
        starts.append(
            wall_clock(day, local.time(), tz)
            or fixed_offset(skipped.astimezone(UTC).astimezone(tz))
        )
        day += timedelta(weeks=interval_weeks)
    return starts


def plan(data: SeriesCreate, *, tz: ZoneInfo, now: datetime) -> list[datetime]:
    """The occurrences' starts, or a 422 naming the field that makes the series impossible."""
    first_day = data.start.astimezone(tz).date()
    if data.until <= first_day:
        raise InvalidInput(
            f"until ({data.until.isoformat()}) must lie after the first occurrence's day "
            f"({first_day.isoformat()}).",
            field="until",
            reason="until_not_after_first",
            params={"first": first_day.isoformat()},
        )
    starts = occurrence_starts(
        first=data.start, interval_weeks=data.interval_weeks, until=data.until, tz=tz
    )
    if len(starts) > MAX_OCCURRENCES:
        raise InvalidInput(
            f"until: a series has at most {MAX_OCCURRENCES} occurrences; every "
            f"{data.interval_weeks} week(s) until {data.until.isoformat()} makes more. "
            "Choose an earlier date or a longer interval.",
            field="until",
            reason="too_many_occurrences",
            params={"max": MAX_OCCURRENCES},
        )
    max_lead = timedelta(days=config_data.default_policy().max_lead_days)
    if starts[-1] - now > max_lead:
        raise InvalidInput(
            f"until: the last occurrence is more than {max_lead.days} days ahead.",
            field="until",
            reason="start_too_far",
            params={"days": max_lead.days},
        )
    return starts


def replay(session: Session, *, actor: User, key: str, fingerprint: str) -> Series | None:
    """The series this user filed with `key`, if any; the same key with another body is a 409."""
    existing = session.exec(
        select(Series).where(Series.created_by_user_id == actor.id, Series.idempotency_key == key)
    ).first()
    if existing is not None and existing.idempotency_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different series; "
            "use a new key for a new series.",
            field="Idempotency-Key",
        )
    return existing


def create_series(
    session: Session,
    *,
    data: SeriesCreate,
    organisation_id: int,
    actor: User,
    now: datetime,
    idempotency_key: str | None = None,
) -> tuple[Series, bool]:
    """Store the series; returns it and whether it is an earlier one replayed for the same key.

    The series is the unit of work's first write, so when a concurrent retry
    with the same key committed first, the unique index on (user, key) fails
    this INSERT, the unit of work is rolled back whole and the other series
    is returned instead: never two series for one key.
    """
    key_print = idempotency.fingerprint(data) if idempotency_key is not None else None
    series = Series(
        organisation_id=organisation_id,
        created_by_user_id=actor.id,
        interval_weeks=data.interval_weeks,
        until=data.until,
        first_start=data.start,
        duration_minutes=int((data.end - data.start).total_seconds() // 60),
        template=data.model_dump(mode="json", exclude=set(TEMPLATE_LEAVES_OUT)),
        created_at=now,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=key_print,
    )
    session.add(series)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        if idempotency_key is None or key_print is None:
            raise
        existing = replay(session, actor=actor, key=idempotency_key, fingerprint=key_print)
        if existing is None:
            raise
        return existing, True
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="series.create",
        entity="series",
        entity_id=series.id,
        details={"interval_weeks": data.interval_weeks, "until": data.until.isoformat()},
    )
    return series, False


def get_series(session: Session, *, series_id: int, actor: User) -> Series:
    """The series, if the actor may see it; another organisation's is reported absent."""
    series = session.get(Series, series_id)
    if series is None or (
        actor.role != Role.coordinator and series.organisation_id != actor.organisation_id
    ):
        raise NotFound(f"There is no series with id {series_id}.")
    return series


def list_series(
    session: Session, *, actor: User, limit: int, offset: int
) -> tuple[list[Series], int]:
    """The series the actor may see (a caseworker their organisation's), newest first."""
    query = select(Series)
    if actor.role != Role.coordinator:
        query = query.where(Series.organisation_id == actor.organisation_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Series.id).desc()).limit(limit).offset(offset))
    return list(rows), total


def occurrences(session: Session, series_id: int) -> list[Request]:
    return list(
        session.exec(
            select(Request)
            .where(Request.series_id == series_id)
            .order_by(col(Request.start), col(Request.id))
        )
    )


def holders(session: Session, request: Request) -> list[int]:
    """Mediators who hold (or did) another occurrence of the request's series.

    The one of the nearest earlier occurrence comes first, then the others
    earlier, then those of later occurrences: continuity follows the series.
    """
    if request.series_id is None:
        return []
    rows = session.exec(
        select(Assignment.mediator_id, Request.start)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .where(
            Request.series_id == request.series_id,
            col(Request.id) != request.id,
            col(Request.status).in_(HELD),
            col(Assignment.cancelled_at).is_(None),
        )
    ).all()
    ordered = sorted(
        rows,
        key=lambda row: (row[1] > request.start, abs((row[1] - request.start).total_seconds())),
    )
    found: list[int] = []
    for mediator_id, _start in ordered:
        if mediator_id not in found:
            found.append(mediator_id)
    return found


def mark_cancelled_from(
    session: Session,
    *,
    series: Series,
    from_day: date,
    reason: str | None,
    cancelled: list[int],
    actor: User,
    now: datetime,
) -> None:
    if series.cancelled_from is None or from_day < series.cancelled_from:
        series.cancelled_from = from_day
        series.cancel_reason = reason
    session.add(series)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="series.cancel",
        entity="series",
        entity_id=series.id,
        details={"from": from_day.isoformat(), "requests": cancelled},
    )
    session.flush()


def to_public(session: Session, series: Series, *, actor: User) -> SeriesPublic:
    """The API's view of a series, with every occurrence as the actor may see it."""
    template = series.template
    return SeriesPublic(
        id=series.id,
        organisation_id=series.organisation_id,
        created_by_user_id=series.created_by_user_id,
        interval_weeks=series.interval_weeks,
        until=series.until,
        first_start=series.first_start,
        duration_minutes=series.duration_minutes,
        language=str(template.get("language", "")),
        mode=str(template.get("mode", "")),
        client_ref=template.get("client_ref"),
        created_at=series.created_at,
        cancelled_from=series.cancelled_from,
        cancel_reason=series.cancel_reason,
        occurrences=[
            requests.to_public(session, r, actor=actor) for r in occurrences(session, series.id)
        ],
    )
