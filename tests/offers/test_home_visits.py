"""A home visit's street reaches the assigned mediator only: never an SMS, an offer page
or an offer e-mail (issue 14, item 4), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from dispatch.messages import area_of
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_lifecycle import file_request
from tests.offers.test_phone_and_video import email_tokens

STREET = "Lindenstraße 3"
HOME_VISIT = {
    "mode": "in_person",
    "home_visit": True,
    "address": f"{STREET}, 59269 Beckum",
    "location": {"lat": 51.7601, "lon": 8.0499},
}
#: Messages to the mediator who holds the job: these say where exactly.
FOR_THE_ASSIGNED = {
    "assignment_confirmed_mediator",
    "request_changed_mediator",
    "reminder_24h",
    "reminder_2h",
}


def test_the_street_of_a_home_visit_reaches_the_assigned_mediator_only(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3, channels=["sms", "email"])
    created = file_request(client, caseworker, **HOME_VISIT)
    assert created["home_visit"] is True and created["status"] == "offered"

    offers = outbox.messages("offer")
    # Said before anyone accepts, with the area, so the way there can be judged.
    assert offers and all("Hausbesuch" in m.body and "59269 Beckum" in m.body for m in offers)
    assert all("Hausbesuch: 59269 Beckum" in m.body for m in outbox.messages("offer", "sms"))
    first, *others = email_tokens(outbox)
    pending = client.get(f"/o/{first}").text
    assert STREET not in pending and "openstreetmap" not in pending
    assert "Hausbesuch · 59269 Beckum · Adresse nach Zusage" in pending
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    mine = client.get(f"/o/{first}").text
    assert STREET in mine and "openstreetmap" in mine and "Hausbesuch" in mine
    for token in others:
        assert STREET not in client.get(f"/o/{token}").text
    # A change, the reminders and the job over: every kind of message a job brings.
    changed = client.patch(
        f"/api/v1/requests/{created['id']}",
        json={"notes": "Bitte bei B. klingeln"},
        headers=caseworker.headers,
    )
    assert changed.status_code == 200, changed.text
    advance(hours=1, minutes=1)  # the reminder the day before
    advance(hours=23)  # two hours before, and the job itself

    messages = outbox.messages()
    kinds = {m.kind for m in messages}
    assert {"offer", *FOR_THE_ASSIGNED} <= kinds, kinds
    for message in messages:
        text = message.body + (message.html or "")
        if message.channel == "sms" or message.kind not in FOR_THE_ASSIGNED:
            assert STREET not in text, (message.kind, message.channel)
        elif message.channel == "email":
            assert STREET in text, message.kind


def test_the_mediator_page_shows_a_home_visit_as_such(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(1, channels=["email"])
    created = file_request(client, caseworker, **HOME_VISIT)
    [token] = email_tokens(outbox)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    seen = client.get(f"/api/v1/requests/{created['id']}", headers=coordinator.headers).json()
    assert seen["home_visit"] is True and seen["address"] == HOME_VISIT["address"]


def test_erasing_the_request_data_reaches_the_messages_sent_about_it(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    settings: Settings,
) -> None:
    """REQUEST_DATA_DAYS after the end the street and the contact leave the sent e-mails and
    calendar files too, not only the request's row."""
    make_pool(2, channels=["sms", "email"])
    file_request(client, caseworker, contact_phone="+4925212900", **HOME_VISIT)
    first, *_ = email_tokens(outbox)
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    advance(hours=1, minutes=1)
    advance(hours=23)  # the reminders and the job
    holding = [m for m in outbox.messages() if STREET in m.body + (m.html or "")]
    assert holding, "the assigned mediator's e-mails name the street"
    assert any(m.ics for m in holding)

    advance(days=settings.request_data_days + 1)

    after = outbox.messages()
    assert len(after) >= len(holding)
    for message in after:
        text = " ".join(filter(None, [message.subject, message.body, message.html, message.ics]))
        assert STREET not in text and "+4925212900" not in text, message.kind
    confirmation = next(m for m in after if m.id == holding[0].id)
    assert "(gelöscht)" in confirmation.body  # the message stays, the street does not


@pytest.mark.parametrize(
    ("address", "area"),
    [
        ("Lindenstraße 3, 59269 Beckum", "59269 Beckum"),
        ("Weststraße 46, 59269  Beckum-Neubeckum ", "59269 Beckum-Neubeckum"),
        ("Hauptstraße 1", None),  # no postcode: nothing to say but the street
        ("Am Markt 1, Beckum", None),
        ("46, Weststraße, Beckum, Kreis Warendorf, 59269, Deutschland", None),
        (None, None),
    ],
)
def test_an_offer_names_the_area_of_an_address_and_never_its_street(
    address: str | None, area: str | None
) -> None:
    assert area_of(address) == area
