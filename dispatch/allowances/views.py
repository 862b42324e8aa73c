"""The coordinator's allowance pages: the month statement, paying it, and a printable
statement per mediator for signature."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dispatch.allowances import exports, service
from dispatch.allowances.budgets import source_names
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput, NotFound
from dispatch.funding.policy import policy_of
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import formatter, page_lang, render
from locales import N_

router = APIRouter(prefix="/dashboard/allowances", include_in_schema=False)

MonthText = Annotated[str, Query(max_length=20)]

#: The month field's errors in the reader's language (the service's reason codes).
MONTH_ERRORS = {
    "month_format": N_("Give the month as YYYY-MM, e.g. 2026-10."),
    "month_out_of_range": N_("Give a month from %(earliest)s to %(latest)s."),
    "month_not_over": N_(
        "The month %(month)s is not over yet; its statement can be made from %(from)s on."
    ),
}


@router.get("", response_class=HTMLResponse)
def month_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthText = "",
    paid: int | None = None,
) -> HTMLResponse:
    """The month statement (last month unless asked): per mediator, by funding source."""
    today = clock.now().astimezone(settings.tz).date()
    chosen = month or service.last_month(today).key
    rules = service.rules_for(settings.allowance_file)
    statement, error, preview = None, None, False
    try:
        parsed = service.parse_month(chosen, today=today, require_over=False)
        # The running month as a preview (what is approved so far); a later one is refused.
        preview = parsed.after > today
        if preview and parsed.first > today:
            service.parse_month(chosen, today=today)
    except InvalidInput as invalid:
        error = formatter(request).gettext(
            MONTH_ERRORS[invalid.reason or "month_format"], **dict(invalid.params or {})
        )
    else:
        statement = service.statement(session, month=parsed, rules=rules, tz=settings.tz)
    return render(
        request,
        "coordinator/allowances.html",
        {
            "month": chosen,
            "s": statement,
            "rules_name": rules.name_in(page_lang(request)),
            "error": error,
            # Not over: no export, no paying, no statement to sign until its claims are in.
            "preview": preview and statement is not None,
            "preview_from": parsed.after if preview and statement is not None else None,
            "paid": paid,
            "sources": source_names(policy_of(settings)),
        },
        user=user,
        status_code=200 if error is None else 422,
    )


@router.get("/export.{kind}")
def export_month(
    request: Request,
    kind: Literal["csv", "xlsx"],
    session: SessionDep,
    _user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    month: MonthText = "",
) -> Response:
    """The page's download buttons: the API's export of the month, signed in by the
    session (a browser sends no bearer token), with the headers in the page's language."""
    parsed = service.parse_month(month, today=clock.now().astimezone(settings.tz).date())
    rules = service.rules_for(settings.allowance_file)
    statement = service.statement(session, month=parsed, rules=rules, tz=settings.tz)
    return exports.statement_download(statement, kind=kind, lang=page_lang(request))


@router.post("/{month}/paid", dependencies=[CsrfChecked])
def mark_paid(
    month: str,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Freeze the month's open amounts as paid lines."""
    now = clock.now()
    parsed = service.parse_month(month[:20], today=now.astimezone(settings.tz).date())
    service.mark_paid(
        session,
        month=parsed,
        rules=service.rules_for(settings.allowance_file),
        tz=settings.tz,
        actor=user,
        now=now,
    )
    return RedirectResponse(f"/dashboard/allowances?month={parsed.key}&paid=1", status_code=303)


@router.get("/{month}/mediators/{mediator_id}", response_class=HTMLResponse)
def mediator_statement(
    request: Request,
    month: str,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """One mediator's statement of the month, to print and sign (Abrechnung)."""
    today = clock.now().astimezone(settings.tz).date()
    parsed = service.parse_month(month[:20], today=today)
    rules = service.rules_for(settings.allowance_file)
    statement = service.statement(session, month=parsed, rules=rules, tz=settings.tz)
    found = next((m for m in statement.mediators if m.mediator_id == mediator_id), None)
    if found is None:
        raise NotFound(f"Mediator {mediator_id} has no allowances in {parsed.key}.")
    return render(
        request,
        "coordinator/allowance_print.html",
        {
            "s": statement,
            "m": found,
            "rules_name": rules.name_in(page_lang(request)),
            "today": today,
            "kinds": exports.KINDS,
            "sources": source_names(policy_of(settings)),
        },
        user=user,
    )
