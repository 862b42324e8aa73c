"""CSV import of the pool: `sprachpool mediators import FILE.csv`.

The format (UTF-8, comma-separated, header row; see
examples/mediators.csv) uses one column per field and small inline lists.
What German Excel saves is read as well: semicolons (or tabs) between the
cells, found from the header row, and Windows-1252 instead of UTF-8
(`decode`), and an Excel workbook's first sheet (`workbook_text`). Days may be
written as Excel writes them in German (01.12.2026), numbers with a decimal comma,
and a cell the CSV export quoted with an apostrophe ('+49 …) is read without it.

    languages      ar:native; de:fluent
    availability   Mo 08:00-12:00; Mi 14:00-18:00   (Mo Di Mi Do Fr Sa So or mon..sun)
    qualifications medical; school
    channels       sms; email

Every row is validated with the same rules as the API before anything is
written; one bad row means nothing of the file is imported. A row whose
phone number matches a mediator already in the pool updates that mediator,
so the coordinator can re-import an edited list: `pool_rows` writes the pool in
this format (the "import file" download), and a row that changes nothing is
left alone (`changed_fields`), so a re-import touches only what was edited. In a
column the file has, an empty cell clears the value where it may be empty
(`CLEARABLE`): what the file says is what the pool holds.

What is wrong is a `Problem`: the line, the column, a code and its params,
never a sentence (as the engine's reasons); the upload page and the command
line put it into the reader's words with `problem_text`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any, Literal

import phonenumbers
from openpyxl import load_workbook
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch import geocoding
from dispatch.errors import SprachpoolError
from dispatch.mediators import flows, service
from dispatch.mediators.models import Mediator
from dispatch.mediators.schemas import MediatorCreate, MediatorPublic, MediatorUpdate
from dispatch.users.models import User
from dispatch.web.spreadsheets import FORMULA_START, Cell
from locales import N_, Translator

COLUMNS = [
    "name",
    "phone",
    "email",
    "languages",
    "german_level",
    "gender",
    "home_lat",
    "home_lon",
    "travel_mode",
    "max_travel_km",
    "max_hours_per_week",
    "qualifications",
    "channels",
    "message_locale",
    "availability",
    "consent_at",
    "trained_on",
    "pledge_signed_on",
    "police_certificate_seen_on",
    "listed_until",
]
REQUIRED = {"name", "languages"}
MAX_ROWS = 10_000
#: The columns of the import file the pool is exported to (`pool_rows`): all but the
#: home's. A home is where someone lives; it stays in Sprachpool rather than in a file
#: that is saved and mailed around, and a row without it leaves the home as it is.
EXPORT_COLUMNS = [name for name in COLUMNS if name not in ("home_lat", "home_lon")]
DAY_COLUMNS = ("trained_on", "pledge_signed_on", "police_certificate_seen_on", "listed_until")
NUMBER_COLUMNS = ("home_lat", "home_lon", "max_travel_km", "max_hours_per_week")
#: What an empty cell sets, in a column the file has: the value cleared (a row that updates
#: a mediator then removes it: the import file says what the pool is to hold). A column the
#: file does not have leaves the value as it is. Name, languages, the phone (it finds whom
#: a row updates), channels, travel mode and message language always need a value: an
#: empty cell of theirs leaves it as it is. An empty `availability` clears the weekly
#: times (no offers then); empty `home_lat` and `home_lon` together clear the home.
CLEARABLE: dict[str, None | list[Any]] = {
    "availability": [],
    "email": None,
    "german_level": None,
    "gender": None,
    "max_travel_km": None,
    "max_hours_per_week": None,
    "qualifications": [],
    "consent_at": None,
    "trained_on": None,
    "pledge_signed_on": None,
    "police_certificate_seen_on": None,
    "listed_until": None,
}
#: The weekdays as the export writes them (the import reads these and mon..sun).
WEEKDAY_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
#: An .xlsx is a zip; what its parts may hold unpacked, so a small upload cannot unpack
#: into gigabytes (zipfile reads no more of a part than its declared size).
MAX_WORKBOOK_BYTES = 50_000_000
#: The columns read of a workbook's sheet: the known ones and room for a few unknown.
MAX_WORKBOOK_COLUMNS = len(COLUMNS) + 20


NO_SUCH_DAY = N_(
    "“%(value)s” is not a day of the calendar; please give a day as YYYY-MM-DD, e.g. 2026-12-01."
)
NO_SUCH_MOMENT = N_(
    "“%(value)s” is not a valid date and time; please give one as YYYY-MM-DDTHH:MM:SS with "
    "its offset, e.g. 2026-10-01T10:00:00+02:00."
)
#: What each problem's code says, with its params (the msgids are English; see locales/).
PROBLEM_MESSAGES = {
    "header_missing": N_("The header row lacks the column(s) %(columns)s."),
    "header_unknown": N_("Unknown column(s) %(columns)s; the known ones are: %(known)s."),
    "too_many_rows": N_("The file has more than %(max)s rows; please split it."),
    "too_many_cells": N_(
        "This row has more cells than the header has columns (a comma inside a cell needs quotes)."
    ),
    "level_missing": N_("“%(value)s” needs a level, e.g. ar:native."),
    "home_pair": N_("home_lat and home_lon go together: please give both or neither."),
    "availability_format": N_("“%(value)s” should look like “Mo 08:00-12:00”."),
    "phone_twice": N_("The phone number %(phone)s is also on line %(other_line)s."),
    "missing": N_("This cell must not be empty."),
    "empty": N_("This cell must not be empty."),
    "phone_format": N_("Please use the international format, e.g. +49 151 12345678."),
    "phone_invalid": N_("“%(value)s” is not a valid phone number."),
    "email_invalid": N_("Please give a valid email address."),
    "email_local_part_not_ascii": N_(
        "Please write the part before the @ with Latin letters without accents, digits and "
        "signs such as . _ - + only: mail to other letters there cannot be delivered "
        "reliably. After the @, letters such as ä, ö, ü are fine."
    ),
    "unknown_language": N_(
        "“%(value)s” is not a language of the pool; use a tag such as ar, uk or fa."
    ),
    "unknown_qualification": N_("“%(value)s” is not a known subject; use one of %(known)s."),
    "language_repeated": N_("Each language may be listed once."),
    "date_format": N_("Please give a day as YYYY-MM-DD, e.g. 2026-12-01."),
    # The right shape but no such day (2026-13-01, 2026-02-30) or time (25:00).
    "date_from_datetime_parsing": NO_SUCH_DAY,
    "date_parsing": NO_SUCH_DAY,
    "datetime_from_date_parsing": NO_SUCH_MOMENT,
    "datetime_parsing": NO_SUCH_MOMENT,
    "date_out_of_range": N_("Please give a day between %(earliest)s and %(latest)s."),
    "datetime_format": N_(
        "Please give a date and time with its offset, e.g. 2026-10-01T10:00:00+02:00."
    ),
    "timezone_missing": N_(
        "Please give a date and time with its offset, e.g. 2026-10-01T10:00:00+02:00."
    ),
    "weekday": N_("Please give a weekday: Mo, Di, Mi, Do, Fr, Sa, So (or mon to sun)."),
    "time_of_day": N_("Please give a time of day between 00:00 and 24:00, e.g. 08:00."),
    "slot_order": N_("This time ends (%(end)s) before or when it starts (%(start)s)."),
    "string_too_long": N_("This is too long: at most %(max_length)s characters."),
    "too_long": N_("At most %(max_length)s entries, please."),
    "control_characters": N_("Please leave out control characters and line breaks."),
    "enum": N_("“%(value)s” is not one of the choices: %(expected)s."),
    "literal_error": N_("“%(value)s” is not one of the choices: %(expected)s."),
    "float_parsing": N_("Please give a number, e.g. 51.7553."),
    **geocoding.POINT_MESSAGES,
    "greater_than": N_("Please give a number greater than %(gt)s."),
    "greater_than_equal": N_("Please give a number of at least %(ge)s."),
    "less_than_equal": N_("Please give a number of at most %(le)s."),
    # The mediator service's refusals (its reason codes), which only the database can check.
    "day_in_future": N_(
        "This day lies in the future, but it records when something happened: today at the "
        "latest. Please check the year."
    ),
    "no_contact": N_("A mediator needs a phone number or an email address."),
    "sms_without_phone": N_("SMS is chosen, but there is no phone number."),
    "email_without_address": N_("Email is chosen, but there is no email address."),
    "phone_taken": N_(
        "This number already belongs to %(name)s in the pool: SMS replies from it could "
        "not tell who answered."
    ),
}
CHECK_VALUE = N_("Please check this entry.")
#: The CSV column an error of the API's field (or of the whole row, by code) is about.
FIELD_COLUMN = {"home": "home_lat, home_lon", "language_repeated": "languages"}


@dataclass(frozen=True)
class Problem:
    """What is wrong with the file: where (line, column) and a code with its params."""

    line: int
    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    column: str | None = None
    #: The values the cell may take, when it must be one of them (a level, a travel mode):
    #: listed in the reader's language ("basic, fluent oder native").
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowDone:
    """What a row did: added a mediator, updated one (the columns it changed, a cleared
    cell too), or nothing, as it says what the pool already holds."""

    line: int
    name: str
    action: Literal["add", "update", "same"]
    columns: tuple[str, ...] = ()


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    #: Rows of a mediator in the pool that say what the pool holds: left alone.
    unchanged: int = 0
    errors: list[Problem] = field(default_factory=list)
    #: Each row written, in the file's order (the upload's preview lists them).
    rows: list[RowDone] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RowError(ValueError):
    """A cell that cannot be read into the API's fields: a problem's code, column, params."""

    def __init__(self, code: str, column: str, **params: str) -> None:
        super().__init__(code)
        self.code, self.column, self.params = code, column, params


class _Filled(dict[str, str | int]):
    """Params for a message: a value the error did not carry shows as a dash."""

    def __missing__(self, key: str) -> str:
        return "–"


def problem_text(problem: Problem, translator: Translator) -> str:
    """A problem in the reader's words, with its line and column."""
    template = translator.gettext(PROBLEM_MESSAGES.get(problem.code, CHECK_VALUE))
    params = _Filled(problem.params)
    if problem.choices:
        params["expected"] = translator.one_of(problem.choices)
    message = template % params
    if problem.column:
        return translator.gettext(
            "Line %(line)s, column %(column)s: %(message)s",
            line=problem.line,
            column=problem.column,
            message=message,
        )
    return translator.gettext("Line %(line)s: %(message)s", line=problem.line, message=message)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.replace(",", ";").split(";") if part.strip()]


