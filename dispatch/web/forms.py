"""The request form: from what a person types to the API's RequestCreate.

The form asks for what people think in (a day, a time, a duration, a
language name); it is turned into the API's body and checked by the very
same schema and service, so the web and the JSON API accept exactly the same
requests. Errors are keyed by the form field they belong beside.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from config import data as config_data
from dispatch.errors import friendly_message
from dispatch.requests.models import Mode
from dispatch.requests.schemas import RequestCreate
from dispatch.validation import EARLIEST_DAY, LATEST_DAY

#: Durations offered in the form, in minutes (the policy caps a request at 8 h).
DURATIONS = (30, 45, 60, 90, 120, 150, 180, 240, 300, 360, 480)
DEFAULT_DURATION = 60
ADDRESS = "address"
GENDER_CHOICES = ("", "f:preferred", "f:required", "m:preferred", "m:required")

FIELDS = (
    "language",
    "date",
    "time",
    "duration",
    "mode",
    "place",
    "address",
    "lat",
    "lon",
    "qualification",
    "gender",
    "client_ref",
    "contact_name",
    "contact_phone",
    "notes",
    "broadcast",
)

#: Where an error of an API field is shown in the form.
API_TO_FORM = {
    "language": "language",
    "start": "date",
    "end": "duration",
    "mode": "mode",
    "place_id": "place",
    "address": "address",
    "qualification": "qualification",
    "gender": "gender",
    "client_ref": "client_ref",
    "notes": "notes",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "organisation_id": "form",
    "priority": "form",
    "broadcast": "broadcast",
    "min_level": "language",
}

#: German messages (translated on the page) for the errors people make most.
MESSAGES = {
    "language": "Bitte eine Sprache aus der Liste wählen.",
    "date": "Bitte ein gültiges Datum angeben.",
    "time": "Bitte eine Uhrzeit angeben, z. B. 09:30.",
    "duration": "Bitte eine Dauer aus der Liste wählen.",
    "mode": "Bitte wählen: vor Ort, Telefon oder Video.",
    "place": "Bitte einen Ort aus der Liste wählen oder eine Adresse angeben.",
    "address": "Bitte die Adresse angeben.",
    "lat": "Bitte die geografische Breite angeben, z. B. 51.7553.",
    "lon": "Bitte die geografische Länge angeben, z. B. 8.0403.",
    "client_ref": "Nur Buchstaben, Ziffern und . _ / - (bitte keine Namen).",
    "contact_phone": "Bitte im internationalen Format, z. B. +49 2521 29-0.",
    "qualification": "Bitte einen Schwerpunkt aus der Liste wählen.",
    "gender": "Bitte eine Angabe aus der Liste wählen.",
    "past": "Dieser Termin liegt in der Vergangenheit.",
    "too_far": "Dieser Termin liegt zu weit in der Zukunft.",
    "too_long": "Eine Anfrage dauert höchstens 8 Stunden; längere bitte aufteilen.",
    "unknown_place": "Diesen Ort gibt es nicht (mehr); bitte einen anderen wählen.",
}


@dataclass
class RequestForm:
    """What was typed (to show it again) and what is wrong with it, by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, *, today: date) -> RequestForm:
        return cls(
            values={
                "date": (today + timedelta(days=1)).isoformat(),
                "time": "09:00",
                "duration": str(DEFAULT_DURATION),
                "mode": Mode.in_person.value,
            }
        )

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def language_option(tag: str, name: str) -> str:
    """How a language appears in the search list and the field: 'Tigrinya (ti)'."""
    return f"{name} ({tag})"


def resolve_language(text: str) -> str | None:
    """A tag from 'Tigrinya (ti)', 'ti', 'tigrinya' or 'Tigrinya' (German or English name)."""
    text = text.strip()
    if not text:
        return None
    known = config_data.languages()
    match = re.search(r"\(([A-Za-z-]{2,12})\)\s*$", text)
    if match and match[1].lower() in known:
        return known[match[1].lower()].tag
    if text.lower() in known:
        return known[text.lower()].tag
    for language in known.values():
        if text.casefold() in (language.de.casefold(), language.en.casefold()):
            return language.tag
    return None


def _float(value: str) -> float | None:
    try:
        return float(value.strip().replace(",", "."))
    except ValueError:
        return None


