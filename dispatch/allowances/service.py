"""Month statements, paid months and each mediator's yearly total.

Definitions, so every figure means one thing:
- a job belongs to the month (and year) of its actual start in the town's zone;
  a late cancellation to the month of its booked start;
- a job is paid when its Einsatzbestätigung is ``approved``; a late cancellation
  (the request was called off less than the rules' hours before its start while
  the mediator held it) is paid as the rules say, without a report;
- a job's *amount* is what the calculator says today; what was paid is in the
  stored lines. Amount - paid is *open*: the whole amount for a month never
  paid, a correction for a paid one. Marking a month paid writes the open
  amounts as new lines; a written line is never changed;
- a mediator's *year total* is the sum of the amounts of their jobs in the
  calendar year so far, against their annual limit.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from config.settings import Settings
from dispatch.allowances import ledger  # noqa: F401  (its listeners renew the token)
from dispatch.allowances.calculator import (
    Allowance,
    JobFacts,
    Outcome,
    Rules,
    allowance,
    cents,
    expected_allowance,
    load_rules,
)
from dispatch.allowances.models import AllowanceLine, AllowanceMonth, LineKind
from dispatch.audit import record as audit
from dispatch.errors import Conflict, InvalidInput
from dispatch.jobs.models import JobReport, ReportState
from dispatch.mediators.models import Mediator, versions
from dispatch.offers.models import Assignment, Offer, OfferStatus
from dispatch.places.models import Place
from dispatch.planning.limits import LimitsReached
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.users.models import User
from dispatch.validation import EARLIEST_DAY, LATEST_DAY
from matching.feasibility import great_circle_km, travel_speed_kmh
from matching.model import ROAD_FACTOR, Location

ZERO = Decimal(0)
#: Reports that settle a job: approved ones are paid, rejected ones cost nothing.
SETTLED = (ReportState.approved, ReportState.rejected)
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: The source of a job whose request names none.
NO_SOURCE = ""


@lru_cache(maxsize=8)
def _rules_from(path: Path, _mtime: float) -> Rules:
    return load_rules(path)


def rules_for(path: Path) -> Rules:
    """The allowance rules in `path`, read again when the file changes."""
    return _rules_from(path, path.stat().st_mtime)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; months compare by year, then month."""

    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def after(self) -> date:
        """The first day of the next month."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.first, time(0), tzinfo=tz),
            datetime.combine(self.after, time(0), tzinfo=tz),
        )


#: The first and last month the API accepts: the calendar of every other date
#: (dispatch.validation), so a month's first day and the day after it always exist.
EARLIEST_MONTH = Month(EARLIEST_DAY.year, EARLIEST_DAY.month)
LATEST_MONTH = Month(LATEST_DAY.year, LATEST_DAY.month)


def parse_month(text: str | None, *, today: date, require_over: bool = True) -> Month:
    """A month "YYYY-MM"; for a statement it must be over (its claims are complete)."""
    found = MONTH_PATTERN.match(text or "")
    if found is None:
        raise InvalidInput(
            "Give the month as YYYY-MM, e.g. 2026-10.", field="month", reason="month_format"
        )
    month = Month(int(found[1]), int(found[2]))
    # Compared as (year, month): the first day of year 0 or 10000 cannot even be made.
    if not EARLIEST_MONTH <= month <= LATEST_MONTH:
        raise InvalidInput(
            f"Give a month from {EARLIEST_MONTH.key} to {LATEST_MONTH.key}.",
            field="month",
            reason="month_out_of_range",
            params={"earliest": EARLIEST_MONTH.key, "latest": LATEST_MONTH.key},
        )
    if require_over and month.after > today:
        raise InvalidInput(
            f"The month {month.key} is not over yet; its statement can be made from "
            f"{month.after.isoformat()} on.",
            field="month",
            reason="month_not_over",
            params={"month": month.key, "from": month.after.isoformat()},
        )
    return month


def last_month(today: date) -> Month:
    first = today.replace(day=1)
    return Month(first.year - (first.month == 1), (first.month - 2) % 12 + 1)


@dataclass
class JobAmount:
    """One job of one mediator and what it brings under the rules (not yet rounded away)."""

    assignment_id: int
    request_id: int
    mediator_id: int
    job_date: date
    language: str
    funding_source: str
    kind: LineKind
    worked_minutes: int
    km: Decimal
    allowance: Allowance

    @property
    def amount(self) -> Decimal:
        return self.allowance.total


def job_location(request: Request, place: Place | None) -> Location | None:
    """Where an in-person job is: its place, or the address's point."""
    lat = place.lat if place is not None else request.location_lat
    lon = place.lon if place is not None else request.location_lon
    if request.mode != Mode.in_person or lat is None or lon is None:
        return None
    return Location(lat, lon)


