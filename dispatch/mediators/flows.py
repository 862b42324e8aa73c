"""Changing a mediator with what follows, and erasing them everywhere their data went
(GDPR Art. 17), in one transaction.

The mediator's own record is only where it starts: their name and number
also stand in the caseworkers' confirmations and the coordinator's alerts
in the outbox, in reasons typed on their offers and assignments and in the
audit events about them, and their links still open pages. Their jobs to
come must not be stranded either: they go back to dispatch at once. What the
town still owes them must not be lost without anyone noticing: erasing a
mediator with allowances unpaid or jobs not yet settled needs a second yes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from config.settings import Settings
from dispatch import audit
from dispatch.allowances import service as allowances
from dispatch.allowances.service import AllowanceOwed, Owed
from dispatch.deadlines import service as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.errors import InvalidInput
from dispatch.mediators import service
from dispatch.mediators.models import CLEARANCE_FIELDS, Absence, Mediator, MediatorDeadlineKind
from dispatch.mediators.schemas import AbsenceIn, MediatorUpdate
from dispatch.offers import estimate
from dispatch.offers import flows as offers
from dispatch.offers import service as offer_service
from dispatch.offers.models import Assignment, Offer
from dispatch.outbox import service as outbox
from dispatch.planning import service as planning
from dispatch.requests import conflicts
from dispatch.requests.models import Request
from dispatch.storage import wipe_after_commit
from dispatch.users.models import User
from dispatch.web.links import revoke_mediator_links

#: The fields the engine's rules read of a mediator (`planning.serve_exclusions`): a change
#: to one of them may leave an offer sent before it for a job they no longer fit.
FIT_FIELDS = frozenset(
    {
        "languages",
        "german_level",
        "gender",
        "home",
        "travel_mode",
        "max_travel_km",
        "max_hours_per_week",
        "qualifications",
        "availability",
        "absences",
        "annual_limit",
        "annual_limit_override_year",
        "monthly_limit",
        *CLEARANCE_FIELDS,
    }
)


@dataclass(frozen=True)
class UnfitJob:
    """A job to come the mediator holds, and why the engine's rules would not give it to
    them as their details stand now (codes and params, as on the candidates' list)."""

    request: Request
    reasons: list[dict[str, Any]]


def held_jobs_unfit(
    session: Session, *, mediator_id: int, now: datetime, settings: Settings
) -> list[UnfitJob]:
    """The jobs to come the mediator holds that their details no longer fit, soonest first.

    A change to their details leaves the jobs they hold theirs: they said yes to
    them, and whether they can still go (a holiday entered after the yes, a
    language taken off by mistake) is for the coordinator to ask. Their page lists
    these so nobody is surprised on the day; cancelling the assignment gives the job
    to others. A job the coordinator gave them against a rule is listed too.
    """
    unfit: list[UnfitJob] = []
    held = offer_service.held_jobs_to_come(session, mediator_id=mediator_id, now=now)
    if not held:
        return unfit
    # A limit lowered below what their jobs pay shows here too (each job given back
    # from the totals before it is weighed, as when it is placed again).
    limit = allowances.limit_reached(session, settings=settings, now=now)
    for request_id, _ in held:
        request = session.get(Request, request_id)
        assert request is not None  # held_jobs_to_come read it just now
        reasons = planning.serve_exclusions(
            session,
            request=request,
            mediator_id=mediator_id,
            now=now,
            tz=settings.tz,
            limit_reached=limit,
        )
        # Close to the start a holder may be on the way already: "too late" is no news.
        found = [
            {"code": r.code, "params": dict(r.params)} for r in reasons if r.code != "too_late"
        ]
        if found:
            unfit.append(UnfitJob(request=request, reasons=found))
    return sorted(unfit, key=lambda job: job.request.start)


def add_absence(
    session: Session,
    *,
    mediator_id: int,
    absence: AbsenceIn,
    actor: User,
    now: datetime,
    settings: Settings,
) -> Absence:
    """One absence more (a holiday); an offer they hold open for a job in it is withdrawn
    (`offers.withdraw_unfit_offers`): they will not be there."""
    mediator = service.get_mediator(session, mediator_id=mediator_id)
    fit_before = (
        offers.open_offer_fit(session, mediator_id=mediator_id, now=now, settings=settings)
        if in_pool(mediator)
        else {}
    )
    row = service.add_absence(
        session, mediator_id=mediator_id, absence=absence, actor=actor, now=now
    )
    if fit_before:
        offers.withdraw_unfit_offers(
            session, mediator_id=mediator_id, before=fit_before, now=now, settings=settings
        )
    return row


def update_mediator(
    session: Session,
    *,
    mediator_id: int,
    data: MediatorUpdate,
    actor: User | None,
    now: datetime,
    settings: Settings,
) -> Mediator:
    """Change the mediator; one taken out of the pool here (deactivated or paused by the
    coordinator, on a page, by the API or an import) no longer holds offers open
    (``offers.withdraw_open_offers``).

    The jobs they hold stay theirs unless `data.release_jobs`: the coordinator decides,
    as a holiday after a job is fine but an ill mediator's jobs would be stranded. Releasing
    is for a mediator out of the pool after the change (taken out now, or already out, so
    that a repeated request does the same); asked of one who stays in the pool it is
    refused (`InvalidInput`) before anything changes, since their jobs would stay theirs
    against what the caller asked."""
    mediator = service.get_mediator(session, mediator_id=mediator_id)
    was_in_pool = in_pool(mediator)
    if data.release_jobs and _in_pool_after(mediator, data):
        raise InvalidInput(
            "release_jobs: the mediator stays in the pool with this change, so their jobs "
            "stay theirs; send it with active false or paused true.",
            field="release_jobs",
            reason="release_jobs_in_pool",
        )
    was_active = mediator.active
    if was_in_pool and not _in_pool_after(mediator, data):
        # Their offers are withdrawn below: the requests locked before their row is written.
        offers.lock_open_offer_requests(session, mediator_id=mediator_id)
    # What the engine reads of them is changing: their open offers are checked after.
    checks_fit = was_in_pool and bool(data.model_fields_set & FIT_FIELDS)
    fit_before = (
        offers.open_offer_fit(session, mediator_id=mediator_id, now=now, settings=settings)
        if checks_fit
        else {}
    )
    mediator = service.update_mediator(
        session, mediator_id=mediator_id, data=data, actor=actor, now=now, settings=settings
    )
    if was_active and not mediator.active:
        schedule_erasure(
            session,
            mediator_id=mediator.id,
            due_at=now + timedelta(days=settings.mediator_data_days),
            now=now,
        )
    elif mediator.active and not was_active:
        mediator.erasure_waiting_since = None
        session.add(mediator)
        deadlines.close(
            session,
            kinds=[MediatorDeadlineKind.erase_data],
            subject_id=mediator.id,
            now=now,
            outcome="back in the pool",
        )
    if data.release_jobs or (was_in_pool and not in_pool(mediator)):
        offers.withdraw_open_offers(
            session,
            mediator_id=mediator.id,
            now=now,
            settings=settings,
            release_jobs=data.release_jobs,
            actor=actor,
        )
    elif fit_before:
        offers.withdraw_unfit_offers(
            session, mediator_id=mediator.id, before=fit_before, now=now, settings=settings
        )
    return mediator


def schedule_erasure(
    session: Session, *, mediator_id: int, due_at: datetime, now: datetime
) -> None:
    """Erase the mediator's data at `due_at` (``mediators/scheduled.py``); each time out of
    the pool (or wait for what is owed) is a deadline of its own."""
    count = session.exec(
        select(func.count(col(Deadline.id))).where(
            Deadline.kind == MediatorDeadlineKind.erase_data, Deadline.subject_id == mediator_id
        )
    ).one()
    deadlines.schedule(
        session,
        kind=MediatorDeadlineKind.erase_data,
        subject_id=mediator_id,
        due_at=due_at,
        now=now,
        sequence=count,
    )


def erasure_due(session: Session, *, mediator_id: int) -> datetime | None:
    """When the mediator's data are to be erased for their time out of the pool, if so."""
    return session.exec(
        select(Deadline.due_at)
        .where(
            Deadline.kind == MediatorDeadlineKind.erase_data,
            Deadline.subject_id == mediator_id,
            col(Deadline.done_at).is_(None),
        )
        .order_by(col(Deadline.due_at))
    ).first()


def in_pool(mediator: Mediator) -> bool:
    """Whether the mediator gets offers at all (the other rules aside)."""
    return mediator.active and not mediator.paused


def _in_pool_after(mediator: Mediator, data: MediatorUpdate) -> bool:
    """Whether the mediator will be in the pool once `data` is applied (a null for
    `active` or `paused` is refused by the service)."""
    sent = data.model_fields_set
    active = data.active if "active" in sent and data.active is not None else mediator.active
    paused = data.paused if "paused" in sent and data.paused is not None else mediator.paused
    return active and not paused


def jobs_held(session: Session, *, mediator_id: int, now: datetime) -> int:
    """How many jobs the mediator holds that have not started yet."""
    return len(offer_service.held_jobs_to_come(session, mediator_id=mediator_id, now=now))


def owed_to(session: Session, *, mediator_id: int, now: datetime, settings: Settings) -> Owed:
    """What Sprachpool still owes the mediator under the pool's allowance rules."""
    return allowances.owed_to(
        session,
        mediator_id=mediator_id,
        rules=allowances.rules_for(settings.allowance_file),
        tz=settings.tz,
        now=now,
    )


def erase_mediator(
    session: Session,
    *,
    mediator_id: int,
    actor: User | None,
    now: datetime,
    settings: Settings,
    unpaid_confirmed: bool = False,
    confirmed_euros: Decimal | None = None,
) -> Mediator:
    """Erase the mediator and every trace of them; their future jobs are offered again.

    While Sprachpool still owes them money (`owed_to`), only with
    `unpaid_confirmed`: otherwise `AllowanceOwed`, and nothing is changed. With
    `confirmed_euros` (what the caller was shown) the yes covers that amount only: owed
    differently by now (a job approved meanwhile), `AllowanceOwed` with `stale` set.

    Order matters: the traces (name, phone, email) are read before the
    record is emptied, the way from home to each job is kept before the home
    goes (their allowances keep their euros), the record is emptied (and the
    mediator taken out of the pool) before anything is dispatched again, and
    the outbox is scrubbed last, after the caseworkers' new messages (which
    name nobody). Erasing twice changes nothing. `actor` None: their time out of the
    pool ran out (``MEDIATOR_DATA_DAYS``, ``mediators/scheduled.py``).
    """
    mediator = service.get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        return mediator
    owed = owed_to(session, mediator_id=mediator_id, now=now, settings=settings)
    stale = confirmed_euros is not None and confirmed_euros != max(owed.euros, Decimal(0))
    if owed.anything and (not unpaid_confirmed or stale):
        raise AllowanceOwed(owed, stale=unpaid_confirmed and stale)
    traces = [t for t in (mediator.name, mediator.phone, mediator.email) if t]
    allowances.keep_home_distances(session, mediator_id=mediator_id)
    # The log keeps that the coordinator erased them knowing what was owed: amounts, no person.
    details = (
        {"unpaid_euros": f"{max(owed.euros, 0):.2f}", "open_jobs": owed.open_jobs}
        if owed.anything
        else None
    )
    service.erase_mediator(session, mediator_id=mediator_id, actor=actor, now=now, details=details)
    deadlines.close(
        session,
        kinds=[MediatorDeadlineKind.erase_data],
        subject_id=mediator_id,
        now=now,
        outcome="erased",
    )
    offers.release_erased_mediator(
        session, mediator_id=mediator_id, actor=actor, now=now, settings=settings
    )
    offer_service.forget_mediator(session, mediator_id=mediator_id)
    estimate.forget(session, mediator_id=mediator_id)
    conflicts.forget_mediator(session, mediator_id=mediator_id)
    revoke_mediator_links(session, mediator_id=mediator_id)
    offer_ids = set(session.exec(select(Offer.id).where(Offer.mediator_id == mediator_id)))
    assignment_ids = set(
        session.exec(select(Assignment.id).where(Assignment.mediator_id == mediator_id))
    )
    request_ids = set(
        session.exec(select(Offer.request_id).where(Offer.mediator_id == mediator_id))
    ) | set(
        session.exec(
            select(Assignment.request_id).where(col(Assignment.mediator_id) == mediator_id)
        )
    )
    outbox.erase_traces(session, mediator_id=mediator_id, request_ids=request_ids, traces=traces)
    kept = offer_service.SYSTEM_CANCEL_REASONS
    audit.erase_reasons(session, entity="offer", entity_ids=offer_ids, keep=kept)
    audit.erase_reasons(session, entity="assignment", entity_ids=assignment_ids, keep=kept)
    session.flush()
    wipe_after_commit(session)
    return mediator
