"""A seeded busy week of dispatch, for bench_dispatch.py.

Requests arrive over five working days and go through the real workflow
(`requests.service.create_request` + `offers.flows.dispatch_new_request`, the
offer links through `find_offer` / `accept_offer` / `decline_offer`, the
deadlines through `deadlines.run_due`) on a ManualClock, one transaction per
step as the app and the scheduler would run them, on a temporary SQLite file.
The loop is event driven: it moves the clock to whichever comes first, the
next arrival or mediator answer, or the next due deadline in the database.

Mediators behave as a seeded function of (seed, request, mediator), so the
same person asked about the same request does the same thing under every
policy (common random numbers): the policies differ only in whom they ask
and when. An offer is read from the outbox like a phone reads its SMS: the
link token is taken from the message body.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 30 November 2026: no clock change in the fortnight the simulation spans.
WEEK_START = datetime(2026, 11, 30, tzinfo=BERLIN)
LINK = re.compile(r"/o/([A-Za-z0-9_\-]+)")
#: Lead-time bands of the generated requests: (label, share, lowest hours, highest hours).
#: They line up with the bands of config/policy.toml, so each band shows one wave shape.
LEAD_MIX = [
    ("under 4 h", 0.15, 1.0, 4.0),
    ("4-48 h", 0.25, 4.0, 48.0),
    ("2-7 days", 0.60, 48.0, 168.0),
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Persona:
    """One kind of mediator: how often they answer at all, how fast, how often they decline."""

    name: str
    share: float
    never_answer: float
    median_minutes: float
    decline: float


#: Mediators who differ, as in real pools: a few answer within minutes, many
#: sometimes, some rarely at all. Who is which is seeded per (seed, mediator)
#: and unknown to the service; it sees only their answers.
PERSONAS = (
    Persona("fast", 0.20, never_answer=0.10, median_minutes=5.0, decline=0.20),
    Persona("sometimes", 0.50, never_answer=0.40, median_minutes=30.0, decline=0.35),
    Persona("rarely", 0.30, never_answer=0.85, median_minutes=90.0, decline=0.50),
)


@dataclass(frozen=True)
class Behaviour:
    """How an offered mediator answers (seeded per request and mediator, habits per mediator)."""

    sigma: float = 1.0  # lognormal: p90 about 3.6 x the median
    #: Local hours in which people read and answer; a delay counts only these hours.
    awake_from: int = 7
    awake_until: int = 21
    personas: tuple[Persona, ...] = PERSONAS

    def describe(self) -> str:
        kinds = "; ".join(
            f"{p.share:.0%} {p.name} (never answer {p.never_answer:.0%}, median "
            f"{p.median_minutes:g} min, decline {p.decline:.0%})"
            for p in self.personas
        )
        return (
            f"mediators differ: {kinds}; lognormal delays (sigma {self.sigma:g}) counted in "
            f"waking hours {self.awake_from:02d}-{self.awake_until:02d}"
        )

    def persona(self, seed: int, mediator_id: int) -> Persona:
        rng = random.Random(f"{seed}/person/{mediator_id}")
        return rng.choices(self.personas, weights=[p.share for p in self.personas])[0]

    def answer(self, seed: int, request_index: int, mediator_id: int) -> tuple[str | None, float]:
        """("accept" | "decline" | None for silence, delay in waking minutes)."""
        person = self.persona(seed, mediator_id)
        rng = random.Random(f"{seed}/{request_index}/{mediator_id}")
        if rng.random() < person.never_answer:
            return None, 0.0
        delay = person.median_minutes * math.exp(self.sigma * rng.gauss(0.0, 1.0))
        return ("decline" if rng.random() < person.decline else "accept"), delay

    def asleep(self, moment: datetime) -> bool:
        """Outside the waking hours: nobody reads an SMS now."""
        return not self.awake_from <= moment.astimezone(BERLIN).hour < self.awake_until

    def answered_at(self, sent: datetime, delay_minutes: float) -> datetime:
        """`sent` plus the delay, counting only waking hours (a 22:00 SMS is read after 07:00)."""
        moment = sent.astimezone(BERLIN)
        left = timedelta(minutes=delay_minutes)
        while True:
            wake = moment.replace(hour=self.awake_from, minute=0, second=0, microsecond=0)
            moment = max(moment, wake)
            sleep = moment.replace(hour=self.awake_until, minute=0, second=0, microsecond=0)
            if moment >= sleep:
                moment = wake + timedelta(days=1)
                continue
            if moment + left <= sleep:
                return moment + left
            left -= sleep - moment
            moment = wake + timedelta(days=1)


@dataclass(frozen=True)
class Arrival:
    index: int
    at: datetime
    band: str
    body: dict[str, Any]  # a RequestCreate, as JSON


@dataclass(frozen=True)
class SimPolicy:
    name: str
    #: Organisation.policy of the caseworkers' organisation.
    organisation_policy: dict[str, Any] | None = None
    #: Every request asks for broadcast (Request.policy {"broadcast": true}).
    broadcast: bool = False
    #: Knows who would say yes (the simulation's behaviour) and asks them, one at a time.
    oracle: bool = False


def policies() -> list[SimPolicy]:
    """The default, broadcast to all, and one at a time (band sizes 1, same lifetimes)."""
    from config.data import default_policy

    one_at_a_time = {
        "bands": [
            {
                "lead_under_hours": band.lead_under_hours,
                "size": 1,
                "offer_minutes": band.offer_minutes,
            }
            for band in default_policy().bands
        ]
    }
    return [
        SimPolicy("default"),
        SimPolicy("broadcast", broadcast=True),
        SimPolicy("one at a time", organisation_policy=one_at_a_time),
        SimPolicy("oracle", organisation_policy=one_at_a_time, oracle=True),
    ]


def working_hours_start(
    rng: random.Random, arrival: datetime, low_hours: float, high_hours: float
) -> datetime | None:
    """A start `low_hours`..`high_hours` after arrival: a weekday, 08:00-18:00, quarter hours."""
    for _ in range(1_000):
        start = arrival + timedelta(hours=rng.uniform(low_hours, high_hours))
        start = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
        local = start.astimezone(BERLIN)
        lead_hours = (start - arrival).total_seconds() / 3600
        if local.weekday() < 5 and 8 <= local.hour < 18 and low_hours <= lead_hours < high_hours:
            return start
    return None  # e.g. "within 48 h" on a Friday afternoon


def extra_policies() -> list[SimPolicy]:
    """Variants to try against the default: urgent offers open longer."""
    from config.data import default_policy

    bands = [
        {
            "lead_under_hours": band.lead_under_hours,
            "size": band.size,
            "offer_minutes": 45 if band.lead_under_hours <= 4 else band.offer_minutes,
        }
        for band in default_policy().bands
    ]
    return [SimPolicy("urgent 45 min", organisation_policy={"bands": bands})]


def town_pool(count: int) -> list[Any]:  # list[MediatorCreate]
    """The intake bench's pool (the demo people, varied), each copy of a person with other hours.

    Copies of one demo person would otherwise all be free at the same times,
    so a language's speakers would be free together or not at all.
    """
    from bench_intake import pool_payloads

    from dispatch.demo import PEOPLE, SLOT_PATTERNS
    from dispatch.mediators.schemas import MediatorCreate

    pool = []
    for index, mediator in enumerate(pool_payloads(count, today=WEEK_START.date())):
        pattern = SLOT_PATTERNS[(index + index // len(PEOPLE)) % len(SLOT_PATTERNS)]
        slots = [
            {
                "weekday": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day],
                "start": start,
                "end": end,
            }
            for day, start, end in pattern
        ]
        data = {
            **mediator.model_dump(mode="json", exclude_unset=True),
            "availability": slots,
            # One in five allows offers for urgent jobs at night.
            "night_messages": index % 5 == 0,
        }
        pool.append(MediatorCreate.model_validate(data))
    return pool


def town_place_ids() -> list[int]:
    """The ids the demo places get in a fresh database (bench_intake.seed adds them first)."""
    from dispatch.demo import PLACES

    return list(range(1, len(PLACES) + 1))


def week_of_arrivals(seed: int, count: int, place_ids: list[int]) -> list[Arrival]:
    """`count` requests spread over Monday to Friday office hours, in time order.

    Each is the intake bench's plausible request (its language mix, modes,
    places, qualifications and client references, its durations) moved to
    a start in working hours at a lead time drawn from LEAD_MIX.
    """
    from bench_intake import request_body

    rng = random.Random(seed)
    times = sorted(
        WEEK_START + timedelta(days=rng.randrange(5), hours=rng.uniform(8.0, 16.5))
        for _ in range(count)
    )
    arrivals = []
    for index, at in enumerate(times):
        at = at.replace(second=0, microsecond=0)
        start = None
        while start is None:
            band, _, low, high = rng.choices(
                LEAD_MIX, weights=[share for _, share, _, _ in LEAD_MIX]
            )[0]
            start = working_hours_start(rng, at, low, high)
        arrivals.append(Arrival(index, at, band, moved(request_body(rng, place_ids, at), start)))
    return arrivals


def moved(body: dict[str, Any], start: datetime) -> dict[str, Any]:
    """The request body with its start moved to `start`, its duration kept."""
    duration = datetime.fromisoformat(body["end"]) - datetime.fromisoformat(body["start"])
    return {**body, "start": start.isoformat(), "end": (start + duration).isoformat()}


# --------------------------------------------------------------------------- results


def nearest_rank(values: list[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    return data[min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))]


@dataclass
class BandFigures:
    requests: int = 0
    filled: int = 0
    fill_minutes: list[float] = field(default_factory=list)


@dataclass
class WeekFigures:
    policy: str
    requests: int
    filled: int
    #: Requests that had at least one feasible candidate (got a first wave).
    with_candidates: int
    fill_minutes: list[float]
    offers: int
    offer_messages: int
    messages: int
    waves_per_filled: float
    answers: Counter[str]
    #: Mediators who said yes and were told the job was gone (filled or expired).
    late_yes: int
    #: Requests that ended unfilled although someone said yes after their offer expired.
    unfilled_after_late_yes: int
    #: Offers sent while people sleep (see Behaviour), and requests given up then.
    night_offers: int
    #: Of those, offers to someone who did not allow night messages.
    night_offers_not_allowed: int
    #: Yeses refused although nobody held the request and there was still time.
    late_yes_lost: int
    unfilled_at_night: int
    by_band: dict[str, BandFigures]
    problems: list[str]
    steps: int
    seconds: float

    def figures(self) -> dict[str, float]:
        filled = self.filled or float("nan")
        return {
            "fill_rate": self.filled / self.requests,
            "fill_rate_feasible": self.filled / self.with_candidates
            if self.with_candidates
            else float("nan"),
            "ttf_p50_min": nearest_rank(self.fill_minutes, 50),
            "ttf_p90_min": nearest_rank(self.fill_minutes, 90),
            "offers_per_filled": self.offers / filled,
            "offer_messages_per_filled": self.offer_messages / filled,
            "messages_per_filled": self.messages / filled,
            "late_yes_per_filled": self.late_yes / filled,
            "waves_per_filled": self.waves_per_filled,
            "unfilled_after_late_yes": float(self.unfilled_after_late_yes),
            "night_offers": float(self.night_offers),
            "night_offers_not_allowed": float(self.night_offers_not_allowed),
            "late_yes_lost": float(self.late_yes_lost),
            "unfilled_at_night": float(self.unfilled_at_night),
        }


# --------------------------------------------------------------------------- the week


class _ErrorCounter(logging.Handler):
    """Counts what the workflow logs as errors (run_due logs a failed step and retries it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def add_history(
    engine: sa.Engine,
    *,
    arrivals: list[Arrival],
    caseworker_id: int,
    pool: int,
    seed: int,
    behaviour: Behaviour,
    weeks: int,
) -> None:
    """`weeks` of earlier offers (two a week per mediator) answered as each person does.

    The service's own records before the week: the same for every policy;
    only a policy that reads them (the default's estimate) gains from them.
    They hang off one past request, cancelled, outside the week's figures.
    """
    from dispatch.offers import estimate
    from dispatch.offers.models import Offer, OfferStatus
    from dispatch.requests import service as requests_service
    from dispatch.requests.models import RequestStatus
    from dispatch.requests.schemas import RequestCreate
    from dispatch.storage import unit_of_work
    from dispatch.users.models import User

    if weeks <= 0:
        return
    began = WEEK_START - timedelta(weeks=weeks)
    rng = random.Random(f"{seed}/history")
    with unit_of_work(engine) as session:
        body = moved(arrivals[0].body, began + timedelta(days=1, hours=10))
        request, _ = requests_service.create_request(
            session,
            data=RequestCreate.model_validate(body),
            actor=session.get(User, caseworker_id),  # type: ignore[arg-type]
            now=began,
        )
        request.status = RequestStatus.cancelled
        session.add(request)
        number = 0
        for mediator_id in range(1, pool + 1):
            for _ in range(2 * weeks):
                number += 1
                sent = began + timedelta(days=rng.randrange(7 * weeks), hours=rng.uniform(8, 17))
                action, delay = behaviour.answer(seed, -number, mediator_id)
                answered = behaviour.answered_at(sent, delay) if action else None
                session.add(
                    Offer(
                        request_id=request.id,
                        mediator_id=mediator_id,
                        wave=1,
                        token_hash=f"history-{number:056d}",
                        short_code="0000",
                        created_at=sent,
                        expires_at=sent + timedelta(hours=1),
                        responded_at=answered,
                        status={
                            None: OfferStatus.expired,
                            "accept": OfferStatus.accepted,
                            "decline": OfferStatus.declined,
                        }[action],
                    )
                )
        # Offers written as rows, not answered through the flows: the running totals the
        # estimate reads (`MediatorHabit`, since 5c37607) are computed from them, as the
        # migration does for a pool's existing records. Without it every mediator looked
        # like a newcomer and the default's waves grew (0.44 -> 0.60 of broadcast's).
        session.flush()
        estimate.rebuild(session, tz=BERLIN)


class _Oracle:
    """Knows who would say yes and how soon: the estimate is replaced by the truth."""

    def __init__(self, behaviour: Behaviour, seed: int, index_of: dict[int, int]) -> None:
        self.behaviour, self.seed, self.index_of = behaviour, seed, index_of
        self.request_id = 0

    def install(self) -> list[tuple[Any, str, Any]]:
        from dispatch.offers import estimate, service

        originals = [
            (service, "ranked_with_preferred", service.ranked_with_preferred),
            (estimate, "estimates", estimate.estimates),
        ]
        ranked = service.ranked_with_preferred

        def remember(session: Any, request: Any, **kwargs: Any) -> Any:
            self.request_id = request.id
            return ranked(session, request, **kwargs)

        oracle = self

        def truth(_session: Any, mediator_ids: list[int], **_: Any) -> dict[int, Any]:
            index = oracle.index_of[oracle.request_id]
            found = {}
            for m in mediator_ids:
                action, delay = oracle.behaviour.answer(oracle.seed, index, m)
                found[m] = _Truth(m, 1.0, 1.0 if action == "accept" else 0.0, delay or 1.0, 0)
            return found

        service.ranked_with_preferred = remember  # type: ignore[assignment]
        estimate.estimates = truth  # type: ignore[assignment]
        return originals


def _truth_class() -> Any:
    from dispatch.offers.estimate import Estimate

    class Truth(Estimate):
        def accept_within(self, minutes: float) -> float:
            if self.yes_chance == 0.0:
                return 0.0
            return 0.99 if self.median_minutes <= minutes else 0.5

    return Truth


_Truth: Any = None


def simulate(
    policy: SimPolicy,
    *,
    arrivals: list[Arrival],
    pool: int,
    seed: int,
    behaviour: Behaviour,
    directory: Path,
    history_weeks: int = 4,
) -> WeekFigures:
    """Run the week under `policy` on a fresh SQLite file in `directory`."""
    global _Truth
    _Truth = _Truth or _truth_class()
    from bench_intake import seed as seed_database
    from pydantic import SecretStr
    from sqlmodel import col, select

    from config.settings import Settings
    from dispatch.clock import ManualClock
    from dispatch.deadlines import runner as deadlines
    from dispatch.mediators import service as mediator_service
    from dispatch.offers import flows, links
    from dispatch.offers import policy as offer_policy
    from dispatch.outbox.models import Message
    from dispatch.requests import service as requests_service
    from dispatch.requests.models import Request, RequestStatus
    from dispatch.requests.schemas import RequestCreate
    from dispatch.storage import make_engine, unit_of_work
    from dispatch.users.models import Organisation, User

    url = f"sqlite:///{directory}/{policy.name.replace(' ', '-')}.db"
    prepared = seed_database(url, 0)  # staff, token, places; the pool comes next
    assert prepared.place_ids == town_place_ids(), "the arrivals name places by id"
    engine = make_engine(url)
    settings = Settings(
        database_url=url,
        environment="test",
        secret_key=SecretStr("s" * 40),
        public_base_url="https://sprachpool.test",
        coordinator_email="integration@beckum.example",
        run_background_jobs=False,
        _env_file=None,
    )  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        for data in town_pool(pool):
            mediator_service.create_mediator(
                session,
                data=data,
                actor=None,
                now=arrivals[0].at - timedelta(days=30),
                settings=settings,
            )
    with unit_of_work(engine) as session:
        caseworker = session.exec(select(User)).one()
        caseworker_id = caseworker.id
        organisation = session.get(Organisation, caseworker.organisation_id)
        assert organisation is not None
        organisation.policy = policy.organisation_policy
        session.add(organisation)
    add_history(
        engine,
        arrivals=arrivals,
        caseworker_id=caseworker_id,
        pool=pool,
        seed=seed,
        behaviour=behaviour,
        weeks=history_weeks,
    )

    errors = _ErrorCounter()
    logging.getLogger("sprachpool").addHandler(errors)
    clock = ManualClock(arrivals[0].at)
    sequence = itertools.count()
    events: list[tuple[datetime, int, str, Any]] = [
        (a.at, next(sequence), "arrive", a) for a in arrivals
    ]
    heapq.heapify(events)
    index_of: dict[int, int] = {}  # request id -> arrival index
    band_of: dict[int, str] = {}
    answers: Counter[str] = Counter()
    late_yes = 0
    late_yes_lost = 0
    patched: list[tuple[Any, str, Any]] = []
    if policy.oracle:
        patched = _Oracle(behaviour, seed, index_of).install()
    expired_yes: set[int] = set()  # requests with a yes that came after its offer expired
    last_message_id = 0
    steps = 0
    began = time.perf_counter()

    def collect_offers() -> None:
        """Read new offer messages as the mediators' phones would, and schedule their answers."""
        nonlocal last_message_id
        with unit_of_work(engine) as session:
            rows = [
                (int(m.id), int(m.offer_id), int(m.recipient_id), int(m.request_id), m.body)  # type: ignore[arg-type]
                for m in session.exec(
                    select(Message)
                    .where(col(Message.id) > last_message_id, Message.kind == "offer")
                    .order_by(col(Message.id))
                )
            ]
        seen: set[int] = set()
        for message_id, offer_id, mediator_id, request_id, body in rows:
            last_message_id = max(last_message_id, message_id)
            if offer_id in seen:  # the email carries the same link as the SMS
                continue
            seen.add(offer_id)
            match = LINK.search(body)
            assert match is not None, f"offer message {message_id} has no link"
            action, delay = behaviour.answer(seed, index_of[request_id], mediator_id)
            if action is None:
                answers["silent"] += 1
                continue
            heapq.heappush(
                events,
                (behaviour.answered_at(clock.now(), delay), next(sequence), action, match.group(1)),
            )

    def seeking() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(Request)
                    .where(col(Request.status).in_((RequestStatus.open, RequestStatus.offered)))
                ).scalar_one()
            )

    try:
        while True:
            due = _next_due(engine)
            if not events and (due is None or not seeking()):
                break
            if due is not None and (not events or due <= events[0][0]):
                clock.set(max(clock.now(), due))
                while deadlines.run_due(engine, clock=clock, settings=settings) == 100:
                    pass
                steps += 1
            else:
                at, _, kind, payload = heapq.heappop(events)
                clock.set(max(clock.now(), at))
                now = clock.now()
                steps += 1
                with unit_of_work(engine, immediate=True) as session:
                    if kind == "arrive":
                        actor = session.get(User, caseworker_id)
                        body = {**payload.body, "broadcast": policy.broadcast}
                        request, _ = requests_service.create_request(
                            session, data=RequestCreate.model_validate(body), actor=actor, now=now
                        )  # type: ignore[arg-type]
                        index_of[request.id] = payload.index  # type: ignore[index]
                        band_of[request.id] = payload.band  # type: ignore[index]
                        flows.dispatch_new_request(session, request, now=now, settings=settings)
                    else:
                        offer = links.find_offer(session, payload, now=now)
                        if offer is None:
                            outcome = "unknown link"
                        elif kind == "accept":
                            outcome = str(
                                flows.accept_offer(session, offer, now=now, settings=settings)
                            )
                        else:
                            outcome = str(
                                flows.decline_offer(session, offer, now=now, settings=settings)
                            )
                        answers[f"{kind}: {outcome}"] += 1
                        if kind == "accept" and outcome in ("filled", "expired", "withdrawn"):
                            late_yes += 1
                        if kind == "accept" and outcome == "expired":
                            expired_yes.add(offer.request_id)  # type: ignore[union-attr]
                        if kind == "accept" and outcome in ("filled", "expired", "withdrawn"):
                            asked_for = session.get(Request, offer.request_id)  # type: ignore[union-attr]
                            if asked_for is not None and offer_policy.still_seeking(
                                session, asked_for, now=now
                            ):
                                late_yes_lost += 1
            collect_offers()
    finally:
        logging.getLogger("sprachpool").removeHandler(errors)
        for owner, name, original in patched:
            setattr(owner, name, original)
    seconds = time.perf_counter() - began
    figures = _read_figures(
        engine,
        policy=policy,
        band_of=band_of,
        answers=answers,
        late_yes=late_yes,
        late_yes_lost=late_yes_lost,
        expired_yes=expired_yes,
        behaviour=behaviour,
        steps=steps,
        seconds=seconds,
    )
    figures.problems = check_invariants(engine) + [f"logged error: {m}" for m in errors.records[:5]]
    engine.dispose()
    return figures


