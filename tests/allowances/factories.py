"""Jobs that already happened, written straight into the tables (intake refuses the past)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine

from dispatch.jobs.models import JobOutcome, JobReport, ReportState
from dispatch.offers.models import Assignment, AssignmentSource
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.storage import unit_of_work
from tests.conftest import Staff


def done_job(
    engine: Engine,
    *,
    caseworker: Staff,
    mediator_id: int,
    start: str,
    end: str,
    actual_start: str | None = None,
    actual_end: str | None = None,
    waiting_minutes: int = 0,
    km: str = "0",
    ticket: str = "0",
    mode: Mode = Mode.in_person,
    language: str = "ar",
    category: str = "authority",
    funding_source: str | None = "state",
    state: ReportState | None = ReportState.approved,
    outcome: JobOutcome = JobOutcome.done,
    place_id: int | None = None,
) -> tuple[int, int]:
    """A completed request, its assignment and its report; (request id, assignment id).

    With `state` None the job is still ahead: the request is assigned, no report."""
    begin, finish = datetime.fromisoformat(start), datetime.fromisoformat(end)
    with unit_of_work(engine) as session:
        request = Request(
            organisation_id=caseworker.organisation_id,
            created_by_user_id=caseworker.user_id,
            language=language,
            start=begin,
            end=finish,
            mode=mode,
            place_id=place_id,
            status=RequestStatus.assigned if state is None else RequestStatus.completed,
            category=category,
            funding_source=funding_source,
            created_at=begin.replace(day=1),
            updated_at=finish,
            filled_at=begin.replace(day=1),
        )
        session.add(request)
        session.flush()
        assignment = Assignment(
            request_id=request.id,
            mediator_id=mediator_id,
            source=AssignmentSource.coordinator,
            created_at=begin.replace(day=1),
            completed_at=None if state is None else finish,
        )
        session.add(assignment)
        session.flush()
        if state is None:
            return request.id, assignment.id
        session.add(
            JobReport(
                assignment_id=assignment.id,
                request_id=request.id,
                mediator_id=mediator_id,
                actual_start=datetime.fromisoformat(actual_start or start),
                actual_end=datetime.fromisoformat(actual_end or end),
                waiting_minutes=waiting_minutes,
                travel_km=Decimal(km),
                ticket_cost=Decimal(ticket),
                outcome=outcome,
                state=state,
                reported_at=finish,
                approved_at=finish if state == ReportState.approved else None,
            )
        )
        return request.id, assignment.id
