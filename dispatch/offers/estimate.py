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
left out.

The chance that someone accepts within `t` minutes is
``answer * yes * P(time to answer <= t)``, the time lognormal around the
typical time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache

import sqlalchemy as sa
from sqlmodel import Session, col

from config.data import Policy
from dispatch.offers.models import Offer, OfferStatus
from dispatch.offers.policy import awake_minutes
from dispatch.planning.service import among_ids, ids_parameter

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
    answer_minutes: list[float] = field(default_factory=list)
    #: Per time slot: (answered, unanswered).
    slots: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


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
def _record_query(
    dialect: str,
) -> sa.Select[int, OfferStatus, datetime, datetime, datetime | None]:
    """Offers asked of some mediators before `now`, five columns: built once per backend.

    Not Offer rows: a busy mediator's record runs to hundreds of offers, and
    building an ORM object for each cost more than the estimate. Parameters:
    `ids` (as `planning.ids_parameter`), `now`.
    """
    return sa.select(
        col(Offer.mediator_id),
        col(Offer.status),
        col(Offer.created_at),
        col(Offer.expires_at),
        col(Offer.responded_at),
    ).where(
        among_ids(col(Offer.mediator_id), dialect),
        col(Offer.wave) > 0,  # wave 0: the coordinator assigned directly, nobody was asked
        col(Offer.created_at) < sa.bindparam("now"),
    )


def habits(
    session: Session, mediator_ids: list[int], *, now: datetime, policy: Policy, tz: tzinfo
) -> dict[int, Habits]:
    """Each mediator's record of answered and unanswered offers, up to `now`."""
    found: dict[int, Habits] = {m: Habits() for m in mediator_ids}
    if not mediator_ids:
        return found
    dialect = session.get_bind().dialect.name
    rows = session.execute(
        _record_query(dialect), {"ids": ids_parameter(mediator_ids, dialect), "now": now}
    ).all()
    for mediator_id, status, created_at, expires_at, responded_at in rows:
        record = found[mediator_id]
        slot = record.slots[time_slot(created_at, tz)]
        if status in ANSWERED and responded_at is not None:
            record.answered += 1
            slot[0] += 1
            if status in YES:
                record.accepted += 1
            else:
                record.declined += 1
            minutes = awake_minutes(policy, created_at, responded_at, tz)
            record.answer_minutes.append(max(minutes, 0.5))
        elif status == OfferStatus.expired or (status == OfferStatus.pending and expires_at <= now):
            record.unanswered += 1
            slot[1] += 1
    return found


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
    log_sum = weight * math.log(policy.prior_answer_minutes) + sum(
        math.log(m) for m in record.answer_minutes
    )
    median = math.exp(log_sum / (weight + len(record.answer_minutes)))
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
    return {
        m: estimate(m, record, policy=policy, slot=slot)
        for m, record in habits(session, mediator_ids, now=now, policy=policy, tz=tz).items()
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
