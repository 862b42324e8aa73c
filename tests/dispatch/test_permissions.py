"""Who may do what: the permission matrix of the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import Staff, mediator_payload, request_payload

PLACE = {"name": "Rathaus Beckum", "lat": 51.7553, "lon": 8.0403}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/mediators", None),
        ("post", "/api/v1/mediators", mediator_payload()),
        ("get", "/api/v1/mediators/1", None),
        ("patch", "/api/v1/mediators/1", {"paused": True}),
        ("delete", "/api/v1/mediators/1", None),
        ("post", "/api/v1/places", PLACE),
        ("patch", "/api/v1/places/1", {"name": "x"}),
        ("delete", "/api/v1/places/1", None),
    ],
)
def test_caseworker_may_not_manage_the_pool(
    client: TestClient, caseworker: Staff, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, path, json=body, headers=caseworker.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "Only a coordinator may do this."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/languages"),
        ("get", "/api/v1/places"),
        ("get", "/api/v1/mediators"),
        ("post", "/api/v1/requests"),
        ("get", "/api/v1/requests"),
        ("get", "/api/v1/requests/1"),
        ("post", "/api/v1/requests/1/cancel"),
    ],
)
@pytest.mark.parametrize("token", [None, "sp_not-a-real-token", "Basic abc", "x" * 5000])
def test_without_a_valid_token_nothing_is_shown(
    client: TestClient, method: str, path: str, token: str | None
) -> None:
    headers = (
        {}
        if token is None
        else {"Authorization": token if token.startswith("Basic") else f"Bearer {token}"}
    )
    response = client.request(method, path, headers=headers, json=request_payload())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "not running"}


def test_caseworker_reads_places_and_languages(
    client: TestClient, caseworker: Staff, place_id: int
) -> None:
    assert [p["id"] for p in client.get("/api/v1/places", headers=caseworker.headers).json()] == [
        place_id
    ]
    assert client.get(f"/api/v1/places/{place_id}", headers=caseworker.headers).status_code == 200
    tags = {
        lang["tag"] for lang in client.get("/api/v1/languages", headers=caseworker.headers).json()
    }
    assert {"ar", "uk", "ru", "prs", "fa", "tr", "kmr", "ckb", "ps", "ti", "so"} <= tags


def test_caseworker_of_another_organisation_neither_sees_nor_cancels(
    client: TestClient, caseworker: Staff, other_caseworker: Staff
) -> None:
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    assert (
        client.get(
            f"/api/v1/requests/{created['id']}", headers=other_caseworker.headers
        ).status_code
        == 404
    )
    refused = client.post(
        f"/api/v1/requests/{created['id']}/cancel", headers=other_caseworker.headers
    )
    assert refused.status_code == 404
    assert client.get("/api/v1/requests", headers=other_caseworker.headers).json()["total"] == 0
    assert (
        client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()["status"]
        != "cancelled"
    )


def test_colleague_of_the_same_organisation_sees_and_cancels(
    client: TestClient, caseworker: Staff, make_staff: Callable[..., Staff]
) -> None:
    colleague = make_staff("caseworker", "Jobcenter Kreis Warendorf")
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    assert (
        client.get(f"/api/v1/requests/{created['id']}", headers=colleague.headers).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/requests/{created['id']}/cancel", headers=colleague.headers
        ).status_code
        == 200
    )


def test_caseworker_may_not_file_for_another_organisation(
    client: TestClient, caseworker: Staff, other_caseworker: Staff
) -> None:
    response = client.post(
        "/api/v1/requests",
        json=request_payload(organisation_id=other_caseworker.organisation_id),
        headers=caseworker.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"


def test_coordinator_sees_every_organisation_and_the_offers(
    client: TestClient, coordinator: Staff, caseworker: Staff, other_caseworker: Staff
) -> None:
    client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    client.post(
        "/api/v1/requests", json=request_payload(language="ar"), headers=other_caseworker.headers
    )
    listed = client.get("/api/v1/requests", headers=coordinator.headers).json()
    assert listed["total"] == 2
    assert all(item["offers"] == [] for item in listed["items"])
    only_one = client.get(
        "/api/v1/requests",
        params={"organisation_id": other_caseworker.organisation_id},
        headers=coordinator.headers,
    ).json()
    assert [item["language"] for item in only_one["items"]] == ["ar"]


def test_revoked_or_inactive_users_are_refused(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    from sqlmodel import Session

    from dispatch.users.models import User

    assert client.get("/api/v1/requests", headers=caseworker.headers).status_code == 200
    with Session(engine) as session:
        user = session.get(User, caseworker.user_id)
        assert user is not None
        user.active = False
        session.add(user)
        session.commit()
    assert client.get("/api/v1/requests", headers=caseworker.headers).status_code == 401


def test_tokens_are_stored_only_as_hashes(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    import sqlalchemy as sa

    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT token_hash, prefix FROM api_token")).all()
    assert rows, "the fixture issued a token"
    assert all(caseworker.token not in (row.token_hash, row.prefix) for row in rows)
    assert all(len(row.token_hash) == 64 for row in rows)
