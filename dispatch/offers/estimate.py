"""Who answers: each mediator's chance to accept an offer, and how soon, from their own offers.

A pool has a few people who answer within minutes, many who answer
sometimes and some who rarely answer at all. Sprachpool knows it from its
records: every offer ended answered (accepted or declined, after so many
minutes) or ran out unanswered. Per mediator:

- the chance to answer at all, per time slot (weekday daytime, weekday
  evening, weekend), since some answer only after work: the slot's answered
  / ran out, with a prior of weight 4 at the rate of their other slots'
  offers (itself Beta(prior) updated by them);
- the chance to say yes when they answer: Beta(prior) updated by accepted /
  declined;
- the typical time to answer (waking minutes; the night does not count): the
  geometric mean of their answer times, with a prior worth a few answers.

A newcomer gets the priors, so they are asked before people known to rarely
answer, and after those known to answer fast: nobody starves. Offers
withdrawn before an answer (someone else was quicker) tell nothing and are
left out. A yes stays a yes when the request is cancelled later.

The record is kept as running totals per mediator and time slot
(`MediatorHabit`), moved in the same transaction as each answer
(`count_answer`) and each offer that runs out (`count_run_out`). Reading
every candidate's offers on every wave cost more with each month on file;
the totals cost the same after years. An answer's waking minutes follow the
policy of the offer's own request when it was answered; offers past their
time but not yet marked expired are read live. `rebuild` recomputes the
totals from the offers, which stay the record.

The chance that someone accepts within `t` minutes is
``answer * yes * P(time to answer <= t)``, the time lognormal around the
typical time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from config.data import Policy
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, MediatorHabit, Offer, OfferStatus
from dispatch.offers.policy import awake_minutes, policy_from
from dispatch.planning.service import among_ids, ids_parameter
from dispatch.requests.models import Request
from dispatch.storage import UTCDateTime
from dispatch.users.models import Organisation

#: Spread of one person's answer times (lognormal sigma): p90 about 4.7 x the median.
ANSWER_SIGMA = 1.2
#: How strongly a mediator's overall answer rate holds in a time slot with few offers.
SLOT_PRIOR_WEIGHT = 4.0
#: An answered offer (statuses that follow an answer; `withdrawn` does not: no answer).
ANSWERED = (OfferStatus.accepted, OfferStatus.declined, OfferStatus.returned, OfferStatus.revoked)
YES = (OfferStatus.accepted, OfferStatus.returned, OfferStatus.revoked)


def time_slot(moment: datetime, tz: tzinfo) -> str:
    """When an offer reaches someone: weekday daytime, weekday evening, or the weekend."""
    local = moment.astimezone(tz)
    if local.weekday() >= 5:
        return "weekend"
    return "day" if local.hour < 17 else "evening"


@dataclass
class Habits:
    """What a mediator's past offers show (the service's own records)."""

    answered: int = 0
    unanswered: int = 0
    accepted: int = 0
    declined: int = 0
    #: The sum of the natural logs of the answers' waking minutes (one per answer).
    log_minutes: float = 0.0
    #: Per time slot: (answered, unanswered).
    slots: dict[str, list[int]] = field(default_factory=dict)

    def add(self, slot: str, answered: int, unanswered: int) -> None:
        counts = self.slots.setdefault(slot, [0, 0])
        counts[0] += answered
        counts[1] += unanswered
        self.answered += answered
        self.unanswered += unanswered


@dataclass(frozen=True)
class Estimate:
    mediator_id: int
    answer_chance: float
    yes_chance: float
    median_minutes: float
    offers_seen: int

    def accept_within(self, minutes: float) -> float:
        """The chance that they accept within `minutes` (waking minutes) of the offer."""
        if minutes <= 0:
            return 0.0
        z = (math.log(minutes) - math.log(self.median_minutes)) / ANSWER_SIGMA
        in_time = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        return self.answer_chance * self.yes_chance * in_time


@cache
def _record_query(dialect: str) -> sa.CompoundSelect[Any]:
    """Some mediators' running totals, and their offers still pending past their time.

    One statement, built once per backend. The totals' rows have a slot and
    no `sent` (typed in the first part, so the union reads it back as the
    application's datetimes); the pending offers have the moment they were
    sent and no slot. Those count as unanswered from the moment they ran out,
    as they will once `expire_wave` has marked them: few, as the deadline job
    expires them within a poll, and the (status, expires_at) index finds
    them. Parameters: `ids`, `now`.
    """
    totals = sa.select(
        col(MediatorHabit.mediator_id),
        col(MediatorHabit.slot),
        col(MediatorHabit.answered),
        col(MediatorHabit.unanswered),
        col(MediatorHabit.accepted),
        col(MediatorHabit.declined),
        col(MediatorHabit.log_minutes),
        sa.cast(sa.null(), UTCDateTime(timezone=True)).label("sent"),
    ).where(among_ids(col(MediatorHabit.mediator_id), dialect))
    overdue = sa.select(
        col(Offer.mediator_id),
        sa.null(),
        sa.literal(0),
        sa.literal(1),
        sa.literal(0),
        sa.literal(0),
        sa.literal(0.0),
        col(Offer.created_at),
    ).where(
        col(Offer.status) == OfferStatus.pending,
        col(Offer.expires_at) <= sa.bindparam("now"),
        col(Offer.created_at) < sa.bindparam("now"),
        col(Offer.wave) > 0,
        among_ids(col(Offer.mediator_id), dialect),
    )
    return sa.union_all(totals, overdue)


def habits(
    session: Session, mediator_ids: list[int], *, now: datetime, tz: tzinfo
) -> dict[int, Habits]:
    """The records of those of `mediator_ids` who have one, up to `now`.

    One small read whatever the history (`_record_query`). Mediators without
    a record are left out.
    """
    found: dict[int, Habits] = {}
    if not mediator_ids:
        return found
    dialect = session.get_bind().dialect.name
    params = {"ids": ids_parameter(mediator_ids, dialect), "now": now}
    rows = session.execute(_record_query(dialect), params).all()
    for mediator_id, slot, answered, unanswered, accepted, declined, log_minutes, sent in rows:
        record = found.get(mediator_id)
        if record is None:
            record = found[mediator_id] = Habits()
        if sent is not None:  # pending past its time
            record.add(time_slot(sent, tz), 0, 1)
            continue
        record.add(slot, answered, unanswered)
        record.accepted += accepted
        record.declined += declined
        record.log_minutes += log_minutes
    return found


@dataclass(frozen=True, slots=True)
class Tally:
    """A change to one mediator's totals in one time slot."""

    mediator_id: int
    slot: str
    answered: int = 0
    unanswered: int = 0
    accepted: int = 0
    declined: int = 0
    log_minutes: float = 0.0


_COUNTS = ("answered", "unanswered", "accepted", "declined", "log_minutes")


def add(session: Session, tallies: Sequence[Tally]) -> None:
    """Add `tallies` to the running totals: one upsert for them all.

    Rows go in a fixed order (mediator, slot), so two transactions that both
    touch the same mediators on PostgreSQL lock their rows in the same order
    and cannot deadlock.
    """
    merged: dict[tuple[int, str], list[float]] = {}
    for tally in tallies:
        counts = merged.setdefault((tally.mediator_id, tally.slot), [0, 0, 0, 0, 0.0])
        for i, name in enumerate(_COUNTS):
            counts[i] += getattr(tally, name)
    if not merged:
        return
    table: sa.Table = MediatorHabit.__table__  # type: ignore[attr-defined]
    insert = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    )
    statement = insert.on_conflict_do_update(
        index_elements=["mediator_id", "slot"],
        set_={name: table.c[name] + insert.excluded[name] for name in _COUNTS},
    )
    session.execute(
        statement,
        [
            {"mediator_id": key[0], "slot": key[1], **dict(zip(_COUNTS, counts, strict=True))}
            for key, counts in sorted(merged.items())
        ],
    )


