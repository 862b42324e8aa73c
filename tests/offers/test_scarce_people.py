"""Scarce people are protected: whom other open requests cannot do without is asked last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

import matching
from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.offers import estimate
from dispatch.offers import service as offer_service
from dispatch.planning.limits import NO_LIMITS
from dispatch.requests import conflicts
from dispatch.requests.models import Request
from dispatch.storage import unit_of_work
from dispatch.users.models import Organisation
from tests.conftest import Staff, get_row
from tests.offers.conftest import Outbox, put_on_lists, tigrinya_speaker
from tests.offers.test_lifecycle import file_request


def add_tigrinya_and_arabic_speaker(client: TestClient, coordinator: Staff) -> int:
    """X, who speaks Tigrinya and Arabic (the others made by `make_pool` speak Tigrinya)."""
    response = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(
            7,
            languages=[
                {"language": "ti", "level": "native"},
                {"language": "ar", "level": "native"},
            ],
        ),
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    x: int = response.json()["id"]
    return x


def test_scarcity_is_each_request_s_share_of_hope_per_mediator() -> None:
    lean = matching.scarcity([["x", "y"], ["x"], [], ["y", "z", "x", "w"]])
    assert lean == {"x": 0.5 + 1.0 + 0.25, "y": 0.5 + 0.25, "z": 0.25, "w": 0.25}
    assert matching.scarcity([]) == {}


def test_held_back_people_come_only_when_nobody_else_is_left() -> None:
    chances = {1: 0.9, 2: 0.1, 3: 0.1}
    wave = estimate.compose_wave(
        [1, 2, 3], chances, first=frozenset(), min_size=1, max_size=3, target=0.65, held_back=[1]
    )
    assert wave == [2, 3]
    # Only the scarce are left: the least needed first.
    assert estimate.compose_wave(
        [1, 3], chances, first=frozenset(), min_size=1, max_size=1, target=0.65, held_back=[3, 1]
    ) == [3]
    # The client's earlier mediator is not held back by the caller; the wave stays theirs.
    assert estimate.compose_wave(
        [1, 2], chances, first=frozenset({2}), min_size=1, max_size=3, target=0.99, held_back=[1]
    ) == [2]


def test_the_only_candidate_of_another_request_is_asked_after_the_others(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    # X speaks Tigrinya and Arabic, Y only Tigrinya.
    x = add_tigrinya_and_arabic_speaker(client, coordinator)
    (y,) = make_pool(1)
    # B (Arabic, the same day): X is its only candidate.
    b = file_request(
        client,
        caseworker,
        language="ar",
        start="2026-12-01T13:00:00+01:00",
        end="2026-12-01T14:00:00+01:00",
    )
    assert [o.mediator_id for o in outbox.offers(b["id"])] == [x]
    # A (Tigrinya): candidates X and Y; its first wave goes to Y only.
    a = file_request(client, caseworker)
    first = outbox.offers(a["id"])
    assert [(o.mediator_id, o.wave) for o in first] == [(y, 1)]
    # Y declines: now X is asked.
    y_token = outbox.links()[str(tigrinya_speaker(1)["phone"])]
    assert client.post(f"/o/{y_token}/decline", follow_redirects=False).status_code == 303
    assert [(o.mediator_id, o.wave, o.status) for o in outbox.offers(a["id"])] == [
        (y, 1, "declined"),
        (x, 2, "pending"),
    ]


def test_nobody_is_held_back_when_the_other_request_has_others_too(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(4)
    file_request(
        client, caseworker, start="2026-12-01T13:00:00+01:00", end="2026-12-01T14:00:00+01:00"
    )
    a = file_request(client, caseworker)
    # Four candidates for the other request (0.25 each): below protect_at, the wave as before.
    assert len(outbox.offers(a["id"])) == 3


def test_no_other_request_weighed_when_the_policy_weighs_none(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    # As above, but the organisation weighs at most 0 other requests (max_others): each
    # weighed request costs a ranking while the wave is composed, so the policy caps it.
    with unit_of_work(engine) as session:
        organisation = get_row(session, Organisation, caseworker.organisation_id)
        organisation.policy = {"scarce_max_others": 0}
        session.add(organisation)
    x = add_tigrinya_and_arabic_speaker(client, coordinator)
    (y,) = make_pool(1)
    file_request(
        client,
        caseworker,
        language="ar",
        start="2026-12-01T13:00:00+01:00",
        end="2026-12-01T14:00:00+01:00",
    )
    a = file_request(client, caseworker)
    assert sorted(o.mediator_id for o in outbox.offers(a["id"])) == sorted([x, y])


def test_the_other_requests_weighed_are_those_starting_nearest_to_the_job(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    # X speaks Tigrinya and Arabic, Y only Tigrinya.
    x = add_tigrinya_and_arabic_speaker(client, coordinator)
    (y,) = make_pool(1)
    # Far (a day after the job, Arabic): X is its only candidate. Filed first, so a lower id.
    file_request(
        client,
        caseworker,
        language="ar",
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    # Near (two hours after the job, Tigrinya): X and Y.
    file_request(
        client, caseworker, start="2026-12-01T11:00:00+01:00", end="2026-12-01T12:00:00+01:00"
    )
    job = file_request(client, caseworker)  # Tuesday 09:00

    def lean(most: int) -> dict[int, float]:
        with unit_of_work(engine) as session:
            return offer_service.scarcity(
                session,
                get_row(session, Request, job["id"]),
                [x, y],
                window=timedelta(hours=48),
                most=most,
                now=clock.now(),
                settings=settings,
                limit_reached=NO_LIMITS,
            )

    assert lean(1) == {x: 0.5, y: 0.5}  # only the nearest request is weighed
    assert lean(2) == {x: 1.5, y: 0.5}
    assert lean(0) == {}


def test_each_other_request_s_candidates_are_whom_its_ranking_lists(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    other_caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    # Scarcity counts the others' candidates without ranking them: the same people.
    from sqlmodel import Session

    from dispatch.requests.models import ClientExclusion

    pool = make_pool(6)
    put_on_lists(engine, caseworker, clock.now(), excluded=pool[0], preferred=pool[1])
    with Session(engine) as session:
        for staff, ref, mediator in (
            (caseworker, "JC-1", pool[2]),
            (other_caseworker, "JC-1", pool[3]),
            (caseworker, "JC-2", pool[4]),
        ):
            session.add(
                ClientExclusion(
                    organisation_id=staff.organisation_id,
                    client_ref=ref,
                    mediator_id=mediator,
                    marked_by="caseworker",
                    created_at=clock.now(),
                )
            )
        session.commit()
    filed = [
        file_request(
            client,
            staff,
            client_ref=ref,
            start=f"2026-12-01T{hour:02d}:00:00+01:00",
            end=f"2026-12-01T{hour:02d}:45:00+01:00",
        )
        for staff, ref, hour in (
            (caseworker, "JC-1", 9),
            (caseworker, "JC-2", 11),
            (caseworker, None, 13),
            (other_caseworker, "JC-1", 15),
        )
    ]
    found: list[set[int]] = []
    with unit_of_work(engine) as session:
        requests = [get_row(session, Request, r["id"]) for r in filed]
        marks = conflicts.not_for_clients(session, requests)
        for request in requests:
            ranked, _ = offer_service.ranked_with_preferred(
                session,
                request,
                now=clock.now(),
                settings=settings,
                limit_reached=NO_LIMITS,
            )
            ids = offer_service.candidate_ids(
                session,
                request,
                now=clock.now(),
                settings=settings,
                limit_reached=NO_LIMITS,
                rows=None,
                reads=offer_service.WaveReads(),
                not_for_client=marks[request.id],
            )
            assert sorted(ids) == sorted(ranked), request.client_ref
            found.append(set(ids))
    assert found == [
        {pool[1], pool[3], pool[4], pool[5]},  # JC-1 here: pool[2] marked, pool[0] excluded
        {pool[1], pool[2], pool[3], pool[5]},  # JC-2: pool[4] marked
        {pool[1], pool[2], pool[3], pool[4], pool[5]},
        set(pool) - {pool[3]},  # the other organisation: its own JC-1 mark, no lists
    ]
