"""Filing, reading and cancelling requests through the real app."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import Staff, request_payload


def test_caseworker_files_a_phone_request_and_gets_it_back(
    client: TestClient, caseworker: Staff
) -> None:
    response = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (
        body["status"] == "unfilled"
    )  # dispatched at once, and nobody in the (empty) pool speaks it
    assert body["language"] == "ti" and body["language_name"] == "Tigrinya"
    assert body["organisation_id"] == caseworker.organisation_id
    assert body["offers"] is None  # offers are for coordinators
    fetched = client.get(f"/api/v1/requests/{body['id']}", headers=caseworker.headers)
    assert fetched.status_code == 200
    assert fetched.json()["start"] == body["start"]


def test_in_person_request_takes_its_location_from_the_place(
    client: TestClient, caseworker: Staff, place_id: int
) -> None:
    response = client.post(
        "/api/v1/requests",
        json=request_payload(mode="in_person", place_id=place_id, language="AR"),
        headers=caseworker.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["place"] == {"id": place_id, "name": "Jobcenter Beckum"}
    assert body["location"] == {"lat": 51.7571, "lon": 8.0458}
    assert body["language"] == "ar"


def test_same_idempotency_key_returns_the_same_request_once(
    client: TestClient, caseworker: Staff
) -> None:
    headers = {**caseworker.headers, "Idempotency-Key": "form-submit-7f3a"}
    first = client.post("/api/v1/requests", json=request_payload(), headers=headers)
    second = client.post("/api/v1/requests", json=request_payload(), headers=headers)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    listed = client.get("/api/v1/requests", headers=caseworker.headers).json()
    assert listed["total"] == 1


def test_idempotency_key_reused_for_another_body_is_a_conflict(
    client: TestClient, caseworker: Staff
) -> None:
    headers = {**caseworker.headers, "Idempotency-Key": "k1"}
    assert (
        client.post("/api/v1/requests", json=request_payload(), headers=headers).status_code == 201
    )
    clash = client.post("/api/v1/requests", json=request_payload(language="ar"), headers=headers)
    assert clash.status_code == 409
    assert "Idempotency-Key" in clash.json()["detail"]


def test_idempotency_keys_are_per_user(
    client: TestClient, caseworker: Staff, make_staff: Callable[..., Staff]
) -> None:
    colleague = make_staff("caseworker", "Jobcenter Kreis Warendorf")
    one = client.post(
        "/api/v1/requests",
        json=request_payload(),
        headers={**caseworker.headers, "Idempotency-Key": "same"},
    )
    two = client.post(
        "/api/v1/requests",
        json=request_payload(),
        headers={**colleague.headers, "Idempotency-Key": "same"},
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


def test_concurrent_retries_with_one_key_create_one_request(
    client: TestClient, caseworker: Staff
) -> None:
    headers = {**caseworker.headers, "Idempotency-Key": "double-click"}
    results: list[int] = []
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        response = client.post("/api/v1/requests", json=request_payload(), headers=headers)
        results.append(response.status_code)
        ids.append(response.json().get("id"))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) in ([201], [200, 201]) and results.count(201) == 1, results
    assert len(set(ids)) == 1
    assert client.get("/api/v1/requests", headers=caseworker.headers).json()["total"] == 1


def test_list_filters_by_status_language_and_period(client: TestClient, caseworker: Staff) -> None:
    client.post("/api/v1/requests", json=request_payload(language="ti"), headers=caseworker.headers)
    client.post(
        "/api/v1/requests",
        json=request_payload(
            language="ar", start="2026-12-03T09:00:00+01:00", end="2026-12-03T10:00:00+01:00"
        ),
        headers=caseworker.headers,
    )
    cancelled = client.post(
        "/api/v1/requests", json=request_payload(language="uk"), headers=caseworker.headers
    ).json()
    client.post(f"/api/v1/requests/{cancelled['id']}/cancel", headers=caseworker.headers)

    def languages(**params: str) -> list[str]:
        response = client.get("/api/v1/requests", params=params, headers=caseworker.headers)
        assert response.status_code == 200, response.text
        return [item["language"] for item in response.json()["items"]]

    assert languages(language="ar") == ["ar"]
    assert sorted(languages(status="unfilled")) == ["ar", "ti"]
    assert languages(status="cancelled") == ["uk"]
    assert languages(**{"from": "2026-12-02T00:00:00+01:00"}) == ["ar"]
    assert sorted(languages(to="2026-12-02T00:00:00+01:00")) == ["ti", "uk"]


def test_cancel_records_reason_and_cannot_repeat(client: TestClient, caseworker: Staff) -> None:
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    response = client.post(
        f"/api/v1/requests/{created['id']}/cancel",
        json={"reason": "Termin verschoben"},
        headers=caseworker.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Termin verschoben"
    again = client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]


def test_coordinator_files_for_another_organisation(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    response = client.post(
        "/api/v1/requests",
        json=request_payload(organisation_id=caseworker.organisation_id),
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["organisation_id"] == caseworker.organisation_id
    mine = client.get("/api/v1/requests", headers=caseworker.headers).json()
    assert [item["id"] for item in mine["items"]] == [response.json()["id"]]


def test_every_change_writes_an_audit_event(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    from sqlmodel import Session, select

    from dispatch.audit import AuditEvent

    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)
    with Session(engine) as session:
        actions = [
            e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "request"))
        ]
    assert actions == ["request.create", "request.unfilled", "request.cancel"]


def test_the_same_client_language_and_time_again_asks_file_anyway(
    client: TestClient, caseworker: Staff, make_staff: Callable[..., Staff]
) -> None:
    """A second request for the same client, language and an overlapping time within a day
    is answered 409 with the first one, unless `allow_duplicate` is set (issue 14, item 5)."""
    body = request_payload(client_ref="JC-2026-0417")
    first = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
    assert first.status_code == 201, first.text
    overlapping = {**body, "start": "2026-12-01T10:00:00+01:00", "end": "2026-12-01T11:00:00+01:00"}
    again = client.post("/api/v1/requests", json=overlapping, headers=caseworker.headers)
    assert again.status_code == 409, again.text
    answer = again.json()
    assert answer["code"] == "conflict" and answer["errors"][0]["field"] == "allow_duplicate"
    assert answer["existing"]["id"] == first.json()["id"]
    # Another language, another time, another client, or another office: no warning.
    for other in (
        {**body, "language": "ar"},
        {**body, "start": "2026-12-01T10:30:00+01:00", "end": "2026-12-01T11:00:00+01:00"},
        {**body, "client_ref": "JC-2026-0418"},
    ):
        assert (
            client.post("/api/v1/requests", json=other, headers=caseworker.headers).status_code
            == 201
        )
    colleague = make_staff("caseworker", "Stadt Ahlen")
    assert client.post("/api/v1/requests", json=body, headers=colleague.headers).status_code == 201
    anyway = client.post(
        "/api/v1/requests",
        json={**overlapping, "allow_duplicate": True},
        headers=caseworker.headers,
    )
    assert anyway.status_code == 201, anyway.text
