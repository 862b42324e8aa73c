"""Offers and assignments, one step at a time: queries, locks, answers that touch only them.

What a step sets off in other domains (messages, deadlines, the next wave)
is in ``flows.py``. Concurrency rules, on SQLite and PostgreSQL alike:
steps that read the request and then decide lock its row first
(``lock_request``: ``FOR UPDATE`` on PostgreSQL; on SQLite the write
transaction began IMMEDIATE and is alone anyway).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

import matching
from config import data as config_data
from config.settings import Settings
from dispatch import audit
from dispatch.allowances import service as allowances
from dispatch.deadlines import service as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.errors import Conflict, NotFound
from dispatch.offers.links import revoke_links
from dispatch.offers.models import (
    ASSIGNMENT_DEADLINES,
    Assignment,
    Offer,
    OfferDeadlineKind,
    OfferStatus,
)
from dispatch.planning import service as planning
from dispatch.planning.limits import LimitsReached
from dispatch.requests import conflicts
from dispatch.requests.models import Request, RequestStatus
from dispatch.users.models import User

#: Why a job was taken back from a mediator the coordinator took out of the pool.
TAKEN_OUT_OF_THE_POOL = "mediator taken out of the pool"
#: Why a holder was released after their request changed so that they no longer fit.
REQUEST_CHANGED = "request changed"
#: Why a holder was released after the coordinator moved the job's place out of reach.
PLACE_MOVED = "place moved"
#: Reasons the service itself writes on an assignment and in its events (cancelled,
#: assigned over the dashboard); anything else a person typed. Erasing a mediator keeps
#: these (they name nobody, and the record of why a job changed hands is the town's) and
#: replaces the rest.
SYSTEM_CANCEL_REASONS = frozenset(
    {
        "mediator erased",
        "request cancelled",
        "replaced by the coordinator",
        "cancelled by the mediator",
        "mediator dropped out",
        "cancelled on the dashboard",
        "assigned on the dashboard",
        TAKEN_OUT_OF_THE_POOL,
        REQUEST_CHANGED,
        PLACE_MOVED,
    }
)
ERASED_TEXT = "[erased]"


class Outcome(StrEnum):
    """How an answer to an offer (link or SMS) turned out."""

    accepted = "accepted"
    already_yours = "already_yours"
    declined = "declined"
    filled = "filled"
    expired = "expired"
    withdrawn = "withdrawn"
    already_answered = "already_answered"
    busy = "busy"
    #: Taking it would go over the mediator's monthly or annual allowance limit.
    over_limit = "over_limit"
    revoked = "revoked"


def lock_request(session: Session, request_id: int) -> Request:
    """The request row, locked for this transaction (PostgreSQL; SQLite is serial)."""
    request = _locked(session, request_id, skip_locked=False)
    if request is None:
        raise NotFound(f"There is no request with id {request_id}.")
    return request


def lock_request_unless_busy(session: Session, request_id: int) -> Request | None:
    """The request row, locked, or None when another unit of work holds it (PostgreSQL's
    SKIP LOCKED: for a step that may leave a request to whoever is deciding it now)."""
    return _locked(session, request_id, skip_locked=True)


def _locked(session: Session, request_id: int, *, skip_locked: bool) -> Request | None:
    return session.exec(
        select(Request)
        .where(Request.id == request_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    ).first()


def new_short_code(session: Session, mediator_id: int) -> str:
    """Four digits for SMS replies, unique among the mediator's live offers.

    A reply comes from the mediator's phone, so the code only has to tell
    apart that one person's offers, not everyone's.
    """
    return new_short_codes(session, [mediator_id])[mediator_id]


def new_short_codes(session: Session, mediator_ids: Sequence[int]) -> dict[int, str]:
    """A reply code for each of a wave's mediators, read in one query (see `new_short_code`)."""
    taken: dict[int, set[str]] = {m: set() for m in mediator_ids}
    for mediator_id, code in session.exec(
        select(Offer.mediator_id, Offer.short_code).where(
            col(Offer.mediator_id).in_(mediator_ids),
            col(Offer.status).in_((OfferStatus.pending, OfferStatus.accepted)),
        )
    ):
        taken[mediator_id].add(code)
    codes: dict[int, str] = {}
    for mediator_id, used in taken.items():
        while (code := f"{secrets.randbelow(9000) + 1000}") in used:
            pass
        codes[mediator_id] = code
    return codes


