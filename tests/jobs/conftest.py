"""A job that is over, ready for its Einsatzbestätigung: filed under the default funding policy,
offered, accepted, and the report link sent."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.offers.models import Assignment
from tests.conftest import Staff, request_payload
from tests.offers import conftest as offers_fixtures
from tests.offers.conftest import Outbox, tigrinya_speaker

#: The offers' outbox reader and clock mover serve here too.
outbox = offers_fixtures.outbox
advance = offers_fixtures.advance

#: The pseudonymous client reference the job was for.
CLIENT_REF = "JC-2026-0417"
CONFIRM_LINK = re.compile(r"https://sprachpool\.test/c/([A-Za-z0-9_\-]+)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The default funding policy: the job is filed a week ahead, in a served category."""
    return settings.model_copy(update={"funding_policy_path": None})


@dataclass
class Job:
    request_id: int
    assignment_id: int
    #: Who did the job.
    mediator_id: int
    #: The mediator's report link token (from the completion request SMS).
    report_token: str


@pytest.fixture
def job_over(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    outbox: Outbox,
    advance: Callable[..., int],
    engine: Engine,
) -> Job:
    """Monday 7 December 09:00-10:30, a parent meeting for client JC-2026-0417, accepted;
    now it is 11:01."""
    for number in (1, 2):
        created = client.post(
            "/api/v1/mediators", json=tigrinya_speaker(number), headers=coordinator.headers
        )
        assert created.status_code == 201, created.text
    filed = client.post(
        "/api/v1/requests",
        json=request_payload(
            start="2026-12-07T09:00:00+01:00",
            end="2026-12-07T10:30:00+01:00",
            category="school_parents",
            client_ref=CLIENT_REF,
        ),
        headers=caseworker.headers,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    advance(days=7, hours=3, minutes=1)  # Monday 7 December 11:01
    holder, report_token = next(iter(outbox.links("completion_request").items()))
    assert holder
    with Session(engine) as session:
        assignment = session.exec(
            select(Assignment).where(Assignment.request_id == request_id)
        ).one()
    return Job(request_id, assignment.id, assignment.mediator_id, report_token)


def confirm_links(outbox: Outbox) -> list[str]:
    """The confirm-or-dispute link tokens e-mailed to caseworkers, oldest first."""
    return [
        match.group(1)
        for message in outbox.messages("job_confirmation_caseworker", "email")
        for match in [CONFIRM_LINK.search(message.body)]
        if match
    ]