def home_of(mediator: Mediator) -> Location | None:
    if mediator.home_lat is None or mediator.home_lon is None:
        return None
    return Location(mediator.home_lat, mediator.home_lon)


def road_km_from_home(
    mediator: Mediator, request: Request, place: Place | None, assignment: Assignment
) -> float | None:
    """Road km there and back from the mediator's home to the job as the engine estimates
    them (great circle x 1.3): kept on the assignment once the mediator was erased."""
    if assignment.home_road_km is not None:
        return assignment.home_road_km
    home, there = home_of(mediator), job_location(request, place)
    if home is None or there is None:
        return None
    return 2 * great_circle_km(home, there) * ROAD_FACTOR


def travel_minutes_of(
    km: Decimal, mediator: Mediator, request: Request, place: Place | None, assignment: Assignment
) -> int:
    """Travel time there and back: from the reported km at the mediator's travel mode's
    speed, or without km (a ticket, on foot) from the home-to-place distance as the
    engine estimates it. The report does not ask for it, so it is estimated."""
    if request.mode != Mode.in_person:
        return 0
    speed = travel_speed_kmh(mediator.travel_mode)
    if km > 0:
        return math.ceil(float(km) / speed * 60)
    road_km = road_km_from_home(mediator, request, place, assignment)
    if road_km is None:
        return 0
    return math.ceil(road_km / speed * 60)


def keep_home_distances(
    session: Session, *, mediator_id: int | None = None, request_id: int | None = None
) -> None:
    """Before a mediator's home or a home visit's point is erased: keep on each in-person
    assignment concerned (the mediator's, or the request's) the estimated way from home,
    so that the allowances (paid, open and committed), the budgets and the funders'
    report keep their euros after the erasure."""
    if (mediator_id is None) == (request_id is None):
        raise TypeError("keep_home_distances: a mediator_id or a request_id")
    concerned = (
        col(Assignment.mediator_id) == mediator_id
        if mediator_id is not None
        else col(Assignment.request_id) == request_id
    )
    places = {place.id: place for place in session.exec(select(Place))}
    rows = session.exec(
        select(Assignment, Request, Mediator)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
        .where(
            concerned,
            col(Assignment.home_road_km).is_(None),
            col(Request.mode) == Mode.in_person,
        )
    )
    for assignment, request, mediator in rows:
        place = places.get(request.place_id) if request.place_id else None
        road_km = road_km_from_home(mediator, request, place, assignment)
        if road_km is not None:
            assignment.home_road_km = road_km
            session.add(assignment)
    session.flush()


