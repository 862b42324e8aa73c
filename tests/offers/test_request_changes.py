"""A caseworker changes a request (issue 14, item 1), on SQLite and PostgreSQL.

A change the assigned mediator can still serve keeps them and tells them;
one they cannot serve releases them and the request goes out again; offers
still open for the old terms are withdrawn; a started request stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.deadlines.models import Deadline
from dispatch.offers.models import Assignment
from tests.conftest import Staff
from tests.offers.conftest import LINK, Outbox, tigrinya_speaker
from tests.offers.test_lifecycle import file_request


def accepted_request(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    **overrides: object,
) -> tuple[dict[str, Any], int]:
    """A Tigrinya phone job on Tuesday 09:00, accepted by one of three mediators."""
    make_pool(3)
    created = file_request(client, caseworker, **overrides)
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    view = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert view["status"] == "assigned"
    return view, int(view["assignment"]["mediator_id"])


def accepted_by_email(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> dict[str, Any]:
    """A Tigrinya phone job on Tuesday 09:00, offered by email and accepted by the first asked."""
    make_pool(3, channels=["email"])
    created = file_request(client, caseworker)
    match = LINK.search(outbox.messages("offer", "email")[0].body)
    assert match is not None
    assert client.post(f"/o/{match.group(1)}/accept", follow_redirects=False).status_code == 303
    return created


def patch(client: TestClient, staff: Staff, request_id: int, **body: object) -> Any:
    return client.patch(f"/api/v1/requests/{request_id}", json=body, headers=staff.headers)


def test_a_new_time_the_mediator_can_serve_keeps_them_and_tells_them(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
    engine: Engine,
) -> None:
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))
    response = patch(client, caseworker, view["id"], start="2026-12-01T10:00:00+01:00")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "assigned" and body["assignment"]["mediator_id"] == mediator_id
    assert body["end"].startswith("2026-12-01T11:30")  # the duration is kept
    told = outbox.messages("request_changed_mediator")
    assert {m.channel for m in told} == {"sms"} and told[0].recipient_id == mediator_id
    assert "10:00" in told[0].body and "/o/" in told[0].body
    assert not outbox.messages("released_after_change_mediator")
    with Session(engine) as session:
        assignment = session.exec(select(Assignment)).one()
        assert assignment.cancelled_at is None
        reminders = session.exec(
            select(Deadline).where(
                Deadline.kind == "reminder",
                Deadline.subject_id == assignment.id,
                col(Deadline.done_at).is_(None),
            )
        ).all()
        starts = {d.sequence: d.due_at + timedelta(hours=d.sequence) for d in reminders}
        assert starts and all(
            at == datetime.fromisoformat("2026-12-01T10:00:00+01:00") for at in starts.values()
        )
        change = session.exec(select(AuditEvent).where(AuditEvent.action == "request.change")).one()
        assert change.details is not None and change.details["fields"] == ["start", "end"]


def test_an_email_to_the_mediator_names_what_changed_and_updates_the_calendar(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    created = accepted_by_email(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))
    response = patch(client, caseworker, created["id"], notes="Raum 12, bitte klingeln")
    assert response.status_code == 200, response.text
    mail = outbox.messages("request_changed_mediator", "email")
    assert len(mail) == 1
    assert "Hinweise" in mail[0].body and "Raum 12" in mail[0].body
    assert mail[0].ics is not None and "METHOD:REQUEST" in mail[0].ics
    assert "die Sachbearbeitung hat den Einsatz geändert" in mail[0].body


def test_a_new_contact_reaches_the_mediator_with_the_contact_and_who_changed_it(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    created = accepted_by_email(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))

    response = patch(
        client, coordinator, created["id"], contact_name="Frau Weber", contact_phone="+4925211234"
    )

    assert response.status_code == 200, response.text
    (mail,) = outbox.messages("request_changed_mediator", "email")
    assert "Geändert: Ansprechperson" in mail.body
    assert "Ansprechperson: Frau Weber, Tel. +4925211234" in mail.body
    assert "die Koordination hat den Einsatz geändert" in mail.body


def test_a_new_language_releases_the_mediator_and_offers_the_job_again(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    arabic = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(9, languages=[{"language": "ar", "level": "native"}]),
        headers=coordinator.headers,
    )
    assert arabic.status_code == 201, arabic.text
    clock.advance(timedelta(minutes=5))
    response = patch(client, caseworker, view["id"], language="ar")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "offered" and body["assignment"] is None
    released = outbox.messages("released_after_change_mediator")
    assert [m.recipient_id for m in released] == [mediator_id]
    assert "09:00" in released[0].body  # the time they had in their diary
    new_offers = [o for o in outbox.offers(view["id"]) if o.status == "pending"]
    assert [o.mediator_id for o in new_offers] == [arabic.json()["id"]]
    assert len(outbox.messages("assignment_cancelled_caseworker")) == 1


def test_a_new_time_when_the_mediator_is_busy_releases_them(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    other = file_request(
        client, caseworker, start="2026-12-01T14:00:00+01:00", end="2026-12-01T15:00:00+01:00"
    )
    assigned = client.post(
        f"/api/v1/requests/{other['id']}/assign",
        json={"mediator_id": mediator_id},
        headers=coordinator.headers,
    )
    assert assigned.status_code == 200, assigned.text
    clock.advance(timedelta(minutes=5))
    response = patch(client, caseworker, view["id"], start="2026-12-01T14:30:00+01:00")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["assignment"] is None or body["assignment"]["mediator_id"] != mediator_id
    assert [m.recipient_id for m in outbox.messages("released_after_change_mediator")] == [
        mediator_id
    ]
    assert not outbox.messages("request_changed_mediator")


def test_open_offers_for_the_old_time_are_withdrawn_and_asked_again(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    first = outbox.offers(created["id"])
    assert [o.wave for o in first] == [1, 1, 1]
    clock.advance(timedelta(minutes=5))
    response = patch(
        client,
        caseworker,
        created["id"],
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    assert response.status_code == 200, response.text
    offers = outbox.offers(created["id"])
    assert sorted(o.status for o in offers if o.wave == 1) == ["withdrawn"] * 3
    second = [o for o in offers if o.wave == 2]
    assert second and all(o.status == "pending" for o in second)
    # Those asked for the old time may be asked for the new one.
    assert {o.mediator_id for o in first} & {o.mediator_id for o in second}


def test_a_change_of_notes_only_leaves_open_offers_alone(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    response = patch(client, caseworker, created["id"], notes="Bitte Ausweis mitbringen")
    assert response.status_code == 200, response.text
    assert response.json()["notes"] == "Bitte Ausweis mitbringen"
    assert all(o.status == "pending" for o in outbox.offers(created["id"]))
    unchanged = patch(client, caseworker, created["id"], notes="Bitte Ausweis mitbringen")
    assert unchanged.status_code == 200


def test_a_request_that_started_cannot_be_changed_and_the_error_names_the_field(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(hours=25, minutes=5))  # Tuesday 09:05
    response = patch(client, caseworker, view["id"], notes="zu spät", language="ar")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "language"
    assert "started at 2026-12-01T09:00+01:00" in response.json()["detail"]
    assert not outbox.messages("request_changed_mediator")


def test_a_cancelled_request_cannot_be_changed_and_says_it_is_cancelled(
    client: TestClient, caseworker: Staff, outbox: Outbox
) -> None:
    created = file_request(client, caseworker)
    path = f"/api/v1/requests/{created['id']}/cancel"
    assert client.post(path, headers=caseworker.headers).status_code == 200
    response = patch(client, caseworker, created["id"], notes="doch nicht")
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "This request is cancelled; notes can no longer be changed."


def test_bad_changes_are_refused_with_the_field(
    client: TestClient, caseworker: Staff, outbox: Outbox
) -> None:
    created = file_request(client, caseworker, mode="video", call_direction="office_calls")
    for body, field in (
        ({"start": None}, "body"),
        ({"connection": "+4925212900"}, "connection"),
        ({"connection": "http://meet.example/x"}, "connection"),
        ({"end": "2026-12-01T08:00:00+01:00"}, "end"),
        ({"start": "2026-11-29T09:00:00+01:00"}, "start"),
        ({"place_id": 999}, "place_id"),
        ({"mode": "in_person"}, "mode"),
        ({"client_ref": "X-1"}, "client_ref"),
    ):
        response = patch(client, caseworker, created["id"], **body)
        assert response.status_code == 422, (body, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields or (field == "body" and fields), (body, fields)
    good = patch(client, caseworker, created["id"], connection="https://meet.example/abc-123")
    assert good.status_code == 200, good.text
    assert good.json()["connection"] == "https://meet.example/abc-123"


def test_another_organisations_request_cannot_be_changed(
    client: TestClient, caseworker: Staff, make_staff: Callable[..., Staff]
) -> None:
    created = file_request(client, caseworker)
    stranger = make_staff("caseworker", "Stadt Ahlen")
    response = patch(client, stranger, created["id"], notes="x")
    assert response.status_code == 404


def test_every_email_to_the_caseworker_names_the_request_and_its_reference(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox, client_ref="JC-2026-0417")
    [mail] = outbox.messages("assignment_confirmed_caseworker")
    assert f"Anfrage Nr. {view['id']}, Aktenzeichen JC-2026-0417" in mail.body
    assert f"https://sprachpool.test/requests/{view['id']}" in mail.body


def test_a_paused_holder_who_kept_the_job_keeps_it_when_its_time_moves(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    """Paused for a holiday after the job, they kept it; a later start they can serve is no
    reason to take it from them (it used to read as "does not speak the language")."""
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    paused = client.patch(
        f"/api/v1/mediators/{mediator_id}", json={"paused": True}, headers=coordinator.headers
    )
    assert paused.status_code == 200, paused.text
    clock.advance(timedelta(minutes=5))

    response = patch(client, caseworker, view["id"], start="2026-12-01T10:00:00+01:00")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "assigned" and body["assignment"]["mediator_id"] == mediator_id
    assert outbox.messages("released_after_change_mediator") == []


def test_a_paused_holder_is_still_released_when_the_new_language_is_not_theirs(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    paused = client.patch(
        f"/api/v1/mediators/{mediator_id}", json={"paused": True}, headers=coordinator.headers
    )
    assert paused.status_code == 200, paused.text

    response = patch(client, caseworker, view["id"], language="ar")

    assert response.status_code == 200, response.text
    assert response.json()["assignment"] is None
    released = outbox.messages("released_after_change_mediator")
    assert [m.recipient_id for m in released] == [mediator_id]
