"""A request called off under 24 h before its start pays what the rules say, without a report."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.offers.models import Assignment, AssignmentSource, Offer, OfferStatus
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.storage import unit_of_work
from tests.conftest import Staff, mediator_payload


def _cancelled(
    engine: Engine, caseworker: Staff, mediator_id: int, start: str, hours_before: int
) -> None:
    """A phone job of 3 h that the mediator held, called off `hours_before` its start."""
    begin = datetime.fromisoformat(start)
    called_off = begin - timedelta(hours=hours_before)
    with unit_of_work(engine) as session:
        request = Request(
            organisation_id=caseworker.organisation_id,
            created_by_user_id=caseworker.user_id,
            language="ar",
            start=begin,
            end=begin + timedelta(hours=3),
            mode=Mode.phone,
            status=RequestStatus.cancelled,
            funding_source="municipal",
            created_at=begin - timedelta(days=7),
            updated_at=called_off,
            cancelled_at=called_off,
        )
        session.add(request)
        session.flush()
        offer = Offer(
            request_id=request.id,
            mediator_id=mediator_id,
            wave=1,
            token_hash=f"{request.id:064d}",
            short_code=f"{request.id:04d}",
            status=OfferStatus.withdrawn,
            created_at=begin - timedelta(days=7),
            expires_at=begin - timedelta(days=6),
        )
        session.add(offer)
        session.flush()
        session.add(
            Assignment(
                request_id=request.id,
                mediator_id=mediator_id,
                source=AssignmentSource.offer,
                offer_id=offer.id,
                created_at=begin - timedelta(days=7),
                cancelled_at=called_off,
                cancel_reason="request cancelled",
            )
        )


def test_late_cancellation_pays_up_to_two_hours(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    created = client.post("/api/v1/mediators", json=mediator_payload(), headers=coordinator.headers)
    mediator_id = int(created.json()["id"])
    # Called off 1 h before: 180 min booked, capped at 120 min = 4 started half hours
    # x 7.50 = 30.00 EUR; by phone, so no travel.
    _cancelled(engine, caseworker, mediator_id, "2026-10-14T09:00:00+02:00", hours_before=1)
    # Called off 2 days before: nothing.
    _cancelled(engine, caseworker, mediator_id, "2026-10-21T09:00:00+02:00", hours_before=48)
    body = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers).json()
    [row] = body["mediators"]
    assert [(line["kind"], line["euros"]) for line in row["lines"]] == [
        ("late_cancellation", "30.00")
    ]
    assert row["jobs"] == 1 and row["hours"] == "0.00"
    report = client.get(
        "/api/v1/reports/funders?from=2026-10-01&to=2026-10-31", headers=coordinator.headers
    ).json()
    assert report["jobs"] == 0 and report["late_cancellation_euros"] == "30.00"
