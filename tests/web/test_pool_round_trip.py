"""The pool goes out as an import file, is edited in Excel and comes back: only the edits land.

A coordinator who changes many people at once downloads the pool in the
upload's own format (`/dashboard/pool/import-file.csv|xlsx`), edits it in
Excel and uploads it again. What Excel does to the file on the way (German
days, decimal commas, the CSV export's apostrophe before "+49", typed cells
in a workbook) must not read as a change or as an error, and a row nobody
edited must not touch its mediator.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from dispatch.audit import AuditEvent
from dispatch.mediators import importer
from dispatch.mediators import service as mediators
from dispatch.mediators.models import Mediator
from dispatch.storage import unit_of_work
from tests.conftest import NOW
from tests.dispatch.test_import_and_cli import TOWN
from tests.web.conftest import Person, csrf_of


def _pool(engine: Engine) -> dict[str, dict[str, Any]]:
    with unit_of_work(engine) as session:
        return {
            m.name: mediators.public(session, m).model_dump()
            for m in session.exec(select(Mediator).order_by(Mediator.id))  # type: ignore[arg-type]
        }


def _updates(engine: Engine) -> list[AuditEvent]:
    with unit_of_work(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "mediator.update"))
        return list(events)


def _two_mediators(add_mediator: Callable[..., int]) -> None:
    add_mediator(name="Amina Haddad", max_travel_km=12.5)
    add_mediator(
        name="Helen Tekle",
        languages=[{"language": "ti", "level": "native"}, {"language": "am", "level": "fluent"}],
        availability=[
            {"weekday": "tue", "start": "08:00", "end": "12:00"},
            {"weekday": "thu", "start": "13:30", "end": "18:00"},
        ],
        qualifications=["school", "medical"],
        channels=["email"],
        gender=None,
        max_hours_per_week=7.5,
    )


def _preview(web: TestClient, name: str, content: bytes) -> Any:
    page = web.get("/dashboard/pool/import")
    return web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": (name, content)},
    )


def _edited_in_excel(web: TestClient, name: str, **cells: int | datetime | None) -> bytes:
    """The pool's import file as a workbook, with `name`'s row changed in these cells."""
    book = load_workbook(io.BytesIO(web.get("/dashboard/pool/import-file.xlsx").content))
    sheet = book.worksheets[0]
    columns = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == name)
    for column, value in cells.items():
        row[columns.index(column)].value = value
    edited = io.BytesIO()
    book.save(edited)
    return edited.getvalue()


def _confirm(web: TestClient, preview: Any) -> Any:
    text = re.search(r'name="text" value="([^"]*)"', preview.text, re.S)
    assert text is not None, preview.text
    return web.post(
        "/dashboard/pool/import/confirm",
        data={"csrf_token": csrf_of(preview), "text": html.unescape(text[1])},
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_pool_downloaded_as_an_import_file_comes_back_unchanged(
    kind: str,
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    _two_mediators(add_mediator)
    before = _pool(engine)
    web = signed_in(coord_person)
    download = web.get(f"/dashboard/pool/import-file.{kind}")
    assert download.status_code == 200
    assert (
        f'filename="sprachpool-pool-import-2026-11-30.{kind}"'
        in (download.headers["content-disposition"])
    )
    if kind == "csv":
        # As German Excel reads and writes it: days as days, a decimal comma, the phone
        # quoted so Excel keeps it as text, and no home (it stays in Sprachpool).
        assert "'+49 1511 2300010" in download.text and ";12.09.2026;" in download.text
        assert ";12,5;" in download.text and ";2026-10-01T10:00:00+02:00;" in download.text
        assert "home_lat" not in download.text

    preview = _preview(web, f"pool.{kind}", download.content)
    assert preview.status_code == 200, preview.text
    assert "0 werden hinzugefügt, 0 aktualisiert" in preview.text
    assert "2 Zeilen stimmen mit dem Pool überein und bleiben, wie sie sind." in preview.text
    done = _confirm(web, preview)
    assert done.status_code == 303, done.text
    assert _pool(engine) == before  # not even the time of the last change moved
    assert _updates(engine) == []


def test_a_workbook_edited_in_excel_changes_only_the_edited_row(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    _two_mediators(add_mediator)
    before = _pool(engine)
    web = signed_in(coord_person)
    # Typed as Excel keeps them: a number, and a day as a date-time at midnight.
    edited = _edited_in_excel(
        web, "Helen Tekle", max_hours_per_week=12, listed_until=datetime(2028, 3, 31)
    )

    preview = _preview(web, "pool.xlsx", edited)
    assert preview.status_code == 200, preview.text
    assert "0 werden hinzugefügt, 1 aktualisiert" in preview.text
    assert "aktualisiert: <code>listed_until, max_hours_per_week</code>" in preview.text
    assert "1 Zeile stimmt mit dem Pool überein und bleibt, wie sie ist." in preview.text
    assert _confirm(web, preview).status_code == 303
    after = _pool(engine)
    assert after["Amina Haddad"] == before["Amina Haddad"]
    changed = {
        k for k in after["Helen Tekle"] if after["Helen Tekle"][k] != before["Helen Tekle"][k]
    }
    assert changed - {"updated_at"} == {"max_hours_per_week", "listed_until"}
    assert after["Helen Tekle"]["max_hours_per_week"] == 12
    assert str(after["Helen Tekle"]["listed_until"]) == "2028-03-31"
    assert [(event.details or {}).get("fields") for event in _updates(engine)] == [
        ["listed_until", "max_hours_per_week"]
    ]


def test_an_emptied_cell_clears_the_value_and_a_missing_column_keeps_it(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    _two_mediators(add_mediator)
    before = _pool(engine)
    web = signed_in(coord_person)
    emptied = ("german_level", "gender", "max_travel_km", "qualifications", "listed_until")
    edited = _edited_in_excel(web, "Amina Haddad", **dict.fromkeys(emptied))

    preview = _preview(web, "pool.xlsx", edited)
    assert preview.status_code == 200, preview.text
    assert (
        "aktualisiert: <code>gender, german_level, listed_until, max_travel_km, "
        "qualifications</code>"
    ) in preview.text
    assert _confirm(web, preview).status_code == 303
    after = _pool(engine)["Amina Haddad"]
    assert (after["german_level"], after["gender"], after["max_travel_km"]) == (None, None, None)
    assert (after["qualifications"], after["listed_until"]) == ([], None)
    # The home is not in the file: it stays.
    assert after["home"] == before["Amina Haddad"]["home"] is not None

    # An e-mail address her chosen channels need cannot be emptied. Her channels are in
    # the pool, not in this file; the preview tries the rows and says why already.
    helen = "name,phone,email,languages\nHelen Tekle,+4915112300011,,ti:native; am:fluent\n"
    preview = _preview(web, "pool.csv", helen.encode())
    assert preview.status_code == 422
    assert "Zeile 2, Spalte email: E-Mail ist gewählt" in html.unescape(preview.text)
    assert "/dashboard/pool/import/confirm" not in preview.text
    assert _pool(engine)["Helen Tekle"]["email"] == "amina@example.org"


def test_what_german_excel_writes_into_a_csv_is_read_as_meant() -> None:
    saved = (
        "name;phone;languages;trained_on;listed_until;max_travel_km;home_lat;home_lon\r\n"
        "Amina;'+49 151 12340001;ar:native;1.9.2026;30.09.2027;12,5;51,7561;8,0452\r\n"
    )
    rows, problems = importer.read_rows(saved, settings=TOWN, now=NOW)
    assert problems == []
    [(_, data)] = rows
    assert data.phone == "+4915112340001"
    assert (str(data.trained_on), str(data.listed_until)) == ("2026-09-01", "2027-09-30")
    assert data.max_travel_km == 12.5
    assert data.home is not None and (data.home.lat, data.home.lon) == (51.7561, 8.0452)


def test_a_german_day_that_is_not_in_the_calendar_is_named_as_typed() -> None:
    _, problems = importer.read_rows(
        "name;languages;trained_on\nAmina;ar:native;31.02.2026\n", settings=TOWN, now=NOW
    )
    assert [(p.line, p.column, p.code, p.params) for p in problems] == [
        (2, "trained_on", "date_parsing", {"value": "31.02.2026"})
    ]


def test_a_file_that_is_not_a_workbook_is_refused_with_a_clear_message(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    broken = _preview(web, "pool.xlsx", b"PK\x03\x04" + b"\x00" * 200)
    assert broken.status_code == 422
    assert "weder als CSV noch als Excel-Arbeitsmappe" in html.unescape(broken.text)
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).all() == []


def test_a_workbook_that_would_unpack_too_large_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "languages"])
    sheet.append(["Amina", "ar:native"])
    packed = io.BytesIO()
    book.save(packed)
    with zipfile.ZipFile(packed) as archive:
        unpacked = sum(part.file_size for part in archive.infolist())
    # A good workbook, read while it unpacks within the cap, refused one byte above it.
    monkeypatch.setattr(importer, "MAX_WORKBOOK_BYTES", unpacked)
    assert importer.read_upload(packed.getvalue()) == "name,languages\nAmina,ar:native\n"
    monkeypatch.setattr(importer, "MAX_WORKBOOK_BYTES", unpacked - 1)
    assert importer.read_upload(packed.getvalue()) is None


def test_a_workbook_is_read_with_its_row_numbers_and_typed_cells() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "languages", "max_travel_km", "trained_on", None, None])
    sheet.append(["Amina", "ar:native", 8.0, datetime(2026, 9, 1), None, None])
    sheet.append([])
    sheet.append(["Broken", "ar:expert", 2.5, None])
    out = io.BytesIO()
    book.save(out)
    text = importer.read_upload(out.getvalue())
    assert text is not None
    rows, problems = importer.read_rows(text, settings=TOWN, now=NOW)
    assert [(line, data.name, data.max_travel_km, str(data.trained_on)) for line, data in rows] == [
        (2, "Amina", 8.0, "2026-09-01")
    ]
    assert [(p.line, p.column) for p in problems] == [(4, "languages")]


def test_a_workbook_with_an_entity_bomb_is_refused() -> None:
    """XML entities that would expand to gigabytes (billion laughs) are not expanded; the
    same entities used once are read, so it is the expansion that is refused."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "languages"])
    sheet.append(["x", "ar:native"])
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    entities = b'<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    body = parts["xl/worksheets/sheet1.xml"]
    body = body.split(b"?>", 1)[1] if body.startswith(b"<?xml") else body

    def with_entity(name: bytes) -> bytes:
        changed = dict(parts)
        changed["xl/worksheets/sheet1.xml"] = (
            b'<?xml version="1.0"?><!DOCTYPE worksheet ['
            + entities
            + b"]>"
            + body.replace(b"<t>x</t>", b"<t>&" + name + b";</t>", 1)
        )
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w") as archive:
            for part, data in changed.items():
                archive.writestr(part, data)
        return packed.getvalue()

    assert importer.read_upload(with_entity(b"lol1")) == (
        "name,languages\n" + "lol" * 10 + ",ar:native\n"
    )
    assert importer.read_upload(with_entity(b"lol9")) is None  # 3 GB of "lol"
