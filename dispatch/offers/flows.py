"""What an offer or an assignment sets off: waves, first accept wins, escalation, changes.

Every flow runs inside the caller's transaction and writes its messages to
the outbox (``dispatch.messages``) and its next deadline to the deadline
table in that same transaction, so a step either happens completely or not
at all, and a restart continues from what the database says.

Concurrency rules, on SQLite and PostgreSQL alike:
- accepting is one conditional UPDATE of the request (``WHERE status =
  'offered'``); the loser's UPDATE touches no row and it rolls back, so
  exactly one offer of a request can ever be accepted;
- every other step that reads the request and then decides (decline,
  escalate, cancel, override) first locks the request row
  (``service.lock_request``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.data import Policy
from config.settings import Settings
from dispatch import audit, messages
from dispatch.allowances import service as allowances
from dispatch.deadlines import service as deadlines
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.mediators import service as mediators_service
from dispatch.mediators.models import Mediator, MediatorLanguage
from dispatch.mediators.service import clearance_gaps
from dispatch.offers import estimate, links, service
from dispatch.offers.models import (
    Assignment,
    AssignmentSource,
    Offer,
    OfferDeadlineKind,
    OfferStatus,
)
from dispatch.offers.policy import (
    SEEKING,
    awake_expiry,
    awake_minutes,
    offer_deadline,
    policy_for,
    quiet_hours,
    reminder_time,
    still_seeking,
    urgent_at_night,
    wave_band,
)
from dispatch.offers.service import Outcome
from dispatch.outbox import service as outbox
from dispatch.planning import service as planning
from dispatch.planning.limits import LimitsReached
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.security import hash_token
from dispatch.series import service as series
from dispatch.storage import insert_rows_with_ids, new_row
from dispatch.users.models import Role, User

log = logging.getLogger("sprachpool.dispatch")

#: A mediator's own cancellation this close to the start alerts the coordinator.
LATE_CANCELLATION = timedelta(hours=24)


# --- waves ----------------------------------------------------------------------


@dataclass
class WaveResult:
    wave: int
    offers: list[Offer]
    unfilled_reason: str | None = None


def dispatch_new_request(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> WaveResult:
    """Rank a new request at once and send its first wave (same transaction as the insert).

    The request was inserted in this transaction, so it has no offers, no
    assignment, no deadline of a wave and no message yet: the wave does not
    ask the database for them (``send_next_wave``'s `new_request`).
    """
    return send_next_wave(session, request, now=now, settings=settings, new_request=True)


def first_wave_at(session: Session, request: Request, *, settings: Settings) -> datetime:
    """When a later occurrence of a series is first offered: `series_first_wave_days` before
    its start, or the morning after, should that moment fall in the quiet hours."""
    policy = policy_for(session, request)
    due = request.start - timedelta(days=policy.series_first_wave_days)
    quiet = quiet_hours(policy, due, settings.tz)
    return quiet[1] if quiet is not None else due


def dispatch_or_hold(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> WaveResult | None:
    """A later occurrence of a series: its first wave now when its time has come, else later.

    Not every occurrence of a long series is offered on the day it is filed
    (26 offers at once would flood the pool, and nobody plans half a year
    ahead): each waits for its own lead time (``[series]`` in
    config/policy.toml) as a `first_wave` deadline; by then the mediator
    who took an earlier occurrence is known and asked first.
    """
    due = first_wave_at(session, request, settings=settings)
    if due <= now:
        return send_next_wave(session, request, now=now, settings=settings)
    # Moved to its new time when the occurrence was held already and has been changed.
    deadlines.move(
        session, kind=OfferDeadlineKind.first_wave, subject_id=request.id, sequence=0, due_at=due
    )
    deadlines.schedule(
        session, kind=OfferDeadlineKind.first_wave, subject_id=request.id, due_at=due, now=now
    )
    return None


def send_first_wave(session: Session, *, request_id: int, now: datetime, settings: Settings) -> str:
    """A held occurrence's time has come: its first wave, unless it was offered or ended."""
    request = service.lock_request(session, request_id)
    if request.status != RequestStatus.open:
        return f"no-op: request {request.status}"
    if service.last_wave(session, request.id) or service.pending_count(session, request.id):
        return "no-op: already offered"
    result = send_next_wave(session, request, now=now, settings=settings)
    if result.unfilled_reason:
        return f"unfilled: {result.unfilled_reason}"
    return f"wave {result.wave} sent" if result.offers else "held"


def send_next_wave(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    after_dropout: bool = False,
    only: int | None = None,
    new_request: bool = False,
) -> WaveResult:
    """Offer the request to the next candidates, or give up and say so.

    The caller holds the request (locked or new). A wave never goes to
    anyone asked before, and its offers expire together at one deadline.
    `after_dropout`: the request has just lost its mediator (for the
    caseworker's message, should nobody be left).

    Continuity in a series: while the mediator who holds another occurrence
    (``series.holders``) has not been asked for this one, the wave is that
    person alone, open for the band's time; only when they decline or let
    it run out do the others get waves. A wave of one rather than a front
    place in a larger wave, so the others are not asked for a job meant for
    someone else. `only`: offer to this mediator alone, or send nothing
    (the offer of a later occurrence to whoever just took an earlier one).

    `new_request`: the request was inserted in this transaction (its first
    wave): nobody was asked, it never lost a mediator, and no deadline or
    message carries its id yet, so none of that is read (a statement each,
    on every filing); the unique keys still guard the rows written.
    """
    policy = policy_for(session, request)
    last_wave = 0 if new_request else service.last_wave(session, request.id)
    deadline = offer_deadline(policy, request)

    def give_up(reason: str) -> WaveResult:
        return WaveResult(
            last_wave,
            [],
            mark_unfilled(
                session,
                request,
                now=now,
                settings=settings,
                reason=reason,
                dropped_out=after_dropout,
                new_request=new_request,
            ),
        )

    if now >= deadline:
        return give_up("no_time_left")
    asked = set() if new_request else service.already_asked(session, request.id)
    # Read once for this wave run: this request's ranking and the others' (scarce people).
    limit = allowances.limit_reached(session, settings=settings, now=now)
    reads = service.WaveReads()
    if _may_weigh_others(request, policy, now):
        # Read for the window the others are sought in: the same two statements
        # serve this ranking and the others' of its language.
        window = timedelta(hours=policy.scarce_window_hours)
        reads.rows = planning.period_rows(
            session,
            start=request.start - window,
            end=request.end + window,
            tz=settings.tz,
            language=request.language,
        )
    ranked, preferred = service.ranked_with_preferred(
        session, request, now=now, settings=settings, limit_reached=limit, reads=reads
    )
    candidates = [m for m in ranked if m not in asked]
    if only is not None:
        if only not in candidates:
            return WaveResult(last_wave, [])
        candidates = [only]
    if not candidates:
        return give_up("nobody_in_pool" if not asked else "everyone_asked")
    quiet = quiet_hours(policy, now, settings.tz)
    if quiet is not None and only is not None:
        return WaveResult(last_wave, [])  # nobody is woken for an offer meant for them alone
    if quiet is not None:
        # Night: a job that can wait for the morning waits; an urgent one goes out
        # now, only to those who allow night messages.
        night_ids = set(
            session.exec(
                select(Mediator.id).where(
                    col(Mediator.id).in_(candidates), col(Mediator.night_messages).is_(True)
                )
            )
        )
        candidates = [m for m in candidates if m in night_ids]
        if not urgent_at_night(policy, request, quiet[1]) or not candidates:
            if quiet[1] < deadline:
                return _hold_until_morning(session, request, morning=quiet[1], now=now)
            if not candidates:
                return give_up("no_time_left")
    band = wave_band(policy, request, now)
    lifetime = timedelta(
        minutes=band.offer_minutes if band is not None else policy.broadcast_offer_minutes
    )
    # The night does not use up an offer's time, unless it was sent at night on purpose.
    expires_at = min(
        now + lifetime if quiet is not None else awake_expiry(policy, now, lifetime, settings.tz),
        deadline,
    )
    holder = (
        next((m for m in series.holders(session, request) if m in candidates), None)
        if request.series_id is not None and band is not None
        else None
    )
    if holder is not None:
        chosen = [holder]
    elif band is None:
        chosen = candidates
    else:
        # Who answers: as many offers as it takes for someone to accept in time.
        minutes = (
            (expires_at - now).total_seconds() / 60
            if quiet is not None
            else awake_minutes(policy, now, expires_at, settings.tz)
        )
        known = estimate.estimates(session, candidates, now=now, policy=policy, tz=settings.tz)
        chosen = estimate.compose_wave(
            candidates,
            {m: e.accept_within(minutes) for m, e in known.items()},
            first=preferred,
            min_size=min(band.min_size, band.size),
            max_size=band.size,
            target=policy.target_chance,
            held_back=_scarce(
                session, request, candidates, preferred, policy, now, settings, limit, reads
            ),
        )
        warn_by = request.start - timedelta(hours=policy.warn_hours)
        if warn_by <= now:
            warn_by = deadline
        by_then = (
            (warn_by - now).total_seconds() / 60
            if quiet is not None
            else awake_minutes(policy, now, warn_by, settings.tz)
        )
        chance = estimate.chance_anyone_accepts([e.accept_within(by_then) for e in known.values()])
        if chance < policy.warn_below_chance:
            warn_unfilled_early(
                session,
                request,
                reason="unlikely",
                chance=chance,
                now=now,
                settings=settings,
                new_request=new_request,
            )
    wave = last_wave + 1
    mediators = {
        m.id: m for m in session.exec(select(Mediator).where(col(Mediator.id).in_(chosen)))
    }
    # The wave's offers go in as one batch (one statement, ids returned), then their
    # messages as another: a wave costs the same few statements for one offer or ten.
    codes = service.new_short_codes(session, chosen)
    tokens = {mediator_id: links.new_link_token() for mediator_id in chosen}
    offers = [
        new_row(  # not the model's constructor: see storage.new_row
            Offer,
            request_id=request.id,
            mediator_id=mediator_id,
            wave=wave,
            token_hash=hash_token(tokens[mediator_id]),
            short_code=codes[mediator_id],
            channel=",".join(c for c, _ in messages.mediator_channels(mediators[mediator_id]))
            or "none",
            created_at=now,
            expires_at=expires_at,
        )
        for mediator_id in chosen
    ]
    insert_rows_with_ids(session, offers, match="token_hash")  # each token is new
    with outbox.batched(session):
        for offer in offers:
            messages.offer(
                session,
                mediator=mediators[offer.mediator_id],
                request=request,
                offer=offer,
                link=links.link_url(settings, tokens[offer.mediator_id]),
                now=now,
                fresh=True,
            )
    service.set_status(session, request, RequestStatus.offered, now)
    deadlines.schedule(
        session,
        kind=OfferDeadlineKind.wave_expiry,
        subject_id=request.id,
        sequence=wave,
        due_at=expires_at,
        now=now,
        new=new_request,
    )
    warn_at = request.start - timedelta(hours=policy.warn_hours)
    if warn_at > now:
        deadlines.schedule(
            session,
            kind=OfferDeadlineKind.unfilled_warning,
            subject_id=request.id,
            sequence=0 if new_request else service.dispatch_round(session, request.id),
            due_at=warn_at,
            now=now,
            new=new_request,
        )
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


def _scarce(
    session: Session,
    request: Request,
    candidates: list[int],
    preferred: frozenset[int],
    policy: Policy,
    now: datetime,
    settings: Settings,
    limit_reached: LimitsReached,
    reads: service.WaveReads,
) -> list[int]:
    """Candidates other open requests around this job can hardly do without, least needed first.

    They are asked only once nobody else is left (``estimate.compose_wave``).
    Nobody is held back for a job that starts soon, nor a preferred mediator
    (continuity for the client comes first).
    """
    if not _may_weigh_others(request, policy, now):
        return []
    lean = service.scarcity(
        session,
        request,
        candidates,
        window=timedelta(hours=policy.scarce_window_hours),
        most=policy.scarce_max_others,
        now=now,
        settings=settings,
        limit_reached=limit_reached,
        reads=reads,
    )
    held = [m for m in candidates if m not in preferred and lean.get(m, 0.0) >= policy.scarce_at]
    if held:
        log.info("request %s: %d scarce candidates asked last", request.id, len(held))
    return sorted(held, key=lambda m: lean[m])


def _may_weigh_others(request: Request, policy: Policy, now: datetime) -> bool:
    """Whether scarcity may hold anyone back for this job: not for one that starts soon."""
    return (
        request.start - now >= timedelta(hours=policy.scarce_off_under_hours)
        and policy.scarce_max_others > 0
    )


def _hold_until_morning(
    session: Session, request: Request, *, morning: datetime, now: datetime
) -> WaveResult:
    """The next wave waits for the end of the quiet hours (a deadline, so a restart keeps it)."""
    wave = service.last_wave(session, request.id)
    deadlines.schedule(
        session,
        kind=OfferDeadlineKind.wave_due,
        subject_id=request.id,
        sequence=service.dispatch_round(session, request.id) * 1000 + wave + 1,
        due_at=morning,
        now=now,
    )
    log.info("request %s: next wave held until %s (quiet hours)", request.id, morning)
    return WaveResult(wave, [])


def send_held_wave(session: Session, *, request_id: int, now: datetime, settings: Settings) -> str:
    """The quiet hours are over: the wave held back goes out, unless something came first."""
    request = service.lock_request(session, request_id)
    if request.status not in (RequestStatus.open, RequestStatus.offered):
        return f"no-op: request {request.status}"
    if service.pending_count(session, request.id):
        return "offers still open"
    result = send_next_wave(session, request, now=now, settings=settings)
    if result.unfilled_reason:
        return f"unfilled: {result.unfilled_reason}"
    return f"wave {result.wave} sent" if result.offers else "held"


def warn_unfilled_early(
    session: Session,
    request: Request,
    *,
    reason: str,
    now: datetime,
    settings: Settings,
    chance: float | None = None,
    new_request: bool = False,
) -> bool:
    """Nobody yet, and probably nobody in time: tell the caseworker now, once a round.

    We keep asking (a yes still fills the request); the caseworker gets the
    policy's next step while there is time for it. `reason`: "unlikely" (a
    wave run's estimate) or "no_one_yet" (the policy's hours before the start).
    False when they were told already this round. `new_request`: filed in this
    transaction, so in its first round and never told (see `send_next_wave`).
    """
    policy = policy_for(session, request)
    dispatch_round = 0 if new_request else service.dispatch_round(session, request.id)
    if not new_request:
        # This round began when the request last lost its mediator (or when it was filed).
        round_began = session.exec(
            select(sa.func.max(Assignment.cancelled_at)).where(Assignment.request_id == request.id)
        ).one()
        audit.written(session)
        told = select(audit.AuditEvent.id).where(
            audit.AuditEvent.action == "request.at_risk",
            audit.AuditEvent.entity == "request",
            audit.AuditEvent.entity_id == request.id,
        )
        if round_began is not None:
            told = told.where(col(audit.AuditEvent.at) >= round_began)
        if session.exec(told).first() is not None:
            return False
    key = f"at-risk-request:{request.id}" + (f":r{dispatch_round}" if dispatch_round else "")
    messages.request_at_risk_caseworker(
        session,
        settings,
        request=request,
        key=key,
        next_step=policy.unfilled_next_step,
        contact=policy.unfilled_contact,
        now=now,
        fresh=new_request,
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="request.at_risk",
        entity="request",
        entity_id=request.id,
        details={"reason": reason, "chance": None if chance is None else round(chance, 3)},
    )
    log.info("request %s: caseworker warned early (%s)", request.id, reason)
    return True


def warn_if_still_seeking(
    session: Session, *, request_id: int, now: datetime, settings: Settings
) -> str:
    """The policy's hours before the start: nobody has accepted yet, so the caseworker hears."""
    request = service.lock_request(session, request_id)
    if request.status not in (RequestStatus.open, RequestStatus.offered):
        return f"no-op: request {request.status}"
    told = warn_unfilled_early(session, request, reason="no_one_yet", now=now, settings=settings)
    return "caseworker warned" if told else "told before"


def mark_unfilled(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    reason: str,
    dropped_out: bool = False,
    new_request: bool = False,
) -> str:
    """Nobody (more) to ask: tell the caseworker and alert the coordinator, once a round.

    `dropped_out`: the request just lost its mediator, so the caseworker's
    message says that the one confirmed is not coming either. `new_request`:
    filed in this transaction (see `send_next_wave`): its first round, and no
    message carries its id yet.
    """
    service.set_status(session, request, RequestStatus.unfilled, now)
    dispatch_round = 0 if new_request else service.dispatch_round(session, request.id)
    key = f"unfilled:{request.id}" + (f":r{dispatch_round}" if dispatch_round else "")
    messages.request_unfilled_caseworker(
        session,
        settings,
        request=request,
        key=key,
        dropped_out=dropped_out,
        now=now,
        fresh=new_request,
    )
    messages.alert_unfilled_coordinator(
        session, settings, request=request, key=key, reason=reason, now=now, fresh=new_request
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


def escalate_if_wave_over(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> str:
    """No offer of the wave open any more: the next wave goes out (or nobody is left)."""
    if request.status != RequestStatus.offered:
        return f"no-op: request {request.status}"
    if service.pending_count(session, request.id):
        return "offers still open"
    result = send_next_wave(session, request, now=now, settings=settings)
    if result.unfilled_reason:
        return f"unfilled: {result.unfilled_reason}"
    return f"wave {result.wave} sent" if result.offers else "next wave held (quiet hours)"


def expire_wave(session: Session, *, request_id: int, now: datetime, settings: Settings) -> str:
    """A wave's deadline passed: its open offers expire and the next wave goes out."""
    request = service.lock_request(session, request_id)
    ran_out = session.execute(
        sa.update(Offer)
        .where(
            col(Offer.request_id) == request.id,
            col(Offer.status) == OfferStatus.pending,
            col(Offer.expires_at) <= now,
        )
        .values(status=OfferStatus.expired)
        .returning(col(Offer.mediator_id), col(Offer.wave), col(Offer.created_at))
    ).all()
    estimate.count_run_out(session, [(m, wave, sent) for m, wave, sent in ran_out], settings.tz)
    expired = len(ran_out)
    outcome = escalate_if_wave_over(session, request, now=now, settings=settings)
    return f"{expired} expired; {outcome}"


# --- answers to an offer ----------------------------------------------------------


def accept_offer(
    session: Session, offer: Offer, *, now: datetime, settings: Settings, via: str = "link"
) -> Outcome:
    """First accept wins: one conditional UPDATE of the request decides.

    A late yes counts: an offer that ran out (expired, or pending past its
    time) is still accepted while nobody holds the request and it is still
    seeking (``service.still_seeking``), since a yes is what the caseworker
    waits for. A declined or withdrawn offer never is.

    On a lost race the transaction is rolled back (nothing of this attempt
    stays) and the mediator is told the job was filled.
    """
    offer_id, request_id, mediator_id = offer.id, offer.request_id, offer.mediator_id
    late = offer.status == OfferStatus.expired or (
        offer.status == OfferStatus.pending and offer.expires_at <= now
    )
    if offer.status not in (OfferStatus.pending, OfferStatus.expired):
        return service.late_outcome(session, offer)
    request = session.get(Request, request_id)
    assert request is not None
    if late and not still_seeking(session, request, now=now):
        if request.status in (RequestStatus.assigned, RequestStatus.completed):
            return Outcome.filled
        return Outcome.withdrawn if request.status == RequestStatus.cancelled else Outcome.expired
    won = session.exec(
        sa.update(Request)
        .where(
            col(Request.id) == request_id,
            col(Request.status).in_(SEEKING if late else (RequestStatus.offered,)),
        )
        .values(status=RequestStatus.assigned, filled_at=now, updated_at=now)
    ).rowcount
    if won != 1:
        session.rollback()
        return _outcome_after_lost_race(session, offer_id)
    clash = _clash_with_held(session, request, mediator_id=mediator_id, now=now, settings=settings)
    if clash is not None:
        session.rollback()
        return clash
    # Read under the request's lock, which expire_wave takes too: whether the offer was
    # already counted as run out.
    was_expired = (
        session.exec(select(Offer.status).where(Offer.id == offer_id)).one() == OfferStatus.expired
    )
    still_open = (
        col(Offer.status).in_((OfferStatus.pending, OfferStatus.expired))
        if late
        else sa.and_(col(Offer.status) == OfferStatus.pending, col(Offer.expires_at) > now)
    )
    taken = session.exec(
        sa.update(Offer)
        .where(col(Offer.id) == offer_id, still_open)
        .values(status=OfferStatus.accepted, responded_at=now)
    ).rowcount
    if taken != 1:
        session.rollback()
        return _outcome_after_lost_race(session, offer_id)
    estimate.count_answer(
        session,
        offer,
        answered_at=now,
        yes=True,
        was_expired=was_expired,
        policy=policy_for(session, request),
        tz=settings.tz,
    )
    withdrawn = service.withdraw_pending(session, request_id=request_id, now=now)
    deadlines.close(
        session,
        kinds=(OfferDeadlineKind.wave_due,),
        subject_id=request_id,
        now=now,
        outcome="filled",
    )
    session.expire_all()
    request = session.get(Request, request_id)
    accepted = session.get(Offer, offer_id)
    assert request is not None and accepted is not None
    assignment = Assignment(
        request_id=request_id,
        mediator_id=mediator_id,
        source=AssignmentSource.offer,
        offer_id=offer_id,
        created_at=now,
    )
    start_assignment(session, request, accepted, assignment, now=now, settings=settings)
    tell_withdrawn(session, request, withdrawn, now=now, settings=settings)
    _withdraw_ruled_out(session, mediator_id=mediator_id, now=now, settings=settings)
    audit.record(
        session,
        at=now,
        actor_kind="mediator",
        actor_id=mediator_id,
        action="offer.accept",
        entity="offer",
        entity_id=offer_id,
        details={"via": via, "late": late},
    )
    session.flush()
    return Outcome.accepted


def _withdraw_ruled_out(
    session: Session, *, mediator_id: int, now: datetime, settings: Settings
) -> int:
    """Their other open offers that the job just taken rules out are withdrawn: one that
    overlaps it or leaves no time to travel, or one the limits now have no room for.

    Left open, each would hold its place in its wave until it ran out, though the
    button would refuse the yes (`_clash_with_held`); withdrawn, a wave left with none
    open goes on at once, and the mediator hears it is no longer open. A request
    someone else is deciding at this moment (its row locked: their own yes to it, say)
    is skipped rather than waited for, since this unit of work already holds the
    mediator's row, which that yes waits for: its button's check refuses it instead.
    Returns how many were withdrawn.
    """
    requests = service.open_offer_requests(session, mediator_id=mediator_id)
    if not requests:
        return 0
    limits = allowances.limit_reached(session, settings=settings, now=now)
    count = 0
    for request_id in requests:
        request = service.lock_request_unless_busy(session, request_id)
        if request is None:
            continue
        if _ruled_out(session, request, mediator_id=mediator_id, limits=limits, tz=settings.tz):
            count += _withdraw_theirs(
                session, request_id=request_id, mediator_id=mediator_id, now=now, settings=settings
            )
    return count


def _clash_with_held(
    session: Session, request: Request, *, mediator_id: int, now: datetime, settings: Settings
) -> Outcome | None:
    """Whether the jobs the mediator holds rule `request` out: one that overlaps it or
    leaves no time to travel (the engine's busy rule), or no room left under an
    allowance limit (its limit rules: another job taken since this offer went out may
    have used the room). None: they may take it.

    Asked with the mediator's row locked, after the request's (the order a change of
    their details takes too): on PostgreSQL their other yeses wait for this one's
    commit, so each sees the jobs the others gave them. Without the lock, six yeses
    at once to six overlapping jobs each found none held and all six were taken.
    (SQLite's writers take turns anyway.)
    """
    session.exec(select(Mediator.id).where(Mediator.id == mediator_id).with_for_update()).one()
    limits = allowances.limit_reached(session, settings=settings, now=now)
    return _ruled_out(session, request, mediator_id=mediator_id, limits=limits, tz=settings.tz)


def _ruled_out(
    session: Session, request: Request, *, mediator_id: int, limits: LimitsReached, tz: ZoneInfo
) -> Outcome | None:
    """The engine's rules about the jobs a mediator holds, for `request`: `busy` for one
    that overlaps it or leaves no time to travel, `over_limit` when no room is left under
    an allowance limit; None: neither."""
    clash = planning.held_job_clash(session, mediator_id=mediator_id, request=request, tz=tz)
    if clash is not None:
        return Outcome.busy
    limit = planning.limit_clash(
        mediator_id=mediator_id, request=request, tz=tz, limit_reached=limits
    )
    return None if limit is None else Outcome.over_limit


def _outcome_after_lost_race(session: Session, offer_id: int) -> Outcome:
    offer = session.get(Offer, offer_id)
    assert offer is not None
    return service.late_outcome(session, offer)


def tell_withdrawn(
    session: Session,
    request: Request,
    withdrawn: Sequence[service.WithdrawnOffer],
    *,
    now: datetime,
    settings: Settings,
    language: str | None = None,
    start: datetime | None = None,
    asked_again: frozenset[int] = frozenset(),
) -> None:
    """Whoever still had one of these offers open hears that it is no longer open.

    Users of such pools ask that everyone who was asked is told when the job is
    filled (PRACTICE.md), and a cancellation informs whoever is affected
    (SPEC): someone keeping the morning free for a job should not find out by
    a click. `language` and `start`: what the offers named, when a change
    has moved the request since; `asked_again`: mediators who have just been
    offered the changed job, or given it, which tells them enough. In the quiet
    hours the news waits for the morning, unless the mediator allows night
    messages (it asks nothing of them).
    """
    if not withdrawn:
        return
    mediators = {
        m.id: m
        for m in session.exec(
            select(Mediator).where(col(Mediator.id).in_({o.mediator_id for o in withdrawn}))
        )
    }
    quiet = quiet_hours(policy_for(session, request), now, settings.tz)
    with outbox.batched(session):
        for offer in withdrawn:
            mediator = mediators.get(offer.mediator_id)
            if (
                mediator is None
                or mediator.erased_at is not None
                or mediator.id in asked_again
                or offer.expires_at <= now  # ran out: the offer said until when
            ):
                continue
            messages.offer_withdrawn(
                session,
                mediator=mediator,
                request=request,
                offer_id=offer.id,
                language=language or request.language,
                start=start or request.start,
                now=now,
                not_before=quiet[1] if quiet is not None and not mediator.night_messages else None,
            )


def start_assignment(
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
    link = links.job_link(
        session, request, offer_id=offer.id, purpose="confirmation", now=now, settings=settings
    )
    messages.assignment_confirmed_mediator(
        session,
        mediator=mediator,
        request=request,
        offer=offer,
        assignment=assignment,
        link=link,
        now=now,
    )
    # A request that had a mediator before: this confirmation replaces the earlier one.
    messages.assignment_confirmed_caseworker(
        session,
        settings,
        request=request,
        assignment=assignment,
        mediator=mediator,
        replaces=service.dispatch_round(session, request.id) > 0,
        now=now,
    )
    schedule_assignment_deadlines(session, request, assignment, now=now, tz=settings.tz)
    if request.series_id is not None:
        offer_later_occurrences(
            session, request, mediator_id=mediator.id, now=now, settings=settings
        )


def offer_later_occurrences(
    session: Session, request: Request, *, mediator_id: int, now: datetime, settings: Settings
) -> None:
    """Whoever took an occurrence is asked first for the later ones that are already out.

    A later occurrence still seeking, whose waves went to others, gets a wave
    of this mediator alone at once (if they can serve it and were not asked);
    the others' offers stay open and the first yes wins. Occurrences not yet
    offered (held for their lead time) ask this mediator alone when their
    time comes (``send_next_wave``), so nobody gets 25 offers at once. In the
    quiet hours nothing is sent; they still come first in the next waves.
    """
    later = session.exec(
        select(Request.id)
        .where(
            Request.series_id == request.series_id,
            col(Request.start) > request.start,
            col(Request.start) > now,
            col(Request.status).in_((RequestStatus.offered, RequestStatus.unfilled)),
        )
        .order_by(col(Request.start))
    ).all()
    for request_id in later:
        occurrence = service.lock_request(session, request_id)
        if occurrence.status in (RequestStatus.offered, RequestStatus.unfilled):
            send_next_wave(session, occurrence, now=now, settings=settings, only=mediator_id)


def lock_open_offer_requests(session: Session, *, mediator_id: int) -> list[int]:
    """The requests of the mediator's open offers, locked in id order; before a change
    that withdraws or declines those offers writes the mediator's own row.

    A yes locks the request, then the mediator (`_clash_with_held`). A pause that
    wrote the mediator's row first and then waited for the request let a STOP (or
    the coordinator's pause) and a JA at the same moment wait for each other, until
    PostgreSQL failed one of them as a deadlock.
    """
    requests = service.open_offer_requests(session, mediator_id=mediator_id)
    for request_id in requests:
        service.lock_request(session, request_id)
    return requests


def pause_self(
    session: Session,
    mediator: Mediator,
    *,
    paused: bool,
    now: datetime,
    settings: Settings,
    via: str,
) -> bool:
    """The mediator pauses (STOP, or their page) or resumes; pausing declines every offer
    still open to them (`decline_open_offers`). False when they already were so.

    The requests of their open offers are locked before their own row is written
    (`lock_open_offer_requests`).
    """
    if paused:
        lock_open_offer_requests(session, mediator_id=mediator.id)
    changed = mediators_service.set_paused(session, mediator, paused=paused, now=now, via=via)
    if paused:
        decline_open_offers(session, mediator_id=mediator.id, now=now, settings=settings, via=via)
    return changed


def decline_open_offers(
    session: Session, *, mediator_id: int, now: datetime, settings: Settings, via: str
) -> int:
    """A mediator who paused themselves says no to every offer still open to them.

    Left open, each would hold a place in its wave until it ran out, and a
    late yes could still take a job from someone who asked for no more.
    Each counts as a decline, so a wave left with no open offer sends the
    next one now. Requests are locked in id order (see `release_erased_mediator`).
    """
    open_offers = session.exec(
        select(Offer)
        .where(Offer.mediator_id == mediator_id, Offer.status == OfferStatus.pending)
        .order_by(col(Offer.request_id))
    ).all()
    declined = 0
    for offer in open_offers:
        outcome = decline_offer(session, offer, now=now, settings=settings, via=via)
        declined += outcome == Outcome.declined
    return declined


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
    request = service.lock_request(session, offer.request_id)
    offer = session.exec(
        select(Offer).where(Offer.id == offer.id).execution_options(populate_existing=True)
    ).one()
    if offer.status != OfferStatus.pending:
        return service.late_outcome(session, offer)
    if offer.expires_at <= now:
        return Outcome.expired
    estimate.count_answer(
        session,
        offer,
        answered_at=now,
        yes=False,
        was_expired=False,
        policy=policy_for(session, request),
        tz=settings.tz,
    )
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
    escalate_if_wave_over(session, request, now=now, settings=settings)
    return Outcome.declined


# --- changes after the accept -----------------------------------------------------


def check_assignment_cancellable(
    assignment: Assignment, request: Request, *, now: datetime
) -> None:
    """Refuse (409) an assignment that can no longer be cancelled (``cancel_assignment``)."""
    if assignment.cancelled_at is not None:
        raise Conflict("This assignment was already cancelled.", reason="assignment_cancelled")
    if request.status != RequestStatus.assigned or now >= request.start:
        raise Conflict(
            f"This request is {request.status} and has started or ended; "
            "its assignment can no longer be cancelled.",
            reason="assignment_not_cancellable",
        )


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
    assignment = service.get_assignment(session, assignment_id)
    request = service.lock_request(session, assignment.request_id)
    session.refresh(assignment)
    check_assignment_cancellable(assignment, request, now=now)
    mediator = session.get(Mediator, assignment.mediator_id)
    assert mediator is not None
    service.end_assignment(
        session,
        assignment,
        now=now,
        offer_status=OfferStatus.returned if by_mediator else OfferStatus.revoked,
        reason=reason or ("cancelled by the mediator" if by_mediator else "mediator dropped out"),
    )
    if not by_mediator:
        messages.cancelled_mediator(
            session, mediator=mediator, request=request, assignment=assignment, now=now
        )
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
        messages.alert_late_cancellation_coordinator(
            session,
            settings,
            request=request,
            assignment=assignment,
            mediator=mediator,
            now=now,
        )
    _dispatch_again(session, request, assignment, now=now, settings=settings)
    return request


def _dispatch_again(
    session: Session,
    request: Request,
    assignment: Assignment,
    *,
    now: datetime,
    settings: Settings,
    after_change: bool = False,
    tell_caseworker: bool = True,
) -> None:
    """After a lost mediator: the request goes out at once; the caseworker is told what holds now.

    Either the next wave went out (they hear the mediator is not coming and
    that we are looking), or nobody is left (one message says both).
    `after_change`: the caseworker's own change released the mediator (the
    message says so); `tell_caseworker` False: someone else's change, of
    which the caseworker hears in the change's own message.
    """
    request.status = RequestStatus.open
    request.filled_at = None
    request.updated_at = now
    session.add(request)
    session.flush()
    send_next_wave(session, request, now=now, settings=settings, after_dropout=True)
    if request.status == RequestStatus.offered and tell_caseworker:
        messages.assignment_cancelled_caseworker(
            session,
            settings,
            request=request,
            assignment=assignment,
            now=now,
            after_change=after_change,
        )


def withdraw_cancelled_request(
    session: Session,
    request: Request,
    *,
    actor: User,
    now: datetime,
    settings: Settings,
    tell: bool = True,
) -> None:
    """The request was cancelled: its offers are withdrawn and its mediator released.

    The assigned mediator is told and their deadlines retire; the held offer
    becomes `withdrawn` like the pending ones. The caseworker hears of it
    when someone else (the coordinator) cancelled their request. `tell` False:
    the caller tells the mediator and the caseworker itself, in one message for
    several requests (a series); those whose offers were open are told here.
    """
    withdrawn = service.withdraw_pending(session, request_id=request.id, now=now)
    assignments = list(
        session.exec(
            select(Assignment).where(
                Assignment.request_id == request.id, col(Assignment.cancelled_at).is_(None)
            )
        )
    )
    for assignment in assignments:
        assignment.cancelled_at = now
        assignment.cancel_reason = "request cancelled"
        session.add(assignment)
    session.flush()
    for assignment in assignments:
        mediator = session.get(Mediator, assignment.mediator_id)
        if mediator is not None and tell:
            messages.cancelled_mediator(
                session, mediator=mediator, request=request, assignment=assignment, now=now
            )
        service.close_assignment_deadlines(
            session, assignment_id=assignment.id, now=now, outcome="request cancelled"
        )
        if assignment.offer_id is not None:
            session.exec(
                sa.update(Offer)
                .where(
                    col(Offer.id) == assignment.offer_id,
                    col(Offer.status) == OfferStatus.accepted,
                )
                .values(status=OfferStatus.withdrawn)
            )
    tell_withdrawn(session, request, withdrawn, now=now, settings=settings)
    if tell and actor.id != request.created_by_user_id:
        messages.request_cancelled_caseworker(session, settings, request=request, now=now)


def withdraw_open_offers(
    session: Session,
    *,
    mediator_id: int,
    now: datetime,
    settings: Settings,
    release_jobs: bool = False,
    actor: User | None = None,
) -> int:
    """A mediator the coordinator took out of the pool (deactivated, paused) holds no offer open.

    Left open, an offer could still be accepted by someone the coordinator no
    longer sends, and would hold a place in its wave until it ran out. Each is
    withdrawn (not declined: the mediator said nothing), they are told it is no
    longer open, and a wave left with none open sends the next one now.
    With `release_jobs` their jobs to come go to others as well
    (`release_held_jobs`). Every request involved is locked first, in id order
    (see `release_erased_mediator`). Returns how many offers were withdrawn.
    """
    pending_for = service.open_offer_requests(session, mediator_id=mediator_id)
    held = (
        service.held_jobs_to_come(session, mediator_id=mediator_id, now=now) if release_jobs else []
    )
    # Every request touched is locked before any changes, in one id order, so that this and
    # an erasure or another pause never wait on each other in a circle.
    for request_id in sorted(set(pending_for) | {request_id for request_id, _ in held}):
        service.lock_request(session, request_id)
    count = 0
    for request_id in pending_for:
        count += _withdraw_theirs(
            session, request_id=request_id, mediator_id=mediator_id, now=now, settings=settings
        )
    if release_jobs:
        release_held_jobs(session, mediator_id=mediator_id, actor=actor, now=now, settings=settings)
    return count


def _withdraw_theirs(
    session: Session, *, request_id: int, mediator_id: int, now: datetime, settings: Settings
) -> int:
    """The mediator's open offer on the request is withdrawn and they are told; a wave left
    with none open goes on. Returns how many were withdrawn (0 or 1)."""
    request = service.lock_request(session, request_id)
    withdrawn = service.withdraw_pending(
        session, request_id=request_id, now=now, mediator_id=mediator_id
    )
    session.flush()
    tell_withdrawn(session, request, withdrawn, now=now, settings=settings)
    escalate_if_wave_over(session, request, now=now, settings=settings)
    return len(withdrawn)


def open_offer_fit(
    session: Session, *, mediator_id: int, now: datetime, settings: Settings
) -> dict[int, frozenset[str]]:
    """Why the mediator could not take each request they hold an offer open on, by the
    engine's rules as they stand (`planning.serve_exclusions`): reason codes by request id,
    empty where they fit. Each of those requests is locked first, in id order, so what is
    read here still holds when `withdraw_unfit_offers` compares it after a change."""
    fit: dict[int, frozenset[str]] = {}
    requests = service.open_offer_requests(session, mediator_id=mediator_id)
    if not requests:
        return fit
    # An open offer is not held, so the limits have not counted it: a lowered limit counts.
    limit = allowances.limit_reached(session, settings=settings, now=now)
    for request_id in requests:
        request = service.lock_request(session, request_id)
        reasons = planning.serve_exclusions(
            session,
            request=request,
            mediator_id=mediator_id,
            now=now,
            tz=settings.tz,
            limit_reached=limit,
        )
        fit[request_id] = frozenset(r.code for r in reasons)
    return fit


def withdraw_unfit_offers(
    session: Session,
    *,
    mediator_id: int,
    before: dict[int, frozenset[str]],
    now: datetime,
    settings: Settings,
) -> int:
    """Offers the mediator no longer fits after a change of their details are withdrawn.

    The coordinator changed what the engine reads of them (a language taken off, a
    clearance that now runs out before the job, a smaller radius): an offer sent
    under the old details must not be accepted under the new ones. An offer is
    withdrawn when a rule fails now that did not fail for it `before`
    (`open_offer_fit`), so a change that has nothing to do with it leaves it open.
    The mediator is told it is no longer open, and a wave left with none open goes
    on at once, as when they leave the pool. Returns how many were withdrawn.
    """
    after = open_offer_fit(session, mediator_id=mediator_id, now=now, settings=settings)
    count = 0
    for request_id, reasons in after.items():
        if not reasons - before.get(request_id, frozenset()):
            continue
        count += _withdraw_theirs(
            session, request_id=request_id, mediator_id=mediator_id, now=now, settings=settings
        )
    return count


def release_held_jobs(
    session: Session, *, mediator_id: int, actor: User | None, now: datetime, settings: Settings
) -> int:
    """The coordinator gives the jobs to come of a mediator they took out of the pool (ill,
    moved away) to others, each as a drop-out (`cancel_assignment`): the mediator is told
    the job is no longer theirs, the caseworker that the mediator confirmed to them is not
    coming, the request goes out again at once, and the audit log keeps who did it.

    Requests are handled in id order (see `release_erased_mediator`); a job that started or
    was cancelled since it was listed stays as it is. Returns how many jobs went out again.
    """
    released = 0
    for request_id, assignment_id in service.held_jobs_to_come(
        session, mediator_id=mediator_id, now=now
    ):
        request = service.lock_request(session, request_id)
        assignment = service.get_assignment(session, assignment_id)
        session.refresh(assignment)  # as it is now the request is locked
        if (
            assignment.cancelled_at is not None
            or request.status != RequestStatus.assigned
            or request.start <= now
        ):
            continue
        cancel_assignment(
            session,
            assignment_id=assignment_id,
            now=now,
            settings=settings,
            actor=actor,
            reason=service.TAKEN_OUT_OF_THE_POOL,
        )
        released += 1
    return released


def release_erased_mediator(
    session: Session, *, mediator_id: int, actor: User | None, now: datetime, settings: Settings
) -> None:
    """An erased mediator's work goes back to dispatch at once, as after a drop-out.

    Their pending offers are withdrawn (a wave left with no open offer sends
    the next one now); each job they held that has not started yet is taken
    back and offered again, and its caseworker is told the mediator confirmed
    to them is not coming, without a name. They get no message: their
    addresses are gone. Every open deadline of their assignments is closed.
    """
    pending_for = service.open_offer_requests(session, mediator_id=mediator_id)
    held = service.held_jobs_to_come(session, mediator_id=mediator_id, now=now)
    # Requests are locked in id order, so two erasures never wait on each other in a circle.
    for request_id in sorted(set(pending_for) | {request_id for request_id, _ in held}):
        request = service.lock_request(session, request_id)
        service.withdraw_pending(session, request_id=request_id, now=now, mediator_id=mediator_id)
        session.flush()
        for _, assignment_id in (pair for pair in held if pair[0] == request_id):
            assignment = session.get(Assignment, assignment_id)
            assert assignment is not None
            session.refresh(assignment)  # as it is now the request is locked
            if assignment.cancelled_at is not None or request.status != RequestStatus.assigned:
                continue
            service.end_assignment(
                session,
                assignment,
                now=now,
                offer_status=OfferStatus.revoked,
                reason="mediator erased",
            )
            audit.record(
                session,
                at=now,
                actor_kind="user" if actor is not None else "system",
                actor_id=actor.id if actor is not None else None,
                action="assignment.cancel",
                entity="assignment",
                entity_id=assignment.id,
                details={"reason": "mediator erased"},
            )
            _dispatch_again(session, request, assignment, now=now, settings=settings)
        escalate_if_wave_over(session, request, now=now, settings=settings)
    for assignment_id in session.exec(
        select(Assignment.id).where(Assignment.mediator_id == mediator_id)
    ):
        service.close_assignment_deadlines(
            session, assignment_id=assignment_id, now=now, outcome="mediator erased"
        )
    session.flush()


# --- the coordinator's override ------------------------------------------------------


def _may_be_assigned(
    session: Session, request: Request, mediator: Mediator, *, tz: ZoneInfo
) -> None:
    """What even the coordinator's override may not set aside.

    The override is there for what the coordinator knows better than the
    engine: a mediator reached by phone who will come outside their slots, a
    journey that is tight, a week already full. It is not there for a mediator
    who does not speak the language at all, nor for one who is not cleared
    (training, pledge, police certificate, still listed on the day): the pool's
    funders and the clients rely on that, and a slip of the list would send
    such a person.
    """
    speaks = session.exec(
        select(MediatorLanguage.mediator_id).where(
            MediatorLanguage.mediator_id == mediator.id,
            sa.func.lower(col(MediatorLanguage.language)) == request.language.lower(),
        )
    ).first()
    if speaks is None:
        raise Conflict(
            f"{mediator.name} does not speak the language of this request.",
            reason="mediator_lacks_language",
            params={"name": mediator.name},
        )
    if clearance_gaps(mediator, today=request.start.astimezone(tz).date()):
        raise Conflict(
            f"{mediator.name} is not cleared for jobs on that day (training, pledge, "
            "police certificate, listed until); complete their clearance first.",
            reason="mediator_not_cleared",
            params={"name": mediator.name},
        )


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
    mediator told), and the override is written to the audit log. The
    mediator gets an offer like everyone else's, accepted on their behalf.
    """
    if actor.role != Role.coordinator:
        raise NotFound(f"There is no request with id {request_id}.")
    request = service.lock_request(session, request_id)
    # Locked, after the request, as a yes locks it (`_clash_with_held`): the overlap
    # check below sees a job they take by their own yes at the same moment.
    mediator = session.get(Mediator, mediator_id, with_for_update=True)
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
    _may_be_assigned(session, request, mediator, tz=settings.tz)
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
    current = service.live_assignment(session, request_id)
    if current is not None and current.mediator_id == mediator_id:
        raise Conflict(
            f"{mediator.name} already holds this request.",
            reason="already_holds",
            params={"name": mediator.name},
        )
    if current is not None:
        # The caseworker hears of the change by the new confirmation, which says so.
        service.end_assignment(
            session,
            current,
            now=now,
            offer_status=OfferStatus.revoked,
            reason="replaced by the coordinator",
        )
        previous = session.get(Mediator, current.mediator_id)
        if previous is not None:
            messages.cancelled_mediator(
                session, mediator=previous, request=request, assignment=current, now=now
            )
    withdrawn = service.withdraw_pending(session, request_id=request_id, now=now)
    # The mediator gets a link like everyone else's, so the page, the
    # reminders and the report after the job work the same way.
    offer = Offer(
        request_id=request_id,
        mediator_id=mediator_id,
        wave=0,
        token_hash=hash_token(links.new_link_token()),
        short_code=service.new_short_code(session, mediator_id),
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
    start_assignment(session, request, offer, assignment, now=now, settings=settings)
    # The one assigned had perhaps an offer open too: their confirmation says what holds.
    tell_withdrawn(
        session,
        request,
        withdrawn,
        now=now,
        settings=settings,
        asked_again=frozenset({mediator_id}),
    )
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


# --- a caseworker changed the request ---------------------------------------------------

#: What a changed request's fields are called in messages and the history.
TERMS = frozenset({"start", "end", "language", "min_level", "mode", "place_id", "location"})


def after_request_change(
    session: Session,
    request: Request,
    *,
    changed: dict[str, tuple[object, object]],
    before_start: datetime,
    before_end: datetime,
    actor: User,
    now: datetime,
    settings: Settings,
) -> str:
    """The request (locked, already changed) goes on under its new terms; returns what happened.

    A mediator who holds it and can still serve it (the engine's rules for
    this one person, with their other jobs) keeps it, is told what changed and
    their reminders move with the time. One who can no longer serve it is
    released with a message and the request goes out again. Offers still open
    were made for the old terms: they are withdrawn and a new wave goes out,
    to which everyone whose offer was for the old terms may be asked again.
    """
    terms = TERMS & changed.keys()
    assignment = service.live_assignment(session, request.id)
    if terms:
        request.terms_wave = service.last_wave(session, request.id)
        session.add(request)
    if "start" in terms:
        # The early notice keeps its distance to the new start.
        deadlines.move(
            session,
            kind=OfferDeadlineKind.unfilled_warning,
            subject_id=request.id,
            sequence=service.dispatch_round(session, request.id),
            due_at=request.start - timedelta(hours=policy_for(session, request).warn_hours),
        )
    if assignment is not None:
        mediator = session.get(Mediator, assignment.mediator_id)
        assert mediator is not None
        reasons = (
            planning.serve_exclusions(
                session, request=request, mediator_id=mediator.id, now=now, tz=settings.tz
            )
            if terms
            else []
        )
        if not reasons:
            if {"start", "end"} & terms:
                schedule_assignment_deadlines(
                    session, request, assignment, now=now, tz=settings.tz, moved=True
                )
            tell_holder_of_change(
                session,
                request,
                assignment,
                changed=sorted(changed),
                by_coordination=actor.role == Role.coordinator,
                now=now,
                settings=settings,
            )
            return "kept"
        _release_after_change(
            session,
            request,
            assignment,
            mediator,
            actor=actor,
            now=now,
            settings=settings,
            reason=service.REQUEST_CHANGED,
            codes=sorted({r.code for r in reasons}),
            told_start=before_start,
            told_end=before_end,
            why="coordination" if actor.role == Role.coordinator else None,
            after_change=True,
            # Someone else's change: the caseworker hears of it in the change's own message.
            tell_caseworker=actor.id == request.created_by_user_id,
        )
        return "released"
    if not terms or request.status not in (
        RequestStatus.open,
        RequestStatus.offered,
        RequestStatus.unfilled,
    ):
        return "unchanged"
    withdrawn = service.withdraw_pending(session, request_id=request.id, now=now)
    deadlines.close(
        session,
        kinds=(OfferDeadlineKind.wave_expiry,),
        subject_id=request.id,
        now=now,
        outcome="request changed",
    )
    held = request.series_id is not None and not service.last_wave(session, request.id)
    request.status = RequestStatus.open
    request.updated_at = now
    session.add(request)
    session.flush()
    if held:
        # An occurrence of a series not offered yet waits for its lead time at the new time.
        dispatch_or_hold(session, request, now=now, settings=settings)
        return "held" if request.status == RequestStatus.open else "dispatched again"
    wave = send_next_wave(session, request, now=now, settings=settings)
    # Those asked again hear of the new terms by the new offer; the others, that the old is off.
    tell_withdrawn(
        session,
        request,
        withdrawn,
        now=now,
        settings=settings,
        language=str(changed["language"][0]) if "language" in changed else None,
        start=before_start,
        asked_again=frozenset(o.mediator_id for o in wave.offers),
    )
    return "dispatched again"


def tell_holder_of_change(
    session: Session,
    request: Request,
    assignment: Assignment,
    *,
    changed: list[str],
    by_coordination: bool,
    now: datetime,
    settings: Settings,
) -> None:
    """The mediator who keeps the job hears what changed (request fields, see
    ``messages.CHANGE_WORDS``) and by whom, and the job as it is now, with a link of its own."""
    mediator = session.get(Mediator, assignment.mediator_id)
    if mediator is None or assignment.offer_id is None:
        return
    offer = session.get(Offer, assignment.offer_id)
    assert offer is not None
    link = links.job_link(
        session, request, offer_id=offer.id, purpose="change", now=now, settings=settings
    )
    messages.request_changed_mediator(
        session,
        mediator=mediator,
        request=request,
        offer=offer,
        assignment=assignment,
        changed=changed,
        link=link,
        now=now,
        by_coordination=by_coordination,
    )


def tell_holders_at_place(
    session: Session, *, place_id: int, changed: list[str], now: datetime, settings: Settings
) -> int:
    """The coordinator changed a place: each mediator holding a job there to come hears it.

    Their confirmation named the place's name, address and whom to ask there
    (and its calendar file, the address): one that still names the old would
    send them to the wrong door. `changed` in request fields (``place_id`` for
    the name or the point, ``address``, ``contact_name``); a job with its own
    address or contact does not hear of the place's. Returns how many were told.
    """
    held = session.exec(
        select(Request.id)
        .where(
            Request.place_id == place_id,
            Request.status == RequestStatus.assigned,
            col(Request.start) > now,
        )
        .order_by(col(Request.id))
    ).all()
    told = 0
    for request_id in held:  # locked in id order, as everywhere
        request = service.lock_request(session, request_id)
        assignment = service.live_assignment(session, request_id)
        if request.status != RequestStatus.assigned or assignment is None:
            continue
        # What the job says itself (its own address, whom to ask) stays as it was.
        own = {"address": request.address, "contact_name": request.contact_name}
        shown = [name for name in changed if not own.get(name)]
        if shown:
            tell_holder_of_change(
                session,
                request,
                assignment,
                changed=shown,
                by_coordination=True,
                now=now,
                settings=settings,
            )
            told += 1
    return told


def follow_moved_place(
    session: Session,
    *,
    place_id: int,
    old: tuple[float, float],
    new: tuple[float, float],
    actor: User,
    now: datetime,
    settings: Settings,
) -> None:
    """The coordinator moved a place's point (a wrong pin put right, the office moved): its
    jobs to come move with it.

    A request filed at a place took the place's point then, so without this the
    engine would keep matching, and the allowance keep counting kilometres, to the old
    one. Requests with a point of their own (a typed address) are not at the old point
    and stay as they are. All of them move first, so that two jobs at the place are
    checked against each other where both now are.

    Of an in-person job, the mediator holding it is checked by the engine's rules that
    the point decides (``planning.point_exclusions``: their longest way, `travel_radius`,
    and the time to travel between it and the jobs they hold, `busy`). One that the move
    breaks releases them with a message saying which, and the request goes out again,
    its caseworker told; one they did not meet at the old point either (an override put
    them there) does not; whoever stays hears of the change (``tell_holders_at_place``).
    Getting there in time from home (`too_late`) does not release a holder: it only
    fails within the journey's time before the start, when they have set out or are about
    to, from somewhere the engine does not know, and the job sent out again then would
    have even less time than they have; they hear of the new point and can still say
    they cannot come. An open offer the move breaks by these rules, too late included
    (nobody is on the way yet), is withdrawn, and a wave left with none open sends the
    next one now. Requests are locked in id order.
    """
    moving = session.exec(
        select(Request.id)
        .where(
            Request.place_id == place_id,
            col(Request.start) > now,
            col(Request.status).in_(
                [
                    RequestStatus.open,
                    RequestStatus.offered,
                    RequestStatus.assigned,
                    RequestStatus.unfilled,
                ]
            ),
            Request.location_lat == old[0],
            Request.location_lon == old[1],
        )
        .order_by(col(Request.id))
    ).all()
    requests = [service.lock_request(session, request_id) for request_id in moving]
    # Who each in-person job is with, and what of the point's rules they failed at the old one.
    before: dict[int, dict[int, set[str]]] = {}
    for request in requests:
        if request.mode != Mode.in_person:
            continue
        assignment = service.live_assignment(session, request.id)
        if request.status == RequestStatus.assigned and assignment is not None:
            before[request.id] = _failed_rules_of_the_point(
                session, request, [assignment.mediator_id], now=now, settings=settings
            )
        elif request.status == RequestStatus.offered:
            waiting = session.exec(
                select(Offer.mediator_id)
                .where(Offer.request_id == request.id, Offer.status == OfferStatus.pending)
                .order_by(col(Offer.mediator_id))
            ).all()
            before[request.id] = _failed_rules_of_the_point(
                session, request, waiting, now=now, settings=settings
            )
    for request in requests:
        request.location_lat, request.location_lon = new
        request.updated_at = now
        session.add(request)
    session.flush()
    for request in requests:
        if request.id not in before:
            continue
        now_failed = _failed_rules_of_the_point(
            session, request, list(before[request.id]), now=now, settings=settings
        )
        broken = {
            mediator_id: sorted(codes - before[request.id].get(mediator_id, set()))
            for mediator_id, codes in now_failed.items()
        }
        assignment = service.live_assignment(session, request.id)
        if request.status == RequestStatus.assigned and assignment is not None:
            codes = sorted(set(broken.get(assignment.mediator_id, [])) - {"too_late"})
            if codes:
                holder = session.get(Mediator, assignment.mediator_id)
                assert holder is not None
                _release_after_change(
                    session,
                    request,
                    assignment,
                    holder,
                    actor=actor,
                    now=now,
                    settings=settings,
                    reason=service.PLACE_MOVED,
                    codes=codes,
                    told_start=request.start,
                    told_end=request.end,
                    why="place_moved" if "travel_radius" in codes else "place_moved_busy",
                )
        elif request.status == RequestStatus.offered:
            for mediator_id, codes in broken.items():
                if codes:
                    withdrawn = service.withdraw_pending(
                        session, request_id=request.id, now=now, mediator_id=mediator_id
                    )
                    session.flush()
                    tell_withdrawn(session, request, withdrawn, now=now, settings=settings)
            escalate_if_wave_over(session, request, now=now, settings=settings)


def _failed_rules_of_the_point(
    session: Session,
    request: Request,
    mediator_ids: Sequence[int],
    *,
    now: datetime,
    settings: Settings,
) -> dict[int, set[str]]:
    """The codes of the engine's rules of the point (``planning.point_exclusions``) each
    mediator fails for `request` where it is now."""
    found = planning.point_exclusions(
        session, request=request, mediator_ids=mediator_ids, now=now, tz=settings.tz
    )
    return {mediator_id: {r.code for r in reasons} for mediator_id, reasons in found.items()}


def _release_after_change(
    session: Session,
    request: Request,
    assignment: Assignment,
    holder: Mediator,
    *,
    actor: User,
    now: datetime,
    settings: Settings,
    reason: str,
    codes: list[str],
    told_start: datetime,
    told_end: datetime,
    why: Literal["coordination", "place_moved", "place_moved_busy"] | None,
    after_change: bool = False,
    tell_caseworker: bool = True,
) -> None:
    """A change left the holder unable to serve the job: released and told why (with the
    times they knew, `told_start`/`told_end`), audited with the engine's `codes`, and the
    request out again (`after_change`, `tell_caseworker`: see `_dispatch_again`)."""
    service.end_assignment(
        session, assignment, now=now, offer_status=OfferStatus.revoked, reason=reason
    )
    messages.released_after_change_mediator(
        session,
        mediator=holder,
        request=request,
        assignment=assignment,
        start=told_start,
        end=told_end,
        now=now,
        why=why,
    )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="assignment.cancel",
        entity="assignment",
        entity_id=assignment.id,
        details={"reason": reason, "codes": codes},
    )
    _dispatch_again(
        session,
        request,
        assignment,
        now=now,
        settings=settings,
        after_change=after_change,
        tell_caseworker=tell_caseworker,
    )


def schedule_assignment_deadlines(
    session: Session,
    request: Request,
    assignment: Assignment,
    *,
    now: datetime,
    tz: tzinfo,
    moved: bool = False,
) -> None:
    """Reminders before the start, the reconfirmation check, the report request after the end.

    A reminder due in the quiet hours goes at their end when it can (`reminder_time`).

    `moved`: the job's time changed, so the open ones fall due at the new
    times; one whose time has already come at the new time is left as it is.
    """
    policy = policy_for(session, request)
    due: dict[tuple[str, int], datetime] = {
        (OfferDeadlineKind.reminder, hours): reminder_time(
            policy, request.start - timedelta(hours=hours), request.start, tz
        )
        for hours in policy.reminder_hours
    }
    due[(OfferDeadlineKind.reconfirm_check, 0)] = request.start - timedelta(
        hours=policy.reconfirm_deadline_hours
    )
    due[(OfferDeadlineKind.after_job, 0)] = request.end
    for (kind, sequence), at in due.items():
        if kind != OfferDeadlineKind.after_job and at <= now:
            continue
        if kind == OfferDeadlineKind.reconfirm_check and assignment.reconfirmed_at is not None:
            continue
        if moved:
            deadlines.move(
                session, kind=kind, subject_id=assignment.id, sequence=sequence, due_at=at
            )
        deadlines.schedule(
            session, kind=kind, subject_id=assignment.id, sequence=sequence, due_at=at, now=now
        )
