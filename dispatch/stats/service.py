"""Statistics: how many requests were filled, how fast, and where the pool falls short.

Definitions, so that every figure means one thing:
- a request counts in the period when its start lies in [from, to];
- *filled*: someone held it (it has `filled_at`, or it is assigned or completed);
- *unfilled*: status `unfilled` and never filled: nobody was found;
- *fill rate* = filled / (filled + unfilled); open and offered requests are
  still undecided and requests cancelled before a fill are left out;
- *time to fill* = filled_at - created_at (the median, in minutes);
- *unmet demand* by language = unfilled requests and their hours, the figure
  a town needs when it recruits mediators;
- *at risk* = open or offered requests whose caseworker was told early that
  they will probably not be filled (``request.at_risk`` in the audit log):
  the languages about to go unfilled.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

import locales
from config import data as config_data
from dispatch.audit import AuditEvent
from dispatch.errors import InvalidInput
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment
from dispatch.places.models import Place
from dispatch.requests.models import Request, RequestStatus
from dispatch.users.models import Organisation

#: The longest period one query may cover.
MAX_PERIOD_DAYS = 366
#: The default period: the last twelve weeks up to today, and the next two.
DEFAULT_WEEKS_BACK = 12
DEFAULT_DAYS_AHEAD = 14
FILLED_STATUSES = (RequestStatus.assigned, RequestStatus.completed)


@dataclass(frozen=True)
class Period:
    """Whole days in the town's zone, both ends included."""

    first: date
    last: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.first, time(0), tzinfo=tz),
            datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz),
        )


def period(first: date | None, last: date | None, *, today: date) -> Period:
    """The asked-for period, with defaults and checks a person understands."""
    if last is None:
        last = today + timedelta(days=DEFAULT_DAYS_AHEAD)
    if first is None:
        first = min(last, today) - timedelta(weeks=DEFAULT_WEEKS_BACK)
    if last < first:
        raise InvalidInput(
            "'to' must be the same day as 'from' or later.", field="to", reason="period_order"
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"A period covers at most {MAX_PERIOD_DAYS} days.",
            field="to",
            reason="period_too_long",
            params={"days": MAX_PERIOD_DAYS},
        )
    return Period(first, last)


@dataclass
class Group:
    """Figures of one group of requests (a week, a language, an organisation)."""

    key: str
    label: str
    requests: int = 0
    filled: int = 0
    unfilled: int = 0
    unfilled_minutes: int = 0
    at_risk: int = 0
    fill_minutes: list[float] = field(default_factory=list)

    @property
    def fill_rate(self) -> float | None:
        decided = self.filled + self.unfilled
        return self.filled / decided if decided else None

    @property
    def median_minutes_to_fill(self) -> float | None:
        return statistics.median(self.fill_minutes) if self.fill_minutes else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "requests": self.requests,
            "filled": self.filled,
            "unfilled": self.unfilled,
            "fill_rate": _rounded(self.fill_rate),
            "median_minutes_to_fill": _rounded(self.median_minutes_to_fill, 1),
            "unfilled_hours": round(self.unfilled_minutes / 60, 2),
            "at_risk": self.at_risk,
        }


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Stats:
    period: Period
    total: Group
    by_status: dict[str, int]
    by_week: list[Group]
    by_language: list[Group]
    by_organisation: list[Group]
    unmet_by_language: list[Group]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "requests": self.total.requests,
            "filled": self.total.filled,
            "unfilled": self.total.unfilled,
            "fill_rate": _rounded(self.total.fill_rate),
            "median_minutes_to_fill": _rounded(self.total.median_minutes_to_fill, 1),
            "by_status": self.by_status,
            "by_week": [g.as_dict() for g in self.by_week],
            "by_language": [g.as_dict() for g in self.by_language],
            "by_organisation": [g.as_dict() for g in self.by_organisation],
            "unmet_demand_by_language": [
                {
                    "language": g.key,
                    "label": g.label,
                    "requests": g.unfilled,
                    "hours": round(g.unfilled_minutes / 60, 2),
                    "at_risk": g.at_risk,
                }
                for g in self.unmet_by_language
            ],
        }


def _week(day: date) -> Group:
    """An empty group for the ISO week of `day`, labelled with its Monday."""
    year, week, _ = day.isocalendar()
    return Group(f"{year}-W{week:02d}", date.fromisocalendar(year, week, 1).isoformat())


