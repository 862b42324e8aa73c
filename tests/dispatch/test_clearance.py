"""Clearance (SPEC "How German pools run"): without training, pledge and police certificate,
or after the listed-until day, a mediator gets no offers; the reason names what is missing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
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


# --- days that record something done are not in the future -------------------------------


def test_a_clearance_day_after_today_is_refused_naming_the_field(
    client: TestClient, coordinator: Staff
) -> None:
    """Today is Monday 30 November 2026 in Beckum; 2026-12-01 is a typo for a day done."""
    for field in ("trained_on", "pledge_signed_on", "police_certificate_seen_on"):
        body = mediator_payload(**{field: "2026-12-01"})
        response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [
            {
                "field": field,
                "message": f"{field}: 2026-12-01 lies after today (2026-11-30); it records "
                "when something happened, so it cannot be in the future.",
            }
        ]
    today = mediator_payload(police_certificate_seen_on="2026-11-30", listed_until="2031-12-31")
    created = client.post("/api/v1/mediators", json=today, headers=coordinator.headers)
    assert created.status_code == 201, created.text  # today, and a listing far ahead, are fine
    changed = client.patch(
        f"/api/v1/mediators/{created.json()['id']}",
        json={"trained_on": "2062-09-12"},
        headers=coordinator.headers,
    )
    assert changed.status_code == 422 and changed.json()["errors"][0]["field"] == "trained_on"


def test_a_consent_given_after_today_is_refused(client: TestClient, coordinator: Staff) -> None:
    later_today = mediator_payload(consent_at="2026-11-30T23:30:00+01:00")
    assert (
        client.post("/api/v1/mediators", json=later_today, headers=coordinator.headers)
    ).status_code == 201
    tomorrow = mediator_payload(phone="+4915112340002", consent_at="2026-12-01T00:30:00+01:00")
    response = client.post("/api/v1/mediators", json=tomorrow, headers=coordinator.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "consent_at"


def test_today_is_the_towns_day_from_the_services_clock(
    client: TestClient, coordinator: Staff, clock: ManualClock
) -> None:
    """At 00:30 on 1 December in Beckum it is still 30 November in UTC: the 1st is today."""
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    body = mediator_payload(trained_on="2026-12-01")
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    too_early = mediator_payload(phone="+4915112340002", trained_on="2026-12-02")
    refused = client.post("/api/v1/mediators", json=too_early, headers=coordinator.headers)
    assert refused.status_code == 422
