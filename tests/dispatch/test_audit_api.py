"""GET /api/v1/audit: who did what to which record and when, filtered and paged."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from dispatch.clock import ManualClock
from tests.conftest import Staff, mediator_payload, request_payload

PLACE = {"name": "Rathaus Beckum", "lat": 51.7553, "lon": 8.0403}


def test_the_log_names_who_did_what_to_which_record(
    client: TestClient, coordinator: Staff, caseworker: Staff, clock: ManualClock
) -> None:
    place = client.post("/api/v1/places", json=PLACE, headers=coordinator.headers).json()
    clock.advance(timedelta(days=2))
    client.patch(
        f"/api/v1/places/{place['id']}",
        json={"contact_hint": "Empfang"},
        headers=coordinator.headers,
    )
    response = client.get(
        "/api/v1/audit",
        params={"entity": "place", "entity_id": place["id"]},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 2
    newest, oldest = body["items"]
    assert (newest["action"], oldest["action"]) == ("place.update", "place.create")
    assert newest["actor_name"] == "coordinator test"
    assert newest["details"] == {"fields": ["contact_hint"]}
    assert newest["at"].startswith("2026-12-02T08:00:00+01:00")

    # By period (local days, both included) and by person.
    one_day = client.get(
        "/api/v1/audit",
        params={"entity": "place", "from": "2026-11-30", "to": "2026-11-30"},
        headers=coordinator.headers,
    ).json()
    assert [e["action"] for e in one_day["items"]] == ["place.create"]
    by_caseworker = client.get(
        "/api/v1/audit", params={"actor_id": caseworker.user_id}, headers=coordinator.headers
    ).json()
    assert by_caseworker["total"] == 0


def test_the_log_is_paged_newest_first(
    client: TestClient, coordinator: Staff, clock: ManualClock
) -> None:
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        client.post(
            "/api/v1/places", json={**PLACE, "name": f"Ort {n}"}, headers=coordinator.headers
        )
    pages = [
        client.get(
            "/api/v1/audit",
            params={"entity": "place", "per_page": 2, "page": page},
            headers=coordinator.headers,
        ).json()
        for page in (1, 2, 3)
    ]
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    ids = [e["entity_id"] for p in pages for e in p["items"]]
    assert ids == sorted(ids, reverse=True)


def test_bad_filters_are_refused_by_field(client: TestClient, coordinator: Staff) -> None:
    for params, field in (
        ({"from": "2026-12-05", "to": "2026-12-01"}, "to"),
        ({"from": "gestern"}, "from"),
        ({"entity_id": "0"}, "entity_id"),
        ({"per_page": "1000"}, "per_page"),
        ({"entity": "Place; drop"}, "entity"),
    ):
        response = client.get("/api/v1/audit", params=params, headers=coordinator.headers)
        assert response.status_code == 422, params
        assert field in {e["field"] for e in response.json()["errors"]}, response.text


def test_only_coordinators_read_the_log(client: TestClient, caseworker: Staff) -> None:
    assert client.get("/api/v1/audit", headers=caseworker.headers).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401


def test_a_mediators_and_a_requests_history_by_the_api(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    first = client.post("/api/v1/mediators", json=mediator_payload(), headers=coordinator.headers)
    other = client.post(
        "/api/v1/mediators",
        json=mediator_payload(name="Helen Tekle", phone="+4915112340002"),
        headers=coordinator.headers,
    )
    mediator_id, other_id = first.json()["id"], other.json()["id"]
    client.patch(
        f"/api/v1/mediators/{mediator_id}", json={"paused": True}, headers=coordinator.headers
    )
    filed = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    request_id = filed.json()["id"]

    theirs = client.get(
        "/api/v1/audit", params={"mediator_id": mediator_id}, headers=coordinator.headers
    ).json()
    assert [(e["action"], e["entity_id"]) for e in theirs["items"]] == [
        ("mediator.update", mediator_id),
        ("mediator.create", mediator_id),
    ]
    assert other_id not in {e["entity_id"] for e in theirs["items"]}
    requests = client.get(
        "/api/v1/audit", params={"request_id": request_id}, headers=coordinator.headers
    ).json()
    assert {(e["entity"], e["entity_id"]) for e in requests["items"]} >= {("request", request_id)}
    assert all(e["entity"] in ("request", "offer", "assignment") for e in requests["items"])


def test_a_history_of_nobody_or_of_a_word_is_refused_by_field(
    client: TestClient, coordinator: Staff
) -> None:
    for params, field, detail in (
        ({"mediator_id": "abc"}, "mediator_id", None),
        ({"mediator_id": "0"}, "mediator_id", None),
        ({"mediator_id": "99999"}, "mediator_id", "There is no mediator with id 99999."),
        ({"request_id": "99999"}, "request_id", "There is no request with id 99999."),
    ):
        response = client.get("/api/v1/audit", params=params, headers=coordinator.headers)
        assert response.status_code == 422, params
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
        if detail:
            assert response.json()["detail"] == detail