def parse_request_form(
    raw: dict[str, str], *, tz: ZoneInfo
) -> tuple[RequestForm, RequestCreate | None]:
    """Check the form; the API body when everything is right, else the errors beside the fields."""
    form = RequestForm(
        values={
            name: raw.get(name, "").strip() if name != "notes" else raw.get(name, "")
            for name in FIELDS
        }
    )
    v = form.values
    body: dict[str, Any] = {}

    language = resolve_language(v["language"])
    if language is None:
        form.error("language", MESSAGES["language"])
    body["language"] = language or v["language"][:12]

    day = start_time = None
    try:
        day = date.fromisoformat(v["date"])
    except ValueError:
        form.error("date", MESSAGES["date"])
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        # Caught here: a day at the end of the calendar cannot even take a time zone.
        form.error("date", MESSAGES["past"] if day < EARLIEST_DAY else MESSAGES["too_far"])
        day = None
    try:
        start_time = (
            time.fromisoformat(v["time"]) if re.fullmatch(r"\d{1,2}:\d{2}", v["time"]) else None
        )
    except ValueError:
        start_time = None
    if start_time is None:
        form.error("time", MESSAGES["time"])
    duration = int(v["duration"]) if v["duration"].isdigit() else None
    if duration not in DURATIONS:
        form.error("duration", MESSAGES["duration"])
    if day and start_time and duration:
        start = datetime.combine(day, start_time, tzinfo=tz)
        body["start"] = start
        body["end"] = start + timedelta(minutes=duration)

    if v["mode"] not in {m.value for m in Mode}:
        form.error("mode", MESSAGES["mode"])
    body["mode"] = v["mode"]
    if v["mode"] == Mode.in_person:
        if v["place"] == ADDRESS:
            if not v["address"]:
                form.error("address", MESSAGES["address"])
            lat, lon = _float(v["lat"]), _float(v["lon"])
            if lat is None or not -90 <= lat <= 90:
                form.error("lat", MESSAGES["lat"])
            if lon is None or not -180 <= lon <= 180:
                form.error("lon", MESSAGES["lon"])
            body["address"] = v["address"] or None
            body["location"] = {"lat": lat, "lon": lon}
        elif v["place"].isdigit():
            body["place_id"] = int(v["place"])
        else:
            form.error("place", MESSAGES["place"])

    if v["qualification"]:
        body["qualification"] = v["qualification"]
    if v["gender"]:
        if v["gender"] not in GENDER_CHOICES:
            form.error("gender", MESSAGES["gender"])
        else:
            value, strength = v["gender"].split(":")
            body["gender"] = {"value": value, "strength": strength}
    for name in ("client_ref", "contact_name", "contact_phone", "notes"):
        if v[name].strip():
            body[name] = v[name]
    body["broadcast"] = v["broadcast"] in ("1", "on", "true")

    # The schema runs even when the form found errors, so every wrong field is shown at once.
    try:
        data = RequestCreate.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error.get("loc", ()))
            if location[:1] == ("end",) and "start" not in body:
                continue  # the date or time is wrong, not the duration
            name = (
                API_TO_FORM.get(str(location[0]), "form") if location else _model_error_field(error)
            )
            if location[:1] == ("location",):
                name = (
                    str(location[1])
                    if len(location) > 1 and location[1] in ("lat", "lon")
                    else "lat"
                )
            form.error(name, MESSAGES.get(name, friendly_message(error)))
        return form, None
    return form, (None if form.errors else data)


def _model_error_field(error: Mapping[str, object]) -> str:
    message = str(error.get("msg", ""))
    if "in-person" in message:
        return "place"
    if "end must be after start" in message:
        return "duration"
    return "form"


def service_error(form: RequestForm, *, field_name: str | None, message: str) -> None:
    """Put an error of the intake service (dates, places, limits) beside its field."""
    if field_name == "start":
        form.error("date", MESSAGES["past"] if "past" in message else MESSAGES["too_far"])
    elif field_name == "end":
        form.error("duration", MESSAGES["too_long"])
    elif field_name == "place_id":
        form.error("place", MESSAGES["unknown_place"])
    else:
        form.error(API_TO_FORM.get(field_name or "", "form"), message)
