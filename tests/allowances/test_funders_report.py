"""GET /api/v1/reports/funders and its CSV: jobs, hours and euros by group, worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.jobs.models import ReportState
from dispatch.requests.models import Mode, Request, RequestStatus
from dispatch.storage import unit_of_work
from tests.allowances.factories import done_job
from tests.conftest import Staff, mediator_payload

OCTOBER = "from=2026-10-01&to=2026-10-31"


def _month_of_jobs(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    body = mediator_payload(travel_mode="car")
    mediator_id = client.post("/api/v1/mediators", json=body, headers=coordinator.headers).json()[
        "id"
    ]
    # Arabic, job centre, state money: 90 min by phone = 3 half hours x 7.50 = 22.50 EUR.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-05T09:00:00+02:00",
        end="2026-10-05T10:30:00+02:00",
        mode=Mode.phone,
        category="job_centre",
        funding_source="state",
    )
    # Arabic, Kita, municipal money: 30 min by phone = 1 half hour = 7.50 EUR.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-06T09:00:00+02:00",
        end="2026-10-06T09:30:00+02:00",
        mode=Mode.phone,
        category="kita",
        funding_source="municipal",
    )
    # Dari, job centre, state money: 60 min by phone = 2 half hours = 15.00 EUR.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-07T09:00:00+02:00",
        end="2026-10-07T10:00:00+02:00",
        mode=Mode.phone,
        language="prs",
        category="job_centre",
        funding_source="state",
    )
    # Reported only: not a delivered job for the funders.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-08T09:00:00+02:00",
        end="2026-10-08T10:00:00+02:00",
        mode=Mode.phone,
        state=ReportState.reported,
    )
    # Nobody was found for a Tigrinya request of 2 h.
    with unit_of_work(engine) as session:
        session.add(
            Request(
                organisation_id=caseworker.organisation_id,
                created_by_user_id=caseworker.user_id,
                language="ti",
                start=datetime.fromisoformat("2026-10-09T09:00:00+02:00"),
                end=datetime.fromisoformat("2026-10-09T11:00:00+02:00"),
                mode=Mode.phone,
                status=RequestStatus.unfilled,
                created_at=datetime.fromisoformat("2026-10-01T09:00:00+02:00"),
                updated_at=datetime.fromisoformat("2026-10-09T08:00:00+02:00"),
            )
        )


def test_funders_report_groups_and_costs(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    _month_of_jobs(client, coordinator, caseworker, engine)
    response = client.get(f"/api/v1/reports/funders?{OCTOBER}", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    # 3 approved jobs: 90 + 30 + 60 = 180 min = 3.00 h; 22.50 + 7.50 + 15.00 = 45.00 EUR;
    # 45.00 / 3 = 15.00 EUR a job.
    assert (body["jobs"], body["hours"], body["euros"]) == (3, "3.00", "45.00")
    assert body["cost_per_job"] == "15.00"
    by_language = {
        row["key"]: (row["jobs"], row["hours"], row["euros"]) for row in body["by_language"]
    }
    assert by_language == {"ar": (2, "2.00", "30.00"), "prs": (1, "1.00", "15.00")}
    by_category = {row["key"]: (row["jobs"], row["euros"]) for row in body["by_category"]}
    assert by_category == {"job_centre": (2, "37.50"), "kita": (1, "7.50")}
    by_source = {row["key"]: row["euros"] for row in body["by_funding_source"]}
    assert by_source == {"state": "37.50", "municipal": "7.50"}
    assert [(u["language"], u["requests"], u["hours"]) for u in body["unfilled_by_language"]] == [
        ("ti", 1, 2.0)
    ]


def test_funders_csv_for_german_excel(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    _month_of_jobs(client, coordinator, caseworker, engine)
    response = client.get(f"/api/v1/export/funders.csv?{OCTOBER}", headers=coordinator.headers)
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Bereich", "Schlüssel", "Name", "Einsätze", "Stunden", "Betrag (EUR)"]
    assert rows[1][3:] == ["3", "3,00", "45,00"]
    assert rows[2][5] == "15,00"


def test_funders_report_is_for_coordinators_with_a_sane_period(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    assert client.get("/api/v1/reports/funders", headers=caseworker.headers).status_code == 403
    wrong = client.get(
        "/api/v1/reports/funders?from=2026-10-31&to=2026-10-01", headers=coordinator.headers
    )
    assert wrong.status_code == 422
    year = client.get("/api/v1/reports/funders", headers=coordinator.headers).json()
    assert (year["from"], year["to"]) == ("2026-01-01", "2026-11-30")
