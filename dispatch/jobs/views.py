"""Pages of the Einsatzbestätigung: the requester's one-click link (``/c/{token}``), their list
of jobs waiting for confirmation (``/confirmations``), and the coordinator's approvals
(``/dashboard/job-reports``), singly or in bulk. Every form works without JavaScript."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from dispatch.deps import ClockDep, IdPath, SessionDep
from dispatch.errors import InvalidInput
from dispatch.jobs import service
from dispatch.jobs.forms import OUTCOME_NAMES
from dispatch.jobs.models import JobReport, ReportState
from dispatch.mediators.models import Mediator
from dispatch.requests.models import Request as JobRequest
from dispatch.users.models import Organisation
from dispatch.validation import whole_number
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked, OptionalWebUser, StaffPageUser
from dispatch.web.rendering import render
from locales import N_

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
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    now = clock.now()
    link, report = service.open_link(session, token=token, now=now, viewer=viewer)
    try:
        service.confirm(
            session,
            report=report,
            organisation_id=link.organisation_id,
            actor=viewer,
            decision=decision,
            reason=reason.strip() or None,
            now=now,
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
        },
        user=user,
    )


@router.post("/confirmations/{assignment_id}", dependencies=[CsrfChecked])
def confirm_in_list(
    assignment_id: IdPath,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    decision: Annotated[Literal["confirm", "dispute"], Form()] = "confirm",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    report = service.report_for(session, assignment_id=assignment_id, actor=user)
    service.confirm(
        session,
        report=report,
        organisation_id=user.organisation_id,
        actor=user,
        decision=decision,
        reason=reason.strip() or None,
        now=clock.now(),
    )
    return RedirectResponse(f"/confirmations?done={report.state}", status_code=303)


# --- the coordinator's approvals --------------------------------------------------------


@router.get("/dashboard/job-reports", response_class=HTMLResponse)
def job_reports(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    show: Literal["open", "done"] = "open",
    approved: int | None = None,
) -> HTMLResponse:
    pairs, total = service.list_reports(session, actor=user, states=TABS[show], limit=300)
    return render(
        request,
        "jobs/approvals.html",
        {"rows": _rows(session, pairs), "total": total, "show": show, "approved": approved},
        user=user,
    )


@router.post("/dashboard/job-reports/approve", dependencies=[CsrfChecked])
async def approve(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
) -> Response:
    """One job (its row's button) or every ticked one; all or none."""
    form = await request.form()
    ids = [whole_number(str(value)) for value in form.getlist("assignment_id")]
    if not ids or not all(ids):
        raise InvalidInput("Choose at least one job.", reason="nothing_chosen")
    decision = "reject" if form.get("decision") == "reject" else "approve"
    reason = str(form.get("reason") or "").strip()[:500] or None
    done = service.approve_many(
        session,
        assignment_ids=[number for number in ids if number],
        actor=user,
        decision=decision,
        reason=reason,
        now=clock.now(),
    )
    return RedirectResponse(f"/dashboard/job-reports?approved={len(done)}", status_code=303)
