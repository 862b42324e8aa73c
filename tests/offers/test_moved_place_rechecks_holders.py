"""A moved place re-checks whoever holds or is offered a job there by the engine's rules
that depend on the point: the longest way (`travel_radius`), the time to travel between
their jobs (`busy`) and, for an open offer, getting there in time from home (`too_late`).

What a person already did not satisfy at the old point (an override put them there)
does not release them; only what the move breaks does. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.audit import AuditEvent
from dispatch.offers.models import Assignment
from dispatch.requests.models import Request, RequestStatus
from tests.conftest import Staff, get_row
from tests.offers.conftest import Outbox
from tests.offers.test_busy_mediators import AHLEN, BECKUM, assign, in_person
from tests.offers.test_lifecycle import file_request
from tests.offers.test_place_changes_reach_the_holder import change

#: 25 km north of the job centre (51.7571, 8.0458): 49 minutes by car, within 50 km.
#: (The tests' mediators drive, but for the cyclist.)
NORTH_25_KM = {"lat": 51.9819, "lon": 8.0458}
#: 40 km north of the job centre: 78 minutes by car, still within 50 km.
NORTH_40_KM = {"lat": 52.1168, "lon": 8.0458}


@pytest.fixture
def town_hall(client: TestClient, coordinator: Staff) -> int:
    """Beckum's town hall, 0.4 km from the job centre."""
    response = client.post("/api/v1/places", json=BECKUM, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def status_of(engine: Engine, request_id: int) -> RequestStatus:
    with Session(engine) as session:
        return get_row(session, Request, request_id).status


def holder_of(engine: Engine, request_id: int) -> int | None:
    with Session(engine) as session:
        return session.exec(
            select(Assignment.mediator_id).where(
                Assignment.request_id == request_id, col(Assignment.cancelled_at).is_(None)
            )
        ).first()


def release_codes(engine: Engine) -> list[list[str]]:
    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "assignment.cancel")
            .order_by(col(AuditEvent.id))
        ).all()
        return [list((event.details or {})["codes"]) for event in events]


def test_a_holder_whose_job_before_leaves_too_little_time_to_reach_the_moved_place_is_released(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    town_hall: int,
    engine: Engine,
) -> None:
    holder, *_ = make_pool(3, travel_mode="car", channels=["sms", "email"])
    before = file_request(client, caseworker, **in_person(town_hall, "08:00", "08:40"))
    moved = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assign(client, coordinator, before["id"], holder)
    assign(client, coordinator, moved["id"], holder)

    change(client, coordinator, place_id, **NORTH_25_KM)  # 49 minutes away, 20 to get there

    assert status_of(engine, moved["id"]) == RequestStatus.offered
    assert holder_of(engine, before["id"]) == holder  # the job at the town hall stays
    [released] = outbox.messages("released_after_change_mediator", "email")
    assert released.recipient_id == holder
    assert "den Ort des Einsatzes" in released.body
    assert "Zeit" in released.body and "weiter entfernt" not in released.body
    assert release_codes(engine) == [["busy"]]
    assert outbox.messages("request_changed_mediator") == []
    [told] = outbox.messages("assignment_cancelled_caseworker", "email")
    assert told.request_id == moved["id"]
    asked = {o.mediator_id for o in outbox.offers(moved["id"]) if o.status == "pending"}
    assert asked and holder not in asked


def test_a_holder_whose_job_before_leaves_enough_time_keeps_the_moved_job(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    town_hall: int,
    engine: Engine,
) -> None:
    holder, *_ = make_pool(3, travel_mode="car")
    before = file_request(client, caseworker, **in_person(town_hall, "07:00", "07:55"))
    moved = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assign(client, coordinator, before["id"], holder)
    assign(client, coordinator, moved["id"], holder)

    change(client, coordinator, place_id, **NORTH_25_KM)  # 49 minutes away, 65 to get there

    assert release_codes(engine) == []
    assert holder_of(engine, moved["id"]) == holder
    assert outbox.messages("released_after_change_mediator") == []
    assert [m.recipient_id for m in outbox.messages("request_changed_mediator", "sms")] == [holder]


def test_a_holder_whose_job_after_can_no_longer_be_reached_from_the_moved_place_is_released(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    town_hall: int,
    engine: Engine,
) -> None:
    holder, *_ = make_pool(3, travel_mode="car")
    moved = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    after = file_request(client, caseworker, **in_person(town_hall, "11:00", "12:00"))
    assign(client, coordinator, moved["id"], holder)
    assign(client, coordinator, after["id"], holder)

    change(client, coordinator, place_id, **NORTH_25_KM)

    assert holder_of(engine, moved["id"]) != holder
    assert holder_of(engine, after["id"]) == holder
    assert release_codes(engine) == [["busy"]]


