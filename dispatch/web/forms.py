"""The request form: from what a person types to the API's RequestCreate.

The form asks for what people think in (a day, a time, a duration, a
language name); it is turned into the API's body and checked by the very
same schema and service, so the web and the JSON API accept exactly the same
requests. Errors are placed by where the schema says they are (`loc`), or for
an error of the whole body by its code, never by their wording; each field
says what is wrong in the reader's language (catalog texts by field and by
error code, with the values the error carried).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import ValidationError

import locales
from config import data as config_data
from dispatch import geocoding
from dispatch.errors import SprachpoolError
from dispatch.requests.models import CallDirection, Mode, Request
from dispatch.requests.schemas import RequestChange, RequestCreate
from dispatch.series.schemas import MAX_INTERVAL_WEEKS, SeriesCreate
from dispatch.validation import (
    EARLIEST_DAY,
    LATEST_DAY,
    calendar_day,
    clock_time,
    real_time_after,
    wall_clock,
    whole_number,
)
from locales import N_, Text

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
    "home_visit",
    "lat",
    "lon",
    "located",
    "qualification",
    "gender",
    "client_ref",
    "contact_name",
    "contact_phone",
    "call_direction",
    "connection",
    "notes",
    "unknown_to_client",
    "broadcast",
    "category",
    "urgency_reason",
    "allow_duplicate",
    "override_reason",
    "funding_source",
    "repeat_weeks",
    "until",
)

#: Where an error of an API field (its `loc`) is shown in the form.
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
    "allow_duplicate": "allow_duplicate",
    "priority": "form",
    "broadcast": "broadcast",
    "min_level": "language",
    "category": "category",
    "urgency_reason": "urgency_reason",
    "location": "address",
    "home_visit": "home_visit",
    "call_direction": "call_direction",
    "connection": "connection",
    "override_reason": "override_reason",
    "funding_source": "funding_source",
    "interval_weeks": "repeat_weeks",
    "until": "until",
}
#: Errors of the whole body (a model validator's code): the field they belong beside.
MODEL_ERROR_FIELD = {
    "end_before_start": "duration",
    "place_or_location_required": "place",
    "home_visit_needs_address": "home_visit",
    "connection_link": "connection",
    "connection_phone": "connection",
    "connection_not_in_person": "connection",
    "connection_missing": "connection",
}

#: What the form says beside a field that is wrong, whatever the error.
FIELD_MESSAGES = {
    "language": N_("Please pick a language from the list."),
    "date": N_("Please give a valid date."),
    "time": N_("Please give a time, e.g. 09:30."),
    "duration": N_("Please pick a duration from the list."),
    "mode": N_("Please choose: in person, phone or video."),
    "place": N_("Please pick a place from the list or give an address."),
    "address": N_("Please give the street and house number, e.g. Weststraße 46, Beckum."),
    "home_visit": N_("A home visit is in person at an address, not at a known place."),
    "client_ref": N_("Letters, digits and . _ / - only (no names, please)."),
    "contact_phone": N_("Please use the international format, e.g. +49 2521 29-0."),
    "qualification": N_("Please pick a subject from the list."),
    "gender": N_("Please pick an option from the list."),
    "category": N_("Please pick the service area from the list."),
    "funding_source": N_("Please pick a funding source from the list."),
    "call_direction": N_("Please pick an option from the list."),
    "repeat_weeks": N_("Please pick from the list how often it repeats."),
    "until": N_("Please give the last day of the series, after the first appointment."),
    "connection": N_(
        "Please give the office's phone number (e.g. +49 2521 29-0) for a phone appointment, "
        "or a video link starting with https:// for a video appointment."
    ),
}
#: Messages by error code (the intake service's, our validators', pydantic's types), for
#: fields without a message of their own and for errors that say more than the field's.
CODE_MESSAGES = {
    "start_in_past": N_("This appointment is in the past."),
    "start_too_far": N_("This appointment is too far ahead."),
    "too_long": N_("A request lasts at most %(hours)s hours; please split longer ones."),
    "unknown_place": N_("This place does not exist (any more); please pick another."),
    "control_characters": N_("Please leave out control characters and line breaks."),
    "empty": N_("Please fill this in or leave it empty."),
    "string_too_long": N_("This is too long: at most %(max_length)s characters."),
    "end_before_start": N_("Please pick a duration from the list."),
    "slot_order": N_("This time ends (%(end)s) before or when it starts (%(start)s)."),
    "time_skipped": N_(
        "This time does not exist on this day: the clocks go forward from 02:00 to 03:00. "
        "Please pick another time."
    ),
    "time_of_day": N_("Please give a time of day between 00:00 and 24:00, e.g. 08:00."),
    "connection_missing": N_(
        "The mediator needs this to call or join: the office's phone number, or the video "
        "link starting with https://. Or choose above that the office calls."
    ),
    "weekday": N_("Please pick a weekday from the list."),
    # The funding policy (config/funding.toml): a refused category, by its next step.
    "not_served:professional_interpreter": N_(
        "The pool's funding does not cover this kind of appointment. Please book a "
        "professional interpreter; the requesting office pays for it."
    ),
    "not_served:phone_service": N_(
        "The pool's funding does not cover this kind of appointment. Please use a "
        "telephone or video interpreting service."
    ),
    "notice_too_short": N_(
        "The pool asks for %(days)s working days' notice. For a sooner appointment, "
        "please say here why it is urgent."
    ),
    "duplicate_request": N_(
        "Request no. %(id)s for the same client reference, language and time was filed within "
        "the last day. Is this another appointment? Then tick “file anyway”."
    ),
    "request_started": N_("This appointment has already started; it can no longer be changed."),
    "request_cancelled": N_("This request is cancelled; it can no longer be changed."),
    # A typed address (dispatch/requests/service.py: locate_address) and the map.
    "address_unconfirmed": N_(
        "Please search the address and confirm the match, or set the point on the map."
    ),
    "address_not_found": N_(
        "No address matches. Please check the spelling and search again, pick a known "
        "place above, or set the point on the map below."
    ),
    "address_ambiguous": N_(
        "Several addresses match. Please pick the right one below, or search more precisely."
    ),
    "address_outside_area": N_(
        "This address lies outside the pool's area. Please check the town, pick a known "
        "place above, or set the point on the map below."
    ),
    "geocoder_unavailable": N_(
        "The address search is not available right now. Please pick a known place above, "
        "or set the point on the map below."
    ),
    # A point given as numbers (dispatch.validation.Point, dispatch.geocoding).
    **geocoding.POINT_MESSAGES,
    "map_outside": N_("Please click inside the circle: the pool serves only that area."),
    "set_point": N_("Please set the point on the map below: click where the appointment is."),
    # An e-mail address (dispatch.validation.normalise_email).
    "email_local_part_not_ascii": N_(
        "Please write the part before the @ with Latin letters without accents, digits and "
        "signs such as . _ - + only: mail to other letters there cannot be delivered "
        "reliably. After the @, letters such as ä, ö, ü are fine."
    ),
    "until_not_after_first": N_(
        "The last day of the series must lie after the first appointment (%(first)s)."
    ),
    "too_many_occurrences": N_(
        "A series has at most %(max)s appointments; please pick an earlier last day or a "
        "longer interval."
    ),
}
CHECK_FIELD = N_("Please check this entry.")


def message_for(code: str | None, ctx: Mapping[str, Any] | None = None) -> Text:
    """The reader's message for an error code, with the values the error carried."""
    msgid = CODE_MESSAGES.get(code or "", CHECK_FIELD)
    return Text(msgid, {k: v for k, v in (ctx or {}).items() if isinstance(v, (str, int, float))})


