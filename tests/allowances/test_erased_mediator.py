"""Erasing a mediator keeps the money right: the funders' report, the budgets and the paid
months add up to the same euros afterwards; only the person is gone from them.

The allowance of an in-person job reported without km (by bike, on foot, with a
ticket) counts the travel time estimated from the mediator's home, and erasure
blanks the home: the estimate is kept on the job instead.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.jobs.models import ReportState
from dispatch.requests import service as requests
from dispatch.requests.models import Mode, Request
from dispatch.storage import unit_of_work
from tests.allowances.factories import done_job
from tests.conftest import Staff, get_row, mediator_payload

ERASE_ANYWAY = {"confirm_unpaid": "true"}


def _figures(client: TestClient, coordinator: Staff) -> dict[str, Any]:
    """What the town reports and budgets with: the funders' report of the year, the
    budget cards, and October's statement (paid)."""
    funders = client.get("/api/v1/reports/funders", headers=coordinator.headers)
    budgets = client.get("/api/v1/funding", headers=coordinator.headers)
    october = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers)
    for response in (funders, budgets, october):
        assert response.status_code == 200, response.text
    statement = october.json()
    return {
        "funders": funders.json(),
        "budgets": budgets.json(),
        "october": (statement["euros"], statement["open_euros"], statement["by_funding_source"]),
        "october_lines": [
            (line["assignment_id"], line["euros"], line["paid_minutes"])
            for m in statement["mediators"]
            for line in m["lines"]
        ],
    }


def test_after_erasure_the_funders_report_budgets_and_paid_months_show_the_same_euros(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    # 3.3 km north of the mediator's home: by bike 2 x 3.34 km x 1.3 / 15 km/h = 35 min
    # travel. A job of 60 min reported without km pays 60 + 35 = 95 min = 4 started half
    # hours x 7.50 = 30.00 EUR (without the travel it would be 15.00).
    place = client.post(
        "/api/v1/places",
        json={"name": "Schule Nord", "address": "Nordstraße 1", "lat": 51.7861, "lon": 8.0452},
        headers=coordinator.headers,
    )
    assert place.status_code == 201, place.text
    body = mediator_payload(name="Yohannes Berhe", travel_mode="bike")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    mediator_id = int(created.json()["id"])

    def job(start: str, end: str, state: ReportState) -> int:
        return done_job(
            engine,
            caseworker=caseworker,
            mediator_id=mediator_id,
            start=start,
            end=end,
            place_id=int(place.json()["id"]),
            funding_source="municipal",
            state=state,
        )[1]

    # October: approved and paid.
    job("2026-10-14T09:00:00+02:00", "2026-10-14T10:00:00+02:00", ReportState.approved)
    paid = client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers)
    assert paid.status_code == 200, paid.text
    # November: one approved and not yet paid (spent), one reported only (committed).
    job("2026-11-04T09:00:00+01:00", "2026-11-04T10:00:00+01:00", ReportState.approved)
    job("2026-11-11T09:00:00+01:00", "2026-11-11T10:00:00+01:00", ReportState.reported)
    before = _figures(client, coordinator)
    assert before["funders"]["euros"] == "60.00"
    [municipal] = before["budgets"]
    assert (municipal["spent"], municipal["committed"]) == ("60.00", "30.00")
    assert before["october"] == ("30.00", "0.00", {"municipal": "30.00"})

    erased = client.delete(
        f"/api/v1/mediators/{mediator_id}", params=ERASE_ANYWAY, headers=coordinator.headers
    )

    assert erased.status_code == 200, erased.text
    after = _figures(client, coordinator)
    assert after == before
    october = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers)
    [person] = october.json()["mediators"]
    assert person["mediator_id"] == mediator_id
    assert person["name"] == "(gelöscht)"
    assert "Yohannes" not in october.text


def _mediator(client: TestClient, coordinator: Staff) -> int:
    body = mediator_payload(name="Yohannes Berhe", travel_mode="car")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _phone_job(engine: Engine, caseworker: Staff, mediator_id: int, day: str, **kw: Any) -> int:
    """60 min by phone: 2 half hours x 7.50 = 15.00 EUR once approved."""
    return done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start=f"{day}T09:00:00+01:00",
        end=f"{day}T10:00:00+01:00",
        mode=Mode.phone,
        **kw,
    )[1]


def test_erasing_a_mediator_owed_allowance_answers_409_with_the_amount_and_erases_nothing(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    _phone_job(engine, caseworker, mediator_id, "2026-11-03")  # approved: 15.00
    _phone_job(engine, caseworker, mediator_id, "2026-11-04")  # approved: 15.00
    _phone_job(engine, caseworker, mediator_id, "2026-11-05", state=ReportState.confirmed)
    _phone_job(engine, caseworker, mediator_id, "2026-11-06", state=ReportState.rejected)

    refused = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)

    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "conflict"
    assert (body["owed_euros"], body["open_jobs"]) == ("30.00", 1)
    assert "30.00 EUR" in body["detail"] and "1 job done" in body["detail"]
    assert "confirm_unpaid=true" in body["detail"]
    assert [error["field"] for error in body["errors"]] == ["confirm_unpaid"]
    still = client.get(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)
    assert still.json()["name"] == "Yohannes Berhe"

    erased = client.delete(
        f"/api/v1/mediators/{mediator_id}", params=ERASE_ANYWAY, headers=coordinator.headers
    )

    assert erased.status_code == 200, erased.text
    assert erased.json()["name"] == "(gelöscht)"
    log = client.get(
        "/api/v1/audit?entity=mediator&entity_id=" + str(mediator_id), headers=coordinator.headers
    ).json()["items"]
    [erasure] = [event for event in log if event["action"] == "mediator.erase"]
    assert erasure["details"] == {"unpaid_euros": "30.00", "open_jobs": 1}


