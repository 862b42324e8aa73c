"""Races decided by the database.

Many accepts at once, accept against cancel, decline against expiry.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines import runner as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.errors import Conflict
from dispatch.mediators import flows as mediator_flows
from dispatch.mediators.models import Mediator
from dispatch.mediators.schemas import MediatorUpdate
from dispatch.offers import flows, links
from dispatch.offers.models import Assignment, Offer, OfferDeadlineKind
from dispatch.requests import flows as request_flows
from dispatch.requests.models import Request
from dispatch.storage import make_engine
from dispatch.users.models import User
from tests.conftest import Staff, get_row, request_payload
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import token_of


def writer(engine: Engine) -> Session:
    """A session like a route's: on SQLite its transaction takes the write lock at BEGIN."""
    bind = (
        engine.execution_options(sqlite_begin="IMMEDIATE")
        if engine.dialect.name == "sqlite"
        else engine
    )
    return Session(bind, expire_on_commit=False)


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together by a barrier."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported in the results, so the test shows it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def say_yes(engine: Engine, token: str, *, clock: ManualClock, settings: Settings) -> str:
    """The mediator's yes by the offer's link, in a unit of work of its own; its outcome."""
    with writer(engine) as session:
        offer = links.find_offer(session, token, now=clock.now())
        assert offer is not None
        outcome = flows.accept_offer(session, offer, now=clock.now(), settings=settings)
        session.commit()
        return outcome.value


@pytest.fixture
def racing_engine(database_url: str, engine: Engine) -> Iterator[Engine]:
    """One connection per thread, so the database, not a pool, decides who waits."""
    racing = make_engine(database_url, poolclass=sa.pool.NullPool)
    yield racing
    racing.dispose()