@dataclass
class RequestForm:
    """What was typed (to show it again) and what is wrong with it, by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Text] = field(default_factory=dict)

    @classmethod
    def blank(cls, *, today: date) -> RequestForm:
        return cls(
            values={
                "date": (today + timedelta(days=1)).isoformat(),
                "time": "09:00",
                "duration": str(DEFAULT_DURATION),
                "mode": Mode.in_person.value,
                "category": "other",
            }
        )

    @classmethod
    def from_request(cls, request: Request, *, tz: ZoneInfo, language_label: str) -> RequestForm:
        """The form filled in as the request stands: to change it, or to copy it."""
        start = request.start.astimezone(tz)
        minutes = int((request.end - request.start).total_seconds() // 60)
        gender = f"{request.gender_value}:{request.gender_strength}" if request.gender_value else ""
        if request.place_id is not None:
            place = str(request.place_id)
        elif request.location_lat is not None:
            place = ADDRESS
        else:
            place = ""
        values = {
            "language": language_label,
            "date": start.date().isoformat(),
            "time": start.strftime("%H:%M"),
            "duration": str(minutes),
            "mode": f"{request.mode}",
            "place": place,
            "address": request.address or "",
            "home_visit": "1" if request.home_visit else "",
            "lat": ""
            if request.location_lat is None or place != ADDRESS
            else f"{request.location_lat}",
            "lon": ""
            if request.location_lon is None or place != ADDRESS
            else f"{request.location_lon}",
            # The stored point is the confirmed one of the stored address.
            "located": (request.address or "") if place == ADDRESS else "",
            "qualification": request.qualification or "",
            "gender": gender,
            "client_ref": request.client_ref or "",
            "contact_name": request.contact_name or "",
            "contact_phone": request.contact_phone or "",
            "call_direction": f"{request.call_direction}" if request.call_direction else "",
            "connection": request.connection or "",
            "notes": request.notes or "",
            "unknown_to_client": "1" if request.unknown_to_client else "",
            "broadcast": "1" if request.policy and request.policy.get("broadcast") else "",
            "category": request.category,
            "urgency_reason": request.urgency_reason or "",
        }
        return cls(values=values)

    def error(self, name: str, message: Text | None = None) -> None:
        """Mark a field wrong, with its own message unless a more telling one is given."""
        self.errors.setdefault(name, message or Text(FIELD_MESSAGES.get(name, CHECK_FIELD)))


def language_option(tag: str, name: str) -> str:
    """How a language appears in the search list and the field: 'Tigrinya (ti)'."""
    return f"{name} ({tag})"


def resolve_language(text: str) -> str | None:
    """A tag from 'Tigrinya (ti)', 'ti', 'tigrinya' or 'Tigrinya' (its name in a page language)."""
    text = text.strip()
    if not text:
        return None
    known = config_data.languages()
    match = re.search(r"\(([A-Za-z-]{2,12})\)\s*$", text)
    if match and match[1].lower() in known:
        return known[match[1].lower()].tag
    if text.lower() in known:
        return known[text.lower()].tag
    typed = text.casefold()
    for language in known.values():
        for lang in locales.STAFF_LOCALES:
            if typed == locales.language_name(language.tag, lang).casefold():
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
        form.error("language")
    body["language"] = language or v["language"][:12]

    start_time = None
    day = calendar_day(v["date"])
    if day is None:
        form.error("date")
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        # Caught here: a day at the end of the calendar cannot even take a time zone.
        form.error("date", message_for("start_in_past" if day < EARLIEST_DAY else "start_too_far"))
        day = None
    start_time = clock_time(v["time"])
    if start_time is None:
        form.error("time")
    duration = whole_number(v["duration"])
    if duration not in DURATIONS:
        form.error("duration")
        duration = None
    if day and start_time:
        start = wall_clock(day, start_time, tz)
        if start is None:
            form.error("time", message_for("time_skipped"))
        else:
            body["start"] = start
            if duration:
                body["end"] = real_time_after(start, timedelta(minutes=duration), tz)

    if v["mode"] not in {m.value for m in Mode}:
        form.error("mode")
    body["mode"] = v["mode"]
    if v["mode"] == Mode.in_person:
        if v["place"] == ADDRESS:
            # The point comes from a confirmed match or a click on the map (caseworker.py),
            # never typed: without one the address is not confirmed yet.
            lat, lon = _float(v["lat"]), _float(v["lon"])
            if not v["address"]:
                form.error("address")
            elif not point_confirmed(v) or lat is None or lon is None:
                form.error("address", message_for("address_unconfirmed"))
            body["address"] = v["address"] or None
            body["location"] = {"lat": lat, "lon": lon} if lat is not None else None
            body["home_visit"] = v["home_visit"] in ("1", "on", "true")
        elif (place_id := whole_number(v["place"])) is not None:
            body["place_id"] = place_id
        else:
            form.error("place")

    if v["qualification"]:
        body["qualification"] = v["qualification"]
    if v["gender"]:
        if v["gender"] not in GENDER_CHOICES:
            form.error("gender")
        else:
            value, strength = v["gender"].split(":")
            body["gender"] = {"value": value, "strength": strength}
    for name in ("client_ref", "contact_name", "contact_phone", "notes"):
        if v[name].strip():
            body[name] = v[name]
    if v["mode"] in (Mode.phone, Mode.video):
        if v["call_direction"]:
            if v["call_direction"] not in {d.value for d in CallDirection}:
                form.error("call_direction")
            body["call_direction"] = v["call_direction"]
        if v["connection"]:
            body["connection"] = v["connection"]
    body["unknown_to_client"] = v["unknown_to_client"] in ("1", "on", "true")
    body["broadcast"] = v["broadcast"] in ("1", "on", "true")
    body["category"] = v["category"] or "other"
    # The last two are a coordinator's (the service refuses them from others, beside the field).
    for name in ("urgency_reason", "override_reason", "funding_source"):
        if v[name]:
            body[name] = v[name]
    body["allow_duplicate"] = v["allow_duplicate"] in ("1", "on", "true")
    repeat_of(form)

    # The schema runs even when the form found errors, so every wrong field is shown at once.
    try:
        data = RequestCreate.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            if location[:1] in (("start",), ("end",)) and "start" not in body:
                continue  # the date or the time is wrong and marked, not the other one
            name = form_field(location, error["type"])
            # A field's own message, unless the error is about the whole request and says
            # more than the field's (a video link missing, not one mistyped).
            says_more = not location and error["type"] in CODE_MESSAGES
            form.error(
                name,
                None
                if name in FIELD_MESSAGES and not says_more
                else message_for(error["type"], error.get("ctx")),
            )
        return form, None
    return form, (None if form.errors else data)


def point_confirmed(values: Mapping[str, str]) -> bool:
    """Whether the form carries a point confirmed for the address as it is typed now."""
    return bool(values.get("lat") and values.get("lon")) and (
        values.get("located", "") == values.get("address", "")
    )


#: "Repeats every N weeks" as the form offers it.
REPEAT_WEEKS = tuple(range(1, MAX_INTERVAL_WEEKS + 1))


def repeat_of(form: RequestForm) -> tuple[int, date] | None:
    """ "Every N weeks until a day", when the form asks for a series; errors beside the fields."""
    v = form.values
    if not v.get("repeat_weeks"):
        return None
    weeks = whole_number(v["repeat_weeks"])
    if weeks not in REPEAT_WEEKS:
        form.error("repeat_weeks")
    until = calendar_day(v.get("until", ""))
    if until is None or not EARLIEST_DAY <= until <= LATEST_DAY:
        form.error("until")
    if weeks is None or until is None or form.errors.get("repeat_weeks"):
        return None
    return weeks, until


def series_from(form: RequestForm, data: RequestCreate) -> SeriesCreate | None:
    """The API's body of a series, when the (checked) form asks for one."""
    repeat = repeat_of(form)
    if repeat is None:
        return None
    weeks, until = repeat
    return SeriesCreate.model_validate(
        {**data.model_dump(), "interval_weeks": weeks, "until": until}
    )


