"""Clearance (SPEC "How German pools run"): without training, pledge and police certificate,
or after the listed-until day, a mediator gets no offers; the reason names what is missing."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.mediators import service
from dispatch.storage import unit_of_work
from tests.conftest import CLEARED, Staff, mediator_payload, request_payload

TUESDAY = [{"weekday": "tue", "start": "08:00", "end": "16:00"}]


def add(client: TestClient, coordinator: Staff, phone: str, **fields: object) -> int:
    body = mediator_payload(
        phone=phone,
        languages=[{"language": "ti", "level": "native"}],
        availability=TUESDAY,
        **fields,
    )
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def candidates(client: TestClient, coordinator: Staff, caseworker: Staff) -> dict[str, Any]:
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    response = client.get(
        f"/api/v1/requests/{request['id']}/candidates", headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_api_carries_the_four_dates(client: TestClient, coordinator: Staff) -> None:
    mediator_id = add(client, coordinator, "+4915112340001")
    body = client.get(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers).json()
    assert {name: body[name] for name in CLEARED} == CLEARED
    changed = client.patch(
        f"/api/v1/mediators/{mediator_id}",
        json={"police_certificate_seen_on": None},
        headers=coordinator.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["police_certificate_seen_on"] is None
    wrong = client.patch(
        f"/api/v1/mediators/{mediator_id}",
        json={"listed_until": "31.12.2027"},
        headers=coordinator.headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "listed_until"


def test_a_mediator_without_a_pledge_is_excluded_with_the_item_named(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    cleared = add(client, coordinator, "+4915112340001")
    no_pledge = add(client, coordinator, "+4915112340002", pledge_signed_on=None)
    body = candidates(client, coordinator, caseworker)
    assert [c["mediator_id"] for c in body["candidates"]] == [cleared]
    assert body["excluded"] == [
        {
            "mediator_id": no_pledge,
            "name": "Amina Haddad",
            "reasons": [
                {
                    "code": "not_cleared",
                    "params": {"missing": "confidentiality_pledge"},
                    "message": "not cleared: confidentiality pledge missing",
                }
            ],
        }
    ]


def test_a_listing_that_ended_before_the_job_excludes(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    # The job is on Tuesday 1 December; the listing ended the day before.
    lapsed = add(client, coordinator, "+4915112340001", listed_until="2026-11-30")
    body = candidates(client, coordinator, caseworker)
    assert body["candidates"] == []
    [excluded] = body["excluded"]
    assert excluded["mediator_id"] == lapsed
    assert excluded["reasons"][0]["params"] == {
        "expired": "listed_until",
        "listed_until": "2026-11-30",
    }


def test_new_mediators_without_dates_wait_for_clearance_and_get_no_offers(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    body = mediator_payload(languages=[{"language": "ti", "level": "native"}], availability=TUESDAY)
    for name in CLEARED:
        del body[name]
    assert (
        client.post("/api/v1/mediators", json=body, headers=coordinator.headers).status_code == 201
    )
    request = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    assert request["status"] == "unfilled"


def test_the_watch_lists_who_expires_soon_and_who_waits(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    soon = add(client, coordinator, "+4915112340001", listed_until="2026-12-20")
    add(client, coordinator, "+4915112340002", listed_until="2027-06-30")
    waiting = add(client, coordinator, "+4915112340003", trained_on=None)
    lapsed = add(client, coordinator, "+4915112340004", listed_until="2026-11-29")
    with unit_of_work(engine) as session:
        watch = service.clearance_watch(session, today=date(2026, 11, 30))
        assert [m.id for m in watch.expiring] == [soon]
        assert [(m.id, gaps) for m, gaps in watch.waiting] == [
            (waiting, ["training"]),
            (lapsed, ["listed_until"]),
        ]