def test_fifty_concurrent_accepts_give_exactly_one_assignment(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    make_pool(50)
    created = client.post(
        "/api/v1/requests", json=request_payload(broadcast=True), headers=caseworker.headers
    ).json()
    tokens = list(outbox.links().values())
    assert len(tokens) == 50

    def accept(index: int) -> str:
        return say_yes(racing_engine, tokens[index], clock=clock, settings=settings)

    outcomes = Counter(at_once(50, accept))
    assert outcomes == {"accepted": 1, "filled": 49}, outcomes
    with Session(racing_engine) as session:
        assignments = list(
            session.exec(select(Assignment).where(Assignment.request_id == created["id"]))
        )
        assert len(assignments) == 1
        statuses = Counter(o.status for o in session.exec(select(Offer)))
        assert statuses == {"accepted": 1, "withdrawn": 49}
        winner = session.exec(select(Offer).where(Offer.status == "accepted")).one()
        assert (
            assignments[0].offer_id == winner.id
            and assignments[0].mediator_id == winner.mediator_id
        )
    assert len(outbox.messages("assignment_confirmed_mediator")) == 1


def test_accept_against_cancel_never_leaves_a_live_assignment_on_a_cancelled_request(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    make_pool(3)
    for round_ in range(6):
        start = f"2026-12-0{1 + round_ % 5}T{9 + round_:02d}:00:00+01:00"
        end = f"2026-12-0{1 + round_ % 5}T{10 + round_:02d}:00:00+01:00"
        created = client.post(
            "/api/v1/requests",
            json=request_payload(start=start, end=end),
            headers=caseworker.headers,
        ).json()
        with Session(racing_engine) as session:
            offer_ids = [
                o.id for o in session.exec(select(Offer).where(Offer.request_id == created["id"]))
            ]
            actor = get_row(session, User, caseworker.user_id)

        def act(
            index: int,
            created: dict[str, Any] = created,
            actor: User = actor,
            offer_ids: list[int] = offer_ids,
        ) -> str:
            with writer(racing_engine) as session:
                if index == 0:
                    request_flows.cancel_request(
                        session,
                        request_id=created["id"],
                        actor=actor,
                        reason=None,
                        now=clock.now(),
                        settings=settings,
                    )
                    session.commit()
                    return "cancelled"
                offer = get_row(session, Offer, offer_ids[index - 1])
                outcome = flows.accept_offer(session, offer, now=clock.now(), settings=settings)
                session.commit()
                return outcome.value

        results = at_once(1 + len(offer_ids), act)
        assert not [r for r in results if isinstance(r, Exception)], results
        with Session(racing_engine) as session:
            assert get_row(session, Request, created["id"]).status == "cancelled"
            live = session.exec(
                select(Assignment).where(
                    Assignment.request_id == created["id"], col(Assignment.cancelled_at).is_(None)
                )
            ).all()
            assert live == []
            assert {
                o.status
                for o in session.exec(select(Offer).where(Offer.request_id == created["id"]))
            } <= {"withdrawn", "accepted"}


def test_declines_and_the_expiry_job_at_once_send_one_next_wave(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    from datetime import timedelta

    make_pool(9)
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    tokens = list(outbox.links().values())
    clock.advance(timedelta(minutes=59, seconds=59))

    def act(index: int) -> str:
        if index == len(tokens):
            clock_later = ManualClock(clock.now() + timedelta(seconds=1))
            return f"fired {deadlines.run_due(racing_engine, clock=clock_later, settings=settings)}"
        with writer(racing_engine) as session:
            offer = links.find_offer(session, tokens[index], now=clock.now())
            assert offer is not None
            outcome = flows.decline_offer(session, offer, now=clock.now(), settings=settings)
            session.commit()
            return outcome.value

    results = at_once(len(tokens) + 1, act)
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(racing_engine) as session:
        waves = Counter(
            o.wave for o in session.exec(select(Offer).where(Offer.request_id == created["id"]))
        )
        assert waves[2] == 3 and 3 not in waves, waves
        # One wave's expiry stays open: the second's (the request's own deadlines, the
        # early notice and the erasure of its data, are other kinds).
        open_waves = session.exec(
            select(Deadline).where(
                col(Deadline.done_at).is_(None), Deadline.kind == OfferDeadlineKind.wave_expiry
            )
        ).all()
        assert [d.sequence for d in open_waves] == [2]


@pytest.mark.parametrize("rule", ["busy", "over_limit"])
def test_one_mediator_saying_yes_to_many_at_once_gets_only_what_fits(
    rule: str,
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    """Each yes is checked against the jobs the mediator holds (a clash, or the room left
    under a monthly limit); several at once must not each pass before another commits."""
    tuesday = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
    if rule == "busy":
        make_pool(1)  # six 90-minute jobs on Tuesday ten minutes apart: each clashes with all
        starts = [tuesday + timedelta(minutes=10 * i) for i in range(6)]
    else:
        make_pool(1, monthly_limit="30.00")  # room for one 90-minute job of 22.50 euros
        starts = [tuesday + timedelta(days=day) for day in (0, 1, 2, 3, 6, 7)]  # weekdays
    for start in starts:
        end = start + timedelta(minutes=90)
        filed = client.post(
            "/api/v1/requests",
            json=request_payload(start=start.isoformat(), end=end.isoformat()),
            headers=caseworker.headers,
        )
        assert filed.status_code == 201, filed.text
    tokens = [token_of(outbox, m.offer_id) for m in outbox.messages("offer", "sms")]
    assert len(tokens) == 6

    def accept(index: int) -> str:
        return say_yes(racing_engine, tokens[index], clock=clock, settings=settings)

    outcomes = Counter(at_once(6, accept))
    # The one taken withdraws the offers it rules out (SQLite: the yeses take turns, so
    # the others find theirs withdrawn); a yes already waiting for the mediator's row
    # keeps its request, and the check at the button refuses it (PostgreSQL).
    assert outcomes["accepted"] == 1 and set(outcomes) <= {"accepted", rule, "withdrawn"}
    with Session(racing_engine) as session:
        assert len(session.exec(select(Assignment)).all()) == 1


def test_a_yes_and_the_coordinator_giving_an_overlapping_job_at_once_leave_one_job(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    (mediator,) = make_pool(1)
    offered = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    overlapping = client.post(
        "/api/v1/requests",
        json=request_payload(start="2026-12-01T09:30:00+01:00", end="2026-12-01T11:00:00+01:00"),
        headers=caseworker.headers,
    ).json()
    (offer,) = outbox.offers(offered["id"])
    token = token_of(outbox, offer.id)

    def act(index: int) -> str:
        if index == 0:
            return say_yes(racing_engine, token, clock=clock, settings=settings)
        with writer(racing_engine) as session:
            try:
                flows.assign_directly(
                    session,
                    request_id=overlapping["id"],
                    mediator_id=mediator,
                    actor=get_row(session, User, coordinator.user_id),
                    now=clock.now(),
                    settings=settings,
                )
            except Conflict:
                return "refused"
            session.commit()
            return "assigned"

    outcomes = sorted(at_once(2, act))
    assert outcomes in (["accepted", "refused"], ["assigned", "busy"]), outcomes
    with Session(racing_engine) as session:
        assert len(session.exec(select(Assignment)).all()) == 1


@pytest.mark.parametrize("by", ["stop", "coordinator"])
def test_a_pause_and_a_yes_at_the_same_moment_both_go_through(
    by: str,
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    racing_engine: Engine,
    clock: ManualClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A yes locks the request, then the mediator; a pause (the mediator's STOP, or the
    coordinator's) must lock in the same order.

    The yes is held between its two locks until the pause is written (it waits at
    most 3 s for that). Had the pause written the mediator's row first and then
    waited for the request, each would wait for the other and PostgreSQL would fail
    one of them as a deadlock.
    """
    (mediator_id,) = make_pool(1)
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    (offer,) = outbox.offers(created["id"])
    token = token_of(outbox, offer.id)
    yes_holds_the_request, stop_wrote_the_pause = threading.Event(), threading.Event()
    clash_with_held = flows._clash_with_held
    # The step after the pause is written: it locks the requests of the open offers.
    step = "decline_open_offers" if by == "stop" else "withdraw_open_offers"
    after_the_pause = getattr(flows, step)

    def clash_after_the_stop(*args: Any, **kwargs: Any) -> Any:
        yes_holds_the_request.set()
        stop_wrote_the_pause.wait(timeout=3)
        return clash_with_held(*args, **kwargs)

    def once_the_pause_is_written(session: Session, **kwargs: Any) -> int:
        session.flush()  # the pause written: the mediator's row is locked
        stop_wrote_the_pause.set()
        count: int = after_the_pause(session, **kwargs)
        return count

    monkeypatch.setattr(flows, "_clash_with_held", clash_after_the_stop)
    monkeypatch.setattr(flows, step, once_the_pause_is_written)

    def act(index: int) -> str:
        if index == 0:
            return say_yes(racing_engine, token, clock=clock, settings=settings)
        yes_holds_the_request.wait(timeout=10)
        with writer(racing_engine) as session:
            if by == "stop":
                mediator = get_row(session, Mediator, mediator_id)
                flows.pause_self(
                    session, mediator, paused=True, now=clock.now(), settings=settings, via="sms"
                )
            else:
                mediator_flows.update_mediator(
                    session,
                    mediator_id=mediator_id,
                    data=MediatorUpdate(paused=True),
                    actor=get_row(session, User, coordinator.user_id),
                    now=clock.now(),
                    settings=settings,
                )
            session.commit()
            return "paused"

    assert at_once(2, act) == ["accepted", "paused"]
    with Session(racing_engine) as session:
        assert get_row(session, Mediator, mediator_id).paused
        assert len(session.exec(select(Assignment)).all()) == 1
