"""What the pages show, read in a few queries: request rows with their live
status, the coordinator's day view, a mediator's upcoming jobs.

These are read models; every change goes through the domain services.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from dispatch.mediators.models import Mediator
from dispatch.offers import service as offers
from dispatch.offers.models import Assignment, Offer, OfferStatus
from dispatch.outbox.models import Message
from dispatch.places.models import Place
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.users.models import Organisation

#: An assigned request not reconfirmed by this long before its start is at risk.
AT_RISK_WITHIN = timedelta(hours=4)
#: How many days the dashboard shows at most.
MAX_DASHBOARD_DAYS = 14
LIVE_STATUSES = (
    RequestStatus.open,
    RequestStatus.offered,
    RequestStatus.assigned,
    RequestStatus.unfilled,
)


@dataclass
class RequestRow:
    """A request with what a person wants to know about it at a glance."""

    request: Request
    place: Place | None = None
    organisation_name: str = ""
    offers_asked: int = 0
    offers_declined: int = 0
    offers_pending: int = 0
    #: Offers that ran out unanswered (a late yes may still come while it is seeking).
    offers_unanswered: int = 0
    assignment: Assignment | None = None
    mediator: Mediator | None = None
    at_risk: bool = False
    #: When the next offers go out, for a request that waits for them, and why
    #: ("quiet_hours", "series"; `offers.service.offers_held`).
    offers_from: datetime | None = None
    offers_wait: str | None = None

    @property
    def next_step(self) -> str | None:
        """For an unfilled request: what the caseworker can do instead.

        An in-person job may find someone by phone or video; otherwise a
        professional interpreting service is the way left.
        """
        if self.request.status != RequestStatus.unfilled:
            return None
        return "remote" if self.request.mode == Mode.in_person else "professional"

    @property
    def needs_attention(self) -> bool:
        return self.request.status == RequestStatus.unfilled or self.at_risk


def is_at_risk(assignment: Assignment | None, request: Request, *, now: datetime) -> bool:
    """Flagged by the workflow, or held without reconfirmation and starting within 4 hours."""
    if assignment is None or request.status != RequestStatus.assigned:
        return False
    if assignment.at_risk_at is not None:
        return True
    return assignment.reconfirmed_at is None and now <= request.start <= now + AT_RISK_WITHIN


def request_rows(session: Session, requests: list[Request], *, now: datetime) -> list[RequestRow]:
    """Rows for many requests in four queries, in the order given."""
    ids = [r.id for r in requests]
    rows = [RequestRow(request=r) for r in requests]
    if not ids:
        return rows
    by_id = {row.request.id: row for row in rows}
    place_ids = {r.place_id for r in requests if r.place_id}
    places = (
        {p.id: p for p in session.exec(select(Place).where(col(Place.id).in_(place_ids)))}
        if place_ids
        else {}
    )
    organisations = dict(
        session.exec(
            select(Organisation.id, Organisation.name).where(
                col(Organisation.id).in_({r.organisation_id for r in requests})
            )
        ).all()
    )
    for request_id, status, count in session.exec(
        select(Offer.request_id, Offer.status, func.count())
        .where(col(Offer.request_id).in_(ids))
        .group_by(col(Offer.request_id), col(Offer.status))
    ):
        row = by_id[request_id]
        row.offers_asked += count
        if status == OfferStatus.declined:
            row.offers_declined += count
        elif status == OfferStatus.pending:
            row.offers_pending += count
        elif status == OfferStatus.expired:
            row.offers_unanswered += count
    for assignment, mediator in session.exec(
        select(Assignment, Mediator)
        .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
        .where(col(Assignment.request_id).in_(ids), col(Assignment.cancelled_at).is_(None))
    ):
        row = by_id[assignment.request_id]
        row.assignment, row.mediator = assignment, mediator
    waiting = [r.id for r in requests if r.status in (RequestStatus.open, RequestStatus.offered)]
    for request_id, (due_at, why) in offers.offers_held(session, waiting, now=now).items():
        by_id[request_id].offers_from, by_id[request_id].offers_wait = due_at, why
    for row in rows:
        row.place = places.get(row.request.place_id) if row.request.place_id else None
        row.organisation_name = organisations.get(row.request.organisation_id, "")
        row.at_risk = is_at_risk(row.assignment, row.request, now=now)
    return rows


@dataclass
class DayColumn:
    day: date
    rows: list[RequestRow] = field(default_factory=list)


@dataclass
class Dashboard:
    attention: list[RequestRow]
    days: list[DayColumn]
    counts: dict[str, int]


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def dashboard(session: Session, *, now: datetime, tz: ZoneInfo, days: int) -> Dashboard:
    """Today and the next days; what needs the coordinator first (unfilled, at risk).

    Unfilled requests are listed on top even when they started earlier
    today, so nothing drops off the screen unseen.
    """
    days = max(1, min(days, MAX_DASHBOARD_DAYS))
    today = now.astimezone(tz).date()
    start, end = _local_midnight(today, tz), _local_midnight(today + timedelta(days=days), tz)
    requests = list(
        session.exec(
            select(Request)
            .where(col(Request.start) >= start, col(Request.start) < end)
            .order_by(col(Request.start), col(Request.id))
        )
    )
    rows = request_rows(session, requests, now=now)
    columns = {
        today + timedelta(days=i): DayColumn(day=today + timedelta(days=i)) for i in range(days)
    }
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        columns[row.request.start.astimezone(tz).date()].rows.append(row)
        counts[row.request.status] += 1
        if row.at_risk:
            counts["at_risk"] += 1
    attention = sorted(
        (row for row in rows if row.needs_attention),
        key=lambda row: (row.request.status != RequestStatus.unfilled, row.request.start),
    )
    return Dashboard(attention=attention, days=list(columns.values()), counts=dict(counts))


def upcoming_jobs(session: Session, *, mediator_id: int, now: datetime) -> list[RequestRow]:
    """A mediator's jobs that have not ended yet, soonest first."""
    requests = list(
        session.exec(
            select(Request)
            .join(Assignment, col(Assignment.request_id) == col(Request.id))
            .where(
                col(Assignment.mediator_id) == mediator_id,
                col(Assignment.cancelled_at).is_(None),
                col(Request.status) == RequestStatus.assigned,
                col(Request.end) > now,
            )
            .order_by(col(Request.start))
        )
    )
    return request_rows(session, requests, now=now)


