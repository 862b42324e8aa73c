"""The Einsatzbestätigung: the mediator reports, the requester confirms or disputes, the
coordinator approves. Only approved jobs are paid (the allowance reads them).

The states go ``reported`` → ``confirmed`` | ``disputed`` → ``approved`` (or
``rejected``, a disputed job the coordinator does not pay). Each step is one
function here; every refusal raises before anything is written.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from config.settings import Settings
from dispatch import audit
from dispatch.errors import Conflict, Forbidden, InvalidInput, NotFound
from dispatch.jobs.models import ConfirmationLink, JobReport, ReportState
from dispatch.jobs.schemas import JobReportIn, JobReportPublic
from dispatch.offers import links
from dispatch.offers.models import Assignment
from dispatch.requests.models import Request, RequestStatus
from dispatch.security import hash_token
from dispatch.users.models import Role, User

#: How long a caseworker's confirmation link works.
CONFIRMATION_LINK_DAYS = 14
#: A report or a confirmation this late gets a reminder.
OVERDUE_AFTER = timedelta(days=3)
#: How far from the booked time a report's start may lie (a typo of the day, not a late start).
REPORT_SLACK = timedelta(hours=12)


class ReasonRequired(InvalidInput):
    """Approving a job the requester has not confirmed (or disputed) needs a reason."""

    code = "reason_required"


def minutes_of(report: JobReport) -> int:
    """Whole minutes from the actual start to the actual end (a started minute counts)."""
    return math.ceil((report.actual_end - report.actual_start).total_seconds() / 60)


def to_public(report: JobReport) -> JobReportPublic:
    return JobReportPublic(
        id=report.id,
        assignment_id=report.assignment_id,
        request_id=report.request_id,
        mediator_id=report.mediator_id,
        actual_start=report.actual_start,
        actual_end=report.actual_end,
        minutes=minutes_of(report),
        waiting_minutes=report.waiting_minutes,
        travel_km=report.travel_km,
        ticket_cost=report.ticket_cost,
        outcome=report.outcome,
        state=report.state,
        reported_at=report.reported_at,
        confirmed_by_user_id=report.confirmed_by_user_id,
        confirmed_at=report.confirmed_at,
        dispute_reason=report.dispute_reason,
        approved_by_user_id=report.approved_by_user_id,
        approved_at=report.approved_at,
        approval_reason=report.approval_reason,
    )


def report_of(session: Session, assignment_id: int) -> JobReport | None:
    return session.exec(select(JobReport).where(JobReport.assignment_id == assignment_id)).first()


def assignment_and_request(
    session: Session, *, assignment_id: int, actor: User | None
) -> tuple[Assignment, Request]:
    """The assignment and its request; a caseworker sees only their organisation's (else 404)."""
    assignment = session.get(Assignment, assignment_id)
    request = session.get(Request, assignment.request_id) if assignment else None
    if (
        assignment is None
        or request is None
        or (
            actor is not None
            and actor.role != Role.coordinator
            and request.organisation_id != actor.organisation_id
        )
    ):
        raise NotFound(f"There is no assignment {assignment_id}.")
    return assignment, request


def report_for(session: Session, *, assignment_id: int, actor: User | None) -> JobReport:
    assignment_and_request(session, assignment_id=assignment_id, actor=actor)
    report = report_of(session, assignment_id)
    if report is None:
        raise Conflict("The mediator has not reported this job yet.", reason="not_reported")
    return report


