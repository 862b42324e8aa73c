"""The month statement as the JSON API shows it. Euros are strings ("30.00"): exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from dispatch.allowances.budgets import Budget
from dispatch.allowances.service import MediatorStatement, Statement
from dispatch.validation import Timestamp

Euros = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]


class LinePublic(BaseModel):
    assignment_id: int
    request_id: int
    date: date
    language: str
    funding_source: str = Field(description="key of the funding source; empty: none set")
    kind: str = Field(description="job, late_cancellation or correction")
    worked_minutes: int
    paid_minutes: int
    km: Decimal
    euros: Euros
    paid_at: Timestamp | None = Field(description="when it was paid; null: open")


class MediatorStatementPublic(BaseModel):
    mediator_id: int
    name: str
    jobs: int
    hours: Decimal
    km: Decimal
    euros: Euros
    open_euros: Euros = Field(description="to be paid through Sprachpool (0 once erased)")
    not_paid_erased_euros: Euros = Field(
        description="erased with this unpaid (confirmed at the erasure): not to be paid "
        "through Sprachpool, never marked paid"
    )
    by_funding_source: dict[str, Euros]
    year_total: Euros = Field(description="allowances of the calendar year so far")
    annual_limit: Euros
    limit_warning: bool = Field(description="the year total reached the warning share")
    at_limit: bool
    monthly_limit: Euros | None = Field(
        description="the mediator's own monthly limit (null: none); `euros` is what the "
        "month reached against it"
    )
    lines: list[LinePublic]


class StatementPublic(BaseModel):
    month: str
    rules: str = Field(description="the name of the allowance rules used")
    paid_at: Timestamp | None = Field(description="the last time the month was marked paid")
    euros: Euros
    open_euros: Euros = Field(description="not yet paid: a new month or corrections")
    by_funding_source: dict[str, Euros]
    mediators: list[MediatorStatementPublic]


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def mediator_public(m: MediatorStatement) -> MediatorStatementPublic:
    return MediatorStatementPublic(
        mediator_id=m.mediator_id,
        name=m.name,
        jobs=m.jobs,
        hours=_hours(m.worked_minutes),
        km=m.km,
        euros=m.total,
        open_euros=m.open,
        not_paid_erased_euros=m.not_paid_erased,
        by_funding_source=m.by_source,
        year_total=m.year_total,
        annual_limit=m.annual_limit,
        limit_warning=m.limit_warning,
        at_limit=m.year_total >= m.annual_limit,
        monthly_limit=m.monthly_limit,
        lines=[
            LinePublic(
                assignment_id=line.assignment_id,
                request_id=line.request_id,
                date=line.job_date,
                language=line.language,
                funding_source=line.funding_source,
                kind=line.kind.value,
                worked_minutes=line.worked_minutes,
                paid_minutes=line.paid_minutes,
                km=line.km,
                euros=line.amount,
                paid_at=line.paid_at,
            )
            for line in m.lines
        ],
    )


def statement_public(s: Statement) -> StatementPublic:
    return StatementPublic(
        month=s.month.key,
        rules=s.rules_name,
        paid_at=s.paid_at,
        euros=s.total,
        open_euros=s.open,
        by_funding_source=s.by_source,
        mediators=[mediator_public(m) for m in s.mediators],
    )


class BudgetPublic(BaseModel):
    key: str
    name: str
    budget: Euros = Field(description="the yearly budget")
    spent: Euros = Field(description="allowances of approved jobs this year")
    committed: Euros = Field(description="held jobs not yet approved, estimated")
    forecast: Euros = Field(description="spent at this year's rate, carried to 31 December")
    share: Decimal | None = Field(description="(spent + committed) / budget; null: no budget")
    warning: bool = Field(description="spent + committed reached the warning share (80 %)")
    forecast_over_budget: bool


def budget_public(b: Budget) -> BudgetPublic:
    share = b.share
    return BudgetPublic(
        key=b.key,
        name=b.name,
        budget=b.budget,
        spent=b.spent,
        committed=b.committed,
        forecast=b.forecast,
        share=None if share is None else share.quantize(Decimal("0.001")),
        warning=b.warning,
        forecast_over_budget=b.forecast_over,
    )
