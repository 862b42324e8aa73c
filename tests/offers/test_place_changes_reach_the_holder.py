"""A place the coordinator changes reaches whoever holds a job there to come (SPEC: the assigned
mediator hears of every change to their job).

Their confirmation named the place, its address and whom to ask: a new address, point,
name or contact reaches them as a change of their job, with the place as it is now, once.
Jobs that are over, elsewhere, or with an address of their own hear nothing.
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
from tests.conftest import Staff, get_row
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import accept_first_offer
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