def already_asked(session: Session, request_id: int) -> set[int]:
    """Everyone who had an offer or an assignment for this request: never asked twice.

    Offers of waves sent before the request's terms last changed (time, place,
    language, mode) were for another job: their mediators may be asked again,
    unless they held the job. So may those whose offer was withdrawn because
    someone else took the job first: they never said no, and when that one
    gives the job back they are the first people to ask.
    """
    # One statement: the request's terms wave as a sub-select (intake counts statements).
    terms_wave = select(Request.terms_wave).where(Request.id == request_id).scalar_subquery()
    asked = set(
        session.exec(
            select(Offer.mediator_id).where(
                Offer.request_id == request_id,
                col(Offer.wave) > terms_wave,
                col(Offer.status) != OfferStatus.withdrawn,
            )
        )
    )
    asked |= set(
        session.exec(select(Assignment.mediator_id).where(Assignment.request_id == request_id))
    )
    return asked


def pending_count(session: Session, request_id: int) -> int:
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(Offer)
            .where(Offer.request_id == request_id, Offer.status == OfferStatus.pending)
        ).one()
    )


#: The deadlines that hold a request's next offers back, by why: the quiet hours
#: (`wave_due`) or a series occurrence's lead time (`first_wave`).
HOLDING = {OfferDeadlineKind.wave_due: "quiet_hours", OfferDeadlineKind.first_wave: "series"}


def offers_held(
    session: Session, request_ids: Sequence[int], *, now: datetime
) -> dict[int, tuple[datetime, str]]:
    """When each request's next offers go out and why they wait ("quiet_hours" or
    "series"), for those waiting: a caseworker who files at 22:30 sees "07:00", not
    "being dispatched" with nobody asked all night."""
    if not request_ids:
        return {}
    held: dict[int, tuple[datetime, str]] = {}
    for subject_id, kind, due_at in session.exec(
        select(Deadline.subject_id, Deadline.kind, Deadline.due_at)
        .where(
            col(Deadline.kind).in_(list(HOLDING)),
            col(Deadline.subject_id).in_(list(request_ids)),
            col(Deadline.done_at).is_(None),
            col(Deadline.due_at) > now,
        )
        .order_by(col(Deadline.due_at).desc())
    ):
        held[subject_id] = (due_at, HOLDING[OfferDeadlineKind(kind)])
    return held


def last_wave(session: Session, request_id: int) -> int:
    return int(
        session.exec(select(sa.func.max(Offer.wave)).where(Offer.request_id == request_id)).one()
        or 0
    )


def get_assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"There is no assignment with id {assignment_id}.")
    return assignment


def live_assignment(session: Session, request_id: int) -> Assignment | None:
    return session.exec(
        select(Assignment).where(
            Assignment.request_id == request_id, col(Assignment.cancelled_at).is_(None)
        )
    ).first()


def open_offer_requests(session: Session, *, mediator_id: int) -> list[int]:
    """The requests on which the mediator has an offer open, in id order."""
    return sorted(
        set(
            session.exec(
                select(Offer.request_id).where(
                    Offer.mediator_id == mediator_id, Offer.status == OfferStatus.pending
                )
            )
        )
    )