#: A day as German Excel writes one into a CSV: 1.12.2026 or 01.12.2026.
_GERMAN_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
#: A number with a decimal comma, as German Excel writes 12.5.
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")


def _cell(row: dict[str, str], name: str) -> str:
    """The cell's text, without the apostrophe the CSV export put before a cell that starts
    like a formula (``spreadsheets.formula_safe``): "'+49 151 …" is "+49 151 …"."""
    value = (row.get(name) or "").strip()
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_START:
        return value[1:]
    return value


def _plain(name: str, value: str) -> str:
    """A day or number as the schema reads it, from how German Excel writes it."""
    if name in DAY_COLUMNS and (day := _GERMAN_DAY.fullmatch(value)):
        d, m, y = (int(part) for part in day.groups())
        try:
            return date(y, m, d).isoformat()
        except ValueError:
            raise RowError("date_parsing", name, value=value) from None
    if name in NUMBER_COLUMNS and _DECIMAL_COMMA.fullmatch(value):
        return value.replace(",", ".")
    return value


def _row_to_fields(row: dict[str, str]) -> dict[str, Any]:
    row = {name: _plain(name, _cell(row, name)) for name in row}
    fields: dict[str, Any] = {}
    for name in (
        "name",
        "phone",
        "email",
        "german_level",
        "gender",
        "travel_mode",
        "max_travel_km",
        "max_hours_per_week",
        "message_locale",
        "consent_at",
        "trained_on",
        "pledge_signed_on",
        "police_certificate_seen_on",
        "listed_until",
    ):
        value = (row.get(name) or "").strip()
        if value:
            fields[name] = value
    if (row.get("languages") or "").strip():
        skills = []
        for part in _split(row["languages"]):
            tag, _, level = part.partition(":")
            if not level:
                raise RowError("level_missing", "languages", value=part)
            skills.append({"language": tag.strip(), "level": level.strip().lower()})
        fields["languages"] = skills
    lat, lon = (row.get("home_lat") or "").strip(), (row.get("home_lon") or "").strip()
    if lat or lon:
        if not (lat and lon):
            raise RowError("home_pair", "home_lat, home_lon")
        fields["home"] = {"lat": lat, "lon": lon}
    elif "home_lat" in row and "home_lon" in row:
        fields["home"] = None
    for name in ("qualifications", "channels"):
        if (row.get(name) or "").strip():
            fields[name] = [part.lower() for part in _split(row[name])]
    if (row.get("availability") or "").strip():
        slots = []
        for part in [p.strip() for p in row["availability"].split(";") if p.strip()]:
            day, _, hours = part.partition(" ")
            start, _, end = hours.strip().partition("-")
            if not (day and start and end):
                raise RowError("availability_format", "availability", value=part)
            slots.append({"weekday": day, "start": start.strip(), "end": end.strip()})
        fields["availability"] = slots
    # An empty cell of a column the file has: the value cleared, where it may be empty.
    for name, empty in CLEARABLE.items():
        if name in row and not row[name]:
            fields[name] = empty
    return fields


