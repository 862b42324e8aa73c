"""Who answers: the estimate from each mediator's offers, its update, and waves composed from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.data import default_policy
from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.offers import estimate
from dispatch.offers.models import Offer, OfferStatus
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_lifecycle import file_request


def past_offer(
    request_id: int,
    mediator_id: int,
    sent: datetime,
    status: OfferStatus,
    *,
    after_minutes: float | None = None,
) -> Offer:
    responded = sent + timedelta(minutes=after_minutes) if after_minutes is not None else None
    return Offer(
        request_id=request_id,
        mediator_id=mediator_id,
        wave=1,
        token_hash=f"{request_id}-{mediator_id}-{sent.isoformat()}-{status}".ljust(64, "x")[:64],
        short_code="1000",
        created_at=sent,
        expires_at=sent + timedelta(minutes=60),
        responded_at=responded,
        status=status,
    )


def record(
    engine: Engine, request_id: int, mediator_id: int, now: datetime, answers: list[str]
) -> None:
    """Past offers, one a week before `now`: "yes"/"no" after 3 minutes, or "-" for silence.

    Written as a record on file, then the running totals built from the offers
    (`estimate.rebuild`), as the migration that introduced them does.
    """
    with Session(engine) as session:
        for day, answer in enumerate(answers, start=1):
            sent = now - timedelta(days=7 * day)  # same weekday and hour: the same slot
            status = {
                "yes": OfferStatus.accepted,
                "no": OfferStatus.declined,
                "-": OfferStatus.expired,
            }[answer]
            session.add(
                past_offer(
                    request_id,
                    mediator_id,
                    sent,
                    status,
                    after_minutes=None if answer == "-" else 3,
                )
            )
        session.flush()
        estimate.rebuild(session, tz=Settings().tz)
        session.commit()


def test_the_estimate_starts_from_the_prior_and_moves_with_each_answer(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    newcomer, quick, silent = make_pool(3)
    request_id = file_request(client, caseworker)["id"]
    now = clock.now()
    policy = default_policy()
    record(engine, request_id, quick, now, ["yes", "yes", "no", "yes"])
    record(engine, request_id, silent, now, ["-", "-", "-", "-"])
    with Session(engine) as session:
        found = estimate.estimates(
            session, [newcomer, quick, silent], now=now, policy=policy, tz=settings.tz
        )
    # Newcomer: the priors, Beta(2, 2) for answering and for yes, 30 minutes.
    assert found[newcomer].answer_chance == pytest.approx(0.5)
    assert found[newcomer].yes_chance == pytest.approx(0.5)
    assert found[newcomer].median_minutes == pytest.approx(30.0)
    # Quick: answered 4 of 4 ((4 + 2) / (4 + 4) overall, the same in the slot), 3 yes of 4.
    assert found[quick].answer_chance == pytest.approx(0.75)
    assert found[quick].yes_chance == pytest.approx((3 + 2) / (4 + 4))
    assert found[quick].median_minutes == pytest.approx((30**2 * 3**4) ** (1 / 6))
    assert found[silent].answer_chance == pytest.approx(2 / 8)
    assert (
        found[quick].accept_within(60)
        > found[newcomer].accept_within(60)
        > found[silent].accept_within(60)
        > 0
    )
    # One more answer moves the estimate by Beta's update, no more.
    record(engine, request_id, silent, now - timedelta(hours=1), ["yes"])
    with Session(engine) as session:
        again = estimate.estimates(session, [silent], now=now, policy=policy, tz=settings.tz)
    assert again[silent].answer_chance == pytest.approx(3 / 9)
    assert again[silent].yes_chance == pytest.approx(3 / 5)


def test_a_wave_is_as_small_as_the_target_allows_and_as_large_as_the_band() -> None:
    candidates = [1, 2, 3, 4, 5]
    sure = {1: 0.1, 2: 0.7, 3: 0.7, 4: 0.1, 5: 0.1}
    assert estimate.compose_wave(
        candidates, sure, first=frozenset(), min_size=1, max_size=5, target=0.8
    ) == [2, 3]
    unsure = dict.fromkeys(candidates, 0.1)
    assert estimate.compose_wave(
        candidates, unsure, first=frozenset(), min_size=1, max_size=3, target=0.8
    ) == [1, 2, 3]
    # The client's earlier mediator stays first, whatever their chance.
    assert estimate.compose_wave(
        candidates, sure, first=frozenset({5}), min_size=1, max_size=5, target=0.8
    ) == [5, 2, 3]


def test_people_who_answer_fast_are_asked_first_and_the_wave_is_smaller(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    outbox: Outbox,
) -> None:
    ids = make_pool(5)
    earlier = file_request(
        client, caseworker, start="2026-12-04T09:00:00+01:00", end="2026-12-04T10:00:00+01:00"
    )["id"]
    for mediator_id in ids[3:]:
        record(engine, earlier, mediator_id, clock.now(), ["yes"] * 10)
    for mediator_id in ids[:3]:
        record(engine, earlier, mediator_id, clock.now(), ["-"] * 3)
    created = file_request(client, caseworker)  # 25 h ahead: up to 3 offers for 60 minutes
    offers = outbox.offers(created["id"])
    # One who always answered within minutes is likely enough (target 0.55): a wave of one.
    assert len(offers) == 1 and offers[0].mediator_id in ids[3:]