def held_jobs_to_come(
    session: Session, *, mediator_id: int, now: datetime
) -> list[tuple[int, int]]:
    """The jobs the mediator holds that have not started yet, as (request id, assignment id)
    pairs in request-id order: the order in which a flow releasing them locks the requests."""
    return sorted(
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


def dispatch_round(session: Session, request_id: int) -> int:
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


def ranked_candidates(
    session: Session, request: Request, *, now: datetime, settings: Settings
) -> list[int]:
    """Feasible mediators in the order offers go out.

    Whoever served this client before comes first, then the organisation's
    preferred mediators, then everyone else by the engine's score (which
    already weighs level, travel, gender preference and fairness).
    """
    return ranked_with_preferred(session, request, now=now, settings=settings)[0]


@dataclass
class WaveReads:
    """What one wave run reads once for its request's ranking and the others' (scarcity).

    `rows`: the request language's absences and jobs for a period around the job
    wide enough for the other requests scarcity weighs; `lists`: organisations'
    lists by organisation. Nothing the run does between the rankings changes them.
    """

    rows: planning.PeriodRows | None = None
    lists: dict[int, list[Any]] = field(default_factory=dict)

    def rows_for(self, language: str, start: datetime, end: datetime) -> planning.PeriodRows | None:
        """The rows read, if they cover `language`'s speakers over [start, end)."""
        rows = self.rows
        if rows is None or rows.language != language.lower():
            return None
        return rows if rows.start <= start and end <= rows.end else None


def ranked_with_preferred(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    limit_reached: LimitsReached | None = None,
    rows: planning.PeriodRows | None = None,
    reads: WaveReads | None = None,
) -> tuple[list[int], frozenset[int]]:
    """`ranked_candidates`, and which of them come first by preference (client, organisation).

    `limit_reached`: who is at their annual or a monthly limit, when the caller knows it;
    `rows`: the speakers' absences and jobs, read for a period around this job;
    `reads`: what this wave run read already (rows, when they cover this job, and lists).
    """
    if limit_reached is None:
        limit_reached = allowances.limit_reached(session, settings=settings, now=now)
    if rows is None and reads is not None:
        rows = reads.rows_for(request.language, request.start, request.end)
    snapshot = _speakers_snapshot(session, request, settings, limit_reached, rows)
    engine_request = planning.engine_request(
        session,
        request,
        tz=settings.tz,
        lists_read=reads.lists if reads is not None else None,
        limits=limit_reached,
    )
    ranking = matching.rank(engine_request, snapshot.engine_pool(), now=now)
    order = [c.mediator_id for c in ranking.candidates]
    first = [m for m in engine_request.preferred_mediators if m in order]
    ranked = [int(m) for m in first + [m for m in order if m not in first]]
    return ranked, frozenset(int(m) for m in first)


def _speakers_snapshot(
    session: Session,
    request: Request,
    settings: Settings,
    limit_reached: LimitsReached,
    rows: planning.PeriodRows | None,
) -> planning.PoolSnapshot:
    """The pool for ranking `request`: only its language's speakers can be offered the job."""
    return planning.pool_snapshot(
        session,
        start=request.start,
        end=request.end,
        tz=settings.tz,
        skip_request_ids=frozenset({request.id}),
        language=request.language,
        limit_reached=limit_reached,
        rows=rows,
        most_cents=planning.expected_cents(limit_reached, request),
    )


def scarcity(
    session: Session,
    request: Request,
    candidates: list[int],
    *,
    window: timedelta,
    most: int,
    now: datetime,
    settings: Settings,
    limit_reached: LimitsReached,
    reads: WaveReads | None = None,
) -> dict[int, float]:
    """How much the other open requests around this job lean on each of its candidates.

    Other requests still seeking (open or offered; an unfilled one has asked
    everyone it could) that start within `window` of this one, in a language
    one of `candidates` speaks, are ranked once each: at most `most` of them,
    those starting nearest to this job, so a busy week does not make every
    filing rank dozens of requests. Their candidates are whoever the engine
    finds, less those who already answered no or let their offer run out.
    The numbers come from ``matching.scarcity``.
    """
    if len(candidates) < 2 or most < 1:
        return {}  # nobody to ask instead, or nobody to ask for
    dialect = session.get_bind().dialect.name
    others = list(
        session.scalars(
            _others_query(dialect),
            {
                "request_id": request.id,
                "now": now,
                "until": request.end + window,
                "since": request.start - window,
                # No request lasts longer (check_times): the index on (status, start)
                # then scans the window, not every request from now until the job.
                "since_start": request.start
                - window
                - timedelta(hours=config_data.default_policy().max_request_hours),
                "languages": planning.texts_parameter(
                    _spoken(session, request, candidates), dialect
                ),
                "at": int(request.start.timestamp()),
                "most": most,
            },
        )
    )
    if not others:
        return {}
    answered = (OfferStatus.declined, OfferStatus.expired)
    out_of: dict[int, set[int]] = {}
    # Every offer of the others, the status checked here: with the status in the query,
    # SQLite chose the (status, expires_at) index and read every declined or expired
    # offer on file (22 ms a filing with half a year of them) instead of the others' few.
    for request_id, mediator_id, status in session.exec(
        select(Offer.request_id, Offer.mediator_id, Offer.status).where(
            col(Offer.request_id).in_([o.id for o in others])
        )
    ):
        if status in answered:
            out_of.setdefault(request_id, set()).add(mediator_id)
    # Their speakers' absences and jobs are read once per language, for all of them.
    by_language: dict[str, list[Request]] = {}
    for other in others:
        by_language.setdefault(other.language.lower(), []).append(other)
    reads = reads if reads is not None else WaveReads()
    rows: dict[str, planning.PeriodRows] = {}
    for language, group in by_language.items():
        start, end = min(o.start for o in group), max(o.end for o in group)
        rows[language] = reads.rows_for(language, start, end) or planning.period_rows(
            session, start=start, end=end, tz=settings.tz, language=language
        )
    # Whom each could have, not in what order: their clients' marks in one statement.
    marks = conflicts.not_for_clients(session, others)
    sets = []
    for other in others:
        found = candidate_ids(
            session,
            other,
            now=now,
            settings=settings,
            limit_reached=limit_reached,
            rows=rows[other.language.lower()],
            reads=reads,
            not_for_client=marks.get(other.id, ()),
        )
        said_no = out_of.get(other.id, set())
        sets.append([m for m in found if m not in said_no])
    return matching.scarcity(sets)


def candidate_ids(
    session: Session,
    request: Request,
    *,
    now: datetime,
    settings: Settings,
    limit_reached: LimitsReached,
    rows: planning.PeriodRows | None,
    reads: WaveReads,
    not_for_client: tuple[str, ...],
) -> list[int]:
    """Whom `ranked_with_preferred` lists for `request`, in no particular order.

    The same pool, rows and rules; left out is what only orders them (the
    preferences, two statements a request; the scores and the sort), since
    scarcity counts each other request's candidates. `not_for_client`: its
    client's marks (``conflicts.not_for_clients``).
    """
    snapshot = _speakers_snapshot(session, request, settings, limit_reached, rows)
    engine_request = planning.engine_request(
        session,
        request,
        tz=settings.tz,
        lists_read=reads.lists,
        ordering=False,
        not_for_client=not_for_client,
        limits=limit_reached,
    )
    return [int(m) for m in matching.feasible_ids(engine_request, snapshot.engine_pool(), now=now)]


def _spoken(session: Session, request: Request, candidates: list[int]) -> list[str]:
    """The languages `candidates` speak, lower-cased, from the kept pool members.

    Not a sub-select of their language rows in `_others_query`: PostgreSQL's
    generic plan for that (after psycopg prepared the statement) scanned every
    language row once per open request near the job, 7 ms a filing.
    """
    wanted = set(candidates)
    return sorted(
        {
            language.lower()
            for member in planning.pool_members(session, language=request.language)
            if member.id in wanted
            for language in member.languages
        }
    )


@cache
def _others_query(dialect: str) -> sa.Select[Request]:
    """The other requests still seeking around a job, nearest first: built once per backend.

    Parameters: `request_id`, `now`, `since`, `until` (the window), `since_start`
    (`since` less the longest a request may last), `languages` (those the
    job's candidates speak, lower-cased, as `planning.texts_parameter`), `at`
    (the job's start in seconds since 1970) and
    `most`. The database picks the nearest `most`: a busy week holds hundreds
    of open requests within the window, and loading each as a row to keep
    eight cost more than ranking the eight.
    """
    start = col(Request.start)
    seconds = (
        sa.cast(sa.func.strftime("%s", start), sa.Integer)
        if dialect == "sqlite"
        else sa.cast(sa.extract("epoch", start), sa.BigInteger)
    )
    return (
        sa.select(Request)
        .where(
            col(Request.id) != sa.bindparam("request_id"),
            sa.or_(
                col(Request.status) == RequestStatus.open,
                col(Request.status) == RequestStatus.offered,
            ),
            start > sa.bindparam("now"),
            start > sa.bindparam("since_start"),
            start < sa.bindparam("until"),
            col(Request.end) > sa.bindparam("since"),
            planning.among_texts(sa.func.lower(col(Request.language)), dialect, "languages"),
        )
        .order_by(sa.func.abs(seconds - sa.bindparam("at")), col(Request.id))
        .limit(sa.bindparam("most"))
    )


def set_status(session: Session, request: Request, status: RequestStatus, now: datetime) -> None:
    """The request's status (and `updated_at`), written at once by one prepared UPDATE.

    Every wave run ends by setting it; as an attribute change it waited for the
    commit's flush, whose unit-of-work bookkeeping cost more than the write. A
    request not stored yet (or whose status is already changed in this unit)
    goes the ORM's way.
    """
    state = sa.inspect(request)
    if not state.persistent or "status" in state.committed_state:
        request.status = status
        request.updated_at = now
        session.add(request)
        return
    session.connection().execute(
        _STATUS_UPDATE, {"request_id": request.id, "status": status, "updated_at": now}
    )
    set_committed_value(request, "status", status)
    set_committed_value(request, "updated_at", now)


_STATUS_UPDATE = (
    sa.update(Request)
    .where(col(Request.id) == sa.bindparam("request_id"))
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("updated_at"))
)


