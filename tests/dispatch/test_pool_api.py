"""The coordinator manages the pool and the places."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import Staff, mediator_payload, request_payload


def create(client: TestClient, coordinator: Staff, **overrides: object) -> dict[str, Any]:
    response = client.post(
        "/api/v1/mediators", json=mediator_payload(**overrides), headers=coordinator.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_mediator_round_trip_keeps_every_field(client: TestClient, coordinator: Staff) -> None:
    created = create(
        client,
        coordinator,
        phone="+49 151 1234 0001",
        availability=[{"weekday": "Di", "start": "8:30", "end": "12:00"}],
    )
    assert created["phone"] == "+4915112340001"
    assert created["availability"] == [{"weekday": 1, "start": "08:30", "end": "12:00"}]
    assert created["languages"] == [
        {"language": "ar", "level": "native"},
        {"language": "de", "level": "fluent"},
    ]
    assert created["home"] == {"lat": 51.7561, "lon": 8.0452}
    fetched = client.get(f"/api/v1/mediators/{created['id']}", headers=coordinator.headers).json()
    assert fetched == created


def test_patch_changes_only_what_is_sent(client: TestClient, coordinator: Staff) -> None:
    created = create(client, coordinator)
    response = client.patch(
        f"/api/v1/mediators/{created['id']}",
        json={"paused": True, "languages": [{"language": "prs", "level": "basic"}]},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["paused"] is True
    assert body["languages"] == [{"language": "prs", "level": "basic"}]
    assert body["phone"] == created["phone"] and body["availability"] == created["availability"]


def test_patch_cannot_null_a_required_field(client: TestClient, coordinator: Staff) -> None:
    created = create(client, coordinator)
    response = client.patch(
        f"/api/v1/mediators/{created['id']}", json={"name": None}, headers=coordinator.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_one_number_belongs_to_one_mediator(client: TestClient, coordinator: Staff) -> None:
    """An SMS reply is known by its number alone: two people on one number could take
    or pause each other's work."""
    amina = create(client, coordinator, phone="+49 151 1234 0001")
    other = create(client, coordinator, name="Omar Said", phone="+4915112340002", email="o@x.org")

    again = client.post(
        "/api/v1/mediators",
        json=mediator_payload(name="Nour", phone="+4915112340001", email="n@x.org"),
        headers=coordinator.headers,
    )
    moved = client.patch(
        f"/api/v1/mediators/{other['id']}",
        json={"phone": "+49 151 1234 0001"},  # the same number, written with spaces
        headers=coordinator.headers,
    )
    kept = client.patch(
        f"/api/v1/mediators/{amina['id']}",
        json={"phone": "+4915112340001", "paused": True},
        headers=coordinator.headers,
    )

    for refused in (again, moved):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "phone"
        assert "already belongs to Amina Haddad" in refused.json()["detail"]
    assert kept.status_code == 200, kept.text  # their own number, sent again


def test_list_filters_by_language_and_active(client: TestClient, coordinator: Staff) -> None:
    create(client, coordinator, name="Amina", phone="+4915112340001")
    create(
        client,
        coordinator,
        name="Oleksandr",
        phone="+4915112340002",
        languages=[{"language": "uk", "level": "native"}],
        message_locale="uk",
    )
    inactive = create(
        client,
        coordinator,
        name="Zahra",
        phone="+4915112340003",
        active=False,
        languages=[{"language": "prs", "level": "native"}, {"language": "ar", "level": "basic"}],
    )

    def names(**params: object) -> list[str]:
        response = client.get("/api/v1/mediators", params=params, headers=coordinator.headers)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert names(language="ar") == ["Amina", "Zahra"]
    assert names(language="ar", active=True) == ["Amina"]
    assert names(language="uk") == ["Oleksandr"]
    assert names(active=False) == ["Zahra"]
    assert names(q="oleks") == ["Oleksandr"]
    assert names(q="%") == []
    assert names(limit=1, offset=1) == ["Oleksandr"]
    assert inactive["active"] is False


def test_delete_erases_personal_data_and_keeps_history(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    created = create(
        client,
        coordinator,
        absences=[{"start": "2026-12-24T00:00:00+01:00", "end": "2026-12-27T00:00:00+01:00"}],
    )
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO message (idempotency_key, channel, kind, recipient, recipient_kind,"
                " recipient_id, locale, body, ics, status, attempts, next_attempt_at, created_at,"
                " request_id) VALUES ('k1', 'sms', 'offer', '+4915112340001', 'mediator', :m,"
                " 'ar', 'Einsatz Tigrinya ...', 'BEGIN:VCALENDAR Amina', 'sent', 1, :t, :t, :r)"
            ),
            {"m": created["id"], "t": "2026-11-30 07:00:00", "r": request["id"]},
        )
    response = client.delete(f"/api/v1/mediators/{created['id']}", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["active"] is False and erased["erased_at"] is not None
    for field in ("phone", "email", "gender", "home", "german_level", "consent_at"):
        assert erased[field] is None, field
    assert erased["languages"] == [] and erased["availability"] == [] and erased["absences"] == []
    assert "Amina" not in erased["name"]
    with engine.connect() as connection:
        message = connection.execute(
            sa.text(
                "SELECT recipient, body, status, ics, fallback_fields FROM message"
                " WHERE recipient_kind = 'mediator'"
            )
        ).one()
        assert (
            message.recipient is None
            and "Tigrinya" not in message.body
            and message.status == "sent"
        )
        assert message.ics is None and message.fallback_fields is None
        dump = " ".join(
            str(v) for row in connection.execute(sa.text("SELECT * FROM audit_event")) for v in row
        )
    assert "Amina" not in dump and "+4915112340001" not in dump
    listed = client.get("/api/v1/mediators", headers=coordinator.headers).json()
    assert listed["total"] == 0
    again = client.delete(f"/api/v1/mediators/{created['id']}", headers=coordinator.headers)
    assert again.status_code == 200
    assert (
        client.patch(
            f"/api/v1/mediators/{created['id']}",
            json={"paused": False},
            headers=coordinator.headers,
        ).status_code
        == 422
    )


def test_missing_mediator_is_404(client: TestClient, coordinator: Staff) -> None:
    response = client.get("/api/v1/mediators/4711", headers=coordinator.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no mediator with id 4711."


def test_places_crud_and_unique_names(
    client: TestClient, coordinator: Staff, place_id: int
) -> None:
    clash = client.post(
        "/api/v1/places",
        json={"name": "Jobcenter Beckum", "lat": 51.7, "lon": 8.0},
        headers=coordinator.headers,
    )
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "name"
    patched = client.patch(
        f"/api/v1/places/{place_id}",
        json={"contact_hint": "Empfang, Raum 1"},
        headers=coordinator.headers,
    )
    assert patched.status_code == 200 and patched.json()["contact_hint"] == "Empfang, Raum 1"
    assert (
        client.delete(f"/api/v1/places/{place_id}", headers=coordinator.headers).json()["active"]
        is False
    )
    assert client.get("/api/v1/places", headers=coordinator.headers).json() == []
    assert (
        len(
            client.get(
                "/api/v1/places", params={"include_inactive": True}, headers=coordinator.headers
            ).json()
        )
        == 1
    )


def test_request_at_a_deactivated_place_is_refused(
    client: TestClient, coordinator: Staff, caseworker: Staff, place_id: int
) -> None:
    client.delete(f"/api/v1/places/{place_id}", headers=coordinator.headers)
    response = client.post(
        "/api/v1/requests",
        json=request_payload(mode="in_person", place_id=place_id),
        headers=caseworker.headers,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "place_id"