def answer_tally(
    *,
    mediator_id: int,
    sent: datetime,
    answered_at: datetime,
    yes: bool,
    was_counted_unanswered: bool,
    policy: Policy,
    tz: tzinfo,
) -> Tally:
    """An answer to an offer sent at `sent`, in the waking minutes of `policy`.

    A late yes to an offer already marked expired (`was_counted_unanswered`)
    moves it from unanswered to answered.
    """
    minutes = max(awake_minutes(policy, sent, answered_at, tz), 0.5)
    return Tally(
        mediator_id,
        time_slot(sent, tz),
        answered=1,
        unanswered=-1 if was_counted_unanswered else 0,
        accepted=int(yes),
        declined=int(not yes),
        log_minutes=math.log(minutes),
    )


def count_answer(
    session: Session,
    offer: Offer,
    *,
    answered_at: datetime,
    yes: bool,
    was_expired: bool,
    policy: Policy,
    tz: tzinfo,
) -> None:
    """The mediator answered `offer` (accepted, late or not, or declined)."""
    if offer.wave <= 0:
        return
    add(
        session,
        [
            answer_tally(
                mediator_id=offer.mediator_id,
                sent=offer.created_at,
                answered_at=answered_at,
                yes=yes,
                was_counted_unanswered=was_expired,
                policy=policy,
                tz=tz,
            )
        ],
    )


