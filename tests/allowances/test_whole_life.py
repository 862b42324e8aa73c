"""The whole life of a job as a German pool runs it, through the API, on both databases:
refused category → filed → accepted → done → reported → confirmed → approved → the month
statement with euros worked out by hand → the budget → the yearly limit → the funders' report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient

from tests.conftest import Staff, request_payload
from tests.jobs import conftest as jobs_fixtures
from tests.jobs.conftest import Job

# The job: Monday 7 December 2026 09:00-10:30, Tigrinya by phone, a parent meeting,
# filed a week ahead under the default funding policy; accepted; now 11:01.
settings = jobs_fixtures.settings
outbox = jobs_fixtures.outbox
advance = jobs_fixtures.advance
job_over = jobs_fixtures.job_over


def test_a_job_from_request_to_the_funders_report(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    coordinator: Staff,
    advance: Callable[..., int],
) -> None:
    # A category the pool does not serve is refused with its next step.
    refused = client.post(
        "/api/v1/requests",
        json=request_payload(
            start="2026-12-08T09:00:00+01:00", end="2026-12-08T10:00:00+01:00", category="legal"
        ),
        headers=caseworker.headers,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "not_served"
    assert "professional interpreter" in refused.json()["detail"]

    # The mediator reports, the caseworker confirms, the coordinator approves.
    path = f"/api/v1/assignments/{job_over.assignment_id}"
    reported = client.post(
        f"{path}/report",
        headers={"X-Link-Token": job_over.report_token},
        json={
            "actual_start": "2026-12-07T09:05:00+01:00",
            "actual_end": "2026-12-07T10:40:00+01:00",
            "waiting_minutes": 10,
            "travel_km": "0",
            "outcome": "done",
        },
    )
    assert reported.status_code == 201, reported.text
    confirmed = client.post(f"{path}/confirm", json={}, headers=caseworker.headers)
    assert confirmed.status_code == 200, confirmed.text
    approved = client.post(f"{path}/approve", json={}, headers=coordinator.headers)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    request = client.get(f"/api/v1/requests/{job_over.request_id}", headers=coordinator.headers)
    mediator_id = request.json()["assignment"]["mediator_id"]
    assert request.json()["funding_source"] == "state_programme"

    # By hand, under config/allowance.toml: 09:05-10:40 = 95 min + 10 min waiting = 105 min
    # = 3.5 -> 4 started half hours x 7.50 = 30.00 EUR; by phone, so no travel.
    # It counts against the budget of the state programme at once ...
    budgets = {
        b["key"]: b for b in client.get("/api/v1/funding", headers=coordinator.headers).json()
    }
    assert budgets["state_programme"]["spent"] == "30.00"
    assert budgets["state_programme"]["budget"] == "50000.00"

    # ... and against the mediator's yearly limit: with a limit of 30.00 they are at it,
    # and the engine leaves them out of the next paid job.
    limited = client.patch(
        f"/api/v1/mediators/{mediator_id}",
        json={"annual_limit": "30.00"},
        headers=coordinator.headers,
    )
    assert limited.status_code == 200, limited.text
    another = client.post(
        "/api/v1/requests",
        json=request_payload(
            start="2026-12-15T09:00:00+01:00",
            end="2026-12-15T10:00:00+01:00",
            category="school_parents",
        ),
        headers=caseworker.headers,
    )
    assert another.status_code == 201, another.text
    ranking = client.get(
        f"/api/v1/requests/{another.json()['id']}/candidates", headers=coordinator.headers
    ).json()
    reasons = {e["mediator_id"]: [r["code"] for r in e["reasons"]] for e in ranking["excluded"]}
    assert reasons[mediator_id] == ["annual_limit"]

    # The funders' report for December counts the job.
    report = client.get(
        "/api/v1/reports/funders?from=2026-12-01&to=2026-12-31", headers=coordinator.headers
    ).json()
    assert (report["jobs"], report["hours"], report["euros"]) == (1, "1.58", "30.00")
    assert [(r["key"], r["jobs"]) for r in report["by_category"]] == [("school_parents", 1)]
    assert [(r["key"], r["euros"]) for r in report["by_funding_source"]] == [
        ("state_programme", "30.00")
    ]

    # December's statement can be made once December is over.
    early = client.get("/api/v1/allowances?month=2026-12", headers=coordinator.headers)
    assert early.status_code == 422
    advance(days=25)  # Saturday 2 January 2027
    statement = client.get("/api/v1/allowances?month=2026-12", headers=coordinator.headers)
    assert statement.status_code == 200, statement.text
    [row] = statement.json()["mediators"]
    assert row["mediator_id"] == mediator_id
    assert (row["jobs"], row["euros"], row["year_total"]) == (1, "30.00", "30.00")
    assert row["by_funding_source"] == {"state_programme": "30.00"}
    assert row["at_limit"] is True
    exported = client.get(
        "/api/v1/export/allowances.csv?month=2026-12", headers=coordinator.headers
    )
    assert exported.content.startswith("\ufeff".encode())
    header, line = list(
        csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";")
    )
    assert line[header.index("Betrag (EUR)")] == "30,00"
    assert Decimal(row["hours"]) == Decimal("1.58")  # 95 min
