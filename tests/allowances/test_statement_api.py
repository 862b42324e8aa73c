"""GET /api/v1/allowances, the exports and paying a month: euros worked out by hand.

The clock stands at Monday 2026-11-30 08:00 (Europe/Berlin), so October 2026 is
over and November is not. The rules are the default config/allowance.toml:
7.50 EUR per started half hour, travel time paid up to 60 min (estimated from
the km at the mediator's travel mode's speed: car 40 km/h), 0.30 EUR/km.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.allowances.models import AllowanceLine
from dispatch.jobs.models import JobReport, ReportState
from dispatch.requests.models import Mode
from tests.allowances.factories import done_job
from tests.conftest import Staff, mediator_payload

OCTOBER = "/api/v1/allowances?month=2026-10"


def _mediator(client: TestClient, coordinator: Staff, **overrides: object) -> int:
    body = mediator_payload(travel_mode="car", **overrides)
    response = client.post("/api/v1/mediators", json=body, headers=coordinator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _october(engine: Engine, caseworker: Staff, mediator_id: int) -> tuple[int, int]:
    """Two approved October jobs (51.00 EUR together) and two that do not count."""
    # In person, 09:00-10:10 = 70 min + 10 min waiting; 20 km there and back by car
    # = 20 / 40 km/h = 30 min travel (under the 60 min cap). Paid time 70 + 10 + 30
    # = 110 min = 3.67 -> 4 started half hours x 7.50 = 30.00; 20 km x 0.30 = 6.00.
    # Job: 36.00 EUR.
    _, first = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-14T09:00:00+02:00",
        end="2026-10-14T10:00:00+02:00",
        actual_end="2026-10-14T10:10:00+02:00",
        waiting_minutes=10,
        km="20",
        funding_source="state",
    )
    # By phone, 45 min: 2 started half hours x 7.50 = 15.00 EUR; no travel.
    _, second = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-28T14:00:00+01:00",
        end="2026-10-28T14:45:00+01:00",
        mode=Mode.phone,
        language="fa",
        funding_source="municipal",
    )
    # Confirmed but not approved: not paid. A November job: another month.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-10-21T09:00:00+02:00",
        end="2026-10-21T11:00:00+02:00",
        state=ReportState.confirmed,
    )
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-11-03T09:00:00+01:00",
        end="2026-11-03T10:00:00+01:00",
    )
    return first, second


def test_statement_per_mediator_by_funding_source_with_hand_computed_euros(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    _october(engine, caseworker, mediator_id)
    response = client.get(OCTOBER, headers=coordinator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["month"] == "2026-10"
    assert body["paid_at"] is None
    # 36.00 + 15.00 = 51.00 EUR, all open.
    assert body["euros"] == "51.00" and body["open_euros"] == "51.00"
    assert body["by_funding_source"] == {"municipal": "15.00", "state": "36.00"}
    [mediator] = body["mediators"]
    assert mediator["mediator_id"] == mediator_id
    assert mediator["jobs"] == 2
    # 70 + 45 = 115 min worked = 1.92 h; 20 km.
    assert mediator["hours"] == "1.92"
    assert Decimal(mediator["km"]) == Decimal(20)
    assert [line["euros"] for line in mediator["lines"]] == ["36.00", "15.00"]
    assert [line["paid_minutes"] for line in mediator["lines"]] == [110, 45]
    # The year so far: October's 51.00 + November's job of 60 min = 2 half hours
    # x 7.50 = 15.00 (in person, but no km and no place: no travel time) = 66.00 EUR.
    assert mediator["year_total"] == "66.00"
    assert mediator["annual_limit"] == "960.00"  # the Ehrenamtspauschale of 2026
    assert mediator["limit_warning"] is False


def test_a_month_not_yet_over_or_mistyped_is_refused(
    client: TestClient, coordinator: Staff
) -> None:
    for month in ("2026-11", "2027-01"):
        response = client.get(f"/api/v1/allowances?month={month}", headers=coordinator.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "month"
        assert "not over" in response.json()["detail"]
    for month in ("2026-13", "26-10-1", "2026/10"):
        response = client.get(f"/api/v1/allowances?month={month}", headers=coordinator.headers)
        assert response.status_code == 422, month
    response = client.post("/api/v1/allowances/2026-11/paid", headers=coordinator.headers)
    assert response.status_code == 422
    response = client.get(
        "/api/v1/export/allowances.csv?month=2026-11", headers=coordinator.headers
    )
    assert response.status_code == 422


def test_a_month_outside_the_calendar_is_refused_not_a_server_error(
    client: TestClient, coordinator: Staff
) -> None:
    # Years 0 and 9999 are four digits, so they pass the format; their months'
    # bounds (year 0, year 10000) do not exist. The calendar is 1900-01 to 2199-12.
    asked = [
        client.get("/api/v1/allowances?month=9999-12", headers=coordinator.headers),
        client.get("/api/v1/allowances?month=0000-01", headers=coordinator.headers),
        client.get("/api/v1/allowances?month=1899-12", headers=coordinator.headers),
        client.get("/api/v1/export/allowances.csv?month=9999-12", headers=coordinator.headers),
        client.get("/api/v1/export/allowances.xlsx?month=0000-12", headers=coordinator.headers),
        client.post("/api/v1/allowances/9999-12/paid", headers=coordinator.headers),
        client.post("/api/v1/allowances/0000-01/paid", headers=coordinator.headers),
    ]
    for response in asked:
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == "Give a month from 1900-01 to 2199-12."
        assert response.json()["errors"][0]["field"] == "month"
    first = client.get("/api/v1/allowances?month=1900-01", headers=coordinator.headers)
    assert first.status_code == 200 and first.json()["mediators"] == []


def test_only_coordinators_see_allowances(client: TestClient, caseworker: Staff) -> None:
    assert client.get(OCTOBER, headers=caseworker.headers).status_code == 403
    export = "/api/v1/export/allowances.csv?month=2026-10"
    assert client.get(export, headers=caseworker.headers).status_code == 403


def test_csv_opens_in_german_excel(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator, name="=Jülide Öztürk")
    _october(engine, caseworker, mediator_id)
    response = client.get(
        "/api/v1/export/allowances.csv?month=2026-10", headers=coordinator.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "sprachpool-allowances-2026-10.csv" in response.headers["content-disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, first, second = rows
    assert header[0] == "Monat" and "Betrag (EUR)" in header
    amount = header.index("Betrag (EUR)")
    assert [first[amount], second[amount]] == ["36,00", "15,00"]
    assert first[header.index("Datum")] == "14.10.2026"
    assert first[header.index("km")] == "20,0"
    # A name that looks like a formula is quoted; umlauts survive.
    assert first[header.index("Name")] == "'=Jülide Öztürk"


def test_xlsx_has_numbers_and_dates(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    _october(engine, caseworker, mediator_id)
    response = client.get(
        "/api/v1/export/allowances.xlsx?month=2026-10", headers=coordinator.headers
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][11] == "Betrag (EUR)"
    assert [Decimal(str(row[11])) for row in rows[1:]] == [Decimal("36.00"), Decimal("15.00")]


def test_xlsx_shows_a_name_as_typed_even_when_it_looks_like_a_formula(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator, name="=Jülide Öztürk")
    _october(engine, caseworker, mediator_id)
    response = client.get(
        "/api/v1/export/allowances.xlsx?month=2026-10", headers=coordinator.headers
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    # The CSV quotes it ("'=Jülide Öztürk"); a string cell of an .xlsx is never a formula.
    assert sheet["C2"].value == "=Jülide Öztürk" and sheet["C2"].data_type == "s"


def test_a_paid_month_is_frozen_and_a_correction_is_a_new_line(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    mediator_id = _mediator(client, coordinator)
    first, _ = _october(engine, caseworker, mediator_id)
    paid = client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["open_euros"] == "0.00" and paid.json()["paid_at"] is not None
    again = client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"

    # The report of the first job is corrected afterwards: 30 km, not 20.
    # Travel 30 / 40 km/h = 45 min; paid 70 + 10 + 45 = 125 min -> 5 started half
    # hours x 7.50 = 37.50; 30 km x 0.30 = 9.00; 46.50 EUR instead of 36.00:
    # a correction of +10.50 EUR.
    with Session(engine) as session:
        report = session.exec(select(JobReport).where(JobReport.assignment_id == first)).one()
        report.travel_km = Decimal(30)
        session.add(report)
        session.commit()
    body = client.get(OCTOBER, headers=coordinator.headers).json()
    assert body["euros"] == "61.50" and body["open_euros"] == "10.50"
    lines = body["mediators"][0]["lines"]
    assert [(line["kind"], line["euros"], line["paid_at"] is None) for line in lines] == [
        ("job", "36.00", False),
        ("correction", "10.50", True),
        ("job", "15.00", False),
    ]
    assert (
        client.post("/api/v1/allowances/2026-10/paid", headers=coordinator.headers).json()[
            "open_euros"
        ]
        == "0.00"
    )
    with Session(engine) as session:
        stored = session.exec(select(AllowanceLine).order_by(col(AllowanceLine.id))).all()
        assert [(line.kind, line.amount) for line in stored] == [
            ("job", Decimal("36.00")),
            ("job", Decimal("15.00")),
            ("correction", Decimal("10.50")),
        ]