def count_run_out(
    session: Session, offers: Sequence[tuple[int, int, datetime]], tz: tzinfo
) -> None:
    """Offers (mediator, wave, sent) that ran out unanswered and are now marked expired."""
    add(
        session,
        [Tally(m, time_slot(sent, tz), unanswered=1) for m, wave, sent in offers if wave > 0],
    )


def forget(session: Session, *, mediator_id: int) -> None:
    """An erased mediator's totals go: nobody offers them anything again."""
    session.execute(sa.delete(MediatorHabit).where(col(MediatorHabit.mediator_id) == mediator_id))


def record_tallies(session: Session, *, tz: tzinfo) -> list[Tally]:
    """The totals as the offers show them: what `count_answer` and `count_run_out` add up to.

    An answered offer counts by its status, and an accepted one the request
    later withdrew from them (cancelled) still counts as a yes, as it did
    when they said it; an offer withdrawn while pending told nothing. Each
    answer's waking minutes follow the policy of the offer's own request.
    Erased mediators are left out (`forget`).
    """
    held = sa.select(sa.literal(1)).where(col(Assignment.offer_id) == col(Offer.id)).exists()
    rows = session.execute(
        sa.select(
            col(Offer.mediator_id),
            col(Offer.status),
            col(Offer.created_at),
            col(Offer.responded_at),
            col(Request.policy),
            col(Organisation.policy),
            held,
        )
        .join(Request, col(Request.id) == col(Offer.request_id))
        .join(Organisation, col(Organisation.id) == col(Request.organisation_id))
        .join(Mediator, col(Mediator.id) == col(Offer.mediator_id))
        .where(
            col(Offer.wave) > 0,
            col(Mediator.erased_at).is_(None),
            col(Offer.status).in_((*ANSWERED, OfferStatus.expired, OfferStatus.withdrawn)),
        )
    ).all()
    policies: dict[str, Policy] = {}
    tallies: list[Tally] = []
    for mediator_id, status, sent, responded_at, request_policy, org_policy, took in rows:
        if status == OfferStatus.expired:
            tallies.append(Tally(mediator_id, time_slot(sent, tz), unanswered=1))
            continue
        if responded_at is None or (status == OfferStatus.withdrawn and not took):
            continue
        key = json.dumps([org_policy, request_policy], sort_keys=True)
        policy = policies.get(key)
        if policy is None:
            policy = policies[key] = policy_from(org_policy, request_policy)
        tallies.append(
            answer_tally(
                mediator_id=mediator_id,
                sent=sent,
                answered_at=responded_at,
                yes=status in YES or status == OfferStatus.withdrawn,
                was_counted_unanswered=False,
                policy=policy,
                tz=tz,
            )
        )
    return tallies


