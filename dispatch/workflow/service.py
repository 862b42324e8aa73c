"""The dispatch workflow: waves of offers, first accept wins, escalation, changes.

Every step runs inside the caller's transaction and writes its messages to
the outbox and its next deadline to the deadline table in that same
transaction, so a step either happens completely or not at all, and a
restart continues from what the database says.

Concurrency rules, on SQLite and PostgreSQL alike:
- accepting is one conditional UPDATE of the request (``WHERE status =
  'offered'``); the loser's UPDATE touches no row and it rolls back, so
  exactly one offer of a request can ever be accepted;
- every other step that reads the request and then decides (decline,
  escalate, cancel, override) first locks the request row (``FOR UPDATE``
  on PostgreSQL; on SQLite the write transaction began IMMEDIATE and is
  alone anyway).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from config import data as config_data
from config.data import Policy
from config.settings import Settings
from dispatch import audit
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, AssignmentSource, Offer, OfferLink, OfferStatus
from dispatch.outbox.service import enqueue
from dispatch.places.models import Place
from dispatch.planning import service as planning
from dispatch.requests.models import Request, RequestStatus
from dispatch.security import hash_token
from dispatch.users.models import Organisation, Role, User
from dispatch.workflow.models import Deadline, DeadlineKind

log = logging.getLogger("sprachpool.dispatch")

#: How long after the end of a job its link still opens (to report hours).
REPORT_WINDOW = timedelta(days=14)
#: A mediator's own cancellation this close to the start alerts the coordinator.
LATE_CANCELLATION = timedelta(hours=24)
#: Statuses in which a request still wants a mediator.
SEEKING = (RequestStatus.open, RequestStatus.offered, RequestStatus.unfilled)


# --- policy and small helpers -------------------------------------------------


def policy_for(session: Session, request: Request) -> Policy:
    """config/policy.toml, then the organisation's overrides, then the request's."""
    policy = config_data.default_policy()
    organisation = session.get(Organisation, request.organisation_id)
    if organisation is not None and organisation.policy:
        policy = policy.merged(organisation.policy)
    overrides = {k: v for k, v in (request.policy or {}).items() if k != "broadcast"}
    return policy.merged(overrides)


def _broadcast(request: Request) -> bool:
    return bool(request.policy and request.policy.get("broadcast"))


def offer_deadline(policy: Policy, request: Request) -> datetime:
    """No offer outlives this moment: the mediator needs time to get there."""
    return request.start - timedelta(minutes=policy.latest_offer_before_start_minutes)


def wave_shape(policy: Policy, request: Request, now: datetime) -> tuple[int | None, timedelta]:
    """How many offers the next wave sends (None: all) and how long they stay open."""
    if _broadcast(request):
        return None, timedelta(minutes=policy.broadcast_offer_minutes)
    lead_hours = (request.start - now).total_seconds() / 3600
    for band in policy.bands:
        if lead_hours < band.lead_under_hours:
            return band.size, timedelta(minutes=band.offer_minutes)
    last = policy.bands[-1]
    return last.size, timedelta(minutes=last.offer_minutes)


def _lock_request(session: Session, request_id: int) -> Request:
    """The request row, locked for this transaction (PostgreSQL; SQLite is serial)."""
    request = session.exec(
        select(Request)
        .where(Request.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if request is None:
        raise NotFound(f"There is no request with id {request_id}.")
    return request


def new_link_token() -> str:
    """128 random bits, URL-safe: 22 characters, short enough for an SMS."""
    return secrets.token_urlsafe(16)


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/o/{token}"


def _short_code(session: Session, mediator_id: int) -> str:
    """Four digits for SMS replies, unique among the mediator's live offers.

    A reply comes from the mediator's phone, so the code only has to tell
    apart that one person's offers, not everyone's.
    """
    taken = set(
        session.exec(
            select(Offer.short_code).where(
                Offer.mediator_id == mediator_id,
                col(Offer.status).in_((OfferStatus.pending, OfferStatus.accepted)),
            )
        )
    )
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            return code


def _place(session: Session, request: Request) -> Place | None:
    return session.get(Place, request.place_id) if request.place_id else None


def _job_fields(session: Session, request: Request) -> dict[str, Any]:
    """What every message about a job may say: no client, no notes (those stay on the page).

    The language goes as its tag: the message names it in the reader's language.
    An in-person job without a place name says its address is on the link's page.
    """
    place = _place(session, request)
    place_name = place.name if place else None
    return {
        "language": request.language,
        "start": request.start,
        "end": request.end,
        "mode": f"{request.mode}",
        "place": place_name,
    }


def _channels(mediator: Mediator) -> list[tuple[str, str]]:
    """(channel, address) pairs the mediator wants offers on, in their order."""
    pairs: list[tuple[str, str]] = []
    for channel in mediator.channels or ["sms"]:
        address = (
            mediator.phone if channel == "sms" else mediator.email if channel == "email" else None
        )
        if address and (channel, address) not in pairs:
            pairs.append((channel, address))
    if not pairs:  # preferred channel without an address: use what there is
        if mediator.phone:
            pairs.append(("sms", mediator.phone))
        elif mediator.email:
            pairs.append(("email", mediator.email))
    return pairs


def _message_mediator(
    session: Session,
    mediator: Mediator,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    offer: Offer | None,
    sms: dict[str, Any] | None,
    email: dict[str, Any] | None,
    channels: list[tuple[str, str]] | None = None,
) -> None:
    for channel, address in channels or _channels(mediator):
        fields, other = (sms, email) if channel == "sms" else (email, sms)
        if fields is None:
            continue
        # The other channel's fields go along, so a failed SMS can become an email (and back).
        enqueue(
            session,
            key=f"{key}:{channel}",
            kind=kind,
            channel=channel,  # type: ignore[arg-type]
            to=address,
            recipient_kind="mediator",
            recipient_id=mediator.id,
            locale=mediator.message_locale,
            now=now,
            request_id=request.id,
            offer_id=offer.id if offer else None,
            fallback=other,
            **fields,
        )


def _alert_coordinator(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    email: dict[str, Any],
    sms: dict[str, Any],
) -> None:
    if settings.coordinator_email:
        enqueue(
            session,
            key=f"{key}:email",
            kind=kind,
            channel="email",
            to=settings.coordinator_email,
            recipient_kind="coordinator",
            recipient_id=None,
            locale="de",
            now=now,
            request_id=request.id,
            **email,
        )
    if settings.coordinator_phone:
        enqueue(
            session,
            key=f"{key}:sms",
            kind=kind,
            channel="sms",
            to=settings.coordinator_phone,
            recipient_kind="coordinator",
            recipient_id=None,
            locale="de",
            now=now,
            request_id=request.id,
            **sms,
        )


def _tell_caseworker(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    **fields: Any,
) -> None:
    """An email to whoever filed the request, in their language; `key` says what about.

    Every change a caseworker has to act on reaches them this way: a
    confirmation (again, when the mediator changed), a mediator who is not
    coming, nobody found, a cancellation by the coordinator.
    """
    creator = session.get(User, request.created_by_user_id)
    if creator is None or not creator.email or not creator.active:
        return
    locale = creator.locale or "de"
    enqueue(
        session,
        key=f"{key}:caseworker",
        kind=kind,
        channel="email",
        to=creator.email,
        recipient_kind="user",
        recipient_id=creator.id,
        locale=locale,
        now=now,
        request_id=request.id,
        request_link=request_link(settings, request),
        recipient_name=creator.name,
        language=request.language,
        start=request.start,
        end=request.end,
        **fields,
    )


def _dispatch_round(session: Session, request_id: int) -> int:
    """How many times the request has lost its mediator: a round of dispatch each.

    Keys of messages that may be due once per round ("nobody found") carry
    it, so a request that is un-assigned and runs out again is told again.
    """
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(Assignment)
            .where(Assignment.request_id == request_id, col(Assignment.cancelled_at).is_not(None))
        ).one()
    )


def request_link(settings: Settings, request: Request) -> str:
    """Where the caseworker sees the request: its row in their organisation's list."""
    return f"{settings.public_base_url.rstrip('/')}/requests#request-{request.id}"


