"""The yearly limit: warned at 80 %, left out of paid offers at the limit, unless overridden."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.jobs.models import ReportState
from dispatch.mediators.models import LEDGER_ROW, bump_version, versions
from dispatch.requests.models import Mode
from dispatch.storage import unit_of_work
from tests.allowances.factories import done_job
from tests.conftest import Staff, mediator_payload, request_payload


def _mediator_with_october_jobs(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, limit: str
) -> int:
    body = mediator_payload(travel_mode="car", annual_limit=limit)
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    assert created.json()["annual_limit"] == limit
    mediator_id = int(created.json()["id"])
    # Two phone jobs of 2 h: 4 half hours x 7.50 = 30.00 EUR each; 60.00 EUR in the year.
    for day in ("2026-10-05", "2026-10-12"):
        done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=f"{day}T09:00:00+02:00",
            end=f"{day}T11:00:00+02:00",
            mode=Mode.phone,
        )
    return mediator_id


def _new_request(client: TestClient, caseworker: Staff) -> int:
    # Monday 7 December, Arabic by phone: the mediator's language and free time.
    return _new_request_on(client, caseworker, "2026-12-07")


def _new_request_on(client: TestClient, caseworker: Staff, day: str) -> int:
    body = request_payload(
        language="ar", start=f"{day}T09:00:00+01:00", end=f"{day}T10:00:00+01:00"
    )
    response = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _reasons(
    client: TestClient, coordinator: Staff, request_id: int, mediator_id: int
) -> list[str]:
    body = client.get(
        f"/api/v1/requests/{request_id}/candidates", headers=coordinator.headers
    ).json()
    for excluded in body["excluded"]:
        if excluded["mediator_id"] == mediator_id:
            return [reason["code"] for reason in excluded["reasons"]]
    assert mediator_id in [c["mediator_id"] for c in body["candidates"]]
    return []


def test_at_the_limit_no_paid_offers_until_the_coordinator_overrides(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # Limit 60.00, year total 60.00: reached.
    mediator_id = _mediator_with_october_jobs(client, coordinator, caseworker, engine, "60.00")
    statement = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers)
    [row] = statement.json()["mediators"]
    assert row["year_total"] == "60.00" and row["at_limit"] is True
    assert row["limit_warning"] is True

    request_id = _new_request(client, caseworker)
    assert _reasons(client, coordinator, request_id, mediator_id) == ["annual_limit"]
    # The only Arabic speaker is at the limit: no offer went out.
    detail = client.get(f"/api/v1/requests/{request_id}", headers=coordinator.headers).json()
    assert detail["offers"] == []

    override = client.patch(
        f"/api/v1/mediators/{mediator_id}",
        json={"annual_limit_override_year": 2026},
        headers=coordinator.headers,
    )
    assert override.status_code == 200, override.text
    assert _reasons(client, coordinator, request_id, mediator_id) == []


def test_warned_at_80_percent_and_still_offered(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # Limit 75.00: 60.00 is 80 % of it, a warning, not yet the limit.
    mediator_id = _mediator_with_october_jobs(client, coordinator, caseworker, engine, "75.00")
    [row] = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers).json()[
        "mediators"
    ]
    assert row["limit_warning"] is True and row["at_limit"] is False
    request_id = _new_request(client, caseworker)
    assert _reasons(client, coordinator, request_id, mediator_id) == []


def test_a_wrong_limit_is_refused(client: TestClient, coordinator: Staff) -> None:
    for limit in ("-1", "100001", "12.345", "abc"):
        body = mediator_payload(annual_limit=limit)
        response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
        assert response.status_code == 422, limit
        assert response.json()["errors"][0]["field"] == "annual_limit"


def test_the_kept_year_totals_give_way_to_an_approval_at_once(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # As a migrated database has it: the ledger's token, under which intake keeps the
    # year's totals instead of adding them up for every request.
    with unit_of_work(engine) as session:
        bump_version(session, LEDGER_ROW)
    body = mediator_payload(travel_mode="car", annual_limit="60.00")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    mediator_id = int(created.json()["id"])
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-05T09:00:00+02:00",
        end="2026-10-05T11:00:00+02:00",
        mode=Mode.phone,
    )
    # The second job was booked for an hour and took two; reported, not yet approved, it
    # counts at what its booking was expected to pay (15.00): 45.00 of 60.00 count, and a
    # job of an hour (15.00) still fits.
    _, second = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-12T09:00:00+02:00",
        end="2026-10-12T10:00:00+02:00",
        actual_start="2026-10-12T09:00:00+02:00",
        actual_end="2026-10-12T11:00:00+02:00",
        mode=Mode.phone,
        state=ReportState.reported,
    )
    first_request = _new_request(client, caseworker)
    assert _reasons(client, coordinator, first_request, mediator_id) == []
    with Session(engine) as session:
        kept = versions(session).ledger
    assert kept is not None

    approved = client.post(
        f"/api/v1/assignments/{second}/approve",
        json={"reason": "Telefonisch bestätigt"},
        headers=coordinator.headers,
    )
    assert approved.status_code == 200, approved.text
    with Session(engine) as session:
        assert versions(session).ledger != kept

    # 60.00 of 60.00: the next request leaves the mediator out, no offer goes out.
    second_request = _new_request_on(client, caseworker, "2026-12-14")
    assert _reasons(client, coordinator, second_request, mediator_id) == ["annual_limit"]
    detail = client.get(f"/api/v1/requests/{second_request}", headers=coordinator.headers)
    assert detail.json()["offers"] == []


def _default_limit_mediator_with(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, days: list[str]
) -> int:
    """A mediator on the rules' default limit with a 10-hour phone job on each day:
    20 started half hours x 7.50 = 150.00 EUR a job."""
    n = days[0][-2:]
    body = mediator_payload(
        name=f"Mediator {n}", phone=f"+491511234{n}99", email=f"m{n}@example.org"
    )
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    mediator_id = int(created.json()["id"])
    for day in days:
        done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=f"{day}T08:00:00+01:00",
            end=f"{day}T18:00:00+01:00",
            mode=Mode.phone,
        )
    return mediator_id


def test_the_default_limit_is_the_years_own_960_since_2026_and_840_before(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # The Ehrenamtspauschale (§ 3 Nr. 26a EStG) rose from 840 to 960 EUR on 1 January
    # 2026. Six jobs of 150.00 EUR = 900.00 EUR in November 2026: over the old figure,
    # under this year's, so the mediator is still offered paid jobs.
    november = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09"]
    this_year = _default_limit_mediator_with(client, coordinator, caseworker, engine, november)
    request_id = _new_request(client, caseworker)
    assert _reasons(client, coordinator, request_id, this_year) == []

    # The same 900.00 EUR in December 2025 reached that year's 840.00: the statement of a
    # month of 2025 measures the year against 2025's limit.
    december = ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05", "2025-12-08"]
    last_year = _default_limit_mediator_with(client, coordinator, caseworker, engine, december)
    statement = client.get("/api/v1/allowances?month=2025-12", headers=coordinator.headers)
    [row] = statement.json()["mediators"]
    assert row["mediator_id"] == last_year and row["year_total"] == "900.00"
    assert row["annual_limit"] == "840.00" and row["at_limit"] is True


def _reason_params(
    client: TestClient, coordinator: Staff, request_id: int, mediator_id: int
) -> list[dict[str, object]]:
    body = client.get(
        f"/api/v1/requests/{request_id}/candidates", headers=coordinator.headers
    ).json()
    for excluded in body["excluded"]:
        if excluded["mediator_id"] == mediator_id:
            return [reason["params"] for reason in excluded["reasons"]]
    return []


def test_a_job_over_what_is_left_of_the_year_is_not_offered_one_that_fits_is(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # Limit 75.00, 60.00 approved: 15.00 left. An hour by phone (15.00) fits; two do not.
    mediator_id = _mediator_with_october_jobs(client, coordinator, caseworker, engine, "75.00")
    fits = _new_request(client, caseworker)
    assert _reasons(client, coordinator, fits, mediator_id) == []
    body = request_payload(
        language="ar", start="2026-12-14T09:00:00+01:00", end="2026-12-14T11:00:00+01:00"
    )
    response = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
    over = int(response.json()["id"])
    assert _reasons(client, coordinator, over, mediator_id) == ["annual_limit"]
    assert _reason_params(client, coordinator, over, mediator_id) == [
        {"year": 2026, "left_cents": 15_00, "job_cents": 30_00}
    ]


def test_jobs_held_and_not_yet_settled_count_at_their_estimate(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # Limit 75.00, 60.00 approved, and a job of an hour by phone held for Monday
    # 14 December (15.00 expected): nothing is left for another paid job this year.
    mediator_id = _mediator_with_october_jobs(client, coordinator, caseworker, engine, "75.00")
    held, _ = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-12-14T09:00:00+01:00",
        end="2026-12-14T10:00:00+01:00",
        mode=Mode.phone,
        state=None,
    )
    request_id = _new_request(client, caseworker)
    assert _reasons(client, coordinator, request_id, mediator_id) == ["annual_limit"]
    # The held request itself does not count against itself when it is placed again.
    assert _reasons(client, coordinator, held, mediator_id) == []
    # The coordinator lets the mediator go beyond the limit this year: offered again.
    override = client.patch(
        f"/api/v1/mediators/{mediator_id}",
        json={"annual_limit_override_year": 2026},
        headers=coordinator.headers,
    )
    assert override.status_code == 200, override.text
    assert _reasons(client, coordinator, request_id, mediator_id) == []


def test_a_job_in_the_next_year_counts_against_the_next_years_limit(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # 2026's limit is reached; a job on 4 January 2027 has all of 2027's 60.00 left.
    mediator_id = _mediator_with_october_jobs(client, coordinator, caseworker, engine, "60.00")
    assert _reasons(client, coordinator, _new_request(client, caseworker), mediator_id) == [
        "annual_limit"
    ]
    january = _new_request_on(client, caseworker, "2027-01-04")
    assert _reasons(client, coordinator, january, mediator_id) == []
