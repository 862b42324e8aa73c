"""A place the coordinator changes reaches whoever holds a job there to come (SPEC: the assigned
mediator hears of every change to their job).

Their confirmation named the place, its address and whom to ask: a new address, point,
name or contact reaches them as a change of their job, with the place as it is now, once.
Jobs that are over, elsewhere, or with an address of their own hear nothing. A moved point
takes the jobs to come along: whoever can no longer reach it is released or has their offer
withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.outbox.models import Message
from dispatch.outbox.service import enqueue_fallback
from dispatch.requests.models import Request, RequestStatus
from tests.conftest import Staff, get_row
from tests.offers.conftest import Outbox, tigrinya_speaker
from tests.offers.test_changes_reach_the_caseworker import accept_first_offer, token_of
from tests.offers.test_lifecycle import file_request


def at_the_job_centre(
    client: TestClient, caseworker: Staff, outbox: Outbox, place_id: int, **fields: object
) -> tuple[dict[str, Any], int]:
    """An in-person job at the place, taken by the first mediator asked: (request, holder)."""
    created = file_request(client, caseworker, mode="in_person", place_id=place_id, **fields)
    _, holder = accept_first_offer(client, outbox, created["id"])
    return created, holder


def change(client: TestClient, coordinator: Staff, place_id: int, **fields: object) -> None:
    response = client.patch(f"/api/v1/places/{place_id}", json=fields, headers=coordinator.headers)
    assert response.status_code == 200, response.text


def test_a_new_address_reaches_the_holder_with_the_address_as_it_is_now(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(5)
    created, holder = at_the_job_centre(client, caseworker, outbox, place_id)

    change(client, coordinator, place_id, address="Lippweg 2", lat=51.7580, lon=8.0470)

    sms = outbox.messages("request_changed_mediator", "sms")
    assert [(m.recipient_id, m.request_id) for m in sms] == [(holder, created["id"])]
    assert "Einsatz geändert" in sms[0].body and "01.12. 09:00" in sms[0].body


def test_a_change_sms_that_fails_reaches_the_holder_by_email_naming_what_changed(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    make_pool(5)  # SMS only, an email address on file
    at_the_job_centre(client, caseworker, outbox, place_id)
    change(client, coordinator, place_id, address="Lippweg 2", contact_hint="Empfang")
    (sms,) = outbox.messages("request_changed_mediator", "sms")

    with Session(engine) as session:
        email = enqueue_fallback(
            session, get_row(session, Message, sms.id), settings=settings, now=clock.now()
        )
        assert email is not None and email.channel == "email"
        assert "Geändert: Ansprechperson, Ort" in email.body
        assert "Lippweg 2" in email.body and "Empfang" in email.body


def test_a_new_contact_at_the_place_is_told_as_a_new_contact(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(5, channels=["sms", "email"])
    at_the_job_centre(client, caseworker, outbox, place_id)

    change(client, coordinator, place_id, contact_hint="Empfang, Zimmer 012")

    (mail,) = outbox.messages("request_changed_mediator", "email")
    assert "die Koordination hat den Einsatz geändert" in mail.body
    assert "Geändert: Ansprechperson\n" in mail.body
    assert "Ansprechperson: Empfang, Zimmer 012" in mail.body


def test_saving_a_place_unchanged_or_without_jobs_to_come_tells_nobody(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(5)
    at_the_job_centre(client, caseworker, outbox, place_id)
    other = client.post(
        "/api/v1/places",
        json={"name": "Rathaus Beckum", "lat": 51.7553, "lon": 8.0403},
        headers=coordinator.headers,
    ).json()

    change(client, coordinator, place_id, name="Jobcenter Beckum", address="Hühlstraße 8")
    change(client, coordinator, other["id"], address="Weststraße 46")

    assert outbox.messages("request_changed_mediator") == []


def test_a_job_with_its_own_address_does_not_hear_of_the_places(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(5)
    at_the_job_centre(client, caseworker, outbox, place_id, address="Hühlstraße 8, Raum 3")

    change(client, coordinator, place_id, address="Lippweg 2")

    assert outbox.messages("request_changed_mediator") == []
    change(client, coordinator, place_id, name="Jobcenter Beckum (Neubau)")
    assert len(outbox.messages("request_changed_mediator", "sms")) == 1


#: Münster's Prinzipalmarkt, about 33 km from Beckum: within 50 km, far beyond 10.
MUENSTER = {"lat": 51.9625, "lon": 7.6256}


def test_a_place_moved_out_of_the_holder_s_reach_takes_its_job_along_and_releases_them(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    # Each reaches the job centre, none Münster; by SMS and email.
    near = make_pool(3, max_travel_km=10, channels=["sms", "email"])
    far = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(9, max_travel_km=60),
        headers=coordinator.headers,
    ).json()["id"]
    created = file_request(client, caseworker, mode="in_person", place_id=place_id)
    [offer] = [o for o in outbox.offers(created["id"]) if o.mediator_id == near[0]]
    assert client.post(f"/o/{token_of(outbox, offer.id)}/accept").status_code == 200

    change(client, coordinator, place_id, **MUENSTER)

    with Session(engine) as session:
        moved = get_row(session, Request, created["id"])
        assert (moved.location_lat, moved.location_lon) == (MUENSTER["lat"], MUENSTER["lon"])
        assert moved.status == RequestStatus.offered
    [released] = outbox.messages("released_after_change_mediator", "email")
    assert released.recipient_id == near[0]
    assert "den Ort des Einsatzes" in released.body and "weiter entfernt" in released.body
    assert outbox.messages("request_changed_mediator") == []  # not told twice
    [told] = outbox.messages("assignment_cancelled_caseworker", "email")
    assert told.request_id == created["id"]
    # Only someone who reaches Münster is asked now.
    assert {o.mediator_id for o in outbox.offers(created["id"]) if o.status == "pending"} == {far}


def test_a_moved_place_withdraws_the_offers_it_put_out_of_reach_and_keeps_the_rest(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    near = make_pool(2, max_travel_km=10)
    far = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(9, max_travel_km=60),
        headers=coordinator.headers,
    ).json()["id"]
    created = file_request(client, caseworker, mode="in_person", place_id=place_id)
    assert {o.mediator_id for o in outbox.offers(created["id"])} == {*near, far}
    on_the_phone = file_request(
        client, caseworker, mode="phone", place_id=place_id, start="2026-12-01T11:00:00+01:00",
        end="2026-12-01T12:00:00+01:00",
    )  # fmt: skip

    change(client, coordinator, place_id, **MUENSTER)

    pending = {o.mediator_id: o.status for o in outbox.offers(created["id"])}
    assert pending == {near[0]: "withdrawn", near[1]: "withdrawn", far: "pending"}
    assert {m.recipient_id for m in outbox.messages("offer_withdrawn", "sms")} == set(near)
    # A phone job's offers do not depend on the way there.
    assert all(o.status == "pending" for o in outbox.offers(on_the_phone["id"]))


def test_a_job_with_a_point_of_its_own_stays_where_it_is_when_the_place_moves(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
    engine: Engine,
) -> None:
    make_pool(3, max_travel_km=10)
    own = {"lat": 51.7600, "lon": 8.0500}
    created = file_request(client, caseworker, mode="in_person", place_id=place_id, location=own)
    accept_first_offer(client, outbox, created["id"])

    change(client, coordinator, place_id, **MUENSTER)

    with Session(engine) as session:
        kept = get_row(session, Request, created["id"])
        assert (kept.location_lat, kept.location_lon) == (own["lat"], own["lon"])
        assert kept.status == RequestStatus.assigned
    assert outbox.messages("released_after_change_mediator") == []
