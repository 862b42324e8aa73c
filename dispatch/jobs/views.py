"""Pages of the Einsatzbestätigung: the requester's one-click link (``/c/{token}``), their list
of jobs waiting for confirmation (``/confirmations``), and the coordinator's approvals
(``/dashboard/job-reports``), singly or in bulk. Every form works without JavaScript."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.jobs import flows, service
from dispatch.jobs.forms import OUTCOME_NAMES
from dispatch.jobs.models import JobReport, ReportState
from dispatch.mediators.models import Mediator
from dispatch.requests.models import Request as JobRequest
from dispatch.users.models import Organisation, User
from dispatch.validation import whole_number
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked, OptionalWebUser, StaffPageUser
from dispatch.web.rendering import render
from dispatch.web.schema_forms import EntryForm
from locales import N_, Text

router = APIRouter(include_in_schema=False)

#: What the pages call the states of a report (msgids).
STATE_NAMES: dict[str, str] = {
    ReportState.reported: N_("waiting for confirmation"),
    ReportState.confirmed: N_("confirmed"),
    ReportState.disputed: N_("disputed"),
    ReportState.approved: N_("approved"),
    ReportState.rejected: N_("rejected"),
}

#: Which reports each tab of the coordinator's page lists.
TABS: dict[str, tuple[ReportState, ...]] = {
    "open": (ReportState.confirmed, ReportState.reported, ReportState.disputed),
    "done": (ReportState.approved, ReportState.rejected),
}


def report_row(session: Session, report: JobReport, request: JobRequest) -> dict[str, object]:
    """What a page shows of one report: the job, who did it, for whom, and the figures
    (`jobs/_report.html`; also the request page's)."""
    mediator = session.get(Mediator, report.mediator_id)
    organisation = session.get(Organisation, request.organisation_id)
    return {
        "report": report,
        "request": request,
        "mediator_name": mediator.name if mediator else "–",
        "organisation_name": organisation.name if organisation else "–",
        "minutes": service.minutes_of(report),
        "outcome": OUTCOME_NAMES[report.outcome],
        "state_name": STATE_NAMES[report.state],
    }


def _rows(session: Session, pairs: list[tuple[JobReport, JobRequest]]) -> list[dict[str, object]]:
    return [report_row(session, report, request) for report, request in pairs]


# --- the requester's one-click link ---------------------------------------------------


@router.get("/c/answered", response_class=HTMLResponse, name="confirmation_answered")
def answered(
    request: Request, state: Literal["confirmed", "disputed"] = "confirmed"
) -> HTMLResponse:
    return render(request, "jobs/confirm_done.html", {"state": state})


@router.get("/c/{token}", response_class=HTMLResponse)
def confirmation_link(
    token: str, request: Request, session: SessionDep, clock: ClockDep, viewer: OptionalWebUser
) -> HTMLResponse:
    """The report and two buttons; opening the link changes nothing (previewers open links)."""
    link, report = service.open_link(session, token=token, now=clock.now(), viewer=viewer)
    job = session.get(JobRequest, report.request_id)
    assert job is not None
    return render(
        request,
        "jobs/confirm_link.html",
        {"row": _rows(session, [(report, job)])[0], "token": token},
        lang=viewer.locale if viewer else None,
    )


@router.post("/c/{token}/{decision}", dependencies=[CsrfChecked])
def answer_link(
    token: str,
    decision: Literal["confirm", "dispute"],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    viewer: OptionalWebUser,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    now = clock.now()
    link, report = service.open_link(session, token=token, now=now, viewer=viewer)
    try:
        flows.confirm(
            session,
            report=report,
            organisation_id=link.organisation_id,
            actor=viewer,
            decision=decision,
            reason=reason.strip() or None,
            now=now,
            settings=settings,
            link=link,
        )
    except InvalidInput:
        session.rollback()
        job = session.get(JobRequest, report.request_id)
        assert job is not None
        return render(
            request,
            "jobs/confirm_link.html",
            {"row": _rows(session, [(report, job)])[0], "token": token, "reason_missing": True},
            status_code=422,
        )
    return RedirectResponse(f"/c/answered?state={report.state}", status_code=303)


# --- the requester's list -------------------------------------------------------------


@router.get("/confirmations", response_class=HTMLResponse)
def confirmations(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    done: Literal["confirmed", "disputed"] | None = None,
) -> HTMLResponse:
    """The jobs that wait for this organisation's word, and the ones answered lately."""
    return _confirmations_page(request, session, user, done=done)


def _confirmations_page(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str | None = None,
    reason_missing: int | None = None,
) -> HTMLResponse:
    """`reason_missing`: the job whose dispute came without a reason (its field marked)."""
    waiting, _ = service.list_reports(session, actor=user, states=(ReportState.reported,))
    answered_rows, _ = service.list_reports(
        session,
        actor=user,
        states=(ReportState.confirmed, ReportState.disputed, ReportState.approved),
        limit=30,
    )
    return render(
        request,
        "jobs/confirmations.html",
        {
            "waiting": _rows(session, waiting),
            "answered": _rows(session, answered_rows),
            "done": done,
            "reason_missing": reason_missing,
        },
        user=user,
        status_code=200 if reason_missing is None else 422,
    )


@router.post("/confirmations/{assignment_id}", dependencies=[CsrfChecked])
def confirm_in_list(
    request: Request,
    assignment_id: IdPath,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    decision: Annotated[Literal["confirm", "dispute"], Form()] = "confirm",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    report = service.report_for(session, assignment_id=assignment_id, actor=user)
    try:
        flows.confirm(
            session,
            report=report,
            organisation_id=user.organisation_id,
            actor=user,
            decision=decision,
            reason=reason.strip() or None,
            now=clock.now(),
            settings=settings,
        )
    except InvalidInput as refused:
        if refused.field != "reason":
            raise
        # A dispute of blanks passes the browser's `required`: the list again, the field marked.
        session.rollback()
        return _confirmations_page(request, session, user, reason_missing=assignment_id)
    return RedirectResponse(f"/confirmations?done={report.state}", status_code=303)


# --- the coordinator's approvals --------------------------------------------------------


#: What the approvals page says beside the field a refused decision is about (msgids).
APPROVAL_MESSAGES = {
    "reason_required": N_(
        "This job is not confirmed by the requester: approving or rejecting it needs a reason."
    ),
    "reason_required_chosen": N_(
        "No. %(number)s is not confirmed by the requester: approving the chosen jobs needs "
        "a reason."
    ),
    "nothing_chosen": N_("Please choose at least one job."),
}


def _approvals_page(
    request: Request,
    session: Session,
    user: User,
    *,
    show: Literal["open", "done"] = "open",
    approved: int | None = None,
    form: EntryForm | None = None,
    chosen: frozenset[int] = frozenset(),
    status_code: int = 200,
) -> HTMLResponse:
    pairs, total = service.list_reports(session, actor=user, states=TABS[show], limit=300)
    return render(
        request,
        "jobs/approvals.html",
        {
            "rows": _rows(session, pairs),
            "total": total,
            "show": show,
            "approved": approved,
            "form": form or EntryForm(),
            "chosen": chosen,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/dashboard/job-reports", response_class=HTMLResponse)
def job_reports(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    show: Literal["open", "done"] = "open",
    approved: int | None = None,
) -> HTMLResponse:
    return _approvals_page(request, session, user, show=show, approved=approved)


@router.post("/dashboard/job-reports/approve", dependencies=[CsrfChecked])
async def approve(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
) -> Response:
    """One job (its row's form, marked `single`) or every ticked one; all or none.

    A refusal the coordinator can mend (no job ticked, no reason for a job the
    requester has not confirmed) brings the page back with the message beside
    the field, the ticks and the typed reason kept; before, it ended on the
    general error page and the choice was lost.
    """
    form = await request.form()
    ids = [whole_number(str(value)) for value in form.getlist("assignment_id")]
    typed = str(form.get("reason") or "")
    single = form.get("single") == "1" and len(ids) == 1 and ids[0] is not None
    # The field a message goes beside: the row's own reason, or the one for the ticked jobs.
    field = f"reason-{ids[0]}" if single else "bulk-reason"
    entry = EntryForm(values={field: typed})
    chosen = frozenset(number for number in ids if number)
    if not ids or not all(ids):
        entry.error("bulk", Text(APPROVAL_MESSAGES["nothing_chosen"]))
        return _approvals_page(request, session, user, form=entry, status_code=422)
    decision = "reject" if form.get("decision") == "reject" else "approve"
    try:
        done = flows.approve_many(
            session,
            assignment_ids=[number for number in ids if number],
            actor=user,
            decision=decision,
            reason=typed.strip()[:500] or None,
            now=clock.now(),
        )
    except InvalidInput as exc:
        if exc.reason != "reason_required":
            raise
        session.rollback()  # all or none: the jobs approved before the refused one stay open
        if single:
            entry.error(field, Text(APPROVAL_MESSAGES["reason_required"]))
        else:
            job = service.report_for(
                session, assignment_id=int(exc.params["assignment_id"]), actor=user
            )
            entry.error(
                field,
                Text(APPROVAL_MESSAGES["reason_required_chosen"], {"number": job.request_id}),
            )
        return _approvals_page(request, session, user, form=entry, chosen=chosen, status_code=422)
    return RedirectResponse(f"/dashboard/job-reports?approved={len(done)}", status_code=303)
