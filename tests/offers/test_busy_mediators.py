"""A mediator who already holds a job is not offered one that clashes with it (issue 11).

"Clashes" as the engine's rules say: the two overlap, or both are in person
and the way between them takes longer than the gap. Such a mediator is left
out of the wave; where an override creates the case anyway, their offer page
says so instead of showing the accept button. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Staff
from tests.offers.conftest import LINK, Outbox
from tests.offers.test_lifecycle import file_request

#: Two places 10.3 km apart: 54 minutes by bike, 21 by car.
BECKUM = {"name": "Rathaus Beckum", "address": "Weststraße 46", "lat": 51.7553, "lon": 8.0403}
AHLEN = {"name": "Rathaus Ahlen", "address": "Westenmauer 10", "lat": 51.7633, "lon": 7.8912}


@pytest.fixture
def places(client: TestClient, coordinator: Staff) -> dict[str, int]:
    ids = {}
    for key, body in (("beckum", BECKUM), ("ahlen", AHLEN)):
        response = client.post("/api/v1/places", json=body, headers=coordinator.headers)
        assert response.status_code == 201, response.text
        ids[key] = int(response.json()["id"])
    return ids


def assign(client: TestClient, coordinator: Staff, request_id: int, mediator_id: int) -> None:
    response = client.post(
        f"/api/v1/requests/{request_id}/assign",
        json={"mediator_id": mediator_id},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text


def offered(outbox: Outbox, request_id: int) -> set[int]:
    return {o.mediator_id for o in outbox.offers(request_id)}


def in_person(place_id: int, start: str, end: str) -> dict[str, object]:
    return {
        "mode": "in_person",
        "place_id": place_id,
        "start": f"2026-12-01T{start}:00+01:00",
        "end": f"2026-12-01T{end}:00+01:00",
    }


def test_a_held_job_that_leaves_no_time_to_travel_keeps_the_mediator_out_of_the_wave(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    places: dict[str, int],
    outbox: Outbox,
) -> None:
    cyclist, *others = make_pool(4, travel_mode="bike")
    morning = file_request(
        client, caseworker, broadcast=True, **in_person(places["beckum"], "09:00", "10:00")
    )
    assign(client, coordinator, morning["id"], cyclist)

    # In Ahlen 15 minutes later: 55 minutes by bike is too far.
    too_far = file_request(
        client, caseworker, broadcast=True, **in_person(places["ahlen"], "10:15", "11:00")
    )
    # By phone straight after, or in Ahlen two hours later: both fit.
    by_phone = file_request(
        client,
        caseworker,
        broadcast=True,
        start="2026-12-01T10:00:00+01:00",
        end="2026-12-01T10:30:00+01:00",
    )
    later = file_request(
        client, caseworker, broadcast=True, **in_person(places["ahlen"], "12:00", "13:00")
    )

    assert cyclist not in offered(outbox, too_far["id"])
    assert set(others) <= offered(outbox, too_far["id"])
    assert cyclist in offered(outbox, by_phone["id"])
    assert cyclist in offered(outbox, later["id"])
    ranking = client.get(
        f"/api/v1/requests/{too_far['id']}/candidates", headers=coordinator.headers
    ).json()
    (excluded,) = [e for e in ranking["excluded"] if e["mediator_id"] == cyclist]
    assert [r["code"] for r in excluded["reasons"]] == ["busy"]
    assert "min away" in excluded["reasons"][0]["message"]


def test_an_overlapping_held_job_keeps_the_mediator_out_of_every_later_wave(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    holder, *others = make_pool(6)
    held = file_request(client, caseworker, broadcast=True)  # Tuesday 09:00-10:30
    assign(client, coordinator, held["id"], holder)
    overlapping = file_request(
        client, caseworker, start="2026-12-01T10:00:00+01:00", end="2026-12-01T11:00:00+01:00"
    )
    advance(minutes=61)  # the first wave runs out: the next goes to the rest
    assert len({o.wave for o in outbox.offers(overlapping["id"])}) == 2
    assert holder not in offered(outbox, overlapping["id"])


def test_the_offer_page_says_before_the_button_when_an_override_made_the_mediator_busy(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    places: dict[str, int],
    outbox: Outbox,
) -> None:
    (cyclist,) = make_pool(1, travel_mode="bike")
    waiting = file_request(client, caseworker, **in_person(places["ahlen"], "10:15", "11:00"))
    overlapping = file_request(
        client, caseworker, start="2026-12-01T09:30:00+01:00", end="2026-12-01T10:30:00+01:00"
    )
    tokens = {}
    for request in (waiting, overlapping):
        (offer,) = outbox.offers(request["id"])
        (sms,) = [m for m in outbox.messages("offer", "sms") if m.offer_id == offer.id]
        match = LINK.search(sms.body)
        assert match
        tokens[request["id"]] = match.group(1)
    before = client.get(f"/o/{tokens[waiting['id']]}")
    assert "Zusagen" in before.text and "schon einen Einsatz" not in before.text

    # The coordinator gives the cyclist a job in Beckum until 10:00: Ahlen at 10:15 is out of reach.
    morning = file_request(client, caseworker, **in_person(places["beckum"], "09:00", "10:00"))
    assign(client, coordinator, morning["id"], cyclist)

    page = client.get(f"/o/{tokens[waiting['id']]}")
    assert page.status_code == 200
    assert "Sie haben schon einen Einsatz am 01.12. von 09:00 bis 10:00 Uhr" in page.text
    assert "etwa 54 Minuten" in page.text
    assert "Zusagen" not in page.text and "Absagen" in page.text
    refused = client.post(f"/o/{tokens[waiting['id']]}/accept", follow_redirects=False)
    assert refused.status_code == 409  # the engine's rule holds at the button too
    # An overlap says so the same way.
    page = client.get(f"/o/{tokens[overlapping['id']]}")
    assert (
        "Sie haben zu dieser Zeit schon einen Einsatz (01.12. von 09:00 bis 10:00 Uhr)" in page.text
    )
    assert "Zusagen" not in page.text
    # The mediator can still decline.
    declined = client.post(
        f"/o/{tokens[waiting['id']]}/decline", data={"reason": ""}, follow_redirects=False
    )
    assert declined.status_code == 303


def test_an_override_onto_an_overlapping_job_is_refused_but_a_tight_journey_is_allowed(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    places: dict[str, int],
) -> None:
    (cyclist,) = make_pool(1, travel_mode="bike")
    morning = file_request(client, caseworker, **in_person(places["beckum"], "09:00", "10:00"))
    assign(client, coordinator, morning["id"], cyclist)
    overlapping = file_request(
        client, caseworker, start="2026-12-01T09:30:00+01:00", end="2026-12-01T10:30:00+01:00"
    )
    tight = file_request(client, caseworker, **in_person(places["ahlen"], "10:15", "11:00"))

    refused = client.post(
        f"/api/v1/requests/{overlapping['id']}/assign",
        json={"mediator_id": cyclist},
        headers=coordinator.headers,
    )
    assert refused.status_code == 409 and "already has a job" in refused.json()["detail"]
    assign(client, coordinator, tight["id"], cyclist)
