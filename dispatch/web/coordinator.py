"""The coordinator's pages: dashboard, request detail with candidates and override,
the optimiser, statistics with the export, the printable day plan, and the message log.
The pool's pages are dispatch/mediators/views.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from config.settings import Settings
from dispatch.allowances import budgets
from dispatch.allowances import service as allowances
from dispatch.clock import Clock
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput, NotFound
from dispatch.funding import service as funding_service
from dispatch.funding.policy import CATEGORY_NAMES, policy_of
from dispatch.mediators import service as mediators
from dispatch.offers import flows as offers
from dispatch.offers import policy as offer_policy
from dispatch.offers import service as offer_service
from dispatch.outbox.models import MessageStatus
from dispatch.planning import service as planning
from dispatch.planning.limits import LimitsReached
from dispatch.requests import service as requests
from dispatch.requests.models import Request as RequestRecord
from dispatch.requests.models import RequestStatus
from dispatch.requests.schemas import FundingSourceChange
from dispatch.series import service as series_service
from dispatch.stats import service as stats
from dispatch.users.models import User
from dispatch.validation import MAX_ID, Day
from dispatch.web import charts, questions, service, sure
from dispatch.web.account import safe_next
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import formatter, page_lang, render
from dispatch.web.schema_forms import EntryForm, validate
from dispatch.web.spreadsheets import Cell, Sheet, sheet_response
from locales import N_, Text

router = APIRouter(prefix="/dashboard", include_in_schema=False)

MESSAGES_PER_PAGE = 50
#: The optimiser's time limit on the page; the JSON API allows more.
PLAN_TIME_LIMIT_S = 5.0


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=service.MAX_DASHBOARD_DAYS)] = 3,
) -> HTMLResponse:
    board = service.dashboard(session, now=clock.now(), tz=settings.tz, days=days)
    today = clock.now().astimezone(settings.tz).date()
    return render(
        request,
        "coordinator/dashboard.html",
        {
            "board": board,
            "days": days,
            "budgets": budgets.budgets(
                session,
                policy=policy_of(settings),
                rules=allowances.rules_for(settings.allowance_file),
                tz=settings.tz,
                now=clock.now(),
            ),
            "today": today,
            "clearance": mediators.clearance_watch(session, today=today),
        },
        user=user,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_detail(
    request: Request,
    request_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    assigned: int | None = None,
    freed: int | None = None,
    charged: bool = False,
) -> HTMLResponse:
    """Everything about one request: offers, the assignment, and who else could go."""
    flags: dict[str, object] = {"assigned": assigned, "freed": freed, "charged": charged}
    return _detail_page(
        request, session, user, request_id, clock=clock, settings=settings, flags=flags
    )


def _mark_scarce(
    session: Session,
    found: RequestRecord,
    candidates: list[dict[str, Any]],
    *,
    now: datetime,
    settings: Settings,
    limit_reached: LimitsReached,
) -> None:
    """Mark the candidates other open requests around this job lean on (`needed_elsewhere`,
    `scarce` at the policy's threshold): dispatch asks them last, and a coordinator
    assigning by hand should see why before taking the only Tigrinya speaker of the week."""
    policy = offer_policy.policy_for(session, found)
    lean = offer_service.scarcity(
        session,
        found,
        [c["mediator_id"] for c in candidates],
        window=timedelta(hours=policy.scarce_window_hours),
        most=policy.scarce_max_others,
        now=now,
        settings=settings,
        limit_reached=limit_reached,
    )
    for candidate in candidates:
        share = lean.get(candidate["mediator_id"], 0.0)
        candidate["needed_elsewhere"] = share
        candidate["scarce"] = share >= policy.scarce_at


def _detail_page(
    request: Request,
    session: Session,
    user: User,
    request_id: int,
    *,
    clock: Clock,
    settings: Settings,
    funding_form: EntryForm | None = None,
    status_code: int = 200,
    flags: dict[str, object] | None = None,
) -> HTMLResponse:
    """The request's page; with `funding_form`, the funding form as typed, with its errors."""
    now = clock.now()
    found = requests.get_request(session, request_id=request_id, actor=user)
    public = requests.to_public(session, found, actor=user)
    row = service.request_rows(session, [found], now=now)[0]
    ranking = None
    if (
        found.status
        in (
            RequestStatus.open,
            RequestStatus.offered,
            RequestStatus.unfilled,
            RequestStatus.assigned,
        )
        and found.end > now
    ):
        limit_reached = allowances.limit_reached(session, settings=settings, now=now)
        ranking = planning.candidates(
            session, request=found, now=now, tz=settings.tz, limit_reached=limit_reached
        )
        held_by = row.mediator.id if row.mediator else None
        ranking["candidates"] = [c for c in ranking["candidates"] if c["mediator_id"] != held_by]
        _mark_scarce(
            session,
            found,
            ranking["candidates"],
            now=now,
            settings=settings,
            limit_reached=limit_reached,
        )
    funding = policy_of(settings)
    series = None
    occurrences: list[service.RequestRow] = []
    if found.series_id is not None:
        # The whole series beside the one request, so an override or a drop-out is seen
        # with the appointments before and after it (cancelling stays on the request page).
        series = series_service.get_series(session, series_id=found.series_id, actor=user)
        occurrences = service.request_rows(
            session, series_service.occurrences(session, series.id), now=now
        )
    return render(
        request,
        "coordinator/request_detail.html",
        {
            "r": found,
            "public": public,
            "row": row,
            "ranking": ranking,
            "series": series,
            "occurrences": occurrences,
            **(flags or {}),
            "can_override": found.status != RequestStatus.cancelled and found.start > now,
            "categories": CATEGORY_NAMES,
            "sources": funding.sources,
            "funding_form": funding_form
            or EntryForm(values={"funding_source": found.funding_source or ""}),
        },
        status_code=status_code,
        user=user,
    )


#: What the funding form says beside a field that is wrong.
FUNDING_MESSAGES = {
    "funding_source": N_("Please pick a funding source from the list."),
    "reason": N_("Please say why this request is charged to another source."),
}


@router.post("/requests/{request_id}/funding-source", dependencies=[CsrfChecked])
def change_funding_source(
    request: Request,
    request_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    funding_source: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Charge the request to another funding source, with the reason (both in the audit log)."""
    form = EntryForm(values={"funding_source": funding_source, "reason": reason})
    if not reason.strip():
        form.error("reason", Text(FUNDING_MESSAGES["reason"]))
    body = {"funding_source": funding_source.strip(), "reason": reason.strip() or None}
    data = validate(form, FundingSourceChange, body, field_messages=FUNDING_MESSAGES)
    if data is not None:
        try:
            funding_service.change_source(
                session,
                policy=policy_of(settings),
                request=requests.get_request(session, request_id=request_id, actor=user),
                source=data.funding_source,
                actor=user,
                now=clock.now(),
                reason=data.reason,
            )
        except InvalidInput as exc:
            session.rollback()
            form.error(exc.field or "funding_source", Text(FUNDING_MESSAGES["funding_source"]))
        else:
            return RedirectResponse(f"/dashboard/requests/{request_id}?charged=1", status_code=303)
    return _detail_page(
        request,
        session,
        user,
        request_id,
        clock=clock,
        settings=settings,
        funding_form=form,
        status_code=422,
    )


@router.post("/requests/{request_id}/assign", dependencies=[CsrfChecked])
def assign(
    request_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    mediator_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The one-click override: this mediator gets the job, pending offers are withdrawn."""
    offers.assign_directly(
        session,
        request_id=request_id,
        mediator_id=mediator_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        reason="assigned on the dashboard",
    )
    return RedirectResponse(
        safe_next(next, f"/dashboard/requests/{request_id}?assigned={mediator_id}"), status_code=303
    )


@router.post("/assignments/{assignment_id}/cancel", dependencies=[CsrfChecked])
def free_assignment(
    assignment_id: IdPath,
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    answer: sure.Sure = None,
) -> Response:
    """The mediator dropped out: the request is offered again at once."""
    if not sure.is_sure(answer):
        held = offer_service.get_assignment(session, assignment_id)
        offers.check_assignment_cancellable(  # refused now rather than after the yes
            held,
            requests.get_request(session, request_id=held.request_id, actor=user),
            now=clock.now(),
        )
        return sure.ask(
            request,
            questions.CANCEL_ASSIGNMENT,
            back=f"/dashboard/requests/{held.request_id}",
            user=user,
        )
    freed = offers.cancel_assignment(
        session,
        assignment_id=assignment_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        reason="cancelled on the dashboard",
    )
    return RedirectResponse(f"/dashboard/requests/{freed.id}?freed=1", status_code=303)


# --- the optimiser ------------------------------------------------------------------------


@router.get("/plan", response_class=HTMLResponse)
def plan(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=planning.MAX_PERIOD.days)] = 7,
) -> HTMLResponse:
    """A proposal for the open requests of a period; nothing is written until someone assigns."""
    today = clock.now().astimezone(settings.tz).date()
    result, empty = None, False
    if start is not None:
        begin = datetime.combine(start, time(0), tzinfo=settings.tz)
        try:
            result = planning.plan_period(
                session,
                start=begin,
                end=begin + timedelta(days=days),
                tz=settings.tz,
                time_limit_s=PLAN_TIME_LIMIT_S,
                limit_reached=allowances.limit_reached(session, settings=settings, now=clock.now()),
            )
        except NotFound:
            empty = True
        if result is not None:
            ids = [a["request_id"] for a in result["assignments"]] + result["unassigned"]
            result["rows"] = {
                row.request.id: row
                for row in service.request_rows(
                    session, service.requests_by_ids(session, ids), now=clock.now()
                )
            }
    return render(
        request,
        "coordinator/plan.html",
        {
            "start": start or today + timedelta(days=1),
            "days": days,
            "result": result,
            "empty": empty,
            "ran": start is not None,
        },
        user=user,
    )