@dataclass(frozen=True)
class WithdrawnOffer:
    """An offer just withdrawn, with what telling its mediator needs (``flows.tell_withdrawn``),
    as the withdrawing UPDATE returned it: no second query for the rows it changed."""

    id: int
    mediator_id: int
    expires_at: datetime


def withdraw_pending(
    session: Session, *, request_id: int, now: datetime, mediator_id: int | None = None
) -> list[WithdrawnOffer]:
    """The request's pending offers (or one mediator's) are no longer open; returns them in
    id order, so whoever held them can be told (``flows.tell_withdrawn``)."""
    query = sa.update(Offer).where(
        col(Offer.request_id) == request_id, col(Offer.status) == OfferStatus.pending
    )
    if mediator_id is not None:
        query = query.where(col(Offer.mediator_id) == mediator_id)
    withdrawn = session.execute(
        query.values(status=OfferStatus.withdrawn, responded_at=now).returning(
            col(Offer.id), col(Offer.mediator_id), col(Offer.expires_at)
        )
    )
    return sorted(
        (
            WithdrawnOffer(id=id_, mediator_id=held_by, expires_at=until)
            for id_, held_by, until in withdrawn
        ),
        key=lambda offer: offer.id,
    )


def late_outcome(session: Session, offer: Offer) -> Outcome:
    """Why an answer to an offer that is no longer pending changes nothing."""
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


