"""Phone and video jobs: who calls whom, the number or link, for the assigned mediator only
(issue 14, item 2), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import Staff, request_payload
from tests.offers.conftest import LINK, Outbox
from tests.offers.test_lifecycle import file_request

VIDEO_LINK = "https://meet.example/jc-beckum-4711"


def email_tokens(outbox: Outbox, kind: str = "offer") -> list[str]:
    tokens = []
    for message in outbox.messages(kind, "email"):
        match = LINK.search(message.body)
        assert match is not None
        tokens.append(match.group(1))
    return tokens


def test_the_video_link_reaches_the_accepted_mediator_only(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3, channels=["email"])
    created = file_request(
        client, caseworker, mode="video", call_direction="mediator_calls", connection=VIDEO_LINK
    )
    assert created["connection"] == VIDEO_LINK
    offers = outbox.messages("offer")
    assert len(offers) == 3 and all(VIDEO_LINK not in (m.body + (m.html or "")) for m in offers)
    first, *others = email_tokens(outbox)
    pending = client.get(f"/o/{first}").text
    assert VIDEO_LINK not in pending
    assert "Zusagen – ich übernehme" in pending and "ich komme" not in pending
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    mine = client.get(f"/o/{first}").text
    assert VIDEO_LINK in mine and "Videotermin" in mine
    for token in others:
        assert VIDEO_LINK not in client.get(f"/o/{token}").text
    confirmation = outbox.messages("assignment_confirmed_mediator", "email")
    assert len(confirmation) == 1 and f"Videotermin: {VIDEO_LINK}" in confirmation[0].body
    advance(hours=1, minutes=1)  # the reminder the day before
    reminder = outbox.messages("reminder_24h", "email")
    assert len(reminder) == 1 and VIDEO_LINK in reminder[0].body


def test_a_phone_job_where_the_office_calls_says_so_and_an_in_person_job_says_i_will_come(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    place_id: int,
) -> None:
    make_pool(1, channels=["email"])
    created = file_request(
        client, caseworker, call_direction="office_calls", connection="+49 2521 29-0"
    )
    assert created["connection"] == "+492521290"
    [token] = email_tokens(outbox)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    page = client.get(f"/o/{token}").text
    assert "Die Dienststelle ruft Sie an." in page and "tel:+492521290" in page
    sms_free = outbox.messages("assignment_confirmed_mediator", "sms")
    assert sms_free == []
    in_person = file_request(
        client,
        caseworker,
        mode="in_person",
        place_id=place_id,
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    assert in_person["status"] == "offered"
    token = email_tokens(outbox)[-1]
    assert "Zusagen – ich komme" in client.get(f"/o/{token}").text


def test_a_connection_must_fit_the_mode(client: TestClient, caseworker: Staff) -> None:
    for body, field in (
        ({"mode": "video", "connection": "+4925212900"}, "body"),
        ({"mode": "phone", "connection": VIDEO_LINK}, "body"),
        ({"mode": "phone", "connection": "ruf mich an"}, "connection"),
        ({"mode": "video", "connection": "https://localhost"}, "connection"),
        ({"mode": "phone", "call_direction": "somebody"}, "call_direction"),
    ):
        response = client.post(
            "/api/v1/requests", json=request_payload(**body), headers=caseworker.headers
        )
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_a_job_the_mediator_is_to_call_or_join_needs_the_number_or_link(
    client: TestClient, caseworker: Staff
) -> None:
    def filed(**fields: object) -> int:
        response = client.post(
            "/api/v1/requests", json=request_payload(**fields), headers=caseworker.headers
        )
        return int(response.status_code)

    refused = client.post(
        "/api/v1/requests",
        json=request_payload(mode="phone", call_direction="mediator_calls"),
        headers=caseworker.headers,
    )
    assert refused.status_code == 422
    assert "needs the office's phone number" in refused.json()["detail"]
    assert filed(mode="video") == 422  # a video job nobody sends a link for
    assert filed(mode="video", call_direction="office_calls") == 201
    assert (
        filed(
            mode="phone",
            call_direction="office_calls",
            start="2026-12-01T11:00:00+01:00",
            end="2026-12-01T12:00:00+01:00",
        )
        == 201
    )
    assert (
        filed(
            mode="video",
            call_direction="mediator_calls",
            connection=VIDEO_LINK,
            start="2026-12-01T13:00:00+01:00",
            end="2026-12-01T14:00:00+01:00",
        )
        == 201
    )


def test_the_accepted_page_of_a_phone_job_does_not_ask_the_mediator_to_come(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(3)
    file_request(client, caseworker, call_direction="office_calls")  # by phone
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303

    page = client.get(f"/o/{token}").text

    assert "Ich bin sicher dabei – bestätigen" in page
    assert "Ich kann es doch nicht übernehmen" in page
    assert "Ich komme sicher" not in page and "Ich kann doch nicht" not in page


def test_the_offer_email_says_the_mediator_must_not_know_the_family(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    """The condition stood on the offer's page only; a mediator who read the e-mail and
    answered by SMS never saw it."""
    make_pool(2, channels=["email"])
    file_request(client, caseworker, call_direction="office_calls", unknown_to_client=True)
    file_request(
        client,
        caseworker,
        call_direction="office_calls",
        start="2026-12-01T13:00:00+01:00",
        end="2026-12-01T14:00:00+01:00",
    )

    first, second = {m.request_id: m for m in outbox.messages("offer", "email")}.values()

    assert "Sie dürfen die Familie und das Umfeld der Person nicht kennen." in first.body
    assert "Familie" not in second.body


def sms_tokens(outbox: Outbox, kind: str = "offer") -> list[str]:
    tokens = []
    for message in outbox.messages(kind, "sms"):
        match = LINK.search(message.body)
        assert match is not None
        tokens.append(match.group(1))
    return tokens


def test_a_mediator_on_sms_alone_finds_the_office_number_by_the_link_in_each_sms(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    """No number goes by SMS (the contract lists what an SMS may carry); each message to
    the assigned mediator, the two-hour reminder too, carries a link to the page with it."""
    make_pool(2, channels=["sms"])
    file_request(client, caseworker, call_direction="mediator_calls", connection="+49 2521 29-0")
    first, _ = sms_tokens(outbox)
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    advance(hours=23, minutes=1)  # Tuesday 07:01: two hours before the job
    [reminder] = outbox.messages("reminder_2h", "sms")
    assert "Telefon. Viel Erfolg! Infos: " in reminder.body
    [token] = sms_tokens(outbox, "reminder_2h")
    page = client.get(f"/o/{token}").text
    assert "tel:+492521290" in page
    assert all("492521290" not in m.body for m in outbox.messages(channel="sms"))


def test_an_sms_never_carries_the_office_number_or_a_video_link(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(1, channels=["sms"])
    file_request(client, caseworker, call_direction="office_calls", connection="+49 2521 29-0")
    [token] = sms_tokens(outbox)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    [phone] = outbox.messages("assignment_confirmed_mediator", "sms")
    assert "+492521290" not in phone.body
    file_request(
        client,
        caseworker,
        mode="video",
        connection=VIDEO_LINK,
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    [_, token] = sms_tokens(outbox)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    confirmations = outbox.messages("assignment_confirmed_mediator", "sms")
    assert len(confirmations) == 2 and VIDEO_LINK not in confirmations[1].body


def test_a_phone_job_that_says_nothing_of_who_calls_says_it_after_filing(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    """Without a number the office calls the mediator (it gets their number with the
    confirmation); with one the mediator calls it. The mediator is told either way."""
    make_pool(1, channels=["email"])
    silent = file_request(client, caseworker)
    assert silent["call_direction"] == "office_calls"
    [token] = email_tokens(outbox)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    [confirmation] = outbox.messages("assignment_confirmed_mediator", "email")
    assert "Die Dienststelle ruft Sie an." in confirmation.body
    numbered = file_request(
        client,
        caseworker,
        connection="+49 2521 29-0",
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    assert numbered["call_direction"] == "mediator_calls"
    video = file_request(
        client,
        caseworker,
        mode="video",
        connection=VIDEO_LINK,
        start="2026-12-03T09:00:00+01:00",
        end="2026-12-03T10:00:00+01:00",
    )
    assert video["call_direction"] is None  # a link is joined, nobody calls


def _event(ics: str | bytes) -> Any:
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event


def test_the_calendar_files_say_whom_to_call_and_where_to_join(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(1, channels=["email"])
    file_request(client, caseworker, mode="video", connection=VIDEO_LINK)
    [video_token] = email_tokens(outbox)
    assert client.post(f"/o/{video_token}/accept", follow_redirects=False).status_code == 303
    [confirmation] = outbox.messages("assignment_confirmed_mediator", "email")
    assert confirmation.ics is not None
    assert str(_event(confirmation.ics)["LOCATION"]) == VIDEO_LINK
    assert str(_event(client.get(f"/o/{video_token}/calendar.ics").content)["LOCATION"]) == (
        VIDEO_LINK
    )
    file_request(
        client,
        caseworker,
        connection="+49 2521 29-0",
        notes="Bitte Aktenzeichen bereithalten",
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    [_, phone_token] = email_tokens(outbox)
    assert client.post(f"/o/{phone_token}/accept", follow_redirects=False).status_code == 303
    event = _event(client.get(f"/o/{phone_token}/calendar.ics").content)
    assert str(event["DESCRIPTION"]) == (
        "Bitte rufen Sie zu Beginn die Dienststelle an: +492521290\n\n"
        "Bitte Aktenzeichen bereithalten"
    )