def submit_report(
    session: Session,
    *,
    assignment: Assignment,
    request: Request,
    data: JobReportIn,
    now: datetime,
    actor_kind: str,
    actor_id: int | None,
) -> JobReport:
    """Store the mediator's figures; the request is completed."""
    if assignment.cancelled_at is not None:
        raise Conflict("This job is no longer the mediator's.", reason="not_theirs")
    if report_of(session, assignment.id) is not None:
        raise Conflict("This job was already reported. Thank you!", reason="already_reported")
    if now < request.end:
        raise Conflict("A job can be reported once it is over.", reason="not_over")
    if data.actual_end > now:
        raise InvalidInput(
            "actual_end is in the future.", field="actual_end", reason="end_in_future"
        )
    if not (request.start - REPORT_SLACK <= data.actual_start <= request.end + REPORT_SLACK):
        raise InvalidInput(
            "actual_start is not near the booked time; please check the day.",
            field="actual_start",
            reason="not_on_the_day",
        )
    report = JobReport(
        assignment_id=assignment.id,
        request_id=request.id,
        mediator_id=assignment.mediator_id,
        actual_start=data.actual_start,
        actual_end=data.actual_end,
        waiting_minutes=data.waiting_minutes,
        travel_km=data.travel_km,
        ticket_cost=data.ticket_cost,
        outcome=data.outcome,
        reported_at=now,
    )
    session.add(report)
    # The older per-assignment figures stay filled, for the statistics export.
    assignment.minutes_worked = minutes_of(report)
    assignment.travel_km = float(data.travel_km)
    assignment.completed_at = now
    session.add(assignment)
    if request.status == RequestStatus.assigned:
        request.status = RequestStatus.completed
        request.updated_at = now
        session.add(request)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action="assignment.report",
        entity="assignment",
        entity_id=assignment.id,
        details={"outcome": str(data.outcome), "job_report": report.id},
    )
    session.flush()
    return report


def issue_confirmation_link(
    session: Session, *, report: JobReport, request: Request, now: datetime, settings: Settings
) -> str:
    """A single-use link for the requester to confirm or dispute; only its hash is kept."""
    token = links.new_link_token()
    session.add(
        ConfirmationLink(
            job_report_id=report.id,
            organisation_id=request.organisation_id,
            user_id=request.created_by_user_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(days=CONFIRMATION_LINK_DAYS),
        )
    )
    return f"{settings.public_base_url.rstrip('/')}/c/{token}"


class LinkProblem(Conflict):
    """A confirmation link that cannot be used (any more); `reason` says why."""

    status_code = 410


def open_link(
    session: Session, *, token: str, now: datetime, viewer: User | None
) -> tuple[ConfirmationLink, JobReport]:
    """The link and its report, if the link may still be used by this viewer.

    A signed-in viewer of another organisation may not use it (403). A used,
    expired or unknown link is a LinkProblem (410 / 404).
    """
    link = None
    if token and len(token) <= 64:
        link = session.exec(
            select(ConfirmationLink).where(ConfirmationLink.token_hash == hash_token(token))
        ).first()
    if link is None:
        raise NotFound("We do not know this link.", reason="unknown_link")
    if (
        viewer is not None
        and viewer.role != Role.coordinator
        and viewer.organisation_id != link.organisation_id
    ):
        raise Forbidden("This link belongs to another organisation.", reason="other_organisation")
    report = session.get(JobReport, link.job_report_id)
    assert report is not None  # the link cascades with its report
    if link.used_at is not None or report.state != ReportState.reported:
        raise LinkProblem("This job was already confirmed or disputed.", reason="link_used")
    if link.expires_at <= now:
        raise LinkProblem("This link has expired.", reason="link_expired")
    return link, report