def job_amounts(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    rules: Rules,
    tz: ZoneInfo,
    mediator_id: int | None = None,
) -> list[JobAmount]:
    """Every paid job that began in [start, end): approved reports and late cancellations."""
    places = {place.id: place for place in session.exec(select(Place))}
    found: list[JobAmount] = []
    approved = (
        select(JobReport, Request, Mediator, Assignment)
        .join(Request, col(Request.id) == col(JobReport.request_id))
        .join(Mediator, col(Mediator.id) == col(JobReport.mediator_id))
        .join(Assignment, col(Assignment.id) == col(JobReport.assignment_id))
        .where(
            col(JobReport.state) == ReportState.approved,
            col(JobReport.actual_start) >= start,
            col(JobReport.actual_start) < end,
        )
    )
    if mediator_id is not None:
        approved = approved.where(col(JobReport.mediator_id) == mediator_id)
    for report, request, mediator, assignment in session.exec(approved):
        place = places.get(request.place_id) if request.place_id else None
        worked = max(0, int((report.actual_end - report.actual_start).total_seconds() // 60))
        km = Decimal(report.travel_km or 0)
        facts = JobFacts(
            outcome=cast(Outcome, str(report.outcome)),
            minutes=worked,
            waiting_minutes=report.waiting_minutes,
            travel_minutes=travel_minutes_of(km, mediator, request, place, assignment),
            km=km,
            ticket_cost=Decimal(report.ticket_cost or 0),
            in_person=request.mode == Mode.in_person,
        )
        found.append(
            JobAmount(
                assignment_id=report.assignment_id,
                request_id=request.id,
                mediator_id=mediator.id,
                job_date=report.actual_start.astimezone(tz).date(),
                language=request.language,
                funding_source=request.funding_source or NO_SOURCE,
                kind=LineKind.job,
                worked_minutes=worked,
                km=km,
                allowance=allowance(facts, rules),
            )
        )
    found += _late_cancellations(
        session, start=start, end=end, rules=rules, tz=tz, places=places, mediator_id=mediator_id
    )
    found.sort(key=lambda job: (job.job_date, job.assignment_id))
    return found


def _late_cancellations(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    rules: Rules,
    tz: ZoneInfo,
    places: dict[int, Place],
    mediator_id: int | None,
) -> list[JobAmount]:
    """Requests called off under the rules' hours before the start while a mediator held
    them (their accepted offer was withdrawn with the request), when the rules pay that."""
    cancel = rules.cancellation
    if cancel.work_minutes_cap == 0 and not cancel.pays_travel:
        return []
    query = (
        select(Assignment, Request, Mediator)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
        .join(Offer, col(Offer.id) == col(Assignment.offer_id))
        .where(
            col(Request.status) == RequestStatus.cancelled,
            col(Request.start) >= start,
            col(Request.start) < end,
            col(Assignment.cancelled_at).is_not(None),
            col(Offer.status) == OfferStatus.withdrawn,
        )
    )
    if mediator_id is not None:
        query = query.where(col(Assignment.mediator_id) == mediator_id)
    found = []
    for assignment, request, mediator in session.exec(query):
        called_off = request.cancelled_at or assignment.cancelled_at
        if called_off is None or (request.start - called_off).total_seconds() >= (
            cancel.within_hours * 3600
        ):
            continue
        place = places.get(request.place_id) if request.place_id else None
        booked = int((request.end - request.start).total_seconds() // 60)
        facts = JobFacts(
            outcome="cancelled_late",
            minutes=booked,
            travel_minutes=travel_minutes_of(ZERO, mediator, request, place, assignment),
            in_person=request.mode == Mode.in_person,
        )
        paid = allowance(facts, rules)
        if paid.total == 0:
            continue
        found.append(
            JobAmount(
                assignment_id=assignment.id,
                request_id=request.id,
                mediator_id=mediator.id,
                job_date=request.start.astimezone(tz).date(),
                language=request.language,
                funding_source=request.funding_source or NO_SOURCE,
                kind=LineKind.late_cancellation,
                worked_minutes=0,
                km=ZERO,
                allowance=paid,
            )
        )
    return found


# --- the month statement --------------------------------------------------------------------


@dataclass
class Line:
    """A row of the statement: a paid (stored) line or an open one."""

    assignment_id: int
    request_id: int
    job_date: date
    language: str
    funding_source: str
    kind: LineKind
    paid_minutes: int
    worked_minutes: int
    km: Decimal
    amount: Decimal
    paid_at: datetime | None


@dataclass
class MediatorStatement:
    mediator_id: int
    name: str
    lines: list[Line] = field(default_factory=list)
    year_total: Decimal = ZERO
    annual_limit: Decimal = ZERO
    warn_share: Decimal = Decimal("0.8")
    #: The mediator's own monthly limit (None: they have none); `total` is what the
    #: month reached against it.
    monthly_limit: Decimal | None = None
    #: Erased: what was not paid before cannot be paid through Sprachpool any more (the
    #: coordinator confirmed that when erasing); it is shown apart, never marked paid.
    erased: bool = False

    @property
    def jobs(self) -> int:
        return len({line.assignment_id for line in self.lines if line.kind != LineKind.correction})

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def unpaid(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.paid_at is None), ZERO)

    @property
    def open(self) -> Decimal:
        """What is to be paid through Sprachpool: nothing for an erased mediator."""
        return ZERO if self.erased else self.unpaid

    @property
    def not_paid_erased(self) -> Decimal:
        """What an erased mediator was not paid (the erasure's confirmed amount)."""
        return self.unpaid if self.erased else ZERO

    @property
    def worked_minutes(self) -> int:
        return sum(line.worked_minutes for line in self.lines if line.kind == LineKind.job)

    @property
    def km(self) -> Decimal:
        return sum((line.km for line in self.lines if line.kind == LineKind.job), ZERO)

    @property
    def by_source(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            sums[line.funding_source] += line.amount
        return dict(sorted(sums.items()))

    @property
    def limit_share(self) -> Decimal | None:
        return None if not self.annual_limit else self.year_total / self.annual_limit

    @property
    def limit_warning(self) -> bool:
        share = self.limit_share
        return share is not None and share >= self.warn_share


@dataclass
class Statement:
    month: Month
    rules_name: str
    mediators: list[MediatorStatement]
    payments: list[AllowanceMonth]

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.mediators), ZERO)

    @property
    def open(self) -> Decimal:
        return sum((m.open for m in self.mediators), ZERO)

    @property
    def by_source(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for mediator in self.mediators:
            for source, amount in mediator.by_source.items():
                sums[source] += amount
        return dict(sorted(sums.items()))

    @property
    def paid_at(self) -> datetime | None:
        return self.payments[-1].paid_at if self.payments else None


def _open_lines(amounts: list[JobAmount], stored: list[AllowanceLine]) -> list[Line]:
    """What is not yet paid: each job's amount less what its stored lines paid."""
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in stored:
        paid[line.assignment_id] += line.amount
    result = []
    seen = set()
    for job in amounts:
        seen.add(job.assignment_id)
        difference = job.amount - paid.get(job.assignment_id, ZERO)
        if difference == 0:
            continue
        corrects = job.assignment_id in paid
        result.append(
            Line(
                assignment_id=job.assignment_id,
                request_id=job.request_id,
                job_date=job.job_date,
                language=job.language,
                funding_source=job.funding_source,
                kind=LineKind.correction if corrects else job.kind,
                paid_minutes=0 if corrects else job.allowance.paid_minutes,
                worked_minutes=0 if corrects else job.worked_minutes,
                km=ZERO if corrects else job.km,
                amount=difference,
                paid_at=None,
            )
        )
    # A paid job that is no longer paid (its approval was taken back): pay it back.
    for assignment_id, amount in paid.items():
        if assignment_id not in seen and amount != 0:
            template = next(line for line in stored if line.assignment_id == assignment_id)
            result.append(
                Line(
                    assignment_id=assignment_id,
                    request_id=template.request_id,
                    job_date=template.job_date,
                    language="",
                    funding_source=template.funding_source or NO_SOURCE,
                    kind=LineKind.correction,
                    paid_minutes=0,
                    worked_minutes=0,
                    km=ZERO,
                    amount=-amount,
                    paid_at=None,
                )
            )
    return result


def statement(session: Session, *, month: Month, rules: Rules, tz: ZoneInfo) -> Statement:
    """The month's statement: per mediator the paid and open lines, totals, year against limit."""
    start, end = month.bounds(tz)
    amounts = job_amounts(session, start=start, end=end, rules=rules, tz=tz)
    stored = list(
        session.exec(
            select(AllowanceLine)
            .where(col(AllowanceLine.month) == month.key)
            .order_by(col(AllowanceLine.id))
        )
    )
    payments = list(
        session.exec(
            select(AllowanceMonth)
            .where(col(AllowanceMonth.month) == month.key)
            .order_by(col(AllowanceMonth.id))
        )
    )
    paid_at = {payment.id: payment.paid_at for payment in payments}
    language_of = {job.assignment_id: job.language for job in amounts}
    by_mediator: dict[int, list[Line]] = defaultdict(list)
    owner = {job.assignment_id: job.mediator_id for job in amounts}
    for line in stored:
        owner[line.assignment_id] = line.mediator_id
        by_mediator[line.mediator_id].append(
            Line(
                assignment_id=line.assignment_id,
                request_id=line.request_id,
                job_date=line.job_date,
                language=language_of.get(line.assignment_id, ""),
                funding_source=line.funding_source or NO_SOURCE,
                kind=LineKind(line.kind),
                paid_minutes=line.paid_minutes,
                worked_minutes=0 if line.kind == LineKind.correction else _worked(line, amounts),
                km=line.km,
                amount=line.amount,
                paid_at=paid_at.get(line.payment_id),
            )
        )
    for open_line in _open_lines(amounts, stored):
        by_mediator[owner[open_line.assignment_id]].append(open_line)
    mediators = {
        m.id: m
        for m in session.exec(select(Mediator).where(col(Mediator.id).in_(list(by_mediator))))
    }
    year_totals = year_totals_for(session, year=month.year, rules=rules, tz=tz)
    statements = []
    for mediator_id, lines in by_mediator.items():
        mediator = mediators[mediator_id]
        lines.sort(key=lambda line: (line.job_date, line.assignment_id, line.paid_at is None))
        statements.append(
            MediatorStatement(
                mediator_id=mediator_id,
                name=mediator.name,
                lines=lines,
                year_total=year_totals.get(mediator_id, ZERO),
                annual_limit=limit_of(mediator, rules, year=month.year),
                warn_share=rules.warn_share,
                monthly_limit=None
                if mediator.monthly_limit is None
                else Decimal(mediator.monthly_limit),
                erased=mediator.erased_at is not None,
            )
        )
    statements.sort(key=lambda s: (s.name.casefold(), s.mediator_id))
    return Statement(month=month, rules_name=rules.name, mediators=statements, payments=payments)


def _worked(line: AllowanceLine, amounts: list[JobAmount]) -> int:
    for job in amounts:
        if job.assignment_id == line.assignment_id:
            return job.worked_minutes
    return 0


def mark_paid(
    session: Session, *, month: Month, rules: Rules, tz: ZoneInfo, actor: User, now: datetime
) -> AllowanceMonth:
    """Freeze the month: write every open amount as a new line (corrections included).

    An erased mediator's unpaid lines are not written: they cannot be paid through
    Sprachpool (see `MediatorStatement.erased`)."""
    current = statement(session, month=month, rules=rules, tz=tz)
    lines = [
        (mediator.mediator_id, line)
        for mediator in current.mediators
        if not mediator.erased
        for line in mediator.lines
        if line.paid_at is None
    ]
    if not lines:
        raise Conflict(
            f"Nothing of {month.key} is open: every approved job is paid.",
            reason="nothing_to_pay",
            params={"month": month.key},
        )
    payment = AllowanceMonth(
        month=month.key,
        paid_at=now,
        paid_by_user_id=actor.id,
        amount=sum((line.amount for _, line in lines), ZERO),
    )
    session.add(payment)
    session.flush()
    for mediator_id, line in lines:
        session.add(
            AllowanceLine(
                payment_id=payment.id,
                month=month.key,
                mediator_id=mediator_id,
                assignment_id=line.assignment_id,
                request_id=line.request_id,
                funding_source=line.funding_source or None,
                kind=line.kind,
                job_date=line.job_date,
                paid_minutes=line.paid_minutes,
                km=line.km,
                amount=line.amount,
                created_at=now,
            )
        )
    session.flush()
    audit(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="allowances.paid",
        entity="allowance_month",
        entity_id=payment.id,
        details={"month": month.key, "lines": len(lines), "amount": str(payment.amount)},
    )
    return payment


# --- the yearly limit -----------------------------------------------------------------------


def limit_of(mediator: Mediator, rules: Rules, *, year: int) -> Decimal:
    """The mediator's own limit, else the rules' figure for `year` (the law's changes)."""
    if mediator.annual_limit is not None:
        return Decimal(mediator.annual_limit)
    return rules.annual_limit_in(year)


def year_totals_for(
    session: Session, *, year: int, rules: Rules, tz: ZoneInfo, mediator_id: int | None = None
) -> dict[int, Decimal]:
    """Each mediator's allowances of the calendar year (every approved job so far)."""
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for job in job_amounts(
        session, start=start, end=end, rules=rules, tz=tz, mediator_id=mediator_id
    ):
        totals[job.mediator_id] += job.amount
    return dict(totals)


def limit_reached(session: Session, *, settings: Settings, now: datetime) -> LimitsReached:
    """What the engine needs to leave mediators out of paid offers that would take them
    over a limit: what is left of each one's annual limit per year (see `annual_counts`),
    and each mediator's own monthly limit with what each month counts against it (see
    `monthly_counts`): a paid job goes only where it fits.

    Kept under the ledger's and the pool's tokens (``dispatch.allowances.ledger``)
    for the month and the rules, so filing a request does not add up the year's
    jobs again; without a token the totals are computed each time.
    """
    rules = rules_for(settings.allowance_file)
    local = now.astimezone(settings.tz)
    month = Month(local.year, local.month)
    tokens = versions(session)
    if tokens.pool is None or tokens.ledger is None:
        return _limits_reached(session, rules=rules, tz=settings.tz, now=now)
    key = (tokens.pool, tokens.ledger, month.key, str(settings.tz))
    with _limits_lock:
        kept = _limits.get(key)
        if kept is not None and kept[0] is rules:
            _limits.move_to_end(key)
            return kept[1]
    found = _limits_reached(session, rules=rules, tz=settings.tz, now=now)
    with _limits_lock:
        _limits[key] = (rules, found)
        while len(_limits) > LIMITS_KEPT:
            _limits.popitem(last=False)
    return found


def _limits_reached(
    session: Session, *, rules: Rules, tz: ZoneInfo, now: datetime
) -> LimitsReached:
    monthly = monthly_counts(session, rules=rules, tz=tz, now=now)
    annual = annual_counts(session, rules=rules, tz=tz, now=now)
    return LimitsReached(
        annual_left=annual.left,
        annual_held=annual.held,
        monthly_limits=monthly.limits,
        monthly_counted=monthly.counted,
        held=monthly.held,
        rules=rules,
    )


#: How many (tokens, month) answers are kept; old tokens are never asked for again.
LIMITS_KEPT = 16
_limits: OrderedDict[tuple[str, str, str, str], tuple[Rules, LimitsReached]] = OrderedDict()
_limits_lock = threading.Lock()


@dataclass(frozen=True)
class AnnualCounts:
    """See `annual_counts`; amounts in cents."""

    left: dict[int, dict[int, int]]
    #: Request id -> (mediator id, year, cents) of each held job counted.
    held: dict[int, tuple[int, int, int]]


def annual_counts(session: Session, *, rules: Rules, tz: ZoneInfo, now: datetime) -> AnnualCounts:
    """Per mediator (not erased), per year from the current one on, what is left of their
    annual limit (`limit_of`, the year's own figure) in cents: the limit less the year
    total (approved jobs, paid late cancellations) and less every job held but not
    settled at what it is expected to pay, in the year of its booked start. Given for the
    current and the next year, and any later year a job is held in; a year the
    coordinator let the mediator go beyond (`annual_limit_override_year`) has no entry."""
    year = now.astimezone(tz).year
    held = held_jobs(session, rules=rules, tz=tz, start=datetime(year, 1, 1, tzinfo=tz))
    years = sorted({year, year + 1} | {job.start.year for job in held})
    counted: dict[tuple[int, int], int] = defaultdict(int)
    for each in years:
        for mediator_id, total in year_totals_for(session, year=each, rules=rules, tz=tz).items():
            counted[(mediator_id, each)] += cents(total)
    held_jobs_counted: dict[int, tuple[int, int, int]] = {}
    for job in held:
        counted[(job.mediator_id, job.start.year)] += job.cents
        held_jobs_counted[job.request_id] = (job.mediator_id, job.start.year, job.cents)
    # The limits as `limit_of` gives them, from three columns rather than whole records:
    # this runs again after every change to the ledger (an accepted offer), for the pool.
    default = {each: cents(rules.annual_limit_in(each)) for each in years}
    left: dict[int, dict[int, int]] = {}
    for mediator_id, own, override_year in session.execute(
        sa.select(
            col(Mediator.id), col(Mediator.annual_limit), col(Mediator.annual_limit_override_year)
        ).where(col(Mediator.erased_at).is_(None))
    ):
        own_cents = cents(Decimal(own)) if own is not None else None
        left[mediator_id] = {
            each: (default[each] if own_cents is None else own_cents)
            - counted.get((mediator_id, each), 0)
            for each in years
            if override_year != each
        }
    return AnnualCounts(left, held_jobs_counted)


@dataclass(frozen=True)
class HeldJob:
    """A job held and not settled, at what it is expected to pay (`held_jobs`)."""

    request_id: int
    mediator_id: int
    start: datetime
    """The booked start in the town's zone."""
    cents: int


def held_jobs(
    session: Session,
    *,
    rules: Rules,
    tz: ZoneInfo,
    start: datetime,
    mediator_ids: list[int] | None = None,
) -> list[HeldJob]:
    """Every job booked to start from `start` on that a mediator (of `mediator_ids`, or
    anyone) holds and that is not settled (to come, or done while its Einsatzbestätigung
    is neither approved nor rejected), at what it is expected to pay
    (`expected_allowance`). Jobs given back, called off or not turned up to are not."""
    settled = select(JobReport.assignment_id).where(col(JobReport.state).in_(SETTLED))
    query = (
        select(Assignment.mediator_id, Request)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .where(
            col(Assignment.cancelled_at).is_(None),
            col(Assignment.no_show).is_(False),
            col(Request.status).in_([RequestStatus.assigned, RequestStatus.completed]),
            col(Request.start) >= start,
            col(Assignment.id).not_in(settled),
        )
    )
    if mediator_ids is not None:
        query = query.where(col(Assignment.mediator_id).in_(mediator_ids))
    found = []
    for mediator_id, booked in session.exec(query):
        minutes = int((booked.end - booked.start).total_seconds() // 60)
        in_person = booked.mode == Mode.in_person
        expected = expected_allowance(minutes=minutes, in_person=in_person, rules=rules)
        found.append(HeldJob(booked.id, mediator_id, booked.start.astimezone(tz), cents(expected)))
    return found


def month_totals_for(
    session: Session, *, start: Month, end: Month, rules: Rules, tz: ZoneInfo, mediator_id: int
) -> dict[Month, Decimal]:
    """A mediator's allowances by calendar month from `start` to `end` (both included):
    the amounts the year total adds up (approved jobs, paid late cancellations)."""
    first, _ = start.bounds(tz)
    _, after = end.bounds(tz)
    totals: dict[Month, Decimal] = defaultdict(lambda: ZERO)
    for job in job_amounts(
        session, start=first, end=after, rules=rules, tz=tz, mediator_id=mediator_id
    ):
        totals[Month(job.job_date.year, job.job_date.month)] += job.amount
    return dict(totals)


@dataclass(frozen=True)
class MonthlyCounts:
    """See `monthly_counts`; amounts in cents."""

    limits: dict[int, int]
    counted: dict[int, dict[tuple[int, int], int]]
    #: Request id -> (mediator id, month, cents) of each held job counted.
    held: dict[int, tuple[int, tuple[int, int], int]]


def monthly_counts(session: Session, *, rules: Rules, tz: ZoneInfo, now: datetime) -> MonthlyCounts:
    """Per mediator with their own monthly limit: the limit in cents, and per month from
    the current one on the cents counted against it. Counted are the amounts the year
    total adds up (approved jobs, paid late cancellations) and every job held but not
    settled (to come, or done while its Einsatzbestätigung is neither approved nor
    rejected) at what it is expected to pay (`expected_allowance`), in the month of its
    booked start. Jobs given back, called off or not turned up to count nothing."""
    limits = {
        mediator.id: cents(Decimal(mediator.monthly_limit))
        for mediator in session.exec(
            select(Mediator).where(
                col(Mediator.monthly_limit).is_not(None), col(Mediator.erased_at).is_(None)
            )
        )
        if mediator.monthly_limit is not None
    }
    if not limits:
        return MonthlyCounts({}, {}, {})
    local = now.astimezone(tz)
    start, _ = Month(local.year, local.month).bounds(tz)
    _, end = LATEST_MONTH.bounds(tz)
    counted: dict[int, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    for job in job_amounts(session, start=start, end=end, rules=rules, tz=tz):
        if job.mediator_id in limits:
            month = (job.job_date.year, job.job_date.month)
            counted[job.mediator_id][month] += cents(job.amount)
    held_jobs_counted: dict[int, tuple[int, tuple[int, int], int]] = {}
    for held in held_jobs(session, rules=rules, tz=tz, start=start, mediator_ids=list(limits)):
        month = (held.start.year, held.start.month)
        counted[held.mediator_id][month] += held.cents
        held_jobs_counted[held.request_id] = (held.mediator_id, month, held.cents)
    return MonthlyCounts(
        limits,
        {mediator_id: dict(months) for mediator_id, months in counted.items()},
        held_jobs_counted,
    )


# --- what is still owed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """What Sprachpool still owes a mediator: why erasing them needs a second yes.

    Once erased, their name and contact are gone and the town cannot pay them
    through Sprachpool any more.
    """

    euros: Decimal
    """Approved jobs and paid late cancellations, less what the paid months paid them."""
    open_jobs: int
    """Jobs that took place (or began) whose Einsatzbestätigung is not yet approved or
    rejected: their allowance is not known yet."""

    @property
    def anything(self) -> bool:
        return self.euros > 0 or self.open_jobs > 0


def owed_to(
    session: Session, *, mediator_id: int, rules: Rules, tz: ZoneInfo, now: datetime
) -> Owed:
    """What the mediator is still owed, over every month (also the one not yet over)."""
    start, _ = EARLIEST_MONTH.bounds(tz)
    _, end = LATEST_MONTH.bounds(tz)
    amounts = job_amounts(
        session, start=start, end=end, rules=rules, tz=tz, mediator_id=mediator_id
    )
    paid = session.exec(
        select(func.coalesce(func.sum(AllowanceLine.amount), 0)).where(
            col(AllowanceLine.mediator_id) == mediator_id
        )
    ).one()
    settled = select(JobReport.assignment_id).where(col(JobReport.state).in_(SETTLED))
    open_jobs = session.exec(
        select(func.count())
        .select_from(Assignment)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .where(
            col(Assignment.mediator_id) == mediator_id,
            col(Assignment.cancelled_at).is_(None),
            col(Assignment.no_show).is_(False),
            col(Request.status).in_([RequestStatus.assigned, RequestStatus.completed]),
            col(Request.start) <= now,
            col(Assignment.id).not_in(settled),
        )
    ).one()
    euros = sum((job.amount for job in amounts), ZERO) - Decimal(paid)
    return Owed(euros=euros, open_jobs=open_jobs)


class AllowanceOwed(Conflict):
    """Erasing a mediator Sprachpool still owes money, without saying so is meant."""

    #: The query parameter (API) and the form field (page) that say it is meant.
    FIELD = "confirm_unpaid"

    def __init__(self, owed: Owed, *, stale: bool = False) -> None:
        parts = []
        if owed.euros > 0:
            parts.append(f"{owed.euros:.2f} EUR of approved allowances not yet paid")
        if owed.open_jobs:
            jobs = "1 job" if owed.open_jobs == 1 else f"{owed.open_jobs} jobs"
            parts.append(f"{jobs} done whose report or confirmation is still open")
        super().__init__(
            f"Sprachpool still owes this mediator {' and '.join(parts)}. Once erased, they "
            "cannot be paid through Sprachpool (their name and contact are gone). Pay the "
            f"allowance first, or erase anyway with {self.FIELD}=true.",
            field=self.FIELD,
            reason="allowance_owed",
            params={"euros": f"{owed.euros:.2f}", "open_jobs": owed.open_jobs},
            extra={"owed_euros": f"{max(owed.euros, ZERO):.2f}", "open_jobs": owed.open_jobs},
        )
        self.owed = owed
        #: The yes was given to another amount than is owed now (a job approved meanwhile).
        self.stale = stale
