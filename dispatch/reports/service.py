"""The report for the funders (Förderbericht): what the pool did with their money.

Definitions, so every figure means one thing:
- a *job* is an approved Einsatzbestätigung whose actual start lies in the
  period (only approved jobs are paid, so only they are reported as delivered);
- *hours* are the worked minutes (actual end - actual start) / 60;
- *euros* are the jobs' allowances under the pool's rules; late cancellations
  are paid but are not jobs, so they count in `cancellation_euros` only;
- *cost per job* = euros of the jobs / jobs;
- unfilled requests, fill rate and time to fill are the statistics' figures
  (`dispatch/stats/service.py`) for requests starting in the period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

import locales
from config.settings import Settings
from dispatch.allowances import service as allowances
from dispatch.allowances.budgets import source_names
from dispatch.allowances.calculator import Rules
from dispatch.allowances.models import LineKind
from dispatch.funding.policy import CATEGORY_NAMES, Category, OrganisationType, policy_of
from dispatch.funding.service import organisation_type
from dispatch.requests.models import Request
from dispatch.stats import service as stats
from dispatch.users.models import Organisation

ZERO = Decimal(0)
CENT = Decimal("0.01")
#: What the report calls the organisation types (msgids).
ORGANISATION_TYPE_NAMES = {
    OrganisationType.public: locales.N_("Public body"),
    OrganisationType.non_profit: locales.N_("Non-profit"),
}


@dataclass
class Row:
    """Jobs, hours and euros of one group (a language, a category, ...)."""

    key: str
    label: str
    jobs: int = 0
    minutes: int = 0
    euros: Decimal = ZERO

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(CENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "jobs": self.jobs,
            "hours": f"{self.hours:.2f}",
            "euros": f"{self.euros:.2f}",
        }


@dataclass
class FundersReport:
    period: stats.Period
    total: Row
    by_language: list[Row]
    by_category: list[Row]
    by_organisation_type: list[Row]
    by_funding_source: list[Row]
    cancellation_euros: Decimal
    figures: stats.Stats

    @property
    def cost_per_job(self) -> Decimal | None:
        return (self.total.euros / self.total.jobs).quantize(CENT) if self.total.jobs else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "jobs": self.total.jobs,
            "hours": f"{self.total.hours:.2f}",
            "euros": f"{self.total.euros:.2f}",
            "cost_per_job": None if self.cost_per_job is None else f"{self.cost_per_job:.2f}",
            "late_cancellation_euros": f"{self.cancellation_euros:.2f}",
            "by_language": [row.as_dict() for row in self.by_language],
            "by_category": [row.as_dict() for row in self.by_category],
            "by_organisation_type": [row.as_dict() for row in self.by_organisation_type],
            "by_funding_source": [row.as_dict() for row in self.by_funding_source],
            "requests": self.figures.total.requests,
            "fill_rate": None
            if self.figures.total.fill_rate is None
            else round(self.figures.total.fill_rate, 3),
            "median_minutes_to_fill": None
            if self.figures.total.median_minutes_to_fill is None
            else round(self.figures.total.median_minutes_to_fill, 1),
            "unfilled_by_language": [
                {
                    "language": g.key,
                    "label": g.label,
                    "requests": g.unfilled,
                    "hours": round(g.unfilled_minutes / 60, 2),
                }
                for g in self.figures.unmet_by_language
            ],
        }


def period(first: date | None, last: date | None, *, today: date) -> stats.Period:
    """The report's period; by default the calendar year up to today."""
    return stats.period(first or date(today.year, 1, 1), last or today, today=today)


def for_period(
    session: Session,
    *,
    first: date | None,
    last: date | None,
    today: date,
    settings: Settings,
    lang: str,
) -> FundersReport:
    """The report of the asked-for period (the year so far by default) under the pool's
    allowance rules and funding sources: the API, its CSV, the page and its CSV alike."""
    return compute(
        session,
        span=period(first, last, today=today),
        rules=allowances.rules_for(settings.allowance_file),
        tz=settings.tz,
        lang=lang,
        source_names=source_names(policy_of(settings)),
    )


def compute(
    session: Session,
    *,
    span: stats.Period,
    rules: Rules,
    tz: ZoneInfo,
    lang: str = "de",
    source_names: dict[str, str] | None = None,
) -> FundersReport:
    """Every figure of the funders' report for the period, in one pass over its jobs."""
    t = locales.translator(lang)
    start, end = span.bounds(tz)
    amounts = allowances.job_amounts(session, start=start, end=end, rules=rules, tz=tz)
    jobs = [job for job in amounts if job.kind == LineKind.job]
    requests = {
        r.id: r
        for r in session.exec(
            select(Request).where(col(Request.id).in_([job.request_id for job in jobs]))
        )
    }
    organisations = {o.id: o for o in session.exec(select(Organisation))}
    names = source_names or {}

    total = Row("all", t.gettext("All jobs"))
    groups: dict[str, dict[str, Row]] = {
        "language": {},
        "category": {},
        "organisation_type": {},
        "funding_source": {},
    }
    labels: dict[str, Callable[[str], str]] = {
        "language": t.language,
        "category": lambda key: (
            t.gettext(CATEGORY_NAMES[Category(key)]) if key in CATEGORY_NAMES else key
        ),
        "organisation_type": lambda key: (
            t.gettext(ORGANISATION_TYPE_NAMES[OrganisationType(key)])
            if key in ORGANISATION_TYPE_NAMES
            else (key or t.gettext("not set"))
        ),
        "funding_source": lambda key: names.get(key, key) or t.gettext("not set"),
    }
    for job in jobs:
        request = requests[job.request_id]
        organisation = organisations.get(request.organisation_id)
        keys = {
            "language": job.language,
            "category": request.category,
            "organisation_type": str(organisation_type(organisation) or ""),
            "funding_source": job.funding_source,
        }
        rows = [total] + [
            groups[name].setdefault(key, Row(key, labels[name](key))) for name, key in keys.items()
        ]
        for row in rows:
            row.jobs += 1
            row.minutes += job.worked_minutes
            row.euros += job.amount

    def ordered(name: str) -> list[Row]:
        return sorted(groups[name].values(), key=lambda row: (-row.jobs, row.label))

    return FundersReport(
        period=span,
        total=total,
        by_language=ordered("language"),
        by_category=ordered("category"),
        by_organisation_type=ordered("organisation_type"),
        by_funding_source=ordered("funding_source"),
        cancellation_euros=sum((job.amount for job in amounts if job.kind != LineKind.job), ZERO),
        figures=stats.compute(session, span=span, tz=tz, lang=lang),
    )
