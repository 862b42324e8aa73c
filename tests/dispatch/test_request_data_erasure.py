"""A request's personal data are erased REQUEST_DATA_DAYS after its end; a home visit's
street and point with them."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.deadlines import runner as deadlines
from dispatch.requests.models import Request
from tests.conftest import Staff, get_row, request_payload

HOME = {"address": "Lindenstraße 3, Beckum", "location": {"lat": 51.76, "lon": 8.05}}


def file(client: TestClient, caseworker: Staff, **overrides: object) -> int:
    body = request_payload(
        mode="in_person", contact_name="Frau Peters", contact_phone="+4925212900", **overrides
    )
    response = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_home_visit_loses_its_street_and_point_with_the_request_data(
    client: TestClient,
    caseworker: Staff,
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
    place_id: int,
) -> None:
    home = file(client, caseworker, home_visit=True, notes="Klingeln bei B.", **HOME)
    office = file(client, caseworker, place_id=place_id, client_ref="JC-1")

    clock.advance(timedelta(days=settings.request_data_days - 1))
    deadlines.run_due(engine, clock=clock, settings=settings)
    with Session(engine) as session:
        assert get_row(session, Request, home).address == "Lindenstraße 3, Beckum"

    clock.advance(timedelta(days=3))  # the job ends a day after "now"
    deadlines.run_due(engine, clock=clock, settings=settings)

    with Session(engine) as session:
        erased = get_row(session, Request, home)
        assert (erased.address, erased.location_lat, erased.location_lon) == (None, None, None)
        assert (erased.contact_name, erased.contact_phone, erased.notes) == (None, None, None)
        assert erased.home_visit and erased.language == "ti"  # the statistics keep their facts
        kept = get_row(session, Request, office)
        assert kept.contact_name is None and kept.client_ref == "JC-1"
        assert (kept.location_lat, kept.location_lon) == (51.7571, 8.0458)  # the place's point
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "request.erase", AuditEvent.entity_id == home
            )
        ).one()
        assert "Lindenstraße" not in str(event.details)


def test_an_address_that_is_no_home_visit_keeps_its_point(
    client: TestClient, caseworker: Staff, engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    office = file(client, caseworker, **HOME)
    clock.advance(timedelta(days=settings.request_data_days + 2))
    deadlines.run_due(engine, clock=clock, settings=settings)
    with Session(engine) as session:
        kept = get_row(session, Request, office)
        assert kept.address == "Lindenstraße 3, Beckum" and kept.location_lat == 51.76
        assert kept.contact_name is None


def test_moving_the_request_moves_the_erasure(
    client: TestClient, caseworker: Staff, engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    home = file(client, caseworker, home_visit=True, **HOME)
    moved = client.patch(
        f"/api/v1/requests/{home}",
        json={"start": "2026-12-08T09:00:00+01:00"},
        headers=caseworker.headers,
    )
    assert moved.status_code == 200, moved.text
    clock.advance(timedelta(days=settings.request_data_days + 3))
    deadlines.run_due(engine, clock=clock, settings=settings)
    with Session(engine) as session:
        assert get_row(session, Request, home).address is not None
    clock.advance(timedelta(days=7))
    deadlines.run_due(engine, clock=clock, settings=settings)
    with Session(engine) as session:
        assert get_row(session, Request, home).address is None
