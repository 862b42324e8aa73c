"""A staff member who left can be erased: their name and address go from the record and from
every message, once nothing open still needs them (GDPR Art. 17). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.deadlines import runner as deadlines
from dispatch.outbox.models import Message
from dispatch.users.models import User
from tests.conftest import Staff, get_row, request_payload
from tests.offers import conftest as offers_fixtures


@pytest.fixture
def colleague(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("caseworker", "Jobcenter Kreis Warendorf")


def rename(engine: Engine, staff: Staff, name: str) -> str:
    """Give the account a name of its own (the fixtures all share one); returns its address."""
    with Session(engine) as session:
        user = get_row(session, User, staff.user_id)
        user.name = name
        session.add(user)
        session.commit()
        return user.email


def file(client: TestClient, staff: Staff, **overrides: object) -> int:
    response = client.post(
        "/api/v1/requests", json=request_payload(**overrides), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def messages(engine: Engine) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).order_by(col(Message.id))))


def test_an_erased_staff_member_is_gone_from_the_record_and_every_message(
    client: TestClient,
    caseworker: Staff,
    colleague: Staff,
    coordinator: Staff,
    engine: Engine,
) -> None:
    address = rename(engine, caseworker, "Jana Brüggemann")
    invited = client.post(f"/api/v1/users/{caseworker.user_id}/invite", headers=coordinator.headers)
    assert invited.status_code == 200, invited.text
    theirs = file(client, colleague)
    changed = client.patch(
        f"/api/v1/requests/{theirs}", json={"notes": "Bitte Raum 3"}, headers=caseworker.headers
    )
    assert changed.status_code == 200, changed.text
    [naming] = [m for m in messages(engine) if m.kind == "request_changed_caseworker"]
    assert "Jana Brüggemann" in naming.body
    assert (
        client.delete(
            f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers
        ).status_code
        == 200
    )

    erased = client.post(f"/api/v1/users/{caseworker.user_id}/erase", headers=coordinator.headers)

    assert erased.status_code == 200, erased.text
    shown = erased.json()
    assert shown["erased"] is True and shown["name"] == "(gelöscht)"
    assert address not in shown["email"] and shown["email"].endswith(".invalid")
    everything = messages(engine)
    assert not any(
        "Jana Brüggemann" in (m.body + (m.subject or "") + (m.html or "")) for m in everything
    )
    assert not any(address in (m.recipient or "") + m.body for m in everything)
    [to_them] = [m for m in everything if m.kind == "staff_invitation"]
    assert to_them.recipient is None and to_them.body == "[erased]"
    [naming] = [m for m in everything if m.kind == "request_changed_caseworker"]
    assert "(gelöscht)" in naming.body and naming.recipient is not None
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity_id == caseworker.user_id)
        ).all()
    assert "user.erase" in actions
    # The account cannot come back by a link, and erasing again changes nothing.
    again = client.post(f"/api/v1/users/{caseworker.user_id}/invite", headers=coordinator.headers)
    assert again.status_code == 409
    twice = client.post(f"/api/v1/users/{caseworker.user_id}/erase", headers=coordinator.headers)
    assert twice.status_code == 200 and twice.json() == shown


def test_only_someone_who_left_and_whose_open_work_was_handed_over_can_be_erased(
    client: TestClient,
    caseworker: Staff,
    colleague: Staff,
    coordinator: Staff,
    engine: Engine,
) -> None:
    request_id = file(client, caseworker)
    path = f"/api/v1/users/{caseworker.user_id}/erase"
    still_here = client.post(path, headers=coordinator.headers)
    assert still_here.status_code == 409, still_here.text
    assert client.post(path, headers=colleague.headers).status_code == 403
    own = client.post(f"/api/v1/users/{coordinator.user_id}/erase", headers=coordinator.headers)
    assert own.status_code == 409
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)

    open_work = client.post(path, headers=coordinator.headers)

    assert open_work.status_code == 409
    assert "hand them to a colleague first" in open_work.json()["detail"]
    with Session(engine) as session:
        assert get_row(session, User, caseworker.user_id).erased_at is None
    handed = client.post(
        f"/api/v1/users/{caseworker.user_id}/hand-over",
        json={"to_user_id": colleague.user_id},
        headers=coordinator.headers,
    )
    assert handed.json()["requests"] == 1
    assert client.post(path, headers=coordinator.headers).status_code == 200
    mine = client.get(f"/api/v1/requests/{request_id}", headers=colleague.headers)
    assert mine.status_code == 200


advance = offers_fixtures.advance


def erased_at(engine: Engine, staff: Staff) -> object:
    with Session(engine) as session:
        return get_row(session, User, staff.user_id).erased_at


def test_someone_who_left_is_erased_when_the_retention_period_ends_once_nothing_needs_them(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    advance: Callable[..., int],
    engine: Engine,
    settings: Settings,
) -> None:
    assert settings.staff_data_days == 180
    request_id = file(client, caseworker, start="2027-06-01T09:00:00+02:00",
                      end="2027-06-01T10:00:00+02:00")  # fmt: skip
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)

    advance(days=179)
    assert erased_at(engine, caseworker) is None
    advance(days=1, minutes=1)
    # Their request (early June) still needs them: nobody took it over. A week at a time.
    assert erased_at(engine, caseworker) is None
    client.post(f"/api/v1/requests/{request_id}/cancel", json={}, headers=coordinator.headers)
    advance(days=7)

    assert erased_at(engine, caseworker) is not None
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "user.erase", AuditEvent.entity_id == caseworker.user_id
            )
        ).one()
    assert event.actor_kind == "system"


def test_an_account_invited_back_is_not_erased_when_its_old_period_ends(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    advance: Callable[..., int],
    engine: Engine,
) -> None:
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)
    advance(days=30)
    client.post(f"/api/v1/users/{caseworker.user_id}/invite", headers=coordinator.headers)

    advance(days=200)

    assert erased_at(engine, caseworker) is None
    # Leaving again starts a period of its own.
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)
    advance(days=181)
    assert erased_at(engine, caseworker) is not None


def test_an_erasure_that_waits_for_open_work_tells_the_coordination_once_per_waiting_period(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    clock: ManualClock,
    engine: Engine,
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"coordinator_email": "integration@beckum.example"})

    def advance(**delta: float) -> None:
        clock.advance(timedelta(**delta))
        deadlines.run_due(engine, clock=clock, settings=settings)

    rename(engine, caseworker, "Jana Brüggemann")
    file(client, caseworker, start="2027-09-01T09:00:00+02:00",
         end="2027-09-01T10:00:00+02:00")  # fmt: skip
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)

    def told() -> list[Message]:
        return [m for m in messages(engine) if m.kind == "staff_erasure_waiting_coordinator"]

    advance(days=179)
    assert told() == []
    advance(days=1, minutes=1)  # due: the request still needs her
    advance(days=7)  # the second weekly run
    advance(days=7)  # the third

    assert erased_at(engine, caseworker) is None
    [news] = told()
    assert news.recipient == settings.coordinator_email and news.channel == "email"
    assert news.subject == "Löschung wartet: Jana Brüggemann"
    assert "1 offene Anfrage braucht Jana Brüggemann noch" in news.body
    assert f"{settings.public_base_url.rstrip('/')}/dashboard/staff" in news.body

    # Invited back, the wait is over: leaving again starts a period of its own.
    client.post(f"/api/v1/users/{caseworker.user_id}/invite", headers=coordinator.headers)
    with Session(engine) as session:
        assert get_row(session, User, caseworker.user_id).erasure_waiting_since is None


def test_the_coordinations_waiting_notice_loses_the_name_once_the_person_is_erased(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    clock: ManualClock,
    engine: Engine,
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"coordinator_email": "integration@beckum.example"})

    def advance(**delta: float) -> None:
        clock.advance(timedelta(**delta))
        deadlines.run_due(engine, clock=clock, settings=settings)

    rename(engine, caseworker, "Jana Brüggemann")
    request_id = file(client, caseworker, start="2027-09-01T09:00:00+02:00",
                      end="2027-09-01T10:00:00+02:00")  # fmt: skip
    client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)
    advance(days=180, minutes=1)  # waits, and the coordination is told, by name
    [news] = [m for m in messages(engine) if m.kind == "staff_erasure_waiting_coordinator"]
    assert "Jana Brüggemann" in f"{news.subject} {news.body}"
    client.post(f"/api/v1/requests/{request_id}/cancel", json={}, headers=coordinator.headers)

    advance(days=7)

    assert erased_at(engine, caseworker) is not None
    [news] = [m for m in messages(engine) if m.kind == "staff_erasure_waiting_coordinator"]
    assert "Brüggemann" not in f"{news.subject} {news.body}"
