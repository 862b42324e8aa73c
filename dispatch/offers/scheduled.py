"""The timed steps of offers and assignments, registered with the deadline runner.

One handler per ``OfferDeadlineKind``; each runs in the runner's transaction
and returns what happened, for the deadline's ``outcome``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch import audit, messages
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handles
from dispatch.jobs import flows as jobs
from dispatch.mediators.models import Mediator
from dispatch.offers import flows, links
from dispatch.offers.models import Assignment, Offer, OfferDeadlineKind
from dispatch.offers.policy import policy_for
from dispatch.requests.models import Request, RequestStatus


@handles(OfferDeadlineKind.wave_expiry)
def wave_expired(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
    return flows.expire_wave(session, request_id=deadline.subject_id, now=now, settings=settings)


@handles(OfferDeadlineKind.unfilled_warning)
def unfilled_warning(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    return flows.warn_if_still_seeking(
        session, request_id=deadline.subject_id, now=now, settings=settings
    )


@handles(OfferDeadlineKind.wave_due)
def held_wave_due(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    return flows.send_held_wave(session, request_id=deadline.subject_id, now=now, settings=settings)


@handles(OfferDeadlineKind.first_wave)
def first_wave_due(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    return flows.send_first_wave(
        session, request_id=deadline.subject_id, now=now, settings=settings
    )


def _live(session: Session, deadline: Deadline) -> tuple[Assignment, Request] | None:
    """The deadline's assignment and its request, unless the assignment was cancelled."""
    assignment = session.get(Assignment, deadline.subject_id)
    if assignment is None or assignment.cancelled_at is not None:
        return None
    request = session.get(Request, assignment.request_id)
    assert request is not None
    return assignment, request


@handles(OfferDeadlineKind.reminder)
def remind(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
    """A reminder `sequence` hours before the start; the day-before one asks to reconfirm."""
    live = _live(session, deadline)
    if live is None:
        return "no-op: assignment cancelled"
    assignment, request = live
    hours = deadline.sequence
    if request.status != RequestStatus.assigned or now >= request.start:
        return f"no-op: request {request.status}"
    mediator = session.get(Mediator, assignment.mediator_id)
    offer = session.get(Offer, assignment.offer_id) if assignment.offer_id else None
    if mediator is None or offer is None:
        return "no-op: no mediator"
    link = links.job_link(
        session, request, offer_id=offer.id, purpose=f"reminder{hours}", now=now, settings=settings
    )
    reminder = (
        messages.reminder_24h
        if hours > policy_for(session, request).reconfirm_deadline_hours
        else messages.reminder_2h
    )
    reminder(
        session,
        mediator=mediator,
        request=request,
        offer=offer,
        assignment=assignment,
        hours=hours,
        link=link,
        now=now,
    )
    return f"reminder {hours}h sent"


@handles(OfferDeadlineKind.reconfirm_check)
def check_reconfirmed(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    """No reconfirmation by now: the assignment is at risk and the coordinator alerted."""
    live = _live(session, deadline)
    if live is None:
        return "no-op: assignment cancelled"
    assignment, request = live
    if request.status != RequestStatus.assigned or assignment.reconfirmed_at is not None:
        return (
            "no-op: reconfirmed"
            if assignment.reconfirmed_at
            else f"no-op: request {request.status}"
        )
    assignment.at_risk_at = now
    session.add(assignment)
    messages.alert_at_risk_coordinator(
        session,
        settings,
        request=request,
        assignment=assignment,
        mediator=session.get(Mediator, assignment.mediator_id),
        now=now,
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="assignment.at_risk",
        entity="assignment",
        entity_id=assignment.id,
    )
    return "at risk: coordinator alerted"


@handles(OfferDeadlineKind.after_job)
def ask_for_report(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    """The job is over: the mediator gets a link to report minutes and kilometres."""
    live = _live(session, deadline)
    if live is None:
        return "no-op: assignment cancelled"
    assignment, request = live
    if (
        assignment.no_show
        or assignment.completed_at is not None
        or request.status != RequestStatus.assigned
    ):
        return f"no-op: request {request.status}"
    if not jobs.send_report_link(
        session, assignment=assignment, request=request, now=now, settings=settings
    ):
        return "no-op: no mediator"
    jobs.expect_report(session, assignment=assignment, now=now)
    return "report requested"