def confirm(
    session: Session,
    *,
    report: JobReport,
    organisation_id: int,
    actor: User | None,
    decision: str,
    reason: str | None,
    now: datetime,
    link: ConfirmationLink | None = None,
) -> JobReport:
    """The requester confirms the report, or disputes it saying what is wrong."""
    request = session.get(Request, report.request_id)
    assert request is not None
    if request.organisation_id != organisation_id:
        raise Forbidden(
            "Only the organisation that requested the job confirms it.",
            reason="other_organisation",
        )
    if report.state != ReportState.reported:
        raise Conflict(
            f"This job was already {str(report.state)}.",
            reason="already_decided",
            params={"state": str(report.state)},
        )
    if decision == "dispute" and not reason:
        raise InvalidInput(
            "Please say what does not match.", field="reason", reason="dispute_reason_missing"
        )
    report.state = ReportState.confirmed if decision == "confirm" else ReportState.disputed
    report.confirmed_by_user_id = actor.id if actor else link.user_id if link else None
    report.confirmed_at = now
    report.dispute_reason = reason if decision == "dispute" else None
    session.add(report)
    # Every open link of this report is spent: a second click changes nothing.
    for open_link_row in session.exec(
        select(ConfirmationLink).where(
            ConfirmationLink.job_report_id == report.id, col(ConfirmationLink.used_at).is_(None)
        )
    ):
        open_link_row.used_at = now
        session.add(open_link_row)
    audit.record(
        session,
        at=now,
        actor_kind="user" if report.confirmed_by_user_id else "link",
        actor_id=report.confirmed_by_user_id,
        action=f"job_report.{str(report.state)}",
        entity="job_report",
        entity_id=report.id,
        details={"via": "link" if link else "account"},
    )
    session.flush()
    return report


def approve(
    session: Session,
    *,
    report: JobReport,
    actor: User,
    decision: str,
    reason: str | None,
    now: datetime,
) -> JobReport:
    """The coordinator approves the report (it will be paid) or rejects a disputed one.

    A confirmed report needs no reason; an unconfirmed or disputed one, and
    any rejection, does: the reason stands in the audit trail.
    """
    if report.state in (ReportState.approved, ReportState.rejected):
        raise Conflict(
            f"This job was already {str(report.state)}.",
            reason="already_decided",
            params={"state": str(report.state)},
        )
    if not reason and (decision == "reject" or report.state != ReportState.confirmed):
        state = "unconfirmed" if report.state == ReportState.reported else str(report.state)
        raise ReasonRequired(
            f"This job is {state}: approving or rejecting it needs a reason."
            if decision == "approve"
            else "Rejecting a job needs a reason.",
            field="reason",
            reason="reason_required",
            params={"state": state},
        )
    before = report.state
    report.state = ReportState.approved if decision == "approve" else ReportState.rejected
    report.approved_by_user_id = actor.id
    report.approved_at = now
    report.approval_reason = reason
    session.add(report)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action=f"job_report.{str(report.state)}",
        entity="job_report",
        entity_id=report.id,
        details={"from": str(before), "reason": reason},
    )
    session.flush()
    return report


def approve_many(
    session: Session,
    *,
    assignment_ids: list[int],
    actor: User,
    decision: str,
    reason: str | None,
    now: datetime,
) -> list[JobReport]:
    """Approve several at once: all or none (the first refusal names its assignment)."""
    done = []
    for assignment_id in dict.fromkeys(assignment_ids):
        report = report_for(session, assignment_id=assignment_id, actor=actor)
        try:
            done.append(
                approve(
                    session, report=report, actor=actor, decision=decision, reason=reason, now=now
                )
            )
        except (Conflict, InvalidInput) as exc:
            exc.message = f"Assignment {assignment_id}: {exc.message}"
            exc.params = {**exc.params, "assignment_id": assignment_id}
            raise
    return done


def list_reports(
    session: Session,
    *,
    actor: User,
    states: tuple[ReportState, ...] = (),
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[JobReport, Request]], int]:
    """Reports with their requests, newest job first; a caseworker sees their organisation's."""
    query = select(JobReport, Request).join(Request, col(Request.id) == col(JobReport.request_id))
    count = select(func.count(col(JobReport.id))).join(
        Request, col(Request.id) == col(JobReport.request_id)
    )
    if actor.role != Role.coordinator:
        query = query.where(Request.organisation_id == actor.organisation_id)
        count = count.where(Request.organisation_id == actor.organisation_id)
    if states:
        query = query.where(col(JobReport.state).in_(states))
        count = count.where(col(JobReport.state).in_(states))
    rows = session.exec(
        query.order_by(col(JobReport.actual_start).desc(), col(JobReport.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [(report, request) for report, request in rows], session.exec(count).one()