def close_assignment_deadlines(
    session: Session, *, assignment_id: int, now: datetime, outcome: str
) -> None:
    """The assignment's reminders, checks and report request will not happen."""
    deadlines.close(
        session, kinds=ASSIGNMENT_DEADLINES, subject_id=assignment_id, now=now, outcome=outcome
    )


def end_assignment(
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
    close_assignment_deadlines(
        session,
        assignment_id=assignment.id,
        now=now,
        outcome=f"assignment cancelled ({offer_status})",
    )
    if assignment.offer_id is not None:
        session.exec(
            sa.update(Offer)
            .where(col(Offer.id) == assignment.offer_id, col(Offer.status) == OfferStatus.accepted)
            .values(status=offer_status)
        )
    session.flush()


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


def unconfirmed(session: Session, offer: Offer) -> bool:
    """The offer's live assignment has not been reconfirmed yet."""
    assignment = session.exec(
        select(Assignment).where(
            Assignment.offer_id == offer.id, col(Assignment.cancelled_at).is_(None)
        )
    ).first()
    return assignment is not None and assignment.reconfirmed_at is None


def no_show_assignment(session: Session, *, request: Request, now: datetime) -> Assignment:
    """The assignment a no-show can be recorded for now, or 409 (``record_no_show``)."""
    assignment = live_assignment(session, request.id)
    if assignment is None or request.status not in (
        RequestStatus.assigned,
        RequestStatus.completed,
    ):
        raise Conflict(
            "This request has no assignment to report a no-show for.",
            reason="no_show_not_possible",
        )
    if now < request.start:
        raise Conflict(
            "A no-show can be reported once the job has started.", reason="no_show_not_possible"
        )
    return assignment


def record_no_show(session: Session, *, request: Request, actor: User, now: datetime) -> Assignment:
    """The caseworker reports that the mediator did not come."""
    assignment = no_show_assignment(session, request=request, now=now)
    assignment.no_show = True
    session.add(assignment)
    close_assignment_deadlines(session, assignment_id=assignment.id, now=now, outcome="no-show")
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


def forget_mediator(session: Session, *, mediator_id: int) -> None:
    """Erase what the offers' records hold of a mediator, keeping ids and outcomes.

    The words they (or others about them) typed, reasons for declining or
    giving a job back, are replaced; their links stop working.
    """
    offers = list(session.exec(select(Offer).where(Offer.mediator_id == mediator_id)))
    for offer in offers:
        offer.decline_reason = None
        session.add(offer)
    revoke_links(session, offers=offers)
    session.exec(
        sa.update(Assignment)
        .where(
            col(Assignment.mediator_id) == mediator_id,
            col(Assignment.cancel_reason).is_not(None),
            col(Assignment.cancel_reason).not_in(SYSTEM_CANCEL_REASONS),
        )
        .values(cancel_reason=ERASED_TEXT)
    )
    session.flush()