def _problems(line: int, exc: ValidationError) -> list[Problem]:
    """The schema's errors of a row, each with its column, code and the values it carried."""
    return [_problem(line, error) for error in exc.errors()]


def _problem(line: int, error: ErrorDetails) -> Problem:
    location = error.get("loc", ())
    column = str(location[0]) if location else None
    params: dict[str, str | int] = {
        key: value if isinstance(value, int) else str(value)
        for key, value in (error.get("ctx") or {}).items()
        if isinstance(value, (str, int, float))
    }
    if isinstance(error.get("input"), (str, int, float)):
        params.setdefault("value", str(error["input"])[:40])
    column = FIELD_COLUMN.get(column or error["type"], column)
    choices = tuple(_QUOTED.findall(str(params.get("expected", ""))))
    return Problem(line=line, code=error["type"], params=params, column=column, choices=choices)


#: The choices in pydantic's `expected` of an enum or literal error: "'basic', 'fluent' or
#: 'native'" is English; the values between the quotes are listed again in the reader's words.
_QUOTED = re.compile(r"'([^']*)'")
#: What may stand between the cells: German Excel saves semicolons, others commas or tabs.
SEPARATORS = (",", ";", "\t")


def separator(header: str) -> str:
    """The separator the header row uses most (a comma when it has none: one column)."""
    return max(SEPARATORS, key=header.count)