def change_from(data: RequestCreate) -> RequestChange:
    """The change a filled-in edit form asks for: every field it shows, emptied ones cleared.

    An in-person request names its place, or its own point and address; a
    phone or video one keeps whatever place it had (it is not shown).
    """
    body = data.model_dump(
        include={
            "language",
            "start",
            "end",
            "mode",
            "notes",
            "contact_name",
            "contact_phone",
            "call_direction",
            "connection",
            "unknown_to_client",
            "category",
            "urgency_reason",
        }
    )
    if data.mode == Mode.in_person:
        if data.place_id is not None:
            body["place_id"] = data.place_id
        else:
            body["location"] = data.location.model_dump() if data.location else None
            body["address"] = data.address
    # A home visit is in person; a phone or video appointment is none.
    body["home_visit"] = data.home_visit and data.mode == Mode.in_person
    return RequestChange.model_validate(body)


def form_field(location: tuple[int | str, ...], code: str) -> str:
    """The form field an error of the API's schema belongs beside: by its location, or
    for an error of the whole body by its code."""
    if not location:
        return MODEL_ERROR_FIELD.get(code, "form")
    return API_TO_FORM.get(str(location[0]), "form")


def service_error(form: RequestForm, error: SprachpoolError) -> None:
    """Put an error of the intake service (dates, places, limits) beside its field."""
    name = API_TO_FORM.get(error.field or "", "form")
    if error.reason == "not_served":
        form.error(name, message_for(f"not_served:{error.params.get('next_step')}"))
    elif error.reason in CODE_MESSAGES:
        form.error(name, message_for(error.reason, error.params))
    else:
        form.error(name)


