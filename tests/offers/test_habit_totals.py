"""Who answers from running totals: every answer and every offer that runs out moves them.

The totals (`mediator_habit`) stand in for reading each candidate's whole
record of offers on every wave. They must say what the offers say: after
every kind of answer the service knows, they equal what `estimate.rebuild`
computes afresh from the offers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.offers import estimate
from dispatch.offers.models import MediatorHabit, Offer
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_lifecycle import file_request

Totals = dict[tuple[int, str], tuple[int, int, int, int, float]]


def stored(engine: Engine) -> Totals:
    with Session(engine) as session:
        return {
            (h.mediator_id, h.slot): (
                h.answered,
                h.unanswered,
                h.accepted,
                h.declined,
                h.log_minutes,
            )
            for h in session.exec(select(MediatorHabit))
        }


def from_the_offers(engine: Engine, settings: Settings) -> Totals:
    totals: Totals = {}
    with Session(engine) as session:
        for tally in estimate.record_tallies(session, tz=settings.tz):
            key = (tally.mediator_id, tally.slot)
            a, u, y, n, minutes = totals.get(key, (0, 0, 0, 0, 0.0))
            totals[key] = (
                a + tally.answered,
                u + tally.unanswered,
                y + tally.accepted,
                n + tally.declined,
                minutes + tally.log_minutes,
            )
    return totals


def assert_same(kept: Totals, rebuilt: Totals) -> None:
    assert {k: v[:4] for k, v in kept.items() if any(v[:4])} == {
        k: v[:4] for k, v in rebuilt.items() if any(v[:4])
    }
    for key, values in rebuilt.items():
        assert kept[key][4] == pytest.approx(values[4], abs=1e-9)


def test_the_totals_follow_every_answer_as_the_offers_record_it(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    clock: ManualClock,
    engine: Engine,
    settings: Settings,
) -> None:
    make_pool(6)
    # Declined by all three, then the second wave runs out, then a late yes to it.
    declined = file_request(client, caseworker)
    first = outbox.links()
    for token in first.values():
        client.post(f"/o/{token}/decline", follow_redirects=False)
    advance(minutes=61)
    second = {m: t for m, t in outbox.links().items() if t not in first.values()}
    assert {o.status for o in outbox.offers(declined["id"]) if o.wave == 2} == {"expired"}
    assert len(second) == 3
    late_token = next(iter(second.values()))
    assert client.post(f"/o/{late_token}/accept", follow_redirects=False).status_code == 303
    late_taker = next(
        o.mediator_id for o in outbox.offers(declined["id"]) if o.status == "accepted"
    )
    # Accepted in time, then the request is cancelled (a yes stays a yes).
    seen = set(outbox.links().values())
    cancelled = file_request(
        client, caseworker, start="2026-12-02T09:00:00+01:00", end="2026-12-02T10:00:00+01:00"
    )
    token = next(t for t in outbox.links().values() if t not in seen)
    clock.advance(timedelta(minutes=7))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    assert (
        client.post(
            f"/api/v1/requests/{cancelled['id']}/cancel", headers=caseworker.headers
        ).status_code
        == 200
    )
    # Accepted, then given back.
    seen = set(outbox.links().values())
    file_request(
        client, caseworker, start="2026-12-03T09:00:00+01:00", end="2026-12-03T10:00:00+01:00"
    )
    token = next(t for t in outbox.links().values() if t not in seen)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    client.post(
        f"/o/{token}/cancel", data={"reason": "krank", "sure": "yes"}, follow_redirects=False
    )

    kept = stored(engine)
    assert_same(kept, from_the_offers(engine, settings))
    answered, unanswered, accepted, declined_count, _ = (
        sum(v[i] for v in kept.values()) for i in range(5)
    )
    assert (answered, accepted, declined_count) == (6, 3, 3)
    # The second wave's three offers ran out; the late yes took one back from unanswered.
    assert unanswered == 2
    with Session(engine) as session:
        found = estimate.habits(session, [late_taker], now=clock.now(), tz=settings.tz)
    late = found[late_taker]
    assert (late.answered, late.unanswered, late.accepted, late.slots) == (1, 0, 1, {"day": [1, 0]})


def test_an_offer_past_its_time_counts_as_unanswered_before_it_is_marked_expired(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
    engine: Engine,
    settings: Settings,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    asked = [o.mediator_id for o in outbox.offers(created["id"])]
    clock.advance(timedelta(minutes=61))  # no deadline job has run: still "pending"
    assert {o.status for o in outbox.offers(created["id"])} == {"pending"}
    with Session(engine) as session:
        found = estimate.habits(session, asked, now=clock.now(), tz=settings.tz)
        before = estimate.habits(
            session, asked, now=clock.now() - timedelta(minutes=2), tz=settings.tz
        )
    assert [found[m].unanswered for m in asked] == [1] * len(asked)
    assert before == {}
    assert stored(engine) == {}


def test_an_erased_mediator_s_totals_are_gone(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    client.post(f"/o/{next(iter(outbox.links().values()))}/decline", follow_redirects=False)
    mediator_id = next(
        o.mediator_id for o in outbox.offers(created["id"]) if o.status == "declined"
    )
    assert {m for m, _ in stored(engine)} == {mediator_id}
    response = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    assert stored(engine) == {}
    with Session(engine) as session:
        assert (
            session.exec(
                select(sa.func.count()).select_from(Offer).where(Offer.mediator_id == mediator_id)
            ).one()
            == 1
        ), "the offer itself stays, as the record of what happened"
