"""Budgets: each funding source's yearly budget against what its jobs cost.

Definitions (the calendar year of `now` in the town's zone):
- *spent*: the allowances of approved jobs (and paid late cancellations) charged
  to the source, as the month statement computes them;
- *committed*: jobs held by a mediator and not yet approved (assigned, done but
  not yet reported, reported, confirmed or disputed), each estimated from its
  booked time and the way from the mediator's home (or from its report, once
  there is one) under the same rules;
- *forecast*: spent at the year's rate so far, carried to 31 December
  (spent / days passed x days of the year);
- a *warning* when spent + committed reach the warning share (80 %) of the budget.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch.allowances import service
from dispatch.allowances.calculator import JobFacts, Rules, allowance
from dispatch.funding.policy import FundingPolicy
from dispatch.jobs.models import JobReport
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment
from dispatch.places.models import Place
from dispatch.requests.models import Mode, Request, RequestStatus

ZERO = Decimal(0)
CENT = Decimal("0.01")
SETTLED = service.SETTLED


@dataclass(frozen=True)
class Budget:
    key: str
    name: str
    budget: Decimal
    spent: Decimal
    committed: Decimal
    forecast: Decimal
    warn_share: Decimal

    @property
    def share(self) -> Decimal | None:
        """Spent and committed as a share of the budget (None without a budget)."""
        return (self.spent + self.committed) / self.budget if self.budget else None

    @property
    def warning(self) -> bool:
        share = self.share
        return share is not None and share >= self.warn_share

    @property
    def forecast_over(self) -> bool:
        return bool(self.budget) and self.forecast > self.budget


def _estimated_km(
    mediator: Mediator, request: Request, place: Place | None, assignment: Assignment
) -> Decimal:
    """Road km there and back as the engine estimates them (great circle x 1.3), by car only."""
    road_km = service.road_km_from_home(mediator, request, place, assignment)
    if mediator.travel_mode != "car" or road_km is None:
        return ZERO
    return Decimal(str(round(road_km, 1)))


def committed_by_source(
    session: Session, *, start: datetime, end: datetime, rules: Rules
) -> dict[str, Decimal]:
    """Held jobs in [start, end) not yet approved, estimated, by funding source."""
    places = {place.id: place for place in session.exec(select(Place))}
    settled = select(JobReport.assignment_id).where(col(JobReport.state).in_(SETTLED))
    rows = session.exec(
        select(Assignment, Request, Mediator)
        .join(Request, col(Request.id) == col(Assignment.request_id))
        .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
        .where(
            col(Assignment.cancelled_at).is_(None),
            col(Request.status).in_([RequestStatus.assigned, RequestStatus.completed]),
            col(Request.start) >= start,
            col(Request.start) < end,
            col(Assignment.id).not_in(settled),
        )
    )
    reports = {
        report.assignment_id: report
        for report in session.exec(select(JobReport).where(col(JobReport.state).not_in(SETTLED)))
    }
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for assignment, request, mediator in rows:
        place = places.get(request.place_id) if request.place_id else None
        report = reports.get(assignment.id)
        if report is not None:
            minutes = int((report.actual_end - report.actual_start).total_seconds() // 60)
            km = Decimal(report.travel_km or 0)
            waiting = report.waiting_minutes
        else:
            minutes = int((request.end - request.start).total_seconds() // 60)
            km = _estimated_km(mediator, request, place, assignment)
            waiting = 0
        facts = JobFacts(
            outcome="done",
            minutes=minutes,
            waiting_minutes=waiting,
            travel_minutes=service.travel_minutes_of(km, mediator, request, place, assignment),
            km=km,
            in_person=request.mode == Mode.in_person,
        )
        sums[request.funding_source or service.NO_SOURCE] += allowance(facts, rules).total
    return dict(sums)


def budgets(
    session: Session, *, policy: FundingPolicy, rules: Rules, tz: ZoneInfo, now: datetime
) -> list[Budget]:
    """Every funding source of the policy with its figures for the current year."""
    today = now.astimezone(tz).date()
    start = datetime(today.year, 1, 1, tzinfo=tz)
    end = datetime(today.year + 1, 1, 1, tzinfo=tz)
    spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for job in service.job_amounts(session, start=start, end=now, rules=rules, tz=tz):
        spent[job.funding_source] += job.amount
    committed = committed_by_source(session, start=start, end=end, rules=rules)
    days_passed = (today - date(today.year, 1, 1)).days + 1
    days_in_year = (date(today.year + 1, 1, 1) - date(today.year, 1, 1)).days
    found = []
    for key, source in policy.sources.items():
        used = spent.get(key, ZERO)
        found.append(
            Budget(
                key=key,
                name=source.name,
                budget=source.yearly_budget,
                spent=used,
                committed=committed.get(key, ZERO),
                forecast=(used / days_passed * days_in_year).quantize(CENT),
                warn_share=rules.budget_warn_share,
            )
        )
    return found


def source_names(policy: FundingPolicy) -> dict[str, str]:
    """Funding source keys to the names the policy gives them."""
    return {key: source.name for key, source in policy.sources.items()}
