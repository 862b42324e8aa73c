"""Firing due deadlines: each one exactly once, whatever restarts or how many processes.

A deadline is claimed and performed in one transaction: its row is locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second process skips it
instead of waiting; SQLite has one writer at a time anyway), the step runs,
and ``done_at`` is written in the same commit. A crash before the commit
leaves the row due, so the step runs again from scratch after a restart; a
crash after it leaves it done. Nothing fires twice and nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch import audit
from dispatch.clock import Clock
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, Offer, OfferLink, OfferStatus
from dispatch.requests.models import Request, RequestStatus
from dispatch.security import hash_token
from dispatch.storage import unit_of_work
from dispatch.users.models import Organisation
from dispatch.workflow import service
from dispatch.workflow.models import Deadline, DeadlineKind

log = logging.getLogger("sprachpool.deadlines")

#: A step that raised is tried again after this long.
RETRY_AFTER = timedelta(minutes=5)


def run_due(engine: Engine, *, clock: Clock, settings: Settings, limit: int = 100) -> int:
    """Fire up to `limit` due deadlines, one transaction each; returns how many fired."""
    fired = 0
    while fired < limit:
        now = clock.now()
        deadline_id: int | None = None
        try:
            with unit_of_work(engine, immediate=True) as session:
                query = (
                    select(Deadline)
                    .where(col(Deadline.done_at).is_(None), col(Deadline.due_at) <= now)
                    .order_by(col(Deadline.due_at), col(Deadline.id))
                    .limit(1)
                )
                if engine.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                deadline = session.exec(query).first()
                if deadline is None:
                    return fired
                deadline_id = deadline.id
                outcome = fire(session, deadline, now=now, settings=settings)
                deadline.done_at = now
                deadline.outcome = outcome[:200]
                session.add(deadline)
        except Exception as exc:  # one broken step must not stop the others
            log.exception("deadline %s failed; retrying later", deadline_id)
            if deadline_id is None:
                return fired
            # The step rolled back as a whole; push the row back so the others go first.
            with unit_of_work(engine, immediate=True) as session:
                session.execute(
                    sa.update(Deadline)
                    .where(col(Deadline.id) == deadline_id)
                    .values(due_at=now + RETRY_AFTER, outcome=f"failed: {exc}"[:200])
                )
        fired += 1
    return fired


def fire(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
    """Perform one deadline's step; returns what happened, for the record."""
    if deadline.kind == DeadlineKind.wave_expiry:
        return _wave_expired(session, deadline, now=now, settings=settings)
    assignment = session.get(Assignment, deadline.subject_id)
    if assignment is None or assignment.cancelled_at is not None:
        return "no-op: assignment cancelled"
    request = session.get(Request, assignment.request_id)
    assert request is not None
    if deadline.kind == DeadlineKind.reminder:
        return _remind(
            session, assignment, request, hours=deadline.sequence, now=now, settings=settings
        )
    if deadline.kind == DeadlineKind.reconfirm_check:
        return _check_reconfirmed(session, assignment, request, now=now, settings=settings)
    if deadline.kind == DeadlineKind.after_job:
        return _ask_for_report(session, assignment, request, now=now, settings=settings)
    return f"no-op: unknown kind {deadline.kind}"


def _wave_expired(
    session: Session, deadline: Deadline, *, now: datetime, settings: Settings
) -> str:
    request = service._lock_request(session, deadline.subject_id)
    expired = session.execute(
        sa.update(Offer)
        .where(
            col(Offer.request_id) == request.id,
            col(Offer.status) == OfferStatus.pending,
            col(Offer.expires_at) <= now,
        )
        .values(status=OfferStatus.expired)
    ).rowcount
    outcome = service._escalate_if_wave_over(session, request, now=now, settings=settings)
    return f"{expired} expired; {outcome}"


