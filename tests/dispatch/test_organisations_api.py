"""Organisations over the API: kind, preferred and excluded mediators, own dispatch rules."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.offers.policy import policy_for
from dispatch.requests.models import Request
from tests.conftest import Staff, get_row, request_payload
from tests.dispatch.test_planning_api import add_mediator


def test_coordinator_adds_lists_and_changes_an_organisation(
    client: TestClient, coordinator: Staff
) -> None:
    amina = add_mediator(client, coordinator, "Amina Haddad", "+4915112340001")
    yonas = add_mediator(client, coordinator, "Yonas Habte", "+4915112340002")
    created = client.post(
        "/api/v1/organisations",
        json={
            "name": "Caritas Beckum",
            "kind": "non_profit",
            "preferred_mediator_ids": [amina],
            "excluded_mediator_ids": [yonas],
            "policy": {"broadcast_offer_minutes": 20},
        },
        headers=coordinator.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "non_profit"
    assert (body["preferred_mediator_ids"], body["excluded_mediator_ids"]) == ([amina], [yonas])
    assert body["policy"]["broadcast_offer_minutes"] == 20
    assert body["staff"] == 0

    # Swap the lists in one change: a mediator may move from one list to the other.
    changed = client.patch(
        f"/api/v1/organisations/{body['id']}",
        json={"preferred_mediator_ids": [yonas], "excluded_mediator_ids": [amina], "policy": None},
        headers=coordinator.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["preferred_mediator_ids"] == [yonas]
    assert changed.json()["excluded_mediator_ids"] == [amina]
    assert changed.json()["policy"] is None
    assert changed.json()["name"] == "Caritas Beckum"  # what was left out stays

    listed = client.get("/api/v1/organisations", headers=coordinator.headers).json()
    assert {o["name"]: o["staff"] for o in listed} == {
        "Caritas Beckum": 0,
        "Stadt Beckum – Integrationsmanagement": 1,
    }


def test_the_organisations_policy_and_exclusions_reach_its_requests(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, place_id: int
) -> None:
    helen = add_mediator(
        client, coordinator, "Helen Tekle", "+4915112340001", home={"lat": 51.757, "lon": 8.046}
    )
    response = client.patch(
        f"/api/v1/organisations/{caseworker.organisation_id}",
        json={"excluded_mediator_ids": [helen], "policy": {"broadcast_offer_minutes": 25}},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    filed = client.post(
        "/api/v1/requests",
        json=request_payload(mode="in_person", place_id=place_id),
        headers=caseworker.headers,
    ).json()
    with Session(engine) as session:
        assert (
            policy_for(session, get_row(session, Request, filed["id"])).broadcast_offer_minutes
            == 25
        )
    ranking = client.get(
        f"/api/v1/requests/{filed['id']}/candidates", headers=coordinator.headers
    ).json()
    assert ranking["candidates"] == []
    assert [e["mediator_id"] for e in ranking["excluded"]] == [helen]


def test_bad_organisations_are_refused_with_the_field(
    client: TestClient, coordinator: Staff
) -> None:
    amina = add_mediator(client, coordinator, "Amina Haddad", "+4915112340001")
    cases = [
        ({"name": "X", "kind": "private"}, 422, "kind"),
        ({"name": "X", "preferred_mediator_ids": [99999]}, 422, "preferred_mediator_ids"),
        (
            {"name": "X", "preferred_mediator_ids": [amina], "excluded_mediator_ids": [amina]},
            422,
            "body",
        ),
        (
            {"name": "X", "policy": {"broadcast_offer_minutes": 0}},
            422,
            "policy.broadcast_offer_minutes",
        ),
        ({"name": "X", "policy": {"max_request_hours": 99}}, 422, "policy.max_request_hours"),
        ({"name": "Stadt Beckum – Integrationsmanagement"}, 409, "name"),
        ({"name": "  "}, 422, "name"),
    ]
    for body, status, field in cases:
        response = client.post("/api/v1/organisations", json=body, headers=coordinator.headers)
        assert response.status_code == status, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (body, response.text)
    assert (
        client.patch(
            "/api/v1/organisations/4711", json={"name": "Y"}, headers=coordinator.headers
        ).status_code
        == 404
    )


def test_caseworkers_may_not_see_or_change_organisations(
    client: TestClient, caseworker: Staff
) -> None:
    for method, path, body in (
        ("get", "/api/v1/organisations", None),
        ("post", "/api/v1/organisations", {"name": "X"}),
        ("patch", f"/api/v1/organisations/{caseworker.organisation_id}", {"name": "X"}),
    ):
        response = client.request(method, path, json=body, headers=caseworker.headers)
        assert response.status_code == 403