def _next_due(engine: sa.Engine) -> datetime | None:
    from sqlmodel import Session, col, select

    from dispatch.deadlines.models import Deadline

    with Session(engine) as session:
        row = session.exec(
            select(Deadline)
            .where(col(Deadline.done_at).is_(None))
            .order_by(col(Deadline.due_at))
            .limit(1)
        ).first()
        return row.due_at if row else None


def _read_figures(
    engine: sa.Engine,
    *,
    policy: SimPolicy,
    band_of: dict[int, str],
    answers: Counter[str],
    late_yes: int,
    late_yes_lost: int,
    expired_yes: set[int],
    behaviour: Behaviour,
    steps: int,
    seconds: float,
) -> WeekFigures:
    from sqlmodel import Session, select

    from dispatch.mediators.models import Mediator
    from dispatch.offers.models import Offer
    from dispatch.outbox.models import Message
    from dispatch.requests.models import Request, RequestStatus

    with Session(engine) as session:
        # The week's own requests (not the history's).
        requests = [r for r in session.exec(select(Request)) if r.created_at >= WEEK_START]
        week = {r.id for r in requests}
        offers = [o for o in session.exec(select(Offer)) if o.request_id in week]
        night_ok = {m.id for m in session.exec(select(Mediator)) if m.night_messages}
        in_week = Message.created_at >= WEEK_START  # type: ignore[operator]
        offer_messages = len(
            session.exec(select(Message.id).where(Message.kind == "offer", in_week)).all()
        )
        messages = len(session.exec(select(Message.id).where(in_week)).all())
    filled = [r for r in requests if r.status in (RequestStatus.assigned, RequestStatus.completed)]
    asked = {o.request_id for o in offers}
    waves: dict[int, int] = {}
    for offer in offers:
        waves[offer.request_id] = max(waves.get(offer.request_id, 0), offer.wave)
    by_band: dict[str, BandFigures] = {label: BandFigures() for label, _, _, _ in LEAD_MIX}
    fill_minutes = []
    for request in requests:
        band = by_band[band_of[request.id]]  # type: ignore[index]
        band.requests += 1
        if request in filled:
            minutes = (request.filled_at - request.created_at).total_seconds() / 60  # type: ignore[operator]
            band.filled += 1
            band.fill_minutes.append(minutes)
            fill_minutes.append(minutes)
    return WeekFigures(
        policy=policy.name,
        requests=len(requests),
        filled=len(filled),
        with_candidates=len(asked),
        fill_minutes=fill_minutes,
        offers=len(offers),
        offer_messages=offer_messages,
        messages=messages,
        waves_per_filled=statistics.mean(waves[r.id] for r in filled) if filled else float("nan"),  # type: ignore[index]
        answers=answers,
        late_yes=late_yes,
        unfilled_after_late_yes=sum(
            1 for r in requests if r.id in expired_yes and r.status == RequestStatus.unfilled
        ),
        night_offers=sum(1 for o in offers if behaviour.asleep(o.created_at)),
        night_offers_not_allowed=sum(
            1 for o in offers if behaviour.asleep(o.created_at) and o.mediator_id not in night_ok
        ),
        late_yes_lost=late_yes_lost,
        unfilled_at_night=sum(
            1
            for r in requests
            if r.status == RequestStatus.unfilled and behaviour.asleep(r.updated_at)
        ),
        by_band=by_band,
        problems=[],
        steps=steps,
        seconds=seconds,
    )