def _new_link(
    session: Session,
    offer_id: int,
    purpose: str,
    *,
    now: datetime,
    expires_at: datetime,
    settings: Settings,
) -> str:
    token = service.new_link_token()
    session.add(
        OfferLink(
            offer_id=offer_id,
            token_hash=hash_token(token),
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return service.link_url(settings, token)


def _remind(
    session: Session,
    assignment: Assignment,
    request: Request,
    *,
    hours: int,
    now: datetime,
    settings: Settings,
) -> str:
    if request.status != RequestStatus.assigned or now >= request.start:
        return f"no-op: request {request.status}"
    mediator = session.get(Mediator, assignment.mediator_id)
    offer = session.get(Offer, assignment.offer_id) if assignment.offer_id else None
    if mediator is None or offer is None:
        return "no-op: no mediator"
    policy = service.policy_for(session, request)
    fields = service._job_fields(session, request)
    link = _new_link(
        session,
        offer.id,
        f"reminder{hours}",
        now=now,  # type: ignore[arg-type]
        expires_at=request.end + service.REPORT_WINDOW,
        settings=settings,
    )
    if hours > policy.reconfirm_deadline_hours:
        # The day-before reminder asks for a one-tap reconfirmation (or JA <code>).
        service._message_mediator(
            session,
            mediator,
            kind="reminder_24h",
            key=f"reminder:{assignment.id}:{hours}",
            now=now,
            request=request,
            offer=offer,
            sms={**fields, "link": link, "code": offer.short_code},
            email={
                **fields,
                "link": link,
                "code": offer.short_code,
                "recipient_name": mediator.name,
                "address": request.address,
            },
        )
    else:
        service._message_mediator(
            session,
            mediator,
            kind="reminder_2h",
            key=f"reminder:{assignment.id}:{hours}",
            now=now,
            request=request,
            offer=offer,
            sms={
                "language": fields["language"],
                "start": request.start,
                "mode": fields["mode"],
                "place": fields["place"],
            },
            email={
                "language": fields["language"],
                "start": request.start,
                "mode": fields["mode"],
                "place": fields["place"],
                "link": link,
                "recipient_name": mediator.name,
                "address": request.address,
            },
        )
    return f"reminder {hours}h sent"


def _check_reconfirmed(
    session: Session, assignment: Assignment, request: Request, *, now: datetime, settings: Settings
) -> str:
    if request.status != RequestStatus.assigned or assignment.reconfirmed_at is not None:
        return (
            "no-op: reconfirmed"
            if assignment.reconfirmed_at
            else f"no-op: request {request.status}"
        )
    assignment.at_risk_at = now
    session.add(assignment)
    mediator = session.get(Mediator, assignment.mediator_id)
    organisation = session.get(Organisation, request.organisation_id)
    link = service.dashboard_link(settings, request)
    language = request.language
    service._alert_coordinator(
        session,
        settings,
        kind="alert_at_risk_coordinator",
        key=f"at-risk:{assignment.id}",
        now=now,
        request=request,
        email={
            "language": language,
            "start": request.start,
            "end": request.end,
            "organisation": organisation.name if organisation else "-",
            "reason": "not_reconfirmed",
            "link": link,
            "mediator_name": mediator.name if mediator else None,
        },
        sms={"language": language, "start": request.start, "link": link},
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


def _ask_for_report(
    session: Session, assignment: Assignment, request: Request, *, now: datetime, settings: Settings
) -> str:
    if (
        assignment.no_show
        or assignment.completed_at is not None
        or request.status != RequestStatus.assigned
    ):
        return f"no-op: request {request.status}"
    mediator = session.get(Mediator, assignment.mediator_id)
    if mediator is None or assignment.offer_id is None:
        return "no-op: no mediator"
    offer = session.get(Offer, assignment.offer_id)
    link = _new_link(
        session,
        assignment.offer_id,
        "report",
        now=now,
        expires_at=request.end + service.REPORT_WINDOW,
        settings=settings,
    )
    language = request.language
    service._message_mediator(
        session,
        mediator,
        kind="completion_request",
        key=f"report:{assignment.id}",
        now=now,
        request=request,
        offer=offer,
        sms={"language": language, "start": request.start, "link": link},
        email={
            "language": language,
            "start": request.start,
            "link": link,
            "recipient_name": mediator.name,
        },
    )
    return "report requested"