def read_upload(content: bytes) -> str | None:
    """The file's rows as CSV text: an Excel workbook (.xlsx) by `workbook_text`, any other
    file by `decode`; None when it is neither a workbook nor text."""
    if content.startswith(b"PK\x03\x04"):  # a zip, as every .xlsx is
        return workbook_text(content)
    return decode(content)


def workbook_text(content: bytes) -> str | None:
    """The first sheet of an Excel workbook as CSV text for `read_rows`; None when the file
    is no workbook openpyxl can read, or unpacks to more than `MAX_WORKBOOK_BYTES`.

    Cells come as Excel typed them: a day as a day (written 2026-12-01), a whole
    number without ".0", a time as 08:00. Empty rows stay, so the lines named in
    problems are the sheet's row numbers; reading stops past `MAX_ROWS`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(part.file_size for part in archive.infolist()) > MAX_WORKBOOK_BYTES:
                return None
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    # openpyxl raises what its zip and XML readers raise on a broken file, of many kinds;
    # any of them means the same to the uploader: not a workbook we can read.
    except Exception:
        return None
    try:
        if not book.worksheets:
            return None
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(max_col=MAX_WORKBOOK_COLUMNS, values_only=True)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        width = 0
        for number, values in enumerate(rows):
            cells = [_workbook_cell(value) for value in values]
            if number == 0:
                width = max((i + 1 for i, cell in enumerate(cells) if cell), default=0)
            while len(cells) > width and not cells[-1]:
                cells.pop()
            writer.writerow(cells)
            if number > MAX_ROWS:
                break
        return out.getvalue()
    except Exception:  # a sheet that breaks while it is read: as above
        return None
    finally:
        book.close()


def _workbook_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decode(content: bytes) -> str | None:
    """The file's text: UTF-8 (with or without BOM, as Excel saves "CSV UTF-8"), else
    Windows-1252, which German Excel's plain "CSV" is; None when it is neither.

    UTF-8 is tried first because Windows-1252 reads nearly any bytes: a UTF-8 "ü"
    would come out as "Ã¼". Text in Windows-1252 with umlauts is almost never
    valid UTF-8, so the order tells them apart.
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_rows(
    text: str, *, settings: Settings, now: datetime
) -> tuple[list[tuple[int, MediatorCreate]], list[Problem]]:
    """Parse and validate every row, by the schema and the service's own field checks
    (`service.check_fields`: a home within reach, no clearance day after today);
    returns good rows and problems by line."""
    reader = csv.DictReader(io.StringIO(text), delimiter=separator(text.partition("\n")[0]))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = REQUIRED - set(header)
    if missing:
        return [], [Problem(1, "header_missing", {"columns": ", ".join(sorted(missing))})]
    unknown = set(header) - set(COLUMNS)
    if unknown:
        listed = {"columns": ", ".join(sorted(unknown)), "known": ", ".join(COLUMNS)}
        return [], [Problem(1, "header_unknown", listed)]
    good: list[tuple[int, MediatorCreate]] = []
    errors: list[Problem] = []
    phones: dict[str, int] = {}
    for index, row in enumerate(reader):
        line = reader.line_num
        if index >= MAX_ROWS:
            errors.append(Problem(line, "too_many_rows", {"max": MAX_ROWS}))
            break
        if None in row:
            errors.append(Problem(line, "too_many_cells"))
            continue
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            data = MediatorCreate.model_validate(_row_to_fields(row))
        except RowError as exc:
            errors.append(Problem(line, exc.code, exc.params, exc.column))
            continue
        except ValidationError as exc:
            errors.extend(_problems(line, exc))
            continue
        try:
            service.check_fields(data, settings=settings, now=now)
        except SprachpoolError as exc:
            errors.append(_refusal(line, exc))
            continue
        if data.phone:
            if data.phone in phones:
                twice: dict[str, str | int] = {
                    "phone": data.phone,
                    "other_line": phones[data.phone],
                }
                errors.append(Problem(line, "phone_twice", twice, "phone"))
                continue
            phones[data.phone] = line
        good.append((line, data))
    return good, errors


