"""Exports that open in German Excel (the assignments) and the printable day plan."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.offers.models import Assignment, AssignmentSource
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from dispatch.web.spreadsheets import Cell, Sheet, csv_cell, german_csv, xlsx_bytes
from tests.web.conftest import Person, update_row


def assigned_job(
    engine: Engine,
    clock: ManualClock,
    file_request: Callable[..., Request],
    case_person: Person,
    mediator_id: int,
    *,
    minutes_worked: int | None = None,
) -> Request:
    """A Tigrinya job tomorrow 09:00-10:30, held by the mediator."""
    start = clock.now().replace(hour=9, minute=0, microsecond=123456) + timedelta(days=1)
    request = file_request(case_person, start=start, language="ti")
    with unit_of_work(engine) as session:
        session.add(
            Assignment(
                request_id=request.id,
                mediator_id=mediator_id,
                source=AssignmentSource.coordinator,
                created_at=clock.now(),
                minutes_worked=minutes_worked,
                travel_km=12.5,
            )
        )
    update_row(engine, request, status=RequestStatus.assigned)
    return request


def test_cells_as_german_excel_reads_them() -> None:
    assert csv_cell(2.5) == "2,5" and csv_cell(12) == "12" and csv_cell(None) == ""
    assert csv_cell(datetime(2026, 12, 1, 9, 0, 0, 123456)) == "01.12.2026 09:00"
    assert csv_cell("=SUM(A1)") == "'=SUM(A1)"
    text = german_csv(Sheet("T", "t", ["Name", "Zahl"], [["Müller; Anna", 1.25]]))
    assert text == '\ufeffName;Zahl\r\n"Müller; Anna";1,25\r\n'


def test_xlsx_text_is_stored_as_typed_and_never_as_a_formula() -> None:
    # The CSV quotes "=1+2" with an apostrophe; an .xlsx string cell needs no quote.
    typed: list[Cell] = ["=1+2", "+4915100000001", "-Anna", "@home"]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(Sheet("T", "t", ["=Kopf"] * 4, [typed])))).active
    assert sheet is not None
    assert [cell.value for cell in sheet[2]] == typed
    assert [cell.data_type for cell in sheet[2]] == ["s"] * 4
    assert sheet["A1"].value == "=Kopf" and sheet["A1"].data_type == "s"


def test_the_assignments_export_has_german_headers_names_and_local_times(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    mediator_id = add_mediator(name="Helen Tekle")
    assigned_job(engine, clock, file_request, case_person, mediator_id, minutes_worked=95)
    web = signed_in(coord_person)
    csv = web.get("/dashboard/export/assignments.csv?from=2026-11-30&to=2026-12-06")
    assert csv.status_code == 200
    assert csv.content.startswith("\ufeff".encode())
    header, row = csv.content.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("Einsatz-Nr.;Anfrage-Nr.;Organisation;Sprache;")
    cells = row.split(";")
    assert "Tigrinya" in cells and "Telefon" in cells and "besetzt" in cells
    assert "01.12.2026 09:00" in cells  # local, no seconds, no microseconds, no offset
    assert "12,5" in cells and "95" in cells and "nein" in cells
    xlsx = web.get("/dashboard/export/assignments.xlsx?from=2026-11-30&to=2026-12-06")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Einsatz-Nr." and sheet["D2"].value == "Tigrinya"
    assert sheet["F2"].value == datetime(2026, 12, 1, 9, 0)
    assert sheet["S2"].value == 12.5


def test_the_day_plan_lists_each_days_jobs_for_print(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    mediator_id = add_mediator(name="Helen Tekle")
    assigned_job(engine, clock, file_request, case_person, mediator_id)
    web = signed_in(coord_person)
    page = web.get("/dashboard/dayplan?from=2026-12-01&days=2")
    assert page.status_code == 200
    assert page.text.count('class="plan-day"') == 2
    first_day = page.text.split('class="plan-day"')[1]
    assert "Helen Tekle" in first_day and "09:00–10:30" in first_day
    assert "+49151123" in first_day  # the mediator's phone
    assert "Keine Termine." in page.text.split('class="plan-day"')[2]
    css = web.get("/static/sprachpool.css").text
    assert "@media print" in css and "break-after: page" in css
    assert web.get("/dashboard/dayplan?days=99").status_code == 422