# --- the request list's search and filters ------------------------------------------------

#: How many requests a page of the list shows.
LIST_PAGE_SIZE = 50
LIST_FIELDS = ("q", "status", "language", "from", "to", "caseworker", "page")
_REFERENCE_SEARCH = re.compile(r"^[A-Za-z0-9._/\-]{1,64}$")


@dataclass
class ListFilters:
    """The request list's search, filters and page as typed, what they mean, and what is
    wrong with them (by field, shown beside it; the list then answers 422)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Text] = field(default_factory=dict)
    client_ref: str | None = None
    status: str | None = None
    language: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    caseworker: int | None = None
    page: int = 1

    def query(self, **changes: str) -> str:
        """The list's address with these filters (and the changes), for tabs and pages."""
        kept = {k: v for k, v in {**self.values, **changes}.items() if v}
        return "/requests" + (f"?{urlencode(kept)}" if kept else "")


def parse_list_filters(
    raw: Mapping[str, str],
    *,
    statuses: Sequence[str],
    languages: Collection[str],
    caseworkers: Collection[int],
) -> ListFilters:
    """Read the list's query: each wrong value is named beside its field."""
    values = {name: raw.get(name, "").strip() for name in (*LIST_FIELDS, "show")}
    filters = ListFilters(values=values)
    if values["q"]:
        if _REFERENCE_SEARCH.fullmatch(values["q"]):
            filters.client_ref = values["q"]
        else:
            filters.errors["q"] = Text(FIELD_MESSAGES["client_ref"])
    if values["status"]:
        if values["status"] in statuses:
            filters.status = values["status"]
        else:
            filters.errors["status"] = Text(N_("Please pick a status from the list."))
    if values["language"]:
        if values["language"] in languages:
            filters.language = values["language"]
        else:
            filters.errors["language"] = Text(FIELD_MESSAGES["language"])
    for name in ("from", "to"):
        if values[name]:
            day = calendar_day(values[name])
            if day is None or not EARLIEST_DAY <= day <= LATEST_DAY:
                filters.errors[name] = Text(FIELD_MESSAGES["date"])
                continue
            if name == "from":
                filters.first_day = day
            else:
                filters.last_day = day
    if filters.first_day and filters.last_day and filters.last_day < filters.first_day:
        filters.errors["to"] = Text(N_("The end of the period must be on or after its start."))
    if values["caseworker"]:
        chosen = whole_number(values["caseworker"])
        if chosen is not None and chosen in caseworkers:
            filters.caseworker = chosen
        else:
            filters.errors["caseworker"] = Text(N_("Please pick a person from the list."))
    if values["page"]:
        number = whole_number(values["page"]) or 0
        if 1 <= number <= 100_000:
            filters.page = number
        else:
            filters.errors["page"] = Text(N_("Please give a page number, e.g. 2."))
    return filters