def check_invariants(engine: sa.Engine) -> list[str]:
    """What must hold after the week whatever the policy; each breach is a service bug."""
    from sqlmodel import Session, select

    from config.data import Policy
    from dispatch.offers import policy as offer_policy
    from dispatch.offers.models import Assignment, Offer, OfferStatus
    from dispatch.requests.models import Request, RequestStatus

    problems: list[str] = []
    with Session(engine) as session:
        requests = {
            int(r.id): r  # type: ignore[arg-type]
            for r in session.exec(select(Request))
            if r.created_at >= WEEK_START  # not the history's request
        }
        offers = [o for o in session.exec(select(Offer)) if o.request_id in requests]
        live = [a for a in session.exec(select(Assignment)) if a.cancelled_at is None]
        policy: dict[int, Policy] = {
            rid: offer_policy.policy_for(session, r) for rid, r in requests.items()
        }
    accepted = Counter(o.request_id for o in offers if o.status == OfferStatus.accepted)
    holders = Counter(a.request_id for a in live)
    pairs = Counter((o.request_id, o.mediator_id) for o in offers)
    waves = Counter((o.request_id, o.wave) for o in offers)
    sent_at = {(o.request_id, o.wave): o.created_at for o in offers}
    for (request_id, wave), size in waves.items():
        allowed, _ = offer_policy.wave_shape(
            policy[request_id], requests[request_id], sent_at[request_id, wave]
        )
        if allowed is not None and size > allowed:
            problems.append(
                f"request {request_id} wave {wave}: {size} offers, the policy allows {allowed}"
            )
    for request_id, request in requests.items():
        if request.status in (RequestStatus.open, RequestStatus.offered):
            problems.append(f"request {request_id} still {request.status} at the end")
        assigned = request.status in (RequestStatus.assigned, RequestStatus.completed)
        if (
            assigned != (accepted[request_id] == 1 and holders[request_id] == 1)
            or accepted[request_id] > 1
        ):
            problems.append(
                f"request {request_id} {request.status}: {accepted[request_id]} accepted offers, "
                f"{holders[request_id]} live assignments"
            )
    problems += [
        f"mediator {m} asked twice for request {r}" for (r, m), n in pairs.items() if n > 1
    ]
    for offer in offers:
        request = requests[offer.request_id]
        if offer.expires_at > offer_policy.offer_deadline(policy[offer.request_id], request):
            problems.append(
                f"offer {offer.id} outlives start - "
                f"{policy[offer.request_id].latest_offer_before_start_minutes} min"
            )
        if offer.status == OfferStatus.pending:
            problems.append(f"offer {offer.id} still pending at the end")
    jobs: dict[int, list[Request]] = {}
    for assignment in live:
        jobs.setdefault(assignment.mediator_id, []).append(requests[assignment.request_id])
    for mediator_id, held in jobs.items():
        held.sort(key=lambda r: r.start)
        for first, second in itertools.pairwise(held):
            if second.start < first.end:
                problems.append(
                    f"mediator {mediator_id} holds overlapping requests {first.id} and {second.id}"
                )
    return problems
