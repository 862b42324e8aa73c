"""The engine on the database's pool: candidates for one request, a plan for a period."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.conftest import Staff, mediator_payload, request_payload

TUESDAY = [{"weekday": "tue", "start": "08:00", "end": "16:00"}]


def add_mediator(
    client: TestClient, coordinator: Staff, name: str, phone: str, **overrides: object
) -> int:
    fields: dict[str, object] = {
        "availability": TUESDAY,
        "languages": [{"language": "ti", "level": "native"}],
        **overrides,
    }
    body = mediator_payload(name=name, phone=phone, **fields)
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def hand_over(engine: Engine, request_id: int, mediator_id: int) -> None:
    """Give a request to a mediator directly in the database (dispatch is not built yet)."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO assignment (request_id, mediator_id, source, created_at, no_show)"
                " VALUES (:r, :m, 'coordinator', '2026-11-30 07:00:00', false)"
            ),
            {"r": request_id, "m": mediator_id},
        )
        connection.execute(
            sa.text("UPDATE request SET status = 'assigned' WHERE id = :r"), {"r": request_id}
        )


def test_candidates_are_ranked_and_the_others_explained(
    client: TestClient, coordinator: Staff, caseworker: Staff, place_id: int
) -> None:
    near = add_mediator(
        client, coordinator, "Helen Tekle", "+4915112340001", home={"lat": 51.757, "lon": 8.046}
    )
    far = add_mediator(
        client,
        coordinator,
        "Yonas Habte",
        "+4915112340002",
        home={"lat": 51.80, "lon": 8.02},
        travel_mode="car",
        max_travel_km=30,
    )
    basic = add_mediator(
        client,
        coordinator,
        "Tesfay G.",
        "+4915112340003",
        languages=[{"language": "ti", "level": "basic"}],
    )
    add_mediator(
        client,
        coordinator,
        "Amina Haddad",
        "+4915112340004",
        languages=[{"language": "ar", "level": "native"}],
    )
    request = client.post(
        "/api/v1/requests",
        json=request_payload(mode="in_person", place_id=place_id),
        headers=caseworker.headers,
    ).json()
    response = client.get(
        f"/api/v1/requests/{request['id']}/candidates", headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["mediator_id"] for c in body["candidates"]] == [near, far]
    assert body["candidates"][0]["travel_km"] < body["candidates"][1]["travel_km"]
    assert set(body["candidates"][0]["parts"]) >= {"continuity", "level", "travel", "load"}
    assert [e["mediator_id"] for e in body["excluded"]] == [basic]
    assert "basic" in body["excluded"][0]["reasons"][0]["message"]
    # Each reason: the engine's code and params, and the English sentence made of them.
    assert body["excluded"][0]["reasons"][0] == {
        "code": "level",
        "params": {"language": "ti", "level": "basic", "min_level": "fluent"},
        "message": "speaks Tigrinya only at basic level",
    }
    assert body["not_speaking"] == 1


