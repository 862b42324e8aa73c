"""A request changed by someone other than whoever filed it reaches them (SPEC: every
change reaches whoever it affects), on SQLite and PostgreSQL.

The caseworker who filed the request hears what changed, who changed it, the terms
now, and what became of the mediator: kept, released and looked for again, or
offers going out for the new terms. Their own changes send them nothing about the
change itself; when their change releases the mediator, the message says it was
the change, not a mediator who dropped out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.clock import ManualClock
from dispatch.outbox.models import Message
from dispatch.users.models import User
from tests.conftest import Staff, get_row
from tests.offers.conftest import Outbox, tigrinya_speaker
from tests.offers.test_changes_reach_the_caseworker import caseworker_mail
from tests.offers.test_lifecycle import file_request
from tests.offers.test_request_changes import accepted_request, patch


def name_of(engine: Engine, staff: Staff) -> str:
    with Session(engine) as session:
        return get_row(session, User, staff.user_id).name


def an_arabic_speaker(client: TestClient, coordinator: Staff) -> None:
    """Someone the request can go to once its language is Arabic."""
    arabic = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(9, languages=[{"language": "ar", "level": "native"}]),
        headers=coordinator.headers,
    )
    assert arabic.status_code == 201, arabic.text


def one_change_mail(outbox: Outbox, caseworker: Staff) -> Message:
    (mail,) = caseworker_mail(outbox, "request_changed_caseworker")
    assert mail.recipient_id == caseworker.user_id
    return mail


def test_a_new_time_set_by_the_coordinator_tells_the_caseworker_that_the_mediator_stays(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
    engine: Engine,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))

    response = patch(client, coordinator, view["id"], start="2026-12-01T13:00:00+01:00")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"
    mail = one_change_mail(outbox, caseworker)
    assert mail.subject is not None and mail.subject.startswith("Anfrage geändert")
    assert f"{name_of(engine, coordinator)} hat Ihre Anfrage geändert." in mail.body
    assert "Geändert: Zeit" in mail.body
    assert "13:00 bis 14:30" in mail.body
    assert "bleibt bei dem Termin" in mail.body
    assert f"Anfrage Nr. {view['id']}" in mail.body
    assert caseworker_mail(outbox, "assignment_cancelled_caseworker") == []


def test_a_new_language_set_by_the_coordinator_tells_the_caseworker_once_that_we_look_again(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, mediator_id = accepted_request(client, caseworker, make_pool, outbox)
    an_arabic_speaker(client, coordinator)
    clock.advance(timedelta(minutes=5))

    response = patch(client, coordinator, view["id"], language="ar")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "offered"
    mail = one_change_mail(outbox, caseworker)
    assert "Sprache: Arabisch" in mail.body
    assert "kann den geänderten Termin nicht übernehmen" in mail.body
    # One message says it all: not also the "mediator not coming" one.
    assert caseworker_mail(outbox, "assignment_cancelled_caseworker") == []
    assert [m.recipient_id for m in outbox.messages("released_after_change_mediator")] == [
        mediator_id
    ]


def test_a_change_by_the_coordinator_before_anyone_accepted_says_offers_go_out_anew(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    clock.advance(timedelta(minutes=5))

    response = patch(client, coordinator, created["id"], start="2026-12-01T11:00:00+01:00")

    assert response.status_code == 200, response.text
    mail = one_change_mail(outbox, caseworker)
    assert "Wir suchen eine Sprachmittlung für den geänderten Termin." in mail.body


def test_the_caseworkers_own_changes_send_them_no_change_mail(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))

    response = patch(client, caseworker, view["id"], start="2026-12-01T13:00:00+01:00")

    assert response.status_code == 200, response.text
    assert caseworker_mail(outbox, "request_changed_caseworker") == []
    assert caseworker_mail(outbox, "assignment_cancelled_caseworker") == []


def test_a_mediator_released_by_the_caseworkers_own_change_is_not_told_as_a_drop_out(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox)
    an_arabic_speaker(client, coordinator)
    clock.advance(timedelta(minutes=5))

    response = patch(client, caseworker, view["id"], language="ar")

    assert response.status_code == 200, response.text
    (told,) = caseworker_mail(outbox, "assignment_cancelled_caseworker")
    assert told.subject is not None and told.subject.startswith("Nach der Änderung suchen wir")
    assert "nachdem Ihre Anfrage geändert wurde, kann die Sprachmittlung" in told.body
    assert "kommt leider nicht" not in told.body
    assert caseworker_mail(outbox, "request_changed_caseworker") == []


def test_a_new_service_area_set_by_the_coordinator_is_told_since_it_says_who_pays(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    view, _ = accepted_request(client, caseworker, make_pool, outbox)
    clock.advance(timedelta(minutes=5))

    response = patch(client, coordinator, view["id"], category="school_parents")

    assert response.status_code == 200, response.text
    mail = one_change_mail(outbox, caseworker)
    assert "Geändert: Einsatzbereich" in mail.body
    assert "Wir suchen" not in mail.body and "nicht übernehmen" not in mail.body
    assert outbox.messages("request_changed_mediator") == []  # nothing for the mediator
