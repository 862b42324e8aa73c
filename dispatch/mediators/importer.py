"""CSV import of the pool: `sprachpool mediators import FILE.csv`.

The format (UTF-8, comma-separated, header row; see
examples/mediators.csv) uses one column per field and small inline lists:

    languages      ar:native; de:fluent
    availability   Mo 08:00-12:00; Mi 14:00-18:00   (Mo Di Mi Do Fr Sa So or mon..sun)
    qualifications medical; school
    channels       sms; email

Every row is validated with the same rules as the API before anything is
written; one bad row means nothing of the file is imported. A row whose
phone number matches a mediator already in the pool updates that mediator,
so the coordinator can re-import an edited list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from dispatch.errors import SprachpoolError, friendly_message
from dispatch.mediators import service
from dispatch.mediators.models import Mediator
from dispatch.mediators.schemas import MediatorCreate, MediatorUpdate
from dispatch.users.models import User

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


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RowError(ValueError):
    """A cell that cannot be read into the API's fields."""


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.replace(",", ";").split(";") if part.strip()]


def _row_to_fields(row: dict[str, str]) -> dict[str, Any]:
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
                raise RowError(f"languages: '{part}' needs a level, e.g. ar:native")
            skills.append({"language": tag.strip(), "level": level.strip().lower()})
        fields["languages"] = skills
    lat, lon = (row.get("home_lat") or "").strip(), (row.get("home_lon") or "").strip()
    if lat or lon:
        if not (lat and lon):
            raise RowError("home_lat and home_lon go together; give both or neither")
        fields["home"] = {"lat": lat, "lon": lon}
    for name in ("qualifications", "channels"):
        if (row.get(name) or "").strip():
            fields[name] = [part.lower() for part in _split(row[name])]
    if (row.get("availability") or "").strip():
        slots = []
        for part in [p.strip() for p in row["availability"].split(";") if p.strip()]:
            day, _, hours = part.partition(" ")
            start, _, end = hours.strip().partition("-")
            if not (day and start and end):
                raise RowError(f"availability: '{part}' should look like 'Mo 08:00-12:00'")
            slots.append({"weekday": day, "start": start.strip(), "end": end.strip()})
        fields["availability"] = slots
    return fields


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error.get("loc", ())) or "row"
        parts.append(f"{location}: {friendly_message(dict(error))}")
    return "; ".join(parts)


def read_rows(text: str) -> tuple[list[tuple[int, MediatorCreate]], list[str]]:
    """Parse and validate every row; returns good rows and errors by line."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = REQUIRED - set(header)
    if missing:
        return [], [f"line 1: the header lacks the column(s) {', '.join(sorted(missing))}"]
    unknown = set(header) - set(COLUMNS)
    if unknown:
        return [], [
            f"line 1: unknown column(s) {', '.join(sorted(unknown))}; known: {', '.join(COLUMNS)}"
        ]
    good: list[tuple[int, MediatorCreate]] = []
    errors: list[str] = []
    phones: dict[str, int] = {}
    for index, row in enumerate(reader):
        line = reader.line_num
        if index >= MAX_ROWS:
            errors.append(f"line {line}: more than {MAX_ROWS} rows; split the file")
            break
        if None in row:
            errors.append(
                f"line {line}: more cells than columns (a comma inside a cell needs quotes)"
            )
            continue
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            data = MediatorCreate.model_validate(_row_to_fields(row))
        except RowError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        except ValidationError as exc:
            errors.append(f"line {line}: {_describe(exc)}")
            continue
        if data.phone:
            if data.phone in phones:
                errors.append(
                    f"line {line}: phone {data.phone} is also on line {phones[data.phone]}"
                )
                continue
            phones[data.phone] = line
        good.append((line, data))
    return good, errors


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
    session: Session, *, text: str, now: datetime, actor: User | None = None
) -> ImportReport:
    """Validate the whole file, then write it in the caller's transaction.

    When a row is refused by a rule only the database can check, the report
    has errors and the caller rolls back: nothing of the file stays.
    """
    rows, errors = read_rows(text)
    report = ImportReport(errors=errors)
    if errors:
        return report
    existing = existing_by_phone(session, [data for _, data in rows])
    for line, data in rows:
        try:
            match = existing.get(data.phone) if data.phone else None
            if match is not None:
                update = MediatorUpdate.model_validate(data.model_dump(exclude_unset=True))
                service.update_mediator(
                    session, mediator_id=match.id, data=update, actor=actor, now=now
                )
                report.updated += 1
            else:
                service.create_mediator(session, data=data, actor=actor, now=now)
                report.created += 1
        except SprachpoolError as exc:  # a rule checked only against the database
            report.errors.append(f"line {line}: {exc.message}")
    return report