def test_unavailable_reason_is_in_local_time(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    late = add_mediator(
        client,
        coordinator,
        "Helen",
        "+4915112340001",
        availability=[{"weekday": "tue", "start": "10:00", "end": "16:00"}],
    )
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    body = client.get(
        f"/api/v1/requests/{request['id']}/candidates", headers=coordinator.headers
    ).json()
    assert body["excluded"][0]["mediator_id"] == late
    assert "09:00-10:30" in body["excluded"][0]["reasons"][0]["message"], body


def test_a_mediator_busy_elsewhere_is_excluded_with_the_reason(
    client: TestClient, coordinator: Staff, caseworker: Staff, place_id: int, engine: Engine
) -> None:
    helen = add_mediator(client, coordinator, "Helen Tekle", "+4915112340001")
    earlier = client.post(
        "/api/v1/requests",
        json=request_payload(start="2026-12-01T08:30:00+01:00", end="2026-12-01T09:30:00+01:00"),
        headers=caseworker.headers,
    ).json()
    hand_over(engine, earlier["id"], helen)
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    body = client.get(
        f"/api/v1/requests/{request['id']}/candidates", headers=coordinator.headers
    ).json()
    assert body["candidates"] == []
    assert body["excluded"][0]["mediator_id"] == helen
    assert body["excluded"][0]["reasons"][0]["code"] == "busy"
    assert (
        "08:30-09:30" in body["excluded"][0]["reasons"][0]["message"]
    )  # local time, as people read it


def test_the_mediator_who_served_the_client_before_comes_first(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    first = add_mediator(client, coordinator, "Aaron", "+4915112340001")
    second = add_mediator(client, coordinator, "Zena", "+4915112340002")
    before = client.post(
        "/api/v1/requests",
        json=request_payload(
            client_ref="JC-0417", start="2026-12-01T08:00:00+01:00", end="2026-12-01T08:30:00+01:00"
        ),
        headers=caseworker.headers,
    ).json()
    hand_over(engine, before["id"], second)
    request = client.post(
        "/api/v1/requests", json=request_payload(client_ref="JC-0417"), headers=caseworker.headers
    ).json()
    body = client.get(
        f"/api/v1/requests/{request['id']}/candidates", headers=coordinator.headers
    ).json()
    assert [c["mediator_id"] for c in body["candidates"]] == [second, first]
    assert body["candidates"][0]["parts"]["continuity"] > 0


def test_candidates_are_for_coordinators_only(client: TestClient, caseworker: Staff) -> None:
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    assert (
        client.get(
            f"/api/v1/requests/{request['id']}/candidates", headers=caseworker.headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/optimize",
            json={"from": "2026-12-01T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"},
            headers=caseworker.headers,
        ).status_code
        == 403
    )


def test_optimize_plans_every_open_request_of_the_period(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    helen = add_mediator(client, coordinator, "Helen", "+4915112340001")
    yonas = add_mediator(client, coordinator, "Yonas", "+4915112340002")
    for hour in (9, 9, 11):  # two at once, one later: two mediators fill all three
        client.post(
            "/api/v1/requests",
            json=request_payload(
                start=f"2026-12-01T{hour:02d}:00:00+01:00",
                end=f"2026-12-01T{hour + 1:02d}:00:00+01:00",
            ),
            headers=caseworker.headers,
        )
    response = client.post(
        "/api/v1/optimize",
        json={
            "from": "2026-12-01T00:00:00+01:00",
            "to": "2026-12-02T00:00:00+01:00",
            "time_limit_s": 5,
        },
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["status"] == "OPTIMAL"
    assert plan["filled"] == 3 and plan["unassigned"] == []
    assert {a["mediator_id"] for a in plan["assignments"]} == {helen, yonas}
    statuses = {
        r["status"]
        for r in client.get("/api/v1/requests", headers=coordinator.headers).json()["items"]
    }
    assert statuses == {"offered"}  # a plan is a proposal; nothing is written


def test_optimize_refuses_a_bad_period(client: TestClient, coordinator: Staff) -> None:
    backwards = client.post(
        "/api/v1/optimize",
        json={"from": "2026-12-02T00:00:00+01:00", "to": "2026-12-01T00:00:00+01:00"},
        headers=coordinator.headers,
    )
    assert backwards.status_code == 422
    empty = client.post(
        "/api/v1/optimize",
        json={"from": "2026-12-01T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"},
        headers=coordinator.headers,
    )
    assert empty.status_code == 404 and "no open requests" in empty.json()["detail"]
    too_long = client.post(
        "/api/v1/optimize",
        json={"from": "2026-12-01T00:00:00+01:00", "to": "2027-02-01T00:00:00+01:00"},
        headers=coordinator.headers,
    )
    assert too_long.status_code == 422
    for seconds in (0, -5, 121):  # the command line's `optimize --time-limit` keeps the same
        slow = client.post(
            "/api/v1/optimize",
            json={
                "from": "2026-12-01T00:00:00+01:00",
                "to": "2026-12-02T00:00:00+01:00",
                "time_limit_s": seconds,
            },
            headers=coordinator.headers,
        )
        assert slow.status_code == 422 and "time_limit_s" in slow.text, slow.text


def test_a_re_plan_keeps_the_earlier_proposal_when_nothing_above_travel_gains(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    twins = [
        add_mediator(client, coordinator, name, phone)
        for name, phone in (("Helen", "+4915112340001"), ("Hanna", "+4915112340002"))
    ]
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    period = {
        "from": "2026-12-01T00:00:00+01:00",
        "to": "2026-12-02T00:00:00+01:00",
        "time_limit_s": 5,
    }
    first = client.post("/api/v1/optimize", json=period, headers=coordinator.headers).json()
    chosen = first["assignments"][0]["mediator_id"]
    other = next(m for m in twins if m != chosen)

    earlier = [
        {"request_id": request["id"], "mediator_id": other},
        {"request_id": 999_999, "mediator_id": other},  # no longer open: dropped
        {"request_id": request["id"], "mediator_id": 888_888},
    ]  # not in the pool: dropped
    again = client.post(
        "/api/v1/optimize", json={**period, "previous": earlier}, headers=coordinator.headers
    )
    assert again.status_code == 200, again.text
    assert [a["mediator_id"] for a in again.json()["assignments"]] == [other]


def test_a_malformed_earlier_plan_is_refused_with_the_field_named(
    client: TestClient, coordinator: Staff
) -> None:
    period = {"from": "2026-12-01T00:00:00+01:00", "to": "2026-12-02T00:00:00+01:00"}
    previous: object
    for previous in (
        [{"request_id": "x", "mediator_id": 1}],
        [{"request_id": 0, "mediator_id": 1}],
        "all",
        [{}],
    ):
        response = client.post(
            "/api/v1/optimize", json={**period, "previous": previous}, headers=coordinator.headers
        )
        assert response.status_code == 422, response.text
        assert "previous" in response.text