def dashboard_link(settings: Settings, request: Request) -> str:
    """Where the coordinator sees the request, its offers and candidates."""
    return f"{settings.public_base_url.rstrip('/')}/dashboard/requests/{request.id}"


def _schedule(
    session: Session,
    kind: DeadlineKind,
    subject_id: int,
    sequence: int,
    due_at: datetime,
    now: datetime,
) -> None:
    exists = session.exec(
        select(Deadline.id).where(
            Deadline.kind == kind, Deadline.subject_id == subject_id, Deadline.sequence == sequence
        )
    ).first()
    if exists is None:
        session.add(
            Deadline(
                kind=kind, subject_id=subject_id, sequence=sequence, due_at=due_at, created_at=now
            )
        )


# --- waves ----------------------------------------------------------------------


def _already_asked(session: Session, request_id: int) -> set[int]:
    """Everyone who had an offer or an assignment for this request: never asked twice."""
    asked = set(session.exec(select(Offer.mediator_id).where(Offer.request_id == request_id)))
    asked |= set(
        session.exec(select(Assignment.mediator_id).where(Assignment.request_id == request_id))
    )
    return asked


def ranked_candidates(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> list[int]:
    """Feasible mediators in the order offers go out.

    Whoever served this client before comes first, then the organisation's
    preferred mediators, then everyone else by the engine's score (which
    already weighs level, travel, gender preference and fairness).
    """
    tz = settings.tz
    # Only the language's speakers can be offered the job: load them, not the whole pool.
    snapshot = planning.pool_snapshot(
        session,
        start=request.start,
        end=request.end,
        tz=tz,
        skip_request_ids=frozenset({request.id}),  # type: ignore[arg-type]
        language=request.language,
    )
    engine_request = planning.engine_request(session, request, tz=tz)
    ranking = matching.rank(engine_request, snapshot.mediators, now=now)
    order = [c.mediator_id for c in ranking.candidates]
    first = [m for m in engine_request.preferred_mediators if m in order]
    return [int(m) for m in first + [m for m in order if m not in first]]


@dataclass
class WaveResult:
    wave: int
    offers: list[Offer]
    unfilled_reason: str | None = None


def send_next_wave(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    after_dropout: bool = False,
) -> WaveResult:
    """Offer the request to the next candidates, or give up and say so.

    The caller holds the request (locked or new). A wave never goes to
    anyone asked before, and its offers expire together at one deadline.
    `after_dropout`: the request has just lost its mediator (for the
    caseworker's message, should nobody be left).
    """
    policy = policy_for(session, request)
    last_wave = (
        session.exec(select(sa.func.max(Offer.wave)).where(Offer.request_id == request.id)).one()
        or 0
    )
    deadline = offer_deadline(policy, request)
    if now >= deadline:
        return WaveResult(
            last_wave,
            [],
            _mark_unfilled(
                session,
                request,
                now=now,
                settings=settings,
                reason="no_time_left",
                dropped_out=after_dropout,
            ),
        )
    asked = _already_asked(session, request.id)  # type: ignore[arg-type]
    candidates = [
        m for m in ranked_candidates(session, request, now=now, settings=settings) if m not in asked
    ]
    if not candidates:
        reason = "nobody_in_pool" if not asked else "everyone_asked"
        return WaveResult(
            last_wave,
            [],
            _mark_unfilled(
                session,
                request,
                now=now,
                settings=settings,
                reason=reason,
                dropped_out=after_dropout,
            ),
        )
    size, lifetime = wave_shape(policy, request, now)
    chosen = candidates if size is None else candidates[:size]
    expires_at = min(now + lifetime, deadline)
    wave = last_wave + 1
    mediators = {
        m.id: m for m in session.exec(select(Mediator).where(col(Mediator.id).in_(chosen)))
    }
    fields = _job_fields(session, request)
    organisation = session.get(Organisation, request.organisation_id)
    offers: list[Offer] = []
    for mediator_id in chosen:
        mediator = mediators[mediator_id]
        token = new_link_token()
        offer = Offer(
            request_id=request.id,
            mediator_id=mediator_id,
            wave=wave,  # type: ignore[arg-type]
            token_hash=hash_token(token),
            short_code=_short_code(session, mediator_id),
            channel=",".join(c for c, _ in _channels(mediator)) or "none",
            created_at=now,
            expires_at=expires_at,
        )
        session.add(offer)
        session.flush()
        link = link_url(settings, token)
        _message_mediator(
            session,
            mediator,
            kind="offer",
            key=f"offer:{offer.id}",
            now=now,
            request=request,
            offer=offer,
            sms={
                **fields,
                "link": link,
                "code": offer.short_code,
                "subject": request.qualification,
            },
            email={
                **fields,
                "link": link,
                "code": offer.short_code,
                "subject": request.qualification,
                "expires_at": expires_at,
                "notes": request.notes,
                "organisation": organisation.name if organisation else None,
                "recipient_name": mediator.name,
            },
        )
        offers.append(offer)
    request.status = RequestStatus.offered
    request.updated_at = now
    session.add(request)
    _schedule(session, DeadlineKind.wave_expiry, request.id, wave, expires_at, now)  # type: ignore[arg-type]
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="request.wave",
        entity="request",
        entity_id=request.id,
        details={"wave": wave, "offers": len(offers)},
    )
    session.flush()
    return WaveResult(wave, offers)


