"""The Einsatzbestätigung's steps with everything that follows them: links, e-mails, reminders.

Reporting touches the job report, the assignment, the request, the deadlines
and the outbox in one transaction; the pages and the API call the same flow.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch import messages
from dispatch.deadlines import service as deadlines
from dispatch.jobs import service
from dispatch.jobs.models import ConfirmationLink, JobDeadlineKind, JobReport, ReportState
from dispatch.jobs.schemas import JobReportIn
from dispatch.mediators.models import Mediator
from dispatch.offers import links
from dispatch.offers import service as offer_service
from dispatch.offers.models import Assignment, Offer
from dispatch.requests.models import Request
from dispatch.users.models import Role, User


def report_job(
    session: Session,
    *,
    assignment: Assignment,
    request: Request,
    data: JobReportIn,
    now: datetime,
    settings: Settings,
    actor_kind: str,
    actor_id: int | None,
) -> JobReport:
    """Store the report, ask the requester to confirm it, and remind them in 3 days if not."""
    report = service.submit_report(
        session,
        assignment=assignment,
        request=request,
        data=data,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_id,
    )
    deadlines.close(
        session,
        kinds=[JobDeadlineKind.report_overdue],
        subject_id=assignment.id,
        now=now,
        outcome="reported",
    )
    ask_for_confirmation(session, report=report, request=request, now=now, settings=settings)
    deadlines.schedule(
        session,
        kind=JobDeadlineKind.confirm_overdue,
        subject_id=report.id,
        due_at=now + service.OVERDUE_AFTER,
        now=now,
    )
    return report


def ask_for_confirmation(
    session: Session,
    *,
    report: JobReport,
    request: Request,
    now: datetime,
    settings: Settings,
    reminder: bool = False,
) -> None:
    """E-mail the requester a fresh one-click link to confirm or dispute the report."""
    link = service.issue_confirmation_link(
        session, report=report, request=request, now=now, settings=settings
    )
    mediator = session.get(Mediator, report.mediator_id)
    messages.job_confirmation_caseworker(
        session,
        settings,
        request=request,
        report=report,
        mediator_name=mediator.name if mediator else "-",
        confirm_link=link,
        now=now,
        reminder=reminder,
    )


def send_report_link(
    session: Session,
    *,
    assignment: Assignment,
    request: Request,
    now: datetime,
    settings: Settings,
    reminder: bool = False,
) -> bool:
    """Send the mediator a fresh link to the report form; False when there is nobody to ask."""
    mediator = session.get(Mediator, assignment.mediator_id)
    if mediator is None or assignment.offer_id is None:
        return False
    link = links.job_link(
        session, request, offer_id=assignment.offer_id, purpose="report", now=now, settings=settings
    )
    messages.completion_request(
        session,
        mediator=mediator,
        request=request,
        offer=session.get(Offer, assignment.offer_id),
        assignment=assignment,
        link=link,
        now=now,
        reminder=reminder,
    )
    return True


def expect_report(session: Session, *, assignment: Assignment, now: datetime) -> None:
    """The job is over and the mediator was asked: remind them if nothing comes in 3 days."""
    deadlines.schedule(
        session,
        kind=JobDeadlineKind.report_overdue,
        subject_id=assignment.id,
        due_at=now + service.OVERDUE_AFTER,
        now=now,
    )


def confirm(
    session: Session,
    *,
    report: JobReport,
    organisation_id: int,
    actor: User | None,
    decision: str,
    reason: str | None,
    now: datetime,
    settings: Settings,
    link: ConfirmationLink | None = None,
) -> JobReport:
    """The requester confirms or disputes (``service.confirm``); a dispute reaches the
    coordinator, who has to decide on it, by email."""
    decided = service.confirm(
        session,
        report=report,
        organisation_id=organisation_id,
        actor=actor,
        decision=decision,
        reason=reason,
        now=now,
        link=link,
    )
    if decided.state == ReportState.disputed:
        request = session.get(Request, decided.request_id)
        mediator = session.get(Mediator, decided.mediator_id)
        assert request is not None
        messages.alert_disputed_coordinator(
            session,
            settings,
            request=request,
            report=decided,
            mediator_name=mediator.name if mediator else "-",
            now=now,
        )
    return decided


def approve(
    session: Session,
    *,
    report: JobReport,
    actor: User,
    decision: str,
    reason: str | None,
    now: datetime,
) -> JobReport:
    """The coordinator's decision on one report (``service.approve``); a rejection is told."""
    decided = service.approve(
        session, report=report, actor=actor, decision=decision, reason=reason, now=now
    )
    tell_if_rejected(session, report=decided, now=now)
    return decided


def approve_many(
    session: Session,
    *,
    assignment_ids: list[int],
    actor: User,
    decision: str,
    reason: str | None,
    now: datetime,
) -> list[JobReport]:
    """Several decisions at once, all or none (``service.approve_many``); rejections are told."""
    done = service.approve_many(
        session,
        assignment_ids=assignment_ids,
        actor=actor,
        decision=decision,
        reason=reason,
        now=now,
    )
    for report in done:
        tell_if_rejected(session, report=report, now=now)
    return done


def tell_if_rejected(session: Session, *, report: JobReport, now: datetime) -> None:
    """A rejected report is a job the mediator will not be paid for: they hear it, and why.

    Without this they would only notice a missing line on their monthly statement.
    """
    if report.state != ReportState.rejected:
        return
    mediator = session.get(Mediator, report.mediator_id)
    request = session.get(Request, report.request_id)
    if mediator is None or request is None:
        return
    messages.job_rejected_mediator(
        session, mediator=mediator, request=request, report=report, now=now
    )


def record_no_show(
    session: Session, *, request: Request, actor: User, now: datetime, settings: Settings
) -> Assignment:
    """The mediator did not come (``offers.service.record_no_show``), and both sides hear it.

    The mediator is told in neutral words (they may have been ill) that the coordination
    will get in touch; the coordination is alerted, unless a coordinator recorded it.
    """
    assignment = offer_service.record_no_show(session, request=request, actor=actor, now=now)
    mediator = session.get(Mediator, assignment.mediator_id)
    if mediator is not None:
        messages.no_show_mediator(
            session, mediator=mediator, request=request, assignment=assignment, now=now
        )
    if actor.role != Role.coordinator:
        messages.alert_no_show_coordinator(
            session, settings, request=request, assignment=assignment, mediator=mediator, now=now
        )
    return assignment