def test_a_holder_put_on_a_tight_journey_by_an_override_stays_when_the_place_moves(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    (cyclist,) = make_pool(1, travel_mode="bike")
    ahlen = client.post("/api/v1/places", json=AHLEN, headers=coordinator.headers).json()["id"]
    before = file_request(client, caseworker, **in_person(ahlen, "08:00", "08:40"))
    moved = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assign(client, coordinator, before["id"], cyclist)
    # 54 minutes by bike from Ahlen, 20 to get there: the coordinator's call.
    assign(client, coordinator, moved["id"], cyclist)

    change(client, coordinator, place_id, **NORTH_25_KM)

    assert holder_of(engine, moved["id"]) == cyclist
    assert outbox.messages("released_after_change_mediator") == []
    assert [m.recipient_id for m in outbox.messages("request_changed_mediator", "sms")] == [cyclist]


def test_back_to_back_jobs_at_the_moved_place_move_together_and_stay_with_their_holder(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    holder, *_ = make_pool(3, travel_mode="car")
    first = file_request(client, caseworker, **in_person(place_id, "08:00", "09:00"))
    second = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assign(client, coordinator, first["id"], holder)
    assign(client, coordinator, second["id"], holder)

    change(client, coordinator, place_id, **NORTH_25_KM)

    assert holder_of(engine, first["id"]) == holder
    assert holder_of(engine, second["id"]) == holder
    assert outbox.messages("released_after_change_mediator") == []


def test_an_open_offer_to_a_mediator_whose_other_job_now_collides_is_withdrawn(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    town_hall: int,
) -> None:
    busy, *free = make_pool(3, travel_mode="car")
    before = file_request(client, caseworker, **in_person(town_hall, "08:00", "08:40"))
    assign(client, coordinator, before["id"], busy)
    moved = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assert {o.mediator_id for o in outbox.offers(moved["id"])} == {busy, *free}

    change(client, coordinator, place_id, **NORTH_25_KM)

    status = {o.mediator_id: o.status for o in outbox.offers(moved["id"])}
    assert status == {busy: "withdrawn", free[0]: "pending", free[1]: "pending"}
    withdrawn = outbox.messages("offer_withdrawn", "sms")
    assert [m.recipient_id for m in withdrawn if m.request_id == moved["id"]] == [busy]


def test_an_open_offer_for_a_job_starting_soon_is_withdrawn_when_the_new_point_is_too_far(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(3, travel_mode="car")
    soon = file_request(
        client, caseworker, mode="in_person", place_id=place_id,
        start="2026-11-30T09:00:00+01:00", end="2026-11-30T10:00:00+01:00",
    )  # fmt: skip
    first_wave = outbox.offers(soon["id"])
    assert first_wave

    change(client, coordinator, place_id, **NORTH_40_KM)  # 78 minutes by car, 60 left

    assert {o.status for o in outbox.offers(soon["id"]) if o.id in {f.id for f in first_wave}} == {
        "withdrawn"
    }
    assert not [o for o in outbox.offers(soon["id"]) if o.status == "pending"]


def test_a_holder_of_a_job_starting_soon_keeps_it_when_the_new_point_is_too_far_to_be_on_time(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    """Deliberately not released: see ``follow_moved_place`` (they may be on the way)."""
    holder, *_ = make_pool(3, travel_mode="car")
    soon = file_request(
        client, caseworker, mode="in_person", place_id=place_id,
        start="2026-11-30T08:30:00+01:00", end="2026-11-30T09:30:00+01:00",
    )  # fmt: skip
    assign(client, coordinator, soon["id"], holder)

    change(client, coordinator, place_id, **NORTH_40_KM)  # 78 minutes by car, 30 left

    assert holder_of(engine, soon["id"]) == holder
    assert outbox.messages("released_after_change_mediator") == []
    [told] = outbox.messages("request_changed_mediator", "sms")
    assert told.recipient_id == holder


def test_a_holder_put_beyond_their_longest_way_by_an_override_stays_when_the_place_moves(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    (near,) = make_pool(1, travel_mode="car", max_travel_km=10)
    muenster = client.post(
        "/api/v1/places",
        json={"name": "Stadthaus Münster", "lat": 51.9625, "lon": 7.6256},
        headers=coordinator.headers,
    ).json()["id"]
    job = file_request(client, caseworker, **in_person(muenster, "13:00", "14:00"))
    assign(client, coordinator, job["id"], near)  # 33 km, beyond their 10: the coordinator's call

    change(client, coordinator, muenster, lat=51.9600, lon=7.6200)  # the pin put right

    assert holder_of(engine, job["id"]) == near
    assert outbox.messages("released_after_change_mediator") == []


def test_a_paused_holder_who_kept_their_job_is_released_when_the_place_moves_beyond_their_way(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    """Out of the pool for new work, still the holder: checked all the same."""
    holder, *_ = make_pool(3, travel_mode="car", max_travel_km=10)
    job = file_request(client, caseworker, **in_person(place_id, "09:00", "10:30"))
    assign(client, coordinator, job["id"], holder)
    paused = client.patch(
        f"/api/v1/mediators/{holder}", json={"paused": True}, headers=coordinator.headers
    )
    assert paused.status_code == 200, paused.text

    change(client, coordinator, place_id, **NORTH_25_KM)

    assert holder_of(engine, job["id"]) is None
    assert release_codes(engine) == [["travel_radius"]]
    [released] = outbox.messages("released_after_change_mediator", "sms")
    assert released.recipient_id == holder
