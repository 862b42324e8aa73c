"""GET /api/v1/stats and GET /api/v1/export/assignments.csv: figures, periods, permissions."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch import audit
from dispatch.clock import ManualClock
from dispatch.offers.models import Assignment, AssignmentSource
from dispatch.requests import service as requests
from dispatch.requests.models import Request, RequestStatus
from dispatch.requests.schemas import RequestCreate
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.conftest import Staff, get_row, mediator_payload, request_payload


def _file(engine: Engine, clock: ManualClock, staff: Staff, **overrides: object) -> int:
    """Filed through the intake service only, so no dispatch changes the statuses set below."""
    with unit_of_work(engine) as session:
        created, _ = requests.create_request(
            session,
            data=RequestCreate.model_validate(request_payload(**overrides)),
            actor=get_row(session, User, staff.user_id),
            now=clock.now(),
        )
        return created.id


def _set(engine: Engine, request_id: int, **values: object) -> None:
    with Session(engine) as session:
        row = session.get(Request, request_id)
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def test_figures_by_status_language_and_unmet_demand(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, clock: ManualClock
) -> None:
    mediator = client.post(
        "/api/v1/mediators",
        json=mediator_payload(name="=HYPERLINK(1)"),
        headers=coordinator.headers,
    )
    mediator_id = mediator.json()["id"]
    filled_fast = _file(engine, clock, caseworker, language="ar")
    filled_slow = _file(
        engine,
        clock,
        caseworker,
        language="ar",
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    unfilled = _file(
        engine,
        clock,
        caseworker,
        language="ti",
        start="2026-12-03T09:00:00+01:00",
        end="2026-12-03T11:00:00+01:00",
    )
    warned = _file(
        engine,
        clock,
        caseworker,
        language="ti",
        start="2026-12-04T09:00:00+01:00",
        end="2026-12-04T10:00:00+01:00",
    )
    _set(
        engine,
        filled_fast,
        status=RequestStatus.assigned,
        filled_at=clock.now() + timedelta(minutes=10),
    )
    _set(
        engine,
        filled_slow,
        status=RequestStatus.completed,
        filled_at=clock.now() + timedelta(minutes=50),
    )
    _set(engine, unfilled, status=RequestStatus.unfilled)
    with unit_of_work(engine) as session:
        # Still open, but its caseworker was told it will probably not be filled.
        audit.record(
            session,
            at=clock.now(),
            actor_kind="system",
            actor_id=None,
            action="request.at_risk",
            entity="request",
            entity_id=warned,
        )
    with Session(engine) as session:
        session.add(
            Assignment(
                request_id=filled_fast,
                mediator_id=mediator_id,
                source=AssignmentSource.offer,
                created_at=clock.now() + timedelta(minutes=10),
            )
        )
        session.commit()
    body = client.get(
        "/api/v1/stats?from=2026-11-30&to=2026-12-06", headers=coordinator.headers
    ).json()
    assert body["from"] == "2026-11-30" and body["to"] == "2026-12-06"
    assert (body["requests"], body["filled"], body["unfilled"]) == (4, 2, 1)
    assert body["fill_rate"] == round(2 / 3, 3)
    assert body["median_minutes_to_fill"] == 30.0
    assert body["by_status"] == {
        "open": 1,
        "offered": 0,
        "assigned": 1,
        "completed": 1,
        "cancelled": 0,
        "unfilled": 1,
    }
    languages = {g["key"]: g for g in body["by_language"]}
    assert languages["ar"]["fill_rate"] == 1.0 and languages["ti"]["fill_rate"] == 0.0
    assert body["unmet_demand_by_language"] == [
        {"language": "ti", "label": "Tigrinya", "requests": 1, "hours": 2.0, "at_risk": 1}
    ]
    assert languages["ti"]["at_risk"] == 1 and languages["ar"]["at_risk"] == 0
    assert [g["key"] for g in body["by_week"]] == ["2026-W49"]
    assert body["by_organisation"][0]["requests"] == 4
    export = client.get(
        "/api/v1/export/assignments.csv?from=2026-11-30&to=2026-12-06", headers=coordinator.headers
    )
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["request_id"] == str(filled_fast)
    assert rows[0]["mediator_name"] == "'=HYPERLINK(1)"  # a spreadsheet will not run it


def test_periods_are_checked(client: TestClient, coordinator: Staff) -> None:
    for query, field in (
        ("from=2026-12-01&to=2026-11-01", "to"),
        ("from=2025-01-01&to=2026-12-31", "to"),
    ):
        response = client.get(f"/api/v1/stats?{query}", headers=coordinator.headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    for query in ("from=yesterday", "to=2026-02-30", "from=1700000000"):
        assert client.get(f"/api/v1/stats?{query}", headers=coordinator.headers).status_code == 422
        assert (
            client.get(
                f"/api/v1/export/assignments.csv?{query}", headers=coordinator.headers
            ).status_code
            == 422
        )
    default = client.get("/api/v1/stats", headers=coordinator.headers).json()
    assert default["from"] == "2026-09-07" and default["to"] == "2026-12-14"


def test_only_coordinators_read_statistics(client: TestClient, caseworker: Staff) -> None:
    for path in ("/api/v1/stats", "/api/v1/export/assignments.csv"):
        assert client.get(path, headers=caseworker.headers).status_code == 403
        assert client.get(path).status_code == 401
