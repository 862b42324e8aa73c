"""Allowances for coordinators (JSON API): the month statement, its exports, paying a month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from dispatch.allowances import budgets, exports, service
from dispatch.allowances.schemas import (
    BudgetPublic,
    StatementPublic,
    budget_public,
    statement_public,
)
from dispatch.deps import ClockDep, CoordinatorUser, SessionDep, SettingsDep
from dispatch.errors import responses
from dispatch.funding.policy import policy_of
from dispatch.web.spreadsheets import XLSX_TYPE

router = APIRouter(prefix="/api/v1", tags=["allowances"])

MonthQuery = Annotated[
    str,
    Query(
        min_length=7,
        max_length=7,
        description="the month, YYYY-MM; it must be over",
        examples=["2026-10"],
    ),
]
MonthPath = Annotated[str, Path(min_length=7, max_length=7, description="the month, YYYY-MM")]


def _statement(
    session: SessionDep, settings: SettingsDep, clock: ClockDep, month: str
) -> service.Statement:
    today = clock.now().astimezone(settings.tz).date()
    return service.statement(
        session,
        month=service.parse_month(month, today=today),
        rules=service.rules_for(settings.allowance_file),
        tz=settings.tz,
    )


@router.get("/allowances", response_model=StatementPublic, responses=responses(422))
def allowances(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthQuery,
) -> StatementPublic:
    """Each mediator's approved jobs, hours, km and euros for a month that is over, by
    funding source, paid and open lines, and the year's total against their limit."""
    return statement_public(_statement(session, settings, clock, month))


@router.post(
    "/allowances/{month}/paid",
    response_model=StatementPublic,
    responses=responses(409, 422),
)
def mark_paid(
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthPath,
) -> StatementPublic:
    """Mark the month paid: its open amounts become stored lines that never change;
    a later correction becomes a new line when the month is marked paid again."""
    now = clock.now()
    parsed = service.parse_month(month, today=now.astimezone(settings.tz).date())
    rules = service.rules_for(settings.allowance_file)
    service.mark_paid(session, month=parsed, rules=rules, tz=settings.tz, actor=user, now=now)
    return statement_public(service.statement(session, month=parsed, rules=rules, tz=settings.tz))


@router.get(
    "/export/allowances.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "one row per line, for German Excel"},
        **responses(422),
    },
)
def export_csv(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthQuery,
) -> Response:
    """The month statement as CSV for German Excel: semicolons, decimal commas, a BOM."""
    return exports.statement_download(_statement(session, settings, clock, month), kind="csv")


@router.get(
    "/export/allowances.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX_TYPE: {}}, "description": "the same as .xlsx"},
        **responses(422),
    },
)
def export_xlsx(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthQuery,
) -> Response:
    """The month statement as an Excel workbook."""
    return exports.statement_download(_statement(session, settings, clock, month), kind="xlsx")


@router.get("/funding", response_model=list[BudgetPublic])
def funding(
    session: SessionDep, _user: CoordinatorUser, clock: ClockDep, settings: SettingsDep
) -> list[BudgetPublic]:
    """Each funding source's yearly budget, spent (approved), committed (held, not yet
    approved), the forecast to the year's end at the current rate, and a warning at 80 %."""
    return [
        budget_public(b)
        for b in budgets.budgets(
            session,
            policy=policy_of(settings),
            rules=service.rules_for(settings.allowance_file),
            tz=settings.tz,
            now=clock.now(),
        )
    ]