def rebuild(session: Session, *, tz: tzinfo) -> int:
    """The running totals computed afresh from the offers; returns how many rows."""
    tallies = record_tallies(session, tz=tz)
    session.execute(sa.delete(MediatorHabit))
    add(session, tallies)
    return len({(t.mediator_id, t.slot) for t in tallies})


def estimate(mediator_id: int, record: Habits, *, policy: Policy, slot: str) -> Estimate:
    """The posterior means for one mediator, for an offer sent in `slot`."""
    a0, b0 = policy.prior_answers
    in_slot, not_in_slot = record.slots.get(slot, [0, 0])
    # The slot's prior: the Beta prior updated by the offers of the other slots.
    elsewhere = (record.answered - in_slot + a0) / (
        record.answered + record.unanswered - in_slot - not_in_slot + a0 + b0
    )
    answer = (in_slot + SLOT_PRIOR_WEIGHT * elsewhere) / (in_slot + not_in_slot + SLOT_PRIOR_WEIGHT)
    y0, n0 = policy.prior_yes
    yes = (record.accepted + y0) / (record.accepted + record.declined + y0 + n0)
    weight = policy.prior_answer_weight
    log_sum = weight * math.log(policy.prior_answer_minutes) + record.log_minutes
    median = math.exp(log_sum / (weight + record.answered))
    return Estimate(
        mediator_id,
        answer,
        yes,
        median,
        record.answered + record.unanswered,
    )


def estimates(
    session: Session, mediator_ids: list[int], *, now: datetime, policy: Policy, tz: tzinfo
) -> dict[int, Estimate]:
    """The estimate of every mediator in `mediator_ids`, for an offer sent `now`."""
    slot = time_slot(now, tz)
    found = habits(session, mediator_ids, now=now, tz=tz)
    # Everyone without a record gets the priors: worked out once, not once per newcomer.
    prior = estimate(0, Habits(), policy=policy, slot=slot)
    return {
        m: estimate(m, found[m], policy=policy, slot=slot)
        if m in found
        else Estimate(m, prior.answer_chance, prior.yes_chance, prior.median_minutes, 0)
        for m in mediator_ids
    }


def compose_wave(
    candidates: list[int],
    chances: dict[int, float],
    *,
    first: frozenset[int],
    min_size: int,
    max_size: int,
    target: float,
    held_back: Sequence[int] = (),
) -> list[int]:
    """The next wave: as few offers as reach `target` chance that someone accepts in time.

    `candidates` come in the engine's order; `first` (this client's earlier
    mediator, the organisation's preferred ones) stay in front. The others
    are taken by their chance to accept within the wave, in steps of 5
    points so that the engine's order (fit, travel, fair share) decides
    between people alike. The wave holds between `min_size` and `max_size`.
    `held_back` (scarce people other requests need, in the order to ask them
    last) are asked only once nobody else is left, however few the others are.
    """
    held = set(held_back)
    front = [m for m in candidates if m in first]
    rest = [m for m in candidates if m not in first and m not in held]
    rest.sort(key=lambda m: -round(chances.get(m, 0.0) * 20))
    if not rest and not front:
        rest = [m for m in held_back if m in candidates]
    chosen: list[int] = []
    nobody = 1.0
    for mediator_id in front + rest:
        if len(chosen) >= max_size or (len(chosen) >= min_size and 1 - nobody >= target):
            break
        chosen.append(mediator_id)
        nobody *= 1 - chances.get(mediator_id, 0.0)
    return chosen


def chance_anyone_accepts(chances: list[float]) -> float:
    nobody = 1.0
    for chance in chances:
        nobody *= 1 - chance
    return 1 - nobody