def compute(session: Session, *, span: Period, tz: ZoneInfo, lang: str = "de") -> Stats:
    """Every figure of the statistics page and of GET /api/v1/stats, in one pass."""
    start, end = span.bounds(tz)
    rows = list(
        session.exec(select(Request).where(col(Request.start) >= start, col(Request.start) < end))
    )
    first_assignment = (
        dict(
            session.exec(
                select(Assignment.request_id, func.min(Assignment.created_at))
                .where(col(Assignment.request_id).in_([r.id for r in rows]))
                .group_by(col(Assignment.request_id))
            ).all()
        )
        if rows
        else {}
    )
    seeking = [r.id for r in rows if r.status in (RequestStatus.open, RequestStatus.offered)]
    warned = (
        set(
            session.exec(
                select(AuditEvent.entity_id).where(
                    AuditEvent.action == "request.at_risk",
                    AuditEvent.entity == "request",
                    col(AuditEvent.entity_id).in_(seeking),
                )
            )
        )
        if seeking
        else set()
    )
    organisations = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    languages = config_data.languages()

    total = Group("all", "all")
    by_status: dict[str, int] = defaultdict(int)
    weeks: dict[str, Group] = {}
    by_language: dict[str, Group] = {}
    by_organisation: dict[str, Group] = {}
    # Every week of the period has a row, so a chart shows gaps as gaps.
    monday = span.first - timedelta(days=span.first.weekday())
    while monday <= span.last:
        weeks[_week(monday).key] = _week(monday)
        monday += timedelta(days=7)
    for request in rows:
        by_status[request.status] += 1
        language = languages.get(request.language.lower())
        label = locales.language_name(language.tag, lang) if language else request.language
        groups = [
            total,
            weeks[_week(request.start.astimezone(tz).date()).key],
            by_language.setdefault(request.language, Group(request.language, label)),
            by_organisation.setdefault(
                str(request.organisation_id),
                Group(
                    str(request.organisation_id), organisations.get(request.organisation_id, "?")
                ),
            ),
        ]
        filled_at = request.filled_at or first_assignment.get(request.id)
        filled = filled_at is not None and (
            request.filled_at is not None or request.status in FILLED_STATUSES
        )
        unfilled = request.status == RequestStatus.unfilled and not filled
        for group in groups:
            group.requests += 1
            if filled and filled_at is not None:
                group.filled += 1
                group.fill_minutes.append(
                    max(0.0, (filled_at - request.created_at).total_seconds() / 60)
                )
            if request.id in warned:
                group.at_risk += 1
            if unfilled:
                group.unfilled += 1
                group.unfilled_minutes += int((request.end - request.start).total_seconds() // 60)
    by_size = sorted(by_language.values(), key=lambda g: (-g.requests, g.label))
    return Stats(
        period=span,
        total=total,
        by_status={status.value: by_status.get(status.value, 0) for status in RequestStatus},
        by_week=sorted(weeks.values(), key=lambda g: g.key),
        by_language=by_size,
        by_organisation=sorted(by_organisation.values(), key=lambda g: (-g.requests, g.label)),
        unmet_by_language=sorted(
            (g for g in by_size if g.unfilled or g.at_risk),
            key=lambda g: (-g.unfilled_minutes, -g.unfilled, g.label),
        ),
    )


CSV_COLUMNS = (
    "assignment_id",
    "request_id",
    "organisation",
    "language",
    "mode",
    "start",
    "end",
    "place",
    "request_status",
    "mediator_id",
    "mediator_name",
    "source",
    "assigned_at",
    "reconfirmed_at",
    "cancelled_at",
    "cancel_reason",
    "completed_at",
    "minutes_worked",
    "travel_km",
    "no_show",
)


def _cell(value: object) -> object:
    """Spreadsheets run text that starts with = + - @ as a formula; such text is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def assignment_records(session: Session, *, span: Period, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Every assignment of requests starting in the period, one record each (cancelled
    ones too), keyed by CSV_COLUMNS; times in the town's zone, codes as stored."""
    start, end = span.bounds(tz)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment else None

    place_names = {place.id: place.name for place in session.exec(select(Place))}
    records = []
    for assignment, request, mediator, organisation in session.exec(
        select(Assignment, Request, Mediator, Organisation)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
        .join(Organisation, col(Organisation.id) == col(Request.organisation_id))
        .where(col(Request.start) >= start, col(Request.start) < end)
        .order_by(col(Request.start), col(Assignment.id))
    ):
        values = (
            assignment.id,
            request.id,
            organisation.name,
            request.language,
            request.mode,
            local(request.start),
            local(request.end),
            place_names.get(request.place_id or 0) or request.address or "",
            request.status,
            mediator.id,
            mediator.name,
            assignment.source,
            local(assignment.created_at),
            local(assignment.reconfirmed_at),
            local(assignment.cancelled_at),
            assignment.cancel_reason or "",
            local(assignment.completed_at),
            assignment.minutes_worked,
            assignment.travel_km,
            assignment.no_show,
        )
        records.append(dict(zip(CSV_COLUMNS, values, strict=True)))
    return records


def assignments_csv(session: Session, *, span: Period, tz: ZoneInfo) -> str:
    """Every assignment of requests starting in the period, one row each (cancelled ones too).

    UTF-8 with a byte order mark, so spreadsheet programs read umlauts right.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def text(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "" if value is None else value

    for record in assignment_records(session, span=span, tz=tz):
        writer.writerow([_cell(text(record[name])) for name in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()