def test_a_done_job_not_yet_reported_also_needs_the_confirmation(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    # It took place last week; the request is still assigned and nobody reported it.
    _phone_job(engine, caseworker, mediator_id, "2026-11-24", state=None)

    refused = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)

    assert refused.status_code == 409, refused.text
    assert (refused.json()["owed_euros"], refused.json()["open_jobs"]) == ("0.00", 1)
    assert "EUR" not in refused.json()["detail"]


def test_a_mediator_paid_in_full_is_erased_without_a_second_yes(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-14T09:00:00+02:00",
        end="2026-10-14T10:00:00+02:00",
        mode=Mode.phone,
    )
    assert client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers).is_success
    # A job to come is no money owed: it goes out to others again.
    _phone_job(engine, caseworker, mediator_id, "2026-12-08", state=None)

    erased = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)

    assert erased.status_code == 200, erased.text


def test_erasing_a_home_visit_s_street_and_point_keeps_its_allowance(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine, clock: ManualClock
) -> None:
    """A home visit loses its point when its request's data are erased; a job reported
    without km still pays the way there, kept as a distance on the assignment first."""
    body = mediator_payload(name="Yohannes Berhe", travel_mode="bike")
    created = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    mediator_id = int(created.json()["id"])
    request_id, _ = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-14T09:00:00+02:00",
        end="2026-10-14T10:00:00+02:00",
    )
    with unit_of_work(engine) as session:  # 3.3 km north of the mediator's home
        request = get_row(session, Request, request_id)
        request.home_visit, request.address = True, "Nordstraße 1, 59269 Beckum"
        request.location_lat, request.location_lon = 51.7861, 8.0452
        session.add(request)

    def october() -> tuple[str, str]:
        shown = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers)
        assert shown.status_code == 200, shown.text
        return shown.json()["euros"], shown.json()["open_euros"]

    assert october() == ("30.00", "30.00")  # 60 + 35 min by bike: 4 half hours
    with unit_of_work(engine) as session:
        erased = requests.erase_request_data(
            session, request=get_row(session, Request, request_id), now=clock.now()
        )
    assert {"address", "location_lat", "location_lon"} <= set(erased)
    assert october() == ("30.00", "30.00")


def test_the_amount_confirmed_must_be_what_is_owed_when_the_erasure_is_made(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    _phone_job(engine, caseworker, mediator_id, "2026-11-03")  # approved: 15.00
    refused = client.delete(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)
    assert refused.json()["owed_euros"] == "15.00"
    _phone_job(engine, caseworker, mediator_id, "2026-11-04")  # approved meanwhile: 15.00

    stale = client.delete(
        f"/api/v1/mediators/{mediator_id}",
        params={**ERASE_ANYWAY, "owed_euros": "15.00"},
        headers=coordinator.headers,
    )

    assert stale.status_code == 409, stale.text
    assert stale.json()["owed_euros"] == "30.00"
    mangled = client.delete(
        f"/api/v1/mediators/{mediator_id}",
        params={**ERASE_ANYWAY, "owed_euros": "viel"},
        headers=coordinator.headers,
    )
    assert mangled.status_code == 422, mangled.text
    erased = client.delete(
        f"/api/v1/mediators/{mediator_id}",
        params={**ERASE_ANYWAY, "owed_euros": "30.00"},
        headers=coordinator.headers,
    )
    assert erased.status_code == 200, erased.text


def test_what_an_erased_mediator_was_not_paid_is_never_marked_paid(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    """The erasure's box said it would not be paid through Sprachpool: it is shown apart,
    and marking the month paid pays the others only."""
    erased_id = _mediator(client, coordinator)
    body = mediator_payload(name="Amina Haddad", phone="+4915112345699")
    other = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert other.status_code == 201, other.text
    other_id = int(other.json()["id"])
    for mediator_id in (erased_id, other_id):  # 60 min by phone in October: 15.00 each
        _phone_job(engine, caseworker, mediator_id, "2026-10-14")
    erased = client.delete(
        f"/api/v1/mediators/{erased_id}", params=ERASE_ANYWAY, headers=coordinator.headers
    )
    assert erased.status_code == 200, erased.text

    october = client.get("/api/v1/allowances?month=2026-10", headers=coordinator.headers)

    figures = {m["mediator_id"]: m for m in october.json()["mediators"]}
    assert (figures[erased_id]["open_euros"], figures[erased_id]["not_paid_erased_euros"]) == (
        "0.00",
        "15.00",
    )
    assert figures[other_id]["open_euros"] == "15.00"
    assert (october.json()["euros"], october.json()["open_euros"]) == ("30.00", "15.00")
    paid = client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers)
    assert paid.status_code == 200, paid.text
    after = {m["mediator_id"]: m for m in paid.json()["mediators"]}  # the statement after
    assert [line["paid_at"] is not None for line in after[other_id]["lines"]] == [True]
    assert [line["paid_at"] for line in after[erased_id]["lines"]] == [None]
    assert paid.json()["open_euros"] == "0.00"
    again = client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers)
    assert again.status_code == 409  # nothing payable left; the erased one's stays unpaid