def requests_by_ids(session: Session, ids: list[int]) -> list[Request]:
    if not ids:
        return []
    return list(
        session.exec(select(Request).where(col(Request.id).in_(ids)).order_by(col(Request.start)))
    )


def message_log(
    session: Session, *, status: str | None, limit: int, offset: int
) -> tuple[list[Message], int]:
    """Messages newest first, optionally of one delivery status."""
    query = select(Message)
    if status:
        query = query.where(Message.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(
        session.exec(
            query.order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


@dataclass
class MediatorHistory:
    """A mediator's record as the coordinator reads it: jobs, declines, no-shows, hours."""

    jobs: list[RequestRow]
    """Their jobs, newest first (given back or taken back ones included, marked cancelled)."""
    declined: int
    no_shows: int
    minutes_this_year: int
    year: int


def mediator_history(
    session: Session, *, mediator_id: int, now: datetime, tz: ZoneInfo, limit: int = 50
) -> MediatorHistory:
    """Jobs (newest first), offers declined, no-shows, and minutes worked this calendar year."""
    year = now.astimezone(tz).year
    year_start = _local_midnight(date(year, 1, 1), tz)
    assignments = list(
        session.exec(
            select(Assignment, Request)
            .join(Request, col(Request.id) == col(Assignment.request_id))
            .where(col(Assignment.mediator_id) == mediator_id)
            .order_by(col(Request.start).desc(), col(Assignment.id).desc())
        )
    )
    rows = request_rows(session, [r for _, r in assignments[:limit]], now=now)
    for row, (assignment, _) in zip(rows, assignments, strict=False):
        # The row shows this mediator's assignment, also one they no longer hold.
        row.assignment = assignment
    minutes = sum(
        (a.minutes_worked or 0)
        for a, r in assignments
        if a.cancelled_at is None and r.start >= year_start and not a.no_show
    )
    declined = session.exec(
        select(func.count()).where(
            col(Offer.mediator_id) == mediator_id, col(Offer.status) == OfferStatus.declined
        )
    ).one()
    return MediatorHistory(
        jobs=rows,
        declined=declined,
        no_shows=sum(1 for a, _ in assignments if a.no_show),
        minutes_this_year=minutes,
        year=year,
    )


@dataclass
class PlanDay:
    day: date
    rows: list[RequestRow] = field(default_factory=list)


def day_plan(
    session: Session, *, first: date, days: int, tz: ZoneInfo, now: datetime
) -> list[PlanDay]:
    """The jobs of each day (cancelled ones left out), by start: the printable day plan."""
    start, end = _local_midnight(first, tz), _local_midnight(first + timedelta(days=days), tz)
    requests = list(
        session.exec(
            select(Request)
            .where(
                col(Request.start) >= start,
                col(Request.start) < end,
                col(Request.status) != RequestStatus.cancelled,
            )
            .order_by(col(Request.start), col(Request.id))
        )
    )
    plan = {first + timedelta(days=i): PlanDay(day=first + timedelta(days=i)) for i in range(days)}
    for row in request_rows(session, requests, now=now):
        plan[row.request.start.astimezone(tz).date()].rows.append(row)
    return list(plan.values())
