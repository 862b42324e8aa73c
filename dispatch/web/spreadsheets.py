"""Tables for German Excel: a CSV it opens right with a double click, and an .xlsx.

German Excel reads a CSV by the system's list separator (the semicolon) and
takes a file for ANSI unless it starts with a byte order mark; it reads
"1.5" as a date and "2026-12-01T09:00:00.123456+01:00" as text. So the CSV is
semicolon-separated, UTF-8 with BOM, numbers with a decimal comma and times
as "01.12.2026 09:00" in the town's zone. The .xlsx (openpyxl) holds the same
cells typed (numbers as numbers, dates as dates), so nothing needs parsing.
In the CSV, cells that start like a formula are quoted with an apostrophe, so a
name such as "=HYPERLINK(…)" stays text. The .xlsx needs no such quote: a
string cell is never run as a formula, so its text is written as it is (a phone
"+4915100000001" stays that, not "'+4915100000001").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

#: What a cell may start with that a spreadsheet would run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | date | datetime | None


@dataclass
class Sheet:
    """One table: a title (the sheet's name), the file name without suffix, headers, rows.

    Datetimes must be local already (the town's zone); they are written without
    seconds' fractions and without offset, as people read them.
    """

    title: str
    filename: str
    headers: list[str]
    rows: list[list[Cell]]


def german_number(value: float | int) -> str:
    """2.5 -> "2,5"; whole numbers without decimals."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").replace(".", ",")


def csv_cell(value: Cell) -> str:
    """A cell as German Excel reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return german_number(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return formula_safe(value)


def formula_safe(value: str) -> str:
    """Text for a CSV cell: quoted when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def text_stays_text(ws: Worksheet) -> None:
    """Store every text cell of the sheet as a string cell, as it is.

    openpyxl takes a text that starts with "=" for a formula; a string cell is
    never one in Excel or LibreOffice, so no apostrophe is needed (it would show).
    """
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def german_csv(sheet: Sheet) -> str:
    """Semicolon-separated, CRLF, with a BOM: German Excel opens it right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([formula_safe(h) for h in sheet.headers])
    for row in sheet.rows:
        writer.writerow([csv_cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def xlsx_bytes(sheet: Sheet) -> bytes:
    """The same table as an .xlsx with typed cells, a bold header and a frozen first row."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet.title[:31]
    ws.append(sheet.headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in sheet.rows:
        ws.append([_xlsx_cell(value) for value in row])
    for index, row_cells in enumerate(ws.iter_rows(min_row=2), start=0):
        for cell, value in zip(row_cells, sheet.rows[index], strict=False):
            if isinstance(value, datetime):
                cell.number_format = "DD.MM.YYYY HH:MM"
            elif isinstance(value, date):
                cell.number_format = "DD.MM.YYYY"
    text_stays_text(ws)
    for number, column in enumerate(ws.columns, start=1):
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[get_column_letter(number)].width = min(max(10, width + 2), 60)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    return value


def sheet_response(sheet: Sheet, *, kind: Literal["csv", "xlsx"]) -> Response:
    """The table as a download: CSV for German Excel, or .xlsx."""
    if kind == "xlsx":
        content: str | bytes = xlsx_bytes(sheet)
        media_type = XLSX_TYPE
    else:
        content, media_type = german_csv(sheet), "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{sheet.filename}.{kind}"'},
    )
