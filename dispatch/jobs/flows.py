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
from dispatch.jobs.models import JobDeadlineKind, JobReport
from dispatch.jobs.schemas import JobReportIn
from dispatch.mediators.models import Mediator
from dispatch.offers import links
from dispatch.offers.models import Assignment, Offer
from dispatch.requests.models import Request


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