# --- statistics, export, messages ---------------------------------------------------------


@router.get("/stats", response_class=HTMLResponse)
def statistics(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
) -> HTMLResponse:
    span = stats.period(start, end, today=clock.now().astimezone(settings.tz).date())
    figures = stats.compute(session, span=span, tz=settings.tz, lang=page_lang(request))
    return render(
        request,
        "coordinator/stats.html",
        {
            "s": figures,
            "span": span,
            **charts.stats_charts(figures, formatter(request)),
        },
        user=user,
    )


@router.get("/export/assignments.{kind}")
def export(
    request: Request,
    kind: Literal["csv", "xlsx"],
    session: SessionDep,
    _user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
) -> Response:
    """The period's assignments for German Excel (semicolon CSV with BOM) or as .xlsx."""
    span = stats.period(start, end, today=clock.now().astimezone(settings.tz).date())
    records = stats.assignment_records(session, span=span, tz=settings.tz)
    filename = f"sprachpool-assignments-{span.first.isoformat()}-{span.last.isoformat()}"
    return sheet_response(assignments_sheet(records, request=request, filename=filename), kind=kind)


#: The assignments export's columns and their headers, as the page's reader names them.
ASSIGNMENT_HEADERS = {
    "assignment_id": N_("Assignment no."),
    "request_id": N_("Request no."),
    "organisation": N_("Organisation"),
    "language": N_("Language"),
    "mode": N_("Kind"),
    "start": N_("Start"),
    "end": N_("End"),
    "place": N_("Place"),
    "request_status": N_("Status"),
    "mediator_id": N_("Mediator no."),
    "mediator_name": N_("Mediator"),
    "source": N_("Assigned by"),
    "assigned_at": N_("Assigned at"),
    "reconfirmed_at": N_("Reconfirmed at"),
    "cancelled_at": N_("Cancelled at"),
    "cancel_reason": N_("Reason for cancelling"),
    "completed_at": N_("Completed at"),
    "minutes_worked": N_("Minutes worked"),
    "travel_km": N_("Travel (km)"),
    "no_show": N_("No-show"),
}
SOURCES = {"offer": N_("accepted offer"), "coordinator": N_("coordinator")}