def _refusal(line: int, exc: SprachpoolError) -> Problem:
    """A service's refusal of a row, in the column of its field."""
    column = FIELD_COLUMN.get(exc.field or "", exc.field)
    return Problem(line, exc.reason or "invalid", exc.params, column)


def as_held(session: Session, existing: Mapping[str, Mediator]) -> dict[int, MediatorPublic]:
    """What the pool holds of the mediators rows would update, by id (for `changed_fields`),
    read in one go."""
    details = service.load_details(session, [m.id for m in existing.values()])
    return {m.id: service.to_public(m, details[m.id]) for m in existing.values()}


def pool_rows(items: Iterable[MediatorPublic], *, tz: tzinfo) -> list[list[Cell]]:
    """The pool in the import's format, a row per mediator under `EXPORT_COLUMNS`: saved
    from Excel and uploaded again, it updates each of them by phone number.

    Days are days and numbers are numbers, so German Excel shows them its way and
    writes them back so (01.12.2026, 12,5), which `read_rows` reads. Phone numbers
    are written with spaces (+49 151 1234567), which Excel keeps as text instead
    of turning them into a number. The consent is an ISO time with its offset, in `tz`
    (the town's zone).
    """
    rows: list[list[Cell]] = []
    for m in items:
        values: dict[str, Cell] = {
            "name": m.name,
            "phone": _spaced(m.phone),
            "email": m.email,
            "languages": "; ".join(f"{s.language}:{s.level}" for s in m.languages),
            "german_level": m.german_level,
            "gender": m.gender,
            "travel_mode": m.travel_mode,
            "max_travel_km": m.max_travel_km,
            "max_hours_per_week": m.max_hours_per_week,
            "qualifications": "; ".join(m.qualifications),
            "channels": "; ".join(m.channels),
            "message_locale": m.message_locale,
            "availability": "; ".join(
                f"{WEEKDAY_SHORT[s.weekday]} {s.start}-{s.end}" for s in m.availability
            ),
            "consent_at": m.consent_at.astimezone(tz).isoformat() if m.consent_at else None,
            "trained_on": m.trained_on,
            "pledge_signed_on": m.pledge_signed_on,
            "police_certificate_seen_on": m.police_certificate_seen_on,
            "listed_until": m.listed_until,
        }
        rows.append([values[name] for name in EXPORT_COLUMNS])
    return rows


