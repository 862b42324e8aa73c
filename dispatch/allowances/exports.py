"""The month statement as files for the town's accounting: CSV for German Excel and .xlsx.

German Excel opens a CSV by double click only when it is separated by
semicolons, starts with a UTF-8 byte order mark (or umlauts break) and
writes decimals with a comma; the headers are German (the catalogs' texts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi.responses import Response
from openpyxl import Workbook

import locales
from dispatch.allowances.models import LineKind
from dispatch.allowances.service import Statement
from dispatch.web.spreadsheets import XLSX_TYPE, formula_safe, text_stays_text
from locales import N_

COLUMNS = (
    N_("Month"),
    N_("Mediator no."),
    N_("Name"),
    N_("Date"),
    N_("Request no."),
    N_("Language"),
    N_("Funding source"),
    N_("Kind"),
    N_("Minutes worked"),
    N_("Minutes paid"),
    N_("km"),
    N_("Amount (EUR)"),
    N_("Paid on"),
)
KINDS = {
    LineKind.job: N_("job"),
    LineKind.late_cancellation: N_("late cancellation"),
    LineKind.correction: N_("correction"),
}

Cell = str | int | Decimal | date | None


def _rows(s: Statement, lang: str) -> Iterator[list[Cell]]:
    t = locales.translator(lang)
    yield [t.gettext(column) for column in COLUMNS]
    for mediator in s.mediators:
        for line in mediator.lines:
            yield [
                s.month.key,
                mediator.mediator_id,
                mediator.name,
                line.job_date,
                line.request_id,
                t.language(line.language) if line.language else "",
                line.funding_source,
                t.gettext(KINDS[line.kind]),
                line.worked_minutes,
                line.paid_minutes,
                line.km,
                line.amount,
                line.paid_at.date() if line.paid_at else None,
            ]


def german_cell(value: Cell) -> str:
    """A cell as German Excel reads it: decimal comma, day.month.year, text that looks
    like a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str):
        return formula_safe(value)
    return str(value)


def german_csv(rows: Iterable[list[Cell]]) -> str:
    """Semicolons, decimal commas, dates as 30.11.2026, a BOM first."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([german_cell(cell) for cell in row])
    return "\ufeff" + out.getvalue()


def statement_csv(s: Statement, *, lang: str = "de") -> str:
    return german_csv(_rows(s, lang))


def statement_xlsx(s: Statement, *, lang: str = "de") -> bytes:
    """One sheet, numbers as numbers (euros with two decimals), dates as dates, text as
    it is (a string cell is never a formula)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = s.month.key
    for row in _rows(s, lang):
        sheet.append(row)
    for cell in sheet["L"][1:]:
        cell.number_format = "#,##0.00"
    for cell in sheet["D"][1:] + sheet["M"][1:]:
        cell.number_format = "DD.MM.YYYY"
    text_stays_text(sheet)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statement_download(s: Statement, *, kind: Literal["csv", "xlsx"], lang: str = "de") -> Response:
    """The statement as a file to save: the API's export and the coordinator's page serve
    the same file (the page with its reader's headers)."""
    if kind == "xlsx":
        content: str | bytes = statement_xlsx(s, lang=lang)
        media_type = XLSX_TYPE
    else:
        content, media_type = statement_csv(s, lang=lang), "text/csv; charset=utf-8"
    filename = f"sprachpool-allowances-{s.month.key}.{kind}"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