def assignments_sheet(records: list[dict[str, Any]], *, request: Request, filename: str) -> Sheet:
    """Names instead of codes (languages, kinds, statuses), local times, numbers as numbers."""
    fmt = formatter(request)
    rows: list[list[Cell]] = []
    for record in records:
        named = {
            "language": fmt.language(record["language"]),
            "mode": fmt.mode(record["mode"]),
            "request_status": fmt.status(record["request_status"]),
            "source": fmt.gettext(SOURCES[record["source"]])
            if record["source"] in SOURCES
            else record["source"],
            "no_show": fmt.gettext("yes") if record["no_show"] else fmt.gettext("no"),
        }
        rows.append(
            [
                named.get(
                    name, value.replace(tzinfo=None) if isinstance(value, datetime) else value
                )
                for name, value in record.items()
            ]
        )
    return Sheet(
        title=fmt.gettext("Assignments"),
        filename=filename,
        headers=[fmt.gettext(ASSIGNMENT_HEADERS[name]) for name in ASSIGNMENT_HEADERS],
        rows=rows,
    )


def _naive(moment: datetime) -> datetime:
    """A local time as a spreadsheet cell: no offset, no fractions of a second."""
    return moment.replace(tzinfo=None, microsecond=0)


@router.get("/dayplan", response_class=HTMLResponse)
def day_plan(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=14)] = 1,
) -> HTMLResponse:
    """The printable day plan: each day's jobs with place, time, mediator and phone."""
    first = start or clock.now().astimezone(settings.tz).date()
    plan = service.day_plan(session, first=first, days=days, tz=settings.tz, now=clock.now())
    return render(
        request,
        "coordinator/dayplan.html",
        {"plan": plan, "first": first, "days": days},
        user=user,
    )


@router.get("/messages", response_class=HTMLResponse)
def messages(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    status: Annotated[MessageStatus | Literal[""], Query()] = "",
) -> HTMLResponse:
    """The outbox, newest first: what was sent to whom and whether it arrived.

    `status` is one of the statuses or empty (all): a free text went to the database,
    and PostgreSQL refused a NUL in it with a server error.
    """
    rows, total = service.message_log(
        session,
        status=status or None,
        limit=MESSAGES_PER_PAGE,
        offset=(page - 1) * MESSAGES_PER_PAGE,
    )
    return render(
        request,
        "coordinator/messages.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "status": status,
            "pages": max(1, (total + MESSAGES_PER_PAGE - 1) // MESSAGES_PER_PAGE),
        },
        user=user,
    )