def _mark_unfilled(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    reason: str,
    dropped_out: bool = False,
) -> str:
    """Nobody (more) to ask: tell the caseworker and alert the coordinator, once a round.

    `dropped_out`: the request just lost its mediator, so the caseworker's
    message says that the one confirmed is not coming either.
    """
    request.status = RequestStatus.unfilled
    request.updated_at = now
    session.add(request)
    fields = {
        "language": request.language,
        "start": request.start,
        "end": request.end,
    }
    dispatch_round = _dispatch_round(session, request.id)  # type: ignore[arg-type]
    key = f"unfilled:{request.id}" + (f":r{dispatch_round}" if dispatch_round else "")
    _tell_caseworker(
        session,
        settings,
        kind="request_unfilled_caseworker",
        key=key,
        now=now,
        request=request,
        dropped_out=dropped_out or None,
    )
    organisation = session.get(Organisation, request.organisation_id)
    link = dashboard_link(settings, request)
    _alert_coordinator(
        session,
        settings,
        kind="alert_unfilled_coordinator",
        key=f"{key}:coordinator",
        now=now,
        request=request,
        email={
            **fields,
            "organisation": organisation.name if organisation else "-",
            "link": link,
            "reason": reason,
        },
        sms={"language": fields["language"], "start": request.start, "link": link},
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="request.unfilled",
        entity="request",
        entity_id=request.id,
        details={"reason": reason},
    )
    log.info("request %s unfilled: %s", request.id, reason)
    return reason


