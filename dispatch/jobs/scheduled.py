"""Reminders of the Einsatzbestätigung: a report or a confirmation 3 days late."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handles
from dispatch.jobs import flows, service
from dispatch.jobs.models import JobDeadlineKind, JobReport, ReportState
from dispatch.offers.models import Assignment
from dispatch.requests.models import Request


@handles(JobDeadlineKind.report_overdue)
def remind_mediator_to_report(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    """No report three days after the job: the mediator gets a new report link."""
    assignment = session.get(Assignment, deadline.subject_id)
    if assignment is None or assignment.cancelled_at is not None or assignment.no_show:
        return "no-op: no job to report"
    if service.report_of(session, assignment.id) is not None:
        return "no-op: reported"
    request = session.get(Request, assignment.request_id)
    assert request is not None
    if not flows.send_report_link(
        session, assignment=assignment, request=request, now=now, settings=settings, reminder=True
    ):
        return "no-op: no mediator link"
    return "report reminder sent"


@handles(JobDeadlineKind.confirm_overdue)
def remind_requester_to_confirm(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    """Unconfirmed three days after the report: the requester gets a new link."""
    report = session.get(JobReport, deadline.subject_id)
    if report is None or report.state != ReportState.reported:
        return f"no-op: {str(report.state) if report else 'no report'}"
    request = session.get(Request, report.request_id)
    assert request is not None
    flows.ask_for_confirmation(
        session, report=report, request=request, now=now, settings=settings, reminder=True
    )
    return "confirmation reminder sent"