def _spaced(phone: str | None) -> str | None:
    if phone is None:
        return None
    return phonenumbers.format_number(
        phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def changed_fields(current: MediatorPublic, data: MediatorCreate) -> list[str]:
    """The fields a row would change of the mediator it updates (those it fills in); none
    when it says what the pool already holds."""
    changed = []
    for name in sorted(data.model_fields_set):
        if _comparable(name, getattr(data, name)) != _comparable(name, getattr(current, name)):
            changed.append(name)
    return changed


def _comparable(name: str, value: Any) -> Any:
    """A field's value in a form a row's and the pool's compare in: lists in no order."""
    if name == "home":
        return None if value is None else (float(value.lat), float(value.lon))
    if name == "languages":
        return sorted((s.language, s.level) for s in value or [])
    if name == "availability":
        return sorted((s.weekday, s.start, s.end) for s in value or [])
    if isinstance(value, list):
        return sorted(str(getattr(v, "value", v)) for v in value)
    return getattr(value, "value", value)  # an enum's member as the text the pool holds


def existing_by_phone(session: Session, rows: list[MediatorCreate]) -> dict[str, Mediator]:
    """The mediators already in the pool whom rows would update, by phone number."""
    phones = [data.phone for data in rows if data.phone]
    if not phones:
        return {}
    return {
        m.phone: m
        for m in session.exec(
            select(Mediator).where(
                col(Mediator.phone).in_(phones), col(Mediator.erased_at).is_(None)
            )
        )
        if m.phone
    }


def import_csv(
    session: Session,
    *,
    text: str,
    now: datetime,
    settings: Settings,
    actor: User | None = None,
) -> ImportReport:
    """Validate the whole file, then write it in the caller's transaction.

    When a row is refused by a rule only the database can check, the report
    has errors and the caller rolls back: nothing of the file stays.
    """
    rows, errors = read_rows(text, settings=settings, now=now)
    if errors:
        return ImportReport(errors=errors)
    return write_rows(session, rows, now=now, settings=settings, actor=actor)


def write_rows(
    session: Session,
    rows: list[tuple[int, MediatorCreate]],
    *,
    now: datetime,
    settings: Settings,
    actor: User | None = None,
) -> ImportReport:
    """Write rows `read_rows` passed, in the caller's transaction; a row the database
    refuses is in the report's errors, and the caller rolls back.

    The upload's preview calls it too and always rolls back: a rule only the
    pool can check (an e-mail address the person's channels in the pool need)
    shows on the preview, before anyone confirms.
    """
    report = ImportReport()
    existing = existing_by_phone(session, [data for _, data in rows])
    held = as_held(session, existing)
    for line, data in rows:
        try:
            match = existing.get(data.phone) if data.phone else None
            changed = changed_fields(held[match.id], data) if match is not None else []
            if match is not None and not changed:
                report.unchanged += 1
                report.rows.append(RowDone(line, data.name, "same"))
            elif match is not None:
                # Only what changed, so the record's history names the edited fields.
                update = MediatorUpdate.model_validate(data.model_dump(include=set(changed)))
                flows.update_mediator(
                    session,
                    mediator_id=match.id,
                    data=update,
                    actor=actor,
                    now=now,
                    settings=settings,
                )
                report.updated += 1
                # As the file's columns name them (the home is two columns).
                columns = tuple(FIELD_COLUMN.get(name, name) for name in changed)
                report.rows.append(RowDone(line, data.name, "update", columns))
            else:
                service.create_mediator(session, data=data, actor=actor, now=now, settings=settings)
                report.created += 1
                report.rows.append(RowDone(line, data.name, "add"))
        except SprachpoolError as exc:  # a rule checked only against the database
            report.errors.append(_refusal(line, exc))
    return report
