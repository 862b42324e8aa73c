"""API of the Einsatzbestätigung: report (mediator's link or coordinator), confirm (requester),
approve (coordinator), singly or in bulk, and the list of reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dispatch import errors
from dispatch.deps import (
    ClockDep,
    CoordinatorUser,
    CurrentUser,
    IdPath,
    SessionDep,
    SettingsDep,
    UserOrLinkToken,
)
from dispatch.errors import Forbidden, NotAuthenticated
from dispatch.jobs import flows, service
from dispatch.jobs.models import ReportState
from dispatch.jobs.schemas import (
    ApproveIn,
    BulkApproveIn,
    ConfirmIn,
    JobReportIn,
    JobReportPage,
    JobReportPublic,
)
from dispatch.offers import links
from dispatch.users.models import Role, User

router = APIRouter(prefix="/api/v1", tags=["job confirmation"])


@router.post(
    "/assignments/{assignment_id}/report",
    response_model=JobReportPublic,
    status_code=201,
    responses=errors.responses(401, 403, 409),
)
def report(
    assignment_id: IdPath,
    body: JobReportIn,
    session: SessionDep,
    caller: UserOrLinkToken,
    clock: ClockDep,
    settings: SettingsDep,
) -> JobReportPublic:
    """The mediator reports the job (their report link's token in X-Link-Token), or a
    coordinator enters a report on their behalf (with a bearer token)."""
    now = clock.now()
    user = caller if isinstance(caller, User) else None
    if user is not None:
        if user.role != Role.coordinator:
            raise Forbidden("Only the mediator (by their link) or a coordinator reports a job.")
        actor_kind, actor_id = "user", user.id
    else:
        offer = links.find_offer(session, str(caller), now=now)
        if offer is None:
            raise NotAuthenticated("This link token is unknown or has expired.")
        view = links.view_link(session, offer, now=now)
        if view.assignment is None or view.assignment.id != assignment_id:
            raise Forbidden("This link belongs to another job.")
        actor_kind, actor_id = "mediator", view.assignment.mediator_id
    assignment, request = service.assignment_and_request(
        session, assignment_id=assignment_id, actor=user
    )
    created = flows.report_job(
        session,
        assignment=assignment,
        request=request,
        data=body,
        now=now,
        settings=settings,
        actor_kind=actor_kind,
        actor_id=actor_id,
    )
    return service.to_public(created)


@router.post(
    "/assignments/{assignment_id}/confirm",
    response_model=JobReportPublic,
    responses=errors.responses(403, 409),
)
def confirm(
    assignment_id: IdPath,
    body: ConfirmIn,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> JobReportPublic:
    """The requesting organisation confirms the report, or disputes it with a reason."""
    report = service.report_for(session, assignment_id=assignment_id, actor=user)
    return service.to_public(
        flows.confirm(
            session,
            report=report,
            organisation_id=user.organisation_id,
            actor=user,
            decision=body.decision,
            reason=body.reason,
            now=clock.now(),
            settings=settings,
        )
    )


@router.post(
    "/assignments/{assignment_id}/approve",
    response_model=JobReportPublic,
    responses=errors.responses(409),
)
def approve(
    assignment_id: IdPath,
    body: ApproveIn,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
) -> JobReportPublic:
    """Approve the job for payment (a reason when it is unconfirmed or disputed), or reject it."""
    report = service.report_for(session, assignment_id=assignment_id, actor=user)
    return service.to_public(
        flows.approve(
            session,
            report=report,
            actor=user,
            decision=body.decision,
            reason=body.reason,
            now=clock.now(),
        )
    )


@router.post(
    "/assignments/approve", response_model=JobReportPage, responses=errors.responses(404, 409)
)
def approve_many(
    body: BulkApproveIn, session: SessionDep, user: CoordinatorUser, clock: ClockDep
) -> JobReportPage:
    """Approve (or reject) several jobs at once: all of them, or none when one is refused."""
    done = flows.approve_many(
        session,
        assignment_ids=body.assignment_ids,
        actor=user,
        decision=body.decision,
        reason=body.reason,
        now=clock.now(),
    )
    return JobReportPage(items=[service.to_public(r) for r in done], total=len(done))


@router.get("/job-reports", response_model=JobReportPage)
def list_reports(
    session: SessionDep,
    user: CurrentUser,
    state: Annotated[list[ReportState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> JobReportPage:
    """Reports by state; a caseworker sees their organisation's, a coordinator all."""
    rows, total = service.list_reports(
        session, actor=user, states=tuple(state or ()), limit=limit, offset=offset
    )
    return JobReportPage(items=[service.to_public(r) for r, _ in rows], total=total)
