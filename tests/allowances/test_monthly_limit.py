"""A mediator's own monthly limit (SGB II § 11b: 250 EUR a month stay free for someone on
Bürgergeld): no paid offers for jobs in a month whose allowances reached it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.allowances.service import limit_reached
from dispatch.clock import ManualClock
from dispatch.jobs.models import ReportState
from dispatch.mediators.models import LEDGER_ROW, Mediator, bump_version, versions
from dispatch.offers.models import Assignment
from dispatch.requests.models import Mode, Request
from dispatch.storage import unit_of_work
from tests.allowances.factories import done_job
from tests.allowances.test_annual_limit import _new_request_on, _reasons
from tests.conftest import BERLIN, Staff, get_row, mediator_payload

#: Monday 14 December 2026, 08:00 in Beckum: half of December has been worked.
MID_DECEMBER = datetime(2026, 12, 14, 8, 0, tzinfo=BERLIN)


def _mediator(client: TestClient, coordinator: Staff, **fields: object) -> int:
    body = mediator_payload(travel_mode="car", **fields)
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _december_jobs(
    engine: Engine, caseworker: Staff, mediator_id: int, hours: list[int], first_day: int = 1
) -> None:
    """Approved phone jobs on December days from `first_day`: 15.00 EUR an hour (7.50 a
    started half hour)."""
    for day, length in enumerate(hours, start=first_day):
        done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=f"2026-12-{day:02d}T08:00:00+01:00",
            end=f"2026-12-{day:02d}T{8 + length:02d}:00:00+01:00",
            mode=Mode.phone,
        )


def test_at_the_monthly_limit_no_paid_offers_in_that_month_but_in_the_next(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    clock: ManualClock,
) -> None:
    clock.set(MID_DECEMBER)
    mediator_id = _mediator(client, coordinator, monthly_limit="250")
    # 225.00 EUR approved in December (7 jobs of 2 h and one of 1 h): a 1-hour job
    # (15.00 EUR) fits under 250 and is offered.
    _december_jobs(engine, caseworker, mediator_id, [2] * 7 + [1])
    december = _new_request_on(client, caseworker, "2026-12-21")
    assert _reasons(client, coordinator, december, mediator_id) == []

    # Two more hours approved: 255.00 EUR reached the limit. No paid December job for
    # them, and no offer went out to the only Arabic speaker ...
    _december_jobs(engine, caseworker, mediator_id, [2], first_day=9)
    next_december = _new_request_on(client, caseworker, "2026-12-28")
    assert _reasons(client, coordinator, next_december, mediator_id) == ["monthly_limit"]
    detail = client.get(f"/api/v1/requests/{next_december}", headers=coordinator.headers)
    assert detail.json()["offers"] == []
    body = client.get(f"/api/v1/requests/{next_december}/candidates", headers=coordinator.headers)
    [excluded] = body.json()["excluded"]
    [reason] = excluded["reasons"]
    assert reason["params"] == {"month": "2026-12", "left_cents": 0, "job_cents": 1500}
    assert "December 2026" in reason["message"]

    # ... but January is a new month.
    january = _new_request_on(client, caseworker, "2027-01-04")
    assert _reasons(client, coordinator, january, mediator_id) == []


def test_a_job_that_would_take_the_month_over_the_limit_is_not_offered(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    clock: ManualClock,
) -> None:
    clock.set(MID_DECEMBER)
    mediator_id = _mediator(client, coordinator, monthly_limit="250")
    # 240.00 EUR approved: 10.00 left, and a 1-hour job is expected to pay 15.00.
    _december_jobs(engine, caseworker, mediator_id, [2] * 8)
    december = _new_request_on(client, caseworker, "2026-12-21")
    assert _reasons(client, coordinator, december, mediator_id) == ["monthly_limit"]
    body = client.get(f"/api/v1/requests/{december}/candidates", headers=coordinator.headers)
    [reason] = body.json()["excluded"][0]["reasons"]
    assert reason["params"] == {"month": "2026-12", "left_cents": 1000, "job_cents": 1500}
    assert reason["message"] == (
        "a job expected to pay €15.00 would take December 2026 over the mediator's "
        "monthly limit (€10.00 left)"
    )


def test_jobs_held_count_toward_the_month_at_what_they_are_expected_to_pay(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    clock: ManualClock,
) -> None:
    clock.set(MID_DECEMBER)
    mediator_id = _mediator(client, coordinator, monthly_limit="60")
    # Three 1-hour jobs held in December (15.00 EUR each), none approved yet: 45.00.
    for day in (15, 16, 17):
        done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=f"2026-12-{day}T09:00:00+01:00",
            end=f"2026-12-{day}T10:00:00+01:00",
            state=None,
        )
    # Given back or rejected ones count nothing.
    _, given_back = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-12-18T09:00:00+01:00",
        end="2026-12-18T10:00:00+01:00",
        state=None,
    )
    with unit_of_work(engine) as session:
        get_row(session, Assignment, given_back).cancelled_at = MID_DECEMBER
    _december_jobs(engine, caseworker, mediator_id, [1], first_day=1)  # approved, 15.00
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T11:00:00+01:00",
        state=ReportState.rejected,
    )
    # 45 held + 15 approved = 60: the limit is reached.
    december = _new_request_on(client, caseworker, "2026-12-21")
    assert _reasons(client, coordinator, december, mediator_id) == ["monthly_limit"]


def test_an_accepted_offer_counts_at_once(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    clock.set(MID_DECEMBER)
    # As a migrated database has it: the ledger's token, under which the limits are kept.
    with unit_of_work(engine) as session:
        bump_version(session, LEDGER_ROW)
    mediator_id = _mediator(client, coordinator, monthly_limit="30")
    with Session(engine) as session:
        kept = versions(session).ledger
        before = limit_reached(session, settings=settings, now=MID_DECEMBER)
    assert before.monthly_counted == {}
    # A job held from now on (as an accepted offer makes one) changes the answer kept.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-12-21T09:00:00+01:00",
        end="2026-12-21T11:00:00+01:00",
        state=None,
    )
    with Session(engine) as session:
        assert versions(session).ledger != kept
        after = limit_reached(session, settings=settings, now=MID_DECEMBER)
    assert after.monthly_counted == {mediator_id: {(2026, 12): 30_00}}
    december = _new_request_on(client, caseworker, "2026-12-28")
    assert _reasons(client, coordinator, december, mediator_id) == ["monthly_limit"]


def test_without_a_monthly_limit_the_same_month_is_offered(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    clock: ManualClock,
) -> None:
    clock.set(MID_DECEMBER)
    mediator_id = _mediator(client, coordinator)
    _december_jobs(engine, caseworker, mediator_id, [2] * 8 + [1])  # 255.00 EUR
    december = _new_request_on(client, caseworker, "2026-12-21")
    assert _reasons(client, coordinator, december, mediator_id) == []


def test_the_months_at_the_limit_are_counted_as_the_year_is(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    settings: Settings,
) -> None:
    limited = _mediator(client, coordinator, monthly_limit="30")
    other = _mediator(
        client,
        coordinator,
        name="Omar Said",
        phone="+4915112340002",
        email="omar@example.org",
        monthly_limit="30.01",
    )
    for mediator_id in (limited, other):
        _december_jobs(engine, caseworker, mediator_id, [2])  # 30.00 EUR each
    with Session(engine) as session:
        found = limit_reached(session, settings=settings, now=MID_DECEMBER)
    # Each month's approved amounts count, in cents; a month before the current one is
    # not asked about (offers are for jobs to come).
    assert found.monthly_limits == {limited: 30_00, other: 30_01}
    assert found.monthly_counted == {limited: {(2026, 12): 30_00}, other: {(2026, 12): 30_00}}
    assert found.annual == frozenset()
    with Session(engine) as session:
        found = limit_reached(session, settings=settings, now=datetime(2027, 1, 4, tzinfo=BERLIN))
    assert found.monthly_counted == {}


def test_the_monthly_limit_is_kept_read_changed_and_cleared(
    client: TestClient, coordinator: Staff
) -> None:
    mediator_id = _mediator(client, coordinator, monthly_limit="250")
    url = f"/api/v1/mediators/{mediator_id}"
    assert Decimal(client.get(url, headers=coordinator.headers).json()["monthly_limit"]) == 250
    changed = client.patch(url, json={"monthly_limit": "200.50"}, headers=coordinator.headers)
    assert changed.status_code == 200, changed.text
    assert Decimal(changed.json()["monthly_limit"]) == Decimal("200.50")
    cleared = client.patch(url, json={"monthly_limit": None}, headers=coordinator.headers)
    assert cleared.json()["monthly_limit"] is None
    # Without it, nobody has a monthly limit.
    assert _mediator_json(client, coordinator)["monthly_limit"] is None


def _mediator_json(client: TestClient, coordinator: Staff) -> dict[str, object]:
    body = mediator_payload(name="Lina Haddad", phone="+4915112340009", email="l@example.org")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


@pytest.mark.parametrize("limit", ["-1", "0", "100001", "12.345", "abc", True, [250]])
def test_a_wrong_monthly_limit_is_refused_naming_the_field(
    client: TestClient, coordinator: Staff, limit: object
) -> None:
    body = mediator_payload(monthly_limit=limit)
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 422, limit
    assert response.json()["errors"][0]["field"] == "monthly_limit"


def test_erasing_a_mediator_erases_their_monthly_limit(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    # A monthly limit tells of Bürgergeld: personal, not needed for the accounts.
    mediator_id = _mediator(client, coordinator, monthly_limit="250")
    erased = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)
    assert erased.status_code in (200, 204), erased.text
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).monthly_limit is None


def test_a_held_jobs_new_times_renew_the_kept_limits_and_its_status_does_not(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    with unit_of_work(engine) as session:
        bump_version(session, LEDGER_ROW)
    mediator_id = _mediator(client, coordinator, monthly_limit="250")
    request_id, _ = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-12-21T09:00:00+01:00",
        end="2026-12-21T10:00:00+01:00",
        state=None,
    )
    with Session(engine) as session:
        kept = versions(session).ledger
    with unit_of_work(engine) as session:
        get_row(session, Request, request_id).updated_at = MID_DECEMBER
    with Session(engine) as session:
        assert versions(session).ledger == kept
    with unit_of_work(engine) as session:
        get_row(session, Request, request_id).end = datetime(2026, 12, 21, 13, tzinfo=BERLIN)
    with Session(engine) as session:
        assert versions(session).ledger != kept
