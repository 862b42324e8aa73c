"""The funding policy at intake, through the API, on SQLite and PostgreSQL (the default policy)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.requests.models import Request
from tests.conftest import Staff, request_payload

#: Monday 30 November 08:00 is "now": Monday 7 December is 5 working days ahead.
IN_TIME = {"start": "2026-12-07T09:00:00+01:00", "end": "2026-12-07T10:00:00+01:00"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The default policy (config/funding.toml): legal and health refused, 5 working days."""
    return settings.model_copy(update={"funding_policy_path": None})


def post(client: TestClient, staff: Staff, **fields: object) -> Any:
    return client.post("/api/v1/requests", json=request_payload(**fields), headers=staff.headers)


def count_requests(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count(col(Request.id)))).one()


def test_a_refused_category_answers_not_served_with_the_next_step(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    response = post(client, caseworker, category="legal", **IN_TIME)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "not_served"
    assert "Legal (lawyer, police, court)" in body["detail"]
    assert "professional interpreter" in body["detail"]
    assert body["errors"][0]["field"] == "category"
    health = post(client, caseworker, category="health", **IN_TIME).json()
    assert health["code"] == "not_served" and "telephone or video" in health["detail"]
    assert count_requests(engine) == 0


def test_short_notice_needs_an_urgency_reason(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    response = post(client, caseworker, category="authority")  # tomorrow
    assert response.status_code == 422
    assert response.json()["code"] == "notice_too_short"
    assert "5 working days" in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == "urgency_reason"
    four_days = {"start": "2026-12-04T09:00:00+01:00", "end": "2026-12-04T10:00:00+01:00"}
    assert post(client, caseworker, **four_days).json()["code"] == "notice_too_short"
    assert count_requests(engine) == 0
    urgent = post(client, caseworker, category="authority", urgency_reason="Abschiebung droht")
    assert urgent.status_code == 201, urgent.text
    assert urgent.json()["urgency_reason"] == "Abschiebung droht"


def test_a_served_request_in_time_is_charged_by_rule(client: TestClient, caseworker: Staff) -> None:
    school = post(client, caseworker, category="school_parents", **IN_TIME)
    assert school.status_code == 201, school.text
    assert school.json()["category"] == "school_parents"
    assert school.json()["funding_source"] == "state_programme"
    job_centre = post(client, caseworker, category="job_centre", **IN_TIME).json()
    assert job_centre["funding_source"] == "requester_pays"
    plain = post(client, caseworker, **IN_TIME).json()
    assert plain["category"] == "other" and plain["funding_source"] == "state_programme"


def test_a_non_profit_organisation_is_charged_by_its_kind(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    """The rule for work and housing asks for a non-profit: the organisation's kind decides."""
    public = post(client, caseworker, category="housing", **IN_TIME).json()
    assert public["funding_source"] == "state_programme"
    path = f"/api/v1/organisations/{caseworker.organisation_id}"
    changed = client.patch(path, json={"kind": "non_profit"}, headers=coordinator.headers)
    assert changed.status_code == 200, changed.text
    non_profit = post(client, caseworker, category="housing", **IN_TIME).json()
    assert non_profit["funding_source"] == "municipal"


def test_the_coordinator_files_against_the_policy_with_a_reason_audited(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    refused = post(client, coordinator, category="health")
    assert refused.json()["code"] == "not_served"  # no reason, no exception
    filed = post(
        client,
        coordinator,
        category="health",
        override_reason="Kinderarzt, Dolmetschdienst nicht erreichbar",
        organisation_id=caseworker.organisation_id,
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["policy_override_reason"].startswith("Kinderarzt")
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "request.create", AuditEvent.entity_id == filed.json()["id"]
            )
        ).one()
    assert event.details == {"policy_override_reason": filed.json()["policy_override_reason"]}


def test_a_caseworker_may_not_override_or_choose_the_source(
    client: TestClient, caseworker: Staff, engine: Engine
) -> None:
    response = post(client, caseworker, category="legal", override_reason="bitte")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "override_reason"
    chosen = post(client, caseworker, funding_source="municipal", **IN_TIME)
    assert chosen.status_code == 422
    assert chosen.json()["errors"][0]["field"] == "funding_source"
    assert count_requests(engine) == 0


def test_an_unknown_category_is_a_422_naming_the_field(
    client: TestClient, caseworker: Staff
) -> None:
    response = post(client, caseworker, category="space_travel", **IN_TIME)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "category"


def test_the_coordinator_changes_the_funding_source_audited(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    created = post(client, caseworker, **IN_TIME).json()
    path = f"/api/v1/requests/{created['id']}/funding-source"
    assert (
        client.post(path, json={"funding_source": "municipal"}, headers=caseworker.headers)
    ).status_code == 403
    unknown = client.post(path, json={"funding_source": "lottery"}, headers=coordinator.headers)
    assert unknown.status_code == 422 and "state_programme" in unknown.json()["detail"]
    changed = client.post(path, json={"funding_source": "municipal"}, headers=coordinator.headers)
    assert changed.status_code == 200 and changed.json()["funding_source"] == "municipal"
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "request.funding_source")
        ).one()
    assert event.details == {"from": "state_programme", "to": "municipal"}
    assert event.actor_id == coordinator.user_id


def test_the_categories_list_says_what_is_served(client: TestClient, caseworker: Staff) -> None:
    listed = client.get("/api/v1/categories", headers=caseworker.headers).json()
    assert listed["min_notice_working_days"] == 5
    by_key = {item["key"]: item for item in listed["items"]}
    assert by_key["legal"]["served"] is False
    assert by_key["legal"]["next_step"] == "professional_interpreter"
    assert by_key["kita"]["served"] is True and by_key["kita"]["next_step"] is None


def test_moving_a_request_inside_the_notice_needs_an_urgency_reason(
    client: TestClient, caseworker: Staff
) -> None:
    """Filed in time, then moved to tomorrow: the notice holds for a new start as at filing."""
    created = post(client, caseworker, **IN_TIME).json()
    path = f"/api/v1/requests/{created['id']}"
    tomorrow = {"start": "2026-12-01T09:00:00+01:00"}
    moved = client.patch(path, json=tomorrow, headers=caseworker.headers)
    assert moved.status_code == 422
    assert moved.json()["code"] == "notice_too_short"
    assert "5 working days" in moved.json()["detail"]
    assert moved.json()["errors"][0]["field"] == "urgency_reason"
    kept = client.get(path, headers=caseworker.headers).json()
    assert kept["start"] == created["start"]
    urgent = {**tomorrow, "urgency_reason": "Anhörung vorgezogen"}
    allowed = client.patch(path, json=urgent, headers=caseworker.headers)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["urgency_reason"] == "Anhörung vorgezogen"


def test_a_new_category_is_checked_and_charged_by_the_policy(
    client: TestClient, caseworker: Staff
) -> None:
    created = post(client, caseworker, category="school_parents", **IN_TIME).json()
    path = f"/api/v1/requests/{created['id']}"
    refused = client.patch(path, json={"category": "legal"}, headers=caseworker.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "not_served"
    changed = client.patch(path, json={"category": "job_centre"}, headers=caseworker.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["category"] == "job_centre"
    assert changed.json()["funding_source"] == "requester_pays"
