"""Who hears of what happens to a job after it: a rejected report reaches its mediator, a
disputed one the coordinator, a no-show both (SPEC: every change reaches whoever it affects)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.mediators.models import Mediator
from tests.conftest import Staff
from tests.jobs.conftest import CLIENT_REF, Job
from tests.offers.conftest import Outbox

GOOD: dict[str, Any] = {
    "actual_start": "2026-12-07T09:05:00+01:00",
    "actual_end": "2026-12-07T10:40:00+01:00",
    "outcome": "done",
}
#: The coordinator's reason names the client: fine in an email, never in an SMS.
REJECTION = "Frau Yilmaz sagt, der Termin fand nicht statt"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The coordination's address, where alerts go."""
    return settings.model_copy(update={"coordinator_email": "integration@beckum.test"})


def wants_email_too(engine: Engine, job: Job) -> None:
    with Session(engine) as session:
        mediator = session.get(Mediator, job.mediator_id)
        assert mediator is not None
        mediator.channels = ["sms", "email"]
        session.add(mediator)
        session.commit()


def reported(client: TestClient, job: Job) -> None:
    answer = client.post(
        f"/api/v1/assignments/{job.assignment_id}/report",
        json=GOOD,
        headers={"X-Link-Token": job.report_token},
    )
    assert answer.status_code == 201, answer.text


def test_a_rejected_report_tells_the_mediator_the_job_is_not_paid_and_why_by_email(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    coordinator: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    wants_email_too(engine, job_over)
    reported(client, job_over)
    path = f"/api/v1/assignments/{job_over.assignment_id}"
    disputed = client.post(
        f"{path}/confirm",
        json={"decision": "dispute", "reason": "Niemand war da"},
        headers=caseworker.headers,
    )
    assert disputed.status_code == 200, disputed.text
    assert outbox.messages("job_rejected_mediator") == []
    rejected = client.post(
        f"{path}/approve",
        json={"decision": "reject", "reason": REJECTION},
        headers=coordinator.headers,
    )
    assert rejected.status_code == 200, rejected.text

    [sms] = outbox.messages("job_rejected_mediator", "sms")
    assert sms.recipient_id == job_over.mediator_id
    assert "nicht vergütet" in sms.body and "Montag" not in sms.body
    assert "Yilmaz" not in sms.body and CLIENT_REF not in sms.body
    [mail] = outbox.messages("job_rejected_mediator", "email")
    assert mail.recipient_id == job_over.mediator_id
    assert "nicht vergütet" in mail.body and f"Grund: {REJECTION}" in mail.body
    assert CLIENT_REF not in mail.body


def test_a_rejection_from_the_list_of_reports_tells_the_mediator_too(
    client: TestClient, job_over: Job, caseworker: Staff, coordinator: Staff, outbox: Outbox
) -> None:
    reported(client, job_over)
    rejected = client.post(
        "/api/v1/assignments/approve",
        json={
            "assignment_ids": [job_over.assignment_id],
            "decision": "reject",
            "reason": "doppelt gemeldet",
        },
        headers=coordinator.headers,
    )
    assert rejected.status_code == 200, rejected.text
    [sms] = outbox.messages("job_rejected_mediator", "sms")
    assert "doppelt" not in sms.body


def test_a_disputed_report_reaches_the_coordinator_by_email_with_what_does_not_match(
    client: TestClient, job_over: Job, caseworker: Staff, outbox: Outbox
) -> None:
    reported(client, job_over)
    disputed = client.post(
        f"/api/v1/assignments/{job_over.assignment_id}/confirm",
        json={"decision": "dispute", "reason": "Sie kam erst um 09:30"},
        headers=caseworker.headers,
    )
    assert disputed.status_code == 200, disputed.text

    [alert] = outbox.messages("alert_disputed_coordinator")
    assert alert.channel == "email" and alert.recipient == "integration@beckum.test"
    assert "bestritten" in (alert.subject or "")
    assert "Was nicht stimmt: Sie kam erst um 09:30" in alert.body
    assert "Mediator 1" in alert.body and "/dashboard/job-reports" in alert.body


def test_a_confirmed_report_alerts_nobody(
    client: TestClient, job_over: Job, caseworker: Staff, outbox: Outbox
) -> None:
    reported(client, job_over)
    confirmed = client.post(
        f"/api/v1/assignments/{job_over.assignment_id}/confirm",
        json={},
        headers=caseworker.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert outbox.messages("alert_disputed_coordinator") == []


def test_a_no_show_tells_the_mediator_gently_and_alerts_the_coordination(
    client: TestClient, job_over: Job, caseworker: Staff, outbox: Outbox, engine: Engine
) -> None:
    wants_email_too(engine, job_over)
    recorded = client.post(
        f"/api/v1/requests/{job_over.request_id}/no-show", headers=caseworker.headers
    )
    assert recorded.status_code == 200, recorded.text

    [sms] = outbox.messages("no_show_mediator", "sms")
    assert sms.recipient_id == job_over.mediator_id
    assert "niemand" in sms.body and "Koordination meldet sich bei Ihnen" in sms.body
    assert CLIENT_REF not in sms.body
    [mail] = outbox.messages("no_show_mediator", "email")
    assert "Krankheit" in mail.body and CLIENT_REF not in mail.body
    [alert] = outbox.messages("alert_no_show_coordinator")
    assert alert.channel == "email" and alert.recipient == "integration@beckum.test"
    assert "Nicht erschienen" in (alert.subject or "") and "Mediator 1" in alert.body


def test_a_no_show_the_coordinator_records_alerts_nobody_but_the_mediator(
    client: TestClient, job_over: Job, coordinator: Staff, outbox: Outbox
) -> None:
    recorded = client.post(
        f"/api/v1/requests/{job_over.request_id}/no-show", headers=coordinator.headers
    )
    assert recorded.status_code == 200, recorded.text
    assert len(outbox.messages("no_show_mediator", "sms")) == 1
    assert outbox.messages("alert_no_show_coordinator") == []
