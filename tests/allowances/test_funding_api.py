"""GET /api/v1/funding: budget, spent, committed and forecast per funding source, by hand.

The tests' funding policy (tests/funding_open.toml) has one source, "municipal".
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.jobs.models import ReportState
from dispatch.requests.models import Mode
from tests.allowances.factories import done_job
from tests.conftest import Staff, mediator_payload


def _jobs(client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine) -> None:
    body = mediator_payload(travel_mode="car")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    mediator_id = int(created.json()["id"])

    def phone_job(start: str, end: str, state: ReportState | None) -> None:
        done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=start,
            end=end,
            mode=Mode.phone,
            funding_source="municipal",
            state=state,
        )

    # Spent: approved, 45 min by phone = 2 started half hours x 7.50 = 15.00 EUR.
    phone_job("2026-10-28T14:00:00+01:00", "2026-10-28T14:45:00+01:00", ReportState.approved)
    # Committed: reported, not yet approved, 90 min = 3 half hours = 22.50 EUR ...
    phone_job("2026-11-27T09:00:00+01:00", "2026-11-27T10:30:00+01:00", ReportState.reported)
    # ... and assigned in December, 60 min booked = 2 half hours = 15.00 EUR.
    phone_job("2026-12-07T09:00:00+01:00", "2026-12-07T10:00:00+01:00", None)
    # Rejected: costs nothing.
    phone_job("2026-11-02T09:00:00+01:00", "2026-11-02T10:00:00+01:00", ReportState.rejected)


def test_budget_spent_committed_and_forecast(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    _jobs(client, coordinator, caseworker, engine)
    response = client.get("/api/v1/funding", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    [municipal] = response.json()
    assert municipal["key"] == "municipal"
    assert municipal["budget"] == "20000.00"
    assert municipal["spent"] == "15.00"
    # 22.50 + 15.00 = 37.50 EUR committed.
    assert municipal["committed"] == "37.50"
    # 15.00 spent in the 334 days from 1 January to 30 November, carried to 365 days:
    # 15.00 / 334 x 365 = 16.392... -> 16.39 EUR.
    assert municipal["forecast"] == "16.39"
    # (15.00 + 37.50) / 20000 = 0.002625 -> 0.003.
    assert Decimal(municipal["share"]) == Decimal("0.003")
    assert municipal["warning"] is False


def test_warning_at_80_percent_of_a_small_budget(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    small = tmp_path / "funding.toml"
    small.write_text(
        'holiday_state = "NW"\nmin_notice_working_days = 0\n'
        'served = ["authority", "job_centre", "school_parents", "kita", "counselling",'
        ' "housing", "work", "health", "legal", "other"]\n'
        '[sources.municipal]\nname = "Kommunaler Haushalt"\nyearly_budget = "60.00"\n'
        '[[rules]]\nsource = "municipal"\n',
        encoding="utf-8",
    )
    settings.funding_policy_path = small
    _jobs(client, coordinator, caseworker, engine)
    [municipal] = client.get("/api/v1/funding", headers=coordinator.headers).json()
    # (15.00 + 37.50) / 60.00 = 0.875: at least 80 %.
    assert municipal["share"] == "0.875" and municipal["warning"] is True
    assert municipal["forecast_over_budget"] is False


def test_funding_is_for_coordinators(client: TestClient, caseworker: Staff) -> None:
    assert client.get("/api/v1/funding", headers=caseworker.headers).status_code == 403