def dispatch_new_request(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> WaveResult:
    """Rank a new request at once and send its first wave (same transaction as the insert)."""
    return send_next_wave(session, request, now=now, settings=settings)


# --- the offer link -----------------------------------------------------------


class LinkState(StrEnum):
    """What a link's page shows; each state has its own friendly page."""

    pending = "pending"  # Accept / Decline
    accepted = "accepted"  # your job: where, whom to ask, .ics, reconfirm, cancel
    report = "report"  # the job is over: hours and travel
    reported = "reported"  # thank you
    declined = "declined"
    expired = "expired"
    filled = "filled"  # someone else was quicker
    withdrawn = "withdrawn"  # the request was cancelled, or the coordinator assigned someone
    cancelled = "cancelled"  # you gave the job back
    revoked = "revoked"  # the coordinator took the job back from you


@dataclass
class LinkView:
    offer: Offer
    request: Request
    mediator: Mediator
    assignment: Assignment | None
    state: LinkState
    #: A pending offer only: why a job the mediator already holds rules this one out.
    clash: matching.Exclusion | None = None


def find_offer(session: Session, token: str, *, now: datetime) -> Offer | None:
    """The offer a link token belongs to, or None (unknown or expired link)."""
    if not token or len(token) > 64:
        return None
    digest = hash_token(token)
    offer = session.exec(select(Offer).where(Offer.token_hash == digest)).first()
    if offer is not None:
        return offer
    link = session.exec(select(OfferLink).where(OfferLink.token_hash == digest)).first()
    if link is None or link.expires_at <= now:
        return None
    return session.get(Offer, link.offer_id)


def _live_assignment(session: Session, request_id: int) -> Assignment | None:
    return session.exec(
        select(Assignment).where(
            Assignment.request_id == request_id, col(Assignment.cancelled_at).is_(None)
        )
    ).first()


def view_link(
    session: Session, offer: Offer, *, now: datetime, settings: Settings | None = None
) -> LinkView:
    """What the link's page shows; with `settings`, a pending offer says if a held job clashes."""
    request = session.get(Request, offer.request_id)
    mediator = session.get(Mediator, offer.mediator_id)
    assert request is not None and mediator is not None
    assignment = session.exec(select(Assignment).where(Assignment.offer_id == offer.id)).first()
    state: LinkState
    if offer.status == OfferStatus.revoked:
        state = LinkState.revoked
    elif offer.status == OfferStatus.returned:
        state = LinkState.cancelled
    elif offer.status == OfferStatus.accepted and assignment is not None:
        if assignment.cancelled_at is not None:  # cancelled before offers moved on with it
            state = LinkState.cancelled
        elif assignment.completed_at is not None:
            state = LinkState.reported
        elif now >= request.end:
            state = LinkState.report
        else:
            state = LinkState.accepted
    elif offer.status == OfferStatus.pending:
        state = LinkState.expired if offer.expires_at <= now else LinkState.pending
    elif offer.status == OfferStatus.declined:
        state = LinkState.declined
    elif offer.status == OfferStatus.expired:
        state = LinkState.expired
    else:  # withdrawn
        state = (
            LinkState.filled
            if request.status in (RequestStatus.assigned, RequestStatus.completed)
            else LinkState.withdrawn
        )
    if state == LinkState.accepted and now > request.end + REPORT_WINDOW:
        state = LinkState.expired
    clash = None
    if state == LinkState.pending and settings is not None:
        clash = planning.held_job_clash(
            session,
            mediator_id=offer.mediator_id,
            request=request,
            tz=settings.tz,
        )
    return LinkView(offer, request, mediator, assignment, state, clash)


def mark_opened(session: Session, offer: Offer, *, now: datetime) -> None:
    """Remember the first time a link was opened (previews included: opening accepts nothing)."""
    if offer.opened_at is None:
        session.execute(
            sa.update(Offer)
            .where(col(Offer.id) == offer.id, col(Offer.opened_at).is_(None))
            .values(opened_at=now)
        )


class Outcome(StrEnum):
    accepted = "accepted"
    already_yours = "already_yours"
    declined = "declined"
    filled = "filled"
    expired = "expired"
    withdrawn = "withdrawn"
    already_answered = "already_answered"
    busy = "busy"
    revoked = "revoked"


def accept_offer(
    session: Session, offer: Offer, *, now: datetime, settings: Settings, via: str = "link"
) -> Outcome:
    """First accept wins: one conditional UPDATE of the request decides.

    On a lost race the transaction is rolled back (nothing of this attempt
    stays) and the mediator is told the job was filled.
    """
    offer_id, request_id, mediator_id = offer.id, offer.request_id, offer.mediator_id
    if offer.status != OfferStatus.pending:
        return _late_outcome(session, offer)
    if offer.expires_at <= now:
        return Outcome.expired
    request = session.get(Request, request_id)
    assert request is not None
    # The engine's rule: a held job that overlaps, or leaves no time to travel.
    if (
        planning.held_job_clash(session, mediator_id=mediator_id, request=request, tz=settings.tz)
        is not None
    ):
        return Outcome.busy
    won = session.execute(
        sa.update(Request)
        .where(col(Request.id) == request_id, col(Request.status) == RequestStatus.offered)
        .values(status=RequestStatus.assigned, filled_at=now, updated_at=now)
    ).rowcount
    if won != 1:
        session.rollback()
        return _late_outcome(session, session.get(Offer, offer_id))  # type: ignore[arg-type]
    taken = session.execute(
        sa.update(Offer)
        .where(
            col(Offer.id) == offer_id,
            col(Offer.status) == OfferStatus.pending,
            col(Offer.expires_at) > now,
        )
        .values(status=OfferStatus.accepted, responded_at=now)
    ).rowcount
    if taken != 1:
        session.rollback()
        return _late_outcome(session, session.get(Offer, offer_id))  # type: ignore[arg-type]
    session.execute(
        sa.update(Offer)
        .where(col(Offer.request_id) == request_id, col(Offer.status) == OfferStatus.pending)
        .values(status=OfferStatus.withdrawn, responded_at=now)
    )
    session.expire_all()
    request = session.get(Request, request_id)
    offer = session.get(Offer, offer_id)  # type: ignore[assignment]
    assert request is not None and offer is not None
    assignment = Assignment(
        request_id=request_id,
        mediator_id=mediator_id,
        source=AssignmentSource.offer,
        offer_id=offer_id,
        created_at=now,
    )
    _start_assignment(session, request, offer, assignment, now=now, settings=settings)
    audit.record(
        session,
        at=now,
        actor_kind="mediator",
        actor_id=mediator_id,
        action="offer.accept",
        entity="offer",
        entity_id=offer_id,
        details={"via": via},
    )
    session.flush()
    return Outcome.accepted


def _late_outcome(session: Session, offer: Offer) -> Outcome:
    request = session.get(Request, offer.request_id)
    assert request is not None
    if offer.status == OfferStatus.accepted:
        return Outcome.already_yours
    if offer.status == OfferStatus.revoked:
        return Outcome.revoked
    if offer.status in (OfferStatus.declined, OfferStatus.returned):
        return Outcome.already_answered
    if offer.status == OfferStatus.expired:
        return Outcome.expired
    if request.status in (RequestStatus.assigned, RequestStatus.completed):
        return Outcome.filled
    if offer.status == OfferStatus.withdrawn or request.status == RequestStatus.cancelled:
        return Outcome.withdrawn
    return Outcome.expired


def _start_assignment(
    session: Session,
    request: Request,
    offer: Offer,
    assignment: Assignment,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Everything that follows a new assignment: messages, reminders, the check after the job."""
    policy = policy_for(session, request)
    mediator = session.get(Mediator, assignment.mediator_id)
    assert mediator is not None
    # Accepting within a day of the start is confirmation enough.
    first_reminder = max(policy.reminder_hours, default=0)
    if request.start - now <= timedelta(hours=first_reminder):
        assignment.reconfirmed_at = now
    session.add(assignment)
    session.flush()
    place = _place(session, request)
    fields = _job_fields(session, request)
    token = new_link_token()
    session.add(
        OfferLink(
            offer_id=offer.id,
            token_hash=hash_token(token),
            purpose="confirmation",  # type: ignore[arg-type]
            created_at=now,
            expires_at=request.end + REPORT_WINDOW,
        )
    )
    link = link_url(settings, token)
    organisation = session.get(Organisation, request.organisation_id)
    _message_mediator(
        session,
        mediator,
        kind="assignment_confirmed_mediator",
        key=f"confirmed:{assignment.id}",
        now=now,
        request=request,
        offer=offer,
        sms={**fields, "link": link},
        email={
            **fields,
            "link": link,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "address": request.address or (place.address if place else None),
            "subject": request.qualification,
            "notes": request.notes,
            "organisation": organisation.name if organisation else None,
            "contact_name": request.contact_name or (place.contact_hint if place else None),
            "contact_phone": request.contact_phone,
            "recipient_name": mediator.name,
        },
    )
    # A request that had a mediator before: this confirmation replaces the earlier one.
    replaces = _dispatch_round(session, request.id) > 0  # type: ignore[arg-type]
    _tell_caseworker(
        session,
        settings,
        kind="assignment_confirmed_caseworker",
        key=f"confirmed:{assignment.id}",
        now=now,
        request=request,
        mode=fields["mode"],
        place=fields["place"],
        mediator_name=mediator.name,
        mediator_phone=mediator.phone or "-",
        replaces=replaces or None,
    )
    for hours in policy.reminder_hours:
        due = request.start - timedelta(hours=hours)
        if due > now:
            _schedule(session, DeadlineKind.reminder, assignment.id, hours, due, now)  # type: ignore[arg-type]
    reconfirm_due = request.start - timedelta(hours=policy.reconfirm_deadline_hours)
    if assignment.reconfirmed_at is None and reconfirm_due > now:
        _schedule(session, DeadlineKind.reconfirm_check, assignment.id, 0, reconfirm_due, now)  # type: ignore[arg-type]
    _schedule(session, DeadlineKind.after_job, assignment.id, 0, request.end, now)  # type: ignore[arg-type]


def decline_offer(
    session: Session,
    offer: Offer,
    *,
    now: datetime,
    settings: Settings,
    reason: str | None = None,
    via: str = "link",
) -> Outcome:
    """Record a decline; the last open offer of a wave declined sends the next wave at once."""
    request = _lock_request(session, offer.request_id)
    offer = session.exec(
        select(Offer).where(Offer.id == offer.id).execution_options(populate_existing=True)
    ).one()
    if offer.status != OfferStatus.pending:
        return _late_outcome(session, offer)
    if offer.expires_at <= now:
        return Outcome.expired
    offer.status = OfferStatus.declined
    offer.responded_at = now
    offer.decline_reason = (reason or "").strip()[:300] or None
    session.add(offer)
    audit.record(
        session,
        at=now,
        actor_kind="mediator",
        actor_id=offer.mediator_id,
        action="offer.decline",
        entity="offer",
        entity_id=offer.id,
        details={"via": via},
    )
    session.flush()
    _escalate_if_wave_over(session, request, now=now, settings=settings)
    return Outcome.declined


def _escalate_if_wave_over(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> str:
    if request.status != RequestStatus.offered:
        return f"no-op: request {request.status}"
    pending = session.exec(
        select(sa.func.count())
        .select_from(Offer)
        .where(Offer.request_id == request.id, Offer.status == OfferStatus.pending)
    ).one()
    if pending:
        return "offers still open"
    result = send_next_wave(session, request, now=now, settings=settings)
    return (
        f"unfilled: {result.unfilled_reason}"
        if result.unfilled_reason
        else f"wave {result.wave} sent"
    )


# --- after acceptance: reconfirm, report, the mediator's own cancellation ------


def reconfirm(session: Session, offer: Offer, *, now: datetime, via: str = "link") -> bool:
    """The mediator confirms they will come (one tap, or JA to the reminder)."""
    assignment = session.exec(
        select(Assignment).where(
            Assignment.offer_id == offer.id, col(Assignment.cancelled_at).is_(None)
        )
    ).first()
    if assignment is None:
        return False
    if assignment.reconfirmed_at is None:
        assignment.reconfirmed_at = now
        assignment.at_risk_at = None
        session.add(assignment)
        audit.record(
            session,
            at=now,
            actor_kind="mediator",
            actor_id=assignment.mediator_id,
            action="assignment.reconfirm",
            entity="assignment",
            entity_id=assignment.id,
            details={"via": via},
        )
    return True


def report_job(
    session: Session, offer: Offer, *, now: datetime, minutes: int, travel_km: float
) -> Assignment:
    """Hours and travel after the job, for the expense allowance; the request is completed."""
    view = view_link(session, offer, now=now)
    if view.state == LinkState.reported:
        raise Conflict("These hours were already reported. Thank you!")
    if view.state != LinkState.report or view.assignment is None:
        raise Conflict("Hours can be reported once the job is over.")
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInput("minutes must be between 1 and 1440", field="minutes")
    if not 0 <= travel_km <= 1000:
        raise InvalidInput("travel_km must be between 0 and 1000", field="travel_km")
    assignment = view.assignment
    assignment.minutes_worked = minutes
    assignment.travel_km = round(travel_km, 1)
    assignment.completed_at = now
    session.add(assignment)
    request = view.request
    if request.status == RequestStatus.assigned:
        request.status = RequestStatus.completed
        request.updated_at = now
        session.add(request)
    audit.record(
        session,
        at=now,
        actor_kind="mediator",
        actor_id=assignment.mediator_id,
        action="assignment.report",
        entity="assignment",
        entity_id=assignment.id,
    )
    session.flush()
    return assignment


def cancel_assignment(
    session: Session,
    *,
    assignment_id: int,
    now: datetime,
    settings: Settings,
    actor: User | None = None,
    by_mediator: bool = False,
    reason: str | None = None,
) -> Request:
    """A mediator dropped out, or the coordinator took the job back: dispatch again, skipping them.

    The mediator is told (unless they gave it back themselves), their offer
    shows `returned` or `revoked`, the caseworker hears that the mediator
    confirmed to them is not coming, and the request goes out again at once.
    """
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"There is no assignment with id {assignment_id}.")
    request = _lock_request(session, assignment.request_id)
    session.refresh(assignment)
    if assignment.cancelled_at is not None:
        raise Conflict("This assignment was already cancelled.", reason="assignment_cancelled")
    if request.status != RequestStatus.assigned or now >= request.start:
        raise Conflict(
            f"This request is {request.status} and has started or ended; "
            "its assignment can no longer be cancelled.",
            reason="assignment_not_cancellable",
        )
    mediator = session.get(Mediator, assignment.mediator_id)
    assert mediator is not None
    _end_assignment(
        session,
        assignment,
        now=now,
        offer_status=OfferStatus.returned if by_mediator else OfferStatus.revoked,
        reason=reason or ("cancelled by the mediator" if by_mediator else "mediator dropped out"),
    )
    if not by_mediator:
        _tell_cancelled(session, mediator, request, assignment, now=now)
    audit.record(
        session,
        at=now,
        actor_kind="mediator" if by_mediator else "user",
        actor_id=assignment.mediator_id if by_mediator else (actor.id if actor else None),
        action="assignment.cancel",
        entity="assignment",
        entity_id=assignment.id,
        details={"reason": assignment.cancel_reason},
    )
    if by_mediator and request.start - now <= LATE_CANCELLATION:
        organisation = session.get(Organisation, request.organisation_id)
        link = dashboard_link(settings, request)
        _alert_coordinator(
            session,
            settings,
            kind="alert_late_cancellation_coordinator",
            key=f"late-cancel:{assignment.id}",
            now=now,
            request=request,
            email={
                "language": request.language,
                "start": request.start,
                "end": request.end,
                "organisation": organisation.name if organisation else "-",
                "mediator_name": mediator.name,
                "link": link,
                "cancelled_by": "die Sprachmittlerin / der Sprachmittler",
            },
            sms={
                "language": request.language,
                "start": request.start,
                "link": link,
            },
        )
    _dispatch_again(session, request, assignment, now=now, settings=settings)
    return request


def _end_assignment(
    session: Session,
    assignment: Assignment,
    *,
    now: datetime,
    offer_status: OfferStatus,
    reason: str,
) -> None:
    """The assignment ends before the job: its deadlines close, its offer stops showing accepted.

    The deadlines' outcome names the offer's new status, never the `reason`
    (which a person may have typed, about themselves).
    """
    assignment.cancelled_at = now
    assignment.cancel_reason = reason[:300]
    session.add(assignment)
    _close_deadlines(session, assignment.id, now, f"assignment cancelled ({offer_status})")  # type: ignore[arg-type]
    if assignment.offer_id is not None:
        session.execute(
            sa.update(Offer)
            .where(col(Offer.id) == assignment.offer_id, col(Offer.status) == OfferStatus.accepted)
            .values(status=offer_status)
        )
    session.flush()


def _dispatch_again(
    session: Session, request: Request, assignment: Assignment, *, now: datetime, settings: Settings
) -> None:
    """After a lost mediator: the request goes out at once; the caseworker is told what holds now.

    Either the next wave went out (they hear the mediator is not coming and
    that we are looking), or nobody is left (one message says both).
    """
    request.status = RequestStatus.open
    request.filled_at = None
    request.updated_at = now
    session.add(request)
    session.flush()
    send_next_wave(session, request, now=now, settings=settings, after_dropout=True)
    if request.status == RequestStatus.offered:
        _tell_caseworker(
            session,
            settings,
            kind="assignment_cancelled_caseworker",
            key=f"unassigned:{assignment.id}",
            now=now,
            request=request,
        )


def _tell_cancelled(
    session: Session, mediator: Mediator, request: Request, assignment: Assignment, *, now: datetime
) -> None:
    fields = _job_fields(session, request)
    _message_mediator(
        session,
        mediator,
        kind="cancelled_mediator",
        key=f"cancelled:{assignment.id}",
        now=now,
        request=request,
        offer=None,
        sms={"language": fields["language"], "start": request.start},
        email={
            "language": fields["language"],
            "start": request.start,
            "end": request.end,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "place": fields["place"],
            "recipient_name": mediator.name,
        },
    )


def _close_deadlines(session: Session, assignment_id: int, now: datetime, outcome: str) -> None:
    session.execute(
        sa.update(Deadline)
        .where(
            col(Deadline.subject_id) == assignment_id,
            col(Deadline.kind) != DeadlineKind.wave_expiry,
            col(Deadline.done_at).is_(None),
        )
        .values(done_at=now, outcome=outcome)
    )


def on_request_cancelled(
    session: Session, request: Request, *, actor: User, now: datetime, settings: Settings
) -> None:
    """After a cancel: tell the assigned mediator, retire the deadlines, and the caseworker.

    The caseworker hears of it when someone else (the coordinator) cancelled
    their request; the held offer becomes `withdrawn` like the pending ones.
    """
    for assignment in session.exec(
        select(Assignment).where(
            Assignment.request_id == request.id,
            Assignment.cancel_reason == "request cancelled",
            Assignment.cancelled_at == now,
        )
    ):
        mediator = session.get(Mediator, assignment.mediator_id)
        if mediator is not None:
            _tell_cancelled(session, mediator, request, assignment, now=now)
        _close_deadlines(session, assignment.id, now, "request cancelled")  # type: ignore[arg-type]
        if assignment.offer_id is not None:
            session.execute(
                sa.update(Offer)
                .where(
                    col(Offer.id) == assignment.offer_id,
                    col(Offer.status) == OfferStatus.accepted,
                )
                .values(status=OfferStatus.withdrawn)
            )
    if actor.id != request.created_by_user_id:
        _tell_caseworker(
            session,
            settings,
            kind="request_cancelled_caseworker",
            key=f"request-cancelled:{request.id}",
            now=now,
            request=request,
            reason=request.cancel_reason,
        )


def release_erased_mediator(
    session: Session, *, mediator_id: int, actor: User, now: datetime, settings: Settings
) -> None:
    """An erased mediator's work goes back to dispatch at once, as after a drop-out.

    Their pending offers are withdrawn (a wave left with no open offer sends
    the next one now); each job they held that has not started yet is taken
    back and offered again, and its caseworker is told the mediator confirmed
    to them is not coming, without a name. They get no message: their
    addresses are gone. Every open deadline of their assignments is closed.
    """
    pending_for = sorted(
        set(
            session.exec(
                select(Offer.request_id).where(
                    Offer.mediator_id == mediator_id, Offer.status == OfferStatus.pending
                )
            )
        )
    )
    held = sorted(
        session.exec(
            select(Assignment.request_id, Assignment.id)
            .join(Request, col(Request.id) == col(Assignment.request_id))
            .where(
                Assignment.mediator_id == mediator_id,
                col(Assignment.cancelled_at).is_(None),
                col(Request.status) == RequestStatus.assigned,
                col(Request.start) > now,
            )
        ).all()
    )
    # Requests are locked in id order, so two erasures never wait on each other in a circle.
    for request_id in sorted(set(pending_for) | {request_id for request_id, _ in held}):
        request = _lock_request(session, request_id)
        session.execute(
            sa.update(Offer)
            .where(
                col(Offer.request_id) == request_id,
                col(Offer.mediator_id) == mediator_id,
                col(Offer.status) == OfferStatus.pending,
            )
            .values(status=OfferStatus.withdrawn, responded_at=now)
        )
        session.flush()
        for _, assignment_id in (pair for pair in held if pair[0] == request_id):
            assignment = session.get(Assignment, assignment_id)
            assert assignment is not None
            session.refresh(assignment)  # as it is now the request is locked
            if assignment.cancelled_at is not None or request.status != RequestStatus.assigned:
                continue
            _end_assignment(
                session,
                assignment,
                now=now,
                offer_status=OfferStatus.revoked,
                reason="mediator erased",
            )
            audit.record(
                session,
                at=now,
                actor_kind="user",
                actor_id=actor.id,
                action="assignment.cancel",
                entity="assignment",
                entity_id=assignment.id,
                details={"reason": "mediator erased"},
            )
            _dispatch_again(session, request, assignment, now=now, settings=settings)
        _escalate_if_wave_over(session, request, now=now, settings=settings)
    for assignment_id in session.exec(
        select(Assignment.id).where(Assignment.mediator_id == mediator_id)
    ):
        _close_deadlines(session, assignment_id, now, "mediator erased")  # type: ignore[arg-type]
    session.flush()


#: Reasons the service itself writes on an assignment; anything else a person typed.
SYSTEM_CANCEL_REASONS = frozenset(
    {
        "mediator erased",
        "request cancelled",
        "replaced by the coordinator",
        "cancelled by the mediator",
        "mediator dropped out",
        "cancelled on the dashboard",
    }
)
ERASED_TEXT = "[erased]"


def forget_mediator(session: Session, *, mediator_id: int) -> None:
    """Erase what the workflow's records hold of a mediator, keeping ids and outcomes.

    The words they (or others about them) typed, reasons for declining or
    giving a job back, are replaced; their links stop working, the first
    one (stored on the offer) by a new random hash nobody holds, the later
    ones by deleting them.
    """
    offers = list(session.exec(select(Offer).where(Offer.mediator_id == mediator_id)))
    for offer in offers:
        offer.token_hash = hash_token(new_link_token())
        offer.decline_reason = None
        session.add(offer)
    if offers:
        session.execute(
            sa.delete(OfferLink).where(col(OfferLink.offer_id).in_([o.id for o in offers]))
        )
    session.execute(
        sa.update(Assignment)
        .where(
            col(Assignment.mediator_id) == mediator_id,
            col(Assignment.cancel_reason).is_not(None),
            col(Assignment.cancel_reason).not_in(SYSTEM_CANCEL_REASONS),
        )
        .values(cancel_reason=ERASED_TEXT)
    )
    session.flush()


# --- coordinator override ----------------------------------------------------------


def assign_directly(
    session: Session,
    *,
    request_id: int,
    mediator_id: int,
    actor: User,
    now: datetime,
    settings: Settings,
    reason: str | None = None,
) -> Assignment:
    """The coordinator decides: assign this mediator, whatever the waves were doing.

    Pending offers are withdrawn, an earlier assignment is cancelled (its
    mediator told), and the override is written to the audit log.
    """
    if actor.role != Role.coordinator:
        raise NotFound(f"There is no request with id {request_id}.")
    request = _lock_request(session, request_id)
    mediator = session.get(Mediator, mediator_id)
    if mediator is None or mediator.erased_at is not None:
        raise InvalidInput(
            f"There is no mediator with id {mediator_id}.",
            field="mediator_id",
            reason="unknown_mediator",
            params={"id": mediator_id},
        )
    if not mediator.active:
        raise Conflict(
            f"{mediator.name} is not active in the pool; activate them first.",
            reason="mediator_inactive",
            params={"name": mediator.name},
        )
    if request.status in (RequestStatus.cancelled, RequestStatus.completed):
        raise Conflict(
            f"This request is {request.status}; it cannot be assigned.",
            reason="request_not_assignable",
            params={"status": f"{request.status}"},
        )
    if now >= request.end:
        raise Conflict(
            "This request is over; it cannot be assigned any more.", reason="request_over"
        )
    clash = planning.held_job_clash(
        session, mediator_id=mediator_id, request=request, tz=settings.tz
    )
    # An overlap is refused; a tight journey between two jobs is the coordinator's call.
    if clash is not None and not clash.params.get("travel_minutes"):
        raise Conflict(
            f"{mediator.name} already has a job at that time ({clash.message}).",
            reason="mediator_busy",
            params={"name": mediator.name},
        )
    current = _live_assignment(session, request_id)
    if current is not None and current.mediator_id == mediator_id:
        raise Conflict(
            f"{mediator.name} already holds this request.",
            reason="already_holds",
            params={"name": mediator.name},
        )
    if current is not None:
        # The caseworker hears of the change by the new confirmation, which says so.
        _end_assignment(
            session,
            current,
            now=now,
            offer_status=OfferStatus.revoked,
            reason="replaced by the coordinator",
        )
        previous = session.get(Mediator, current.mediator_id)
        if previous is not None:
            _tell_cancelled(session, previous, request, current, now=now)
    session.execute(
        sa.update(Offer)
        .where(col(Offer.request_id) == request_id, col(Offer.status) == OfferStatus.pending)
        .values(status=OfferStatus.withdrawn, responded_at=now)
    )
    # The mediator gets a link like everyone else's, so the page, the
    # reminders and the report after the job work the same way.
    offer = Offer(
        request_id=request_id,
        mediator_id=mediator_id,
        wave=0,
        token_hash=hash_token(new_link_token()),
        short_code=_short_code(session, mediator_id),
        channel="direct",
        status=OfferStatus.accepted,
        created_at=now,
        expires_at=now,
        responded_at=now,
    )
    session.add(offer)
    session.flush()
    request.status = RequestStatus.assigned
    request.filled_at = now
    request.updated_at = now
    session.add(request)
    assignment = Assignment(
        request_id=request_id,
        mediator_id=mediator_id,
        source=AssignmentSource.coordinator,
        offer_id=offer.id,
        created_by_user_id=actor.id,
        created_at=now,
    )
    _start_assignment(session, request, offer, assignment, now=now, settings=settings)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="assignment.override",
        entity="assignment",
        entity_id=assignment.id,
        details={
            "request": request_id,
            "mediator": mediator_id,
            "replaced": current.mediator_id if current else None,
            "reason": reason,
        },
    )
    session.flush()
    return assignment


def record_no_show(session: Session, *, request: Request, actor: User, now: datetime) -> Assignment:
    """The caseworker reports that the mediator did not come."""
    assignment = _live_assignment(session, request.id)  # type: ignore[arg-type]
    if assignment is None or request.status not in (
        RequestStatus.assigned,
        RequestStatus.completed,
    ):
        raise Conflict("This request has no assignment to report a no-show for.")
    if now < request.start:
        raise Conflict("A no-show can be reported once the job has started.")
    assignment.no_show = True
    session.add(assignment)
    _close_deadlines(session, assignment.id, now, "no-show")  # type: ignore[arg-type]
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="assignment.no_show",
        entity="assignment",
        entity_id=assignment.id,
    )
    session.flush()
    return assignment
