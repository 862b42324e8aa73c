"""The Einsatzbestätigung through the API: report → confirm → approve, on SQLite and PostgreSQL,
and every refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dispatch.audit import AuditEvent
from dispatch.jobs.models import JobReport
from tests.conftest import Staff
from tests.jobs.conftest import Job, confirm_links
from tests.offers.conftest import Outbox

GOOD: dict[str, Any] = {
    "actual_start": "2026-12-07T09:05:00+01:00",
    "actual_end": "2026-12-07T10:40:00+01:00",
    "waiting_minutes": 10,
    "travel_km": "12.5",
    "outcome": "done",
}


def report(client: TestClient, job: Job, **fields: object) -> Any:
    body = {**GOOD, "link_token": job.report_token, **fields}
    return client.post(f"/api/v1/assignments/{job.assignment_id}/report", json=body)


def reports(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count(col(JobReport.id)))).one()


def test_report_confirm_approve(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    coordinator: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    created = report(client, job_over, ticket_cost="3.40")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "reported" and body["minutes"] == 95
    assert Decimal(body["travel_km"]) == Decimal("12.5")
    assert Decimal(body["ticket_cost"]) == Decimal("3.40")
    request = client.get(f"/api/v1/requests/{job_over.request_id}", headers=caseworker.headers)
    assert request.json()["status"] == "completed"
    [mail] = outbox.messages("job_confirmation_caseworker", "email")
    assert "/c/" in mail.body and "09:05" in mail.body and "10:40" in mail.body
    assert len(confirm_links(outbox)) == 1

    path = f"/api/v1/assignments/{job_over.assignment_id}"
    confirmed = client.post(f"{path}/confirm", json={}, headers=caseworker.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"
    assert confirmed.json()["confirmed_by_user_id"] == caseworker.user_id
    approved = client.post(f"{path}/approve", json={}, headers=coordinator.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["approved_by_user_id"] == coordinator.user_id
    with Session(engine) as session:
        actions = [
            e.action
            for e in session.exec(
                select(AuditEvent)
                .where(
                    col(AuditEvent.action).in_(
                        ["assignment.report", "job_report.confirmed", "job_report.approved"]
                    )
                )
                .order_by(col(AuditEvent.id))
            )
        ]
    assert actions == ["assignment.report", "job_report.confirmed", "job_report.approved"]
    listed = client.get("/api/v1/job-reports?state=approved", headers=caseworker.headers).json()
    assert listed["total"] == 1 and listed["items"][0]["assignment_id"] == job_over.assignment_id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"actual_end": "2026-12-07T09:00:00+01:00"}, "body"),  # end before start
        ({"actual_start": "2026-12-06T17:00:00+01:00"}, "body"),  # more than 16 h
        ({"waiting_minutes": -5}, "waiting_minutes"),
        ({"travel_km": "500.1"}, "travel_km"),
        ({"travel_km": "12.55"}, "travel_km"),
        ({"ticket_cost": "-1"}, "ticket_cost"),
        ({"outcome": "went_home"}, "outcome"),
        ({"actual_end": "2026-12-07T11:30:00+01:00"}, "actual_end"),  # in the future
        (
            {
                "actual_start": "2026-12-01T09:00:00+01:00",
                "actual_end": "2026-12-01T10:00:00+01:00",
            },
            "actual_start",
        ),  # another day
    ],
)
def test_a_wrong_report_is_refused_and_nothing_is_written(
    client: TestClient, job_over: Job, engine: Engine, fields: dict[str, Any], field: str
) -> None:
    refused = report(client, job_over, **fields)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert reports(engine) == 0


def test_who_may_report(
    client: TestClient, job_over: Job, caseworker: Staff, coordinator: Staff, engine: Engine
) -> None:
    path = f"/api/v1/assignments/{job_over.assignment_id}/report"
    assert client.post(path, json=GOOD).status_code == 401
    assert client.post(path, json={**GOOD, "link_token": "forged"}).status_code == 401
    assert client.post(path, json=GOOD, headers=caseworker.headers).status_code == 403
    other = client.post(
        f"/api/v1/assignments/{job_over.assignment_id + 1}/report",
        json={**GOOD, "link_token": job_over.report_token},
    )
    assert other.status_code == 403
    assert reports(engine) == 0
    on_behalf = client.post(path, json=GOOD, headers=coordinator.headers)
    assert on_behalf.status_code == 201, on_behalf.text
    again = report(client, job_over)
    assert again.status_code == 409 and "already reported" in again.json()["detail"]
    assert reports(engine) == 1


def test_confirming_is_for_the_requesting_organisation(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    other_caseworker: Staff,
    coordinator: Staff,
    engine: Engine,
) -> None:
    path = f"/api/v1/assignments/{job_over.assignment_id}"
    early = client.post(f"{path}/confirm", json={}, headers=caseworker.headers)
    assert early.status_code == 409  # nothing reported yet
    assert report(client, job_over).status_code == 201
    assert (
        client.post(f"{path}/confirm", json={}, headers=other_caseworker.headers).status_code == 404
    )
    assert client.post(f"{path}/confirm", json={}, headers=coordinator.headers).status_code == 403
    no_reason = client.post(
        f"{path}/confirm", json={"decision": "dispute"}, headers=caseworker.headers
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    with Session(engine) as session:
        assert session.exec(select(JobReport)).one().state == "reported"
    disputed = client.post(
        f"{path}/confirm",
        json={"decision": "dispute", "reason": "Ende war 10:15"},
        headers=caseworker.headers,
    )
    assert disputed.status_code == 200 and disputed.json()["state"] == "disputed"
    twice = client.post(f"{path}/confirm", json={}, headers=caseworker.headers)
    assert twice.status_code == 409


def test_approving_without_confirmation_needs_a_reason(
    client: TestClient, job_over: Job, caseworker: Staff, coordinator: Staff, engine: Engine
) -> None:
    path = f"/api/v1/assignments/{job_over.assignment_id}/approve"
    assert report(client, job_over).status_code == 201
    assert client.post(path, json={}, headers=caseworker.headers).status_code == 403
    refused = client.post(path, json={}, headers=coordinator.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    assert "unconfirmed" in refused.json()["detail"]
    with Session(engine) as session:
        assert session.exec(select(JobReport)).one().state == "reported"
    approved = client.post(
        path, json={"reason": "Telefonisch bestätigt"}, headers=coordinator.headers
    )
    assert approved.status_code == 200 and approved.json()["approval_reason"].startswith("Tele")
    assert client.post(path, json={"reason": "x"}, headers=coordinator.headers).status_code == 409


def test_bulk_approval_is_all_or_nothing(
    client: TestClient, job_over: Job, caseworker: Staff, coordinator: Staff, engine: Engine
) -> None:
    assert report(client, job_over).status_code == 201
    bulk = "/api/v1/assignments/approve"
    refused = client.post(
        bulk, json={"assignment_ids": [job_over.assignment_id]}, headers=coordinator.headers
    )
    assert refused.status_code == 422
    assert f"Assignment {job_over.assignment_id}" in refused.json()["detail"]
    client.post(
        f"/api/v1/assignments/{job_over.assignment_id}/confirm", json={}, headers=caseworker.headers
    )
    unknown = client.post(
        bulk,
        json={"assignment_ids": [job_over.assignment_id, 999_999]},
        headers=coordinator.headers,
    )
    assert unknown.status_code == 404
    with Session(engine) as session:
        assert session.exec(select(JobReport)).one().state == "confirmed"
    done = client.post(
        bulk, json={"assignment_ids": [job_over.assignment_id]}, headers=coordinator.headers
    )
    assert done.status_code == 200 and done.json()["items"][0]["state"] == "approved"


def test_reminders_when_a_report_or_a_confirmation_is_three_days_late(
    client: TestClient, job_over: Job, outbox: Outbox, advance: Callable[..., int]
) -> None:
    assert len(outbox.messages("completion_request", "sms")) == 1
    advance(days=2, hours=23)
    assert len(outbox.messages("completion_request", "sms")) == 1
    advance(hours=1)  # three days after the report was asked for
    sms = outbox.messages("completion_request", "sms")
    assert len(sms) == 2 and "Erinnerung" in sms[1].body
    advance(days=3)
    assert len(outbox.messages("completion_request", "sms")) == 2  # one reminder only

    newest = list(outbox.links("completion_request").values())[-1]
    assert report(client, job_over, link_token=newest).status_code == 201
    assert len(confirm_links(outbox)) == 1
    advance(days=3)
    [first, reminder] = outbox.messages("job_confirmation_caseworker", "email")
    assert "Erinnerung" in (reminder.subject or "") and len(confirm_links(outbox)) == 2
