"""Input types shared by every schema: text without control characters,
E.164 phone numbers, configured language tags, coordinates, dates and times
within one calendar.

PostgreSQL refuses NUL bytes in text and a stray control character in an
SMS is trouble, so free text is checked here once instead of in every form.

Each check raises a PydanticCustomError with a code, an English message (the
API's) and its values, so the web forms can say the same in the reader's
language by the code, never by the wording.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Annotated, Any

import annotated_types
import phonenumbers
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from config import data
from notifications.addresses import ascii_domain

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _clean_line(value: str) -> str:
    if _CONTROL_ONE_LINE.search(value):
        raise PydanticCustomError(
            "control_characters", "must not contain control characters or line breaks"
        )
    value = value.strip()
    if not value:
        raise PydanticCustomError("empty", "must not be empty")
    return value


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value.strip()


@dataclass(frozen=True)
class Line(annotated_types.GroupedMetadata):
    """A single line of text: trimmed, not empty, no control characters.

    Metadata for ``Annotated[str, Line(200)]`` (a call cannot be a type, so the
    length goes into the metadata, where type checkers leave it alone).
    """

    max_length: int

    def __iter__(self) -> Iterator[Any]:
        yield annotated_types.MaxLen(self.max_length)
        yield AfterValidator(_clean_line)


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """Free text that may span lines, without other control characters:
    ``Annotated[str, Text(1000)]``."""

    max_length: int

    def __iter__(self) -> Iterator[Any]:
        yield annotated_types.MaxLen(self.max_length)
        yield AfterValidator(_clean_text)


def normalise_phone(value: str) -> str:
    if _CONTROL_ONE_LINE.search(value) or len(value) > 32:
        raise PydanticCustomError(
            "phone_format", "must be a phone number in international format, e.g. +49 2521 29-0"
        )
    compact = re.sub(r"[\s\-/().]", "", value)
    if not re.fullmatch(r"\+[1-9]\d{6,14}", compact):
        raise PydanticCustomError(
            "phone_format",
            "must be a phone number in international E.164 format starting with +, "
            "e.g. +4915112345678",
        )
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError("phone_invalid", "is not a valid phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise PydanticCustomError(
            "phone_invalid", "is not a possible phone number (check the number of digits)"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, AfterValidator(normalise_phone)]


def normalise_language(value: str) -> str:
    tag = value.strip().lower().replace("_", "-")
    known = data.languages()
    if tag not in known:
        shown = ", ".join(sorted(known)[:12])
        raise PydanticCustomError(
            "unknown_language",
            "'{value}' is not a configured language; use a BCP 47 tag such as {shown}, ... "
            "(GET /api/v1/languages lists them all)",
            {"value": value[:20], "shown": shown},
        )
    return known[tag].tag


LanguageTag = Annotated[str, Field(max_length=12), AfterValidator(normalise_language)]


def normalise_qualification(value: str) -> str:
    tag = value.strip().lower()
    if tag not in data.qualifications():
        raise PydanticCustomError(
            "unknown_qualification",
            "'{value}' is not a known qualification; use one of {known}",
            {"value": value[:20], "known": ", ".join(data.qualifications())},
        )
    return tag


Qualification = Annotated[str, Field(max_length=40), AfterValidator(normalise_qualification)]

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Location(BaseModel):
    """A point on the map: a mediator's home, a place, a request's address.

    As given out; what the API takes is a `Point`.
    """

    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude


def refuse_null_island(lat: float | None, lon: float | None) -> None:
    """Refuse exactly (0, 0): what a broken client or geocoder sends for "no point".

    It lies in the Gulf of Guinea, and travel times to it would be nonsense.
    Stored points are not checked when they are read, so an old one still shows.
    """
    if lat == 0 and lon == 0:
        raise PydanticCustomError(
            "null_island",
            "is latitude 0, longitude 0 (in the Gulf of Guinea), which a broken client or "
            "geocoder sends for a missing point; send the real point",
        )


def _not_null_island(point: Location) -> Location:
    refuse_null_island(point.lat, point.lon)
    return point


#: A point the API takes: a `Location`, but not (0, 0). How far it may lie from the pool
#: depends on the settings: `dispatch.geocoding.check_within_reach`, in the services.
Point = Annotated[Location, AfterValidator(_not_null_island)]


#: The part before the @: no spaces, quotes, angle brackets or list separators.
EMAIL_LOCAL_PART = re.compile(r"[^@\s<>\"',;]{1,64}")
#: A domain as the mail system sees it (the ASCII form, xn--... for umlauts): two labels at least.
EMAIL_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)+"
)


def _invalid_email() -> PydanticCustomError:
    return PydanticCustomError("email_invalid", "is not a valid email address")


def normalise_email(value: str) -> str:
    """An address with an ASCII part before the @ and a domain that may have umlauts.

    The domain is kept as typed (in Unicode's composed form, so one spelling is
    stored) and checked in its ASCII form, which mail goes to
    (`notifications.addresses.ascii_address`). A non-ASCII part before the @
    (jörg@...) would need SMTPUTF8 on every server along the way, which the pool
    cannot count on: it is refused with a message that says so.
    """
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or len(value) > 254 or _CONTROL_ONE_LINE.search(value):
        raise _invalid_email()
    if not local.isascii():
        raise PydanticCustomError(
            "email_local_part_not_ascii",
            "may have only Latin letters without accents, digits and signs such as . _ - + "
            "before the @: mail to other letters there cannot be delivered reliably "
            "(after the @, letters such as ä, ö, ü are fine)",
        )
    domain = unicodedata.normalize("NFC", domain)
    if not EMAIL_LOCAL_PART.fullmatch(local):
        raise _invalid_email()
    try:
        mail_domain = ascii_domain(domain)
    except ValueError as exc:
        raise _invalid_email() from exc
    if len(mail_domain) > 253 or not EMAIL_DOMAIN.fullmatch(mail_domain):
        raise _invalid_email()
    if len(local) + 1 + len(mail_domain) > 254:
        raise _invalid_email()
    return f"{local}@{domain}"


def is_email(value: str) -> bool:
    """Whether `normalise_email` takes the value (for forms outside the schemas)."""
    try:
        normalise_email(value)
    except PydanticCustomError:
        return False
    return True


Email = Annotated[str, AfterValidator(normalise_email)]


#: The calendar the API accepts, both ends included. Wide enough for every
#: date the pool deals with (a consent recorded decades ago, an absence "until
#: further notice"), and so far from the ends of Python's calendar (years 1 and
#: 9999) that shifting a value by a time zone, a day or a week never overflows
#: in storage, formatting or the statistics.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
#: The same calendar for moments, as instants in UTC: a time the API gives out
#: in local time (2199-12-31T23:30Z is 2200-01-01T00:30+01:00) can be sent back.
FIRST_MOMENT = datetime.combine(EARLIEST_DAY, time(0), tzinfo=UTC)
END_MOMENT = datetime.combine(LATEST_DAY + timedelta(days=1), time(0), tzinfo=UTC)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")


def _out_of_range() -> PydanticCustomError:
    return PydanticCustomError(
        "date_out_of_range",
        "must be between {earliest} and {latest}",
        {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
    )


def within_calendar(day: date) -> date:
    """The day, if it lies in the accepted calendar (EARLIEST_DAY to LATEST_DAY)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise _out_of_range()
    return day


def wall_clock(day: date, at: time, tz: tzinfo) -> datetime | None:
    """`at` on `day` on the town's clocks; None when the clocks skip it that day.

    At the change to summer time 02:00-03:00 does not exist: such a time is
    refused rather than silently moved. At the change back 02:00-03:00 comes
    twice; the first time (still summer time) is meant. The result carries a
    fixed offset, as a time sent to the API does: Python compares and
    subtracts datetimes of one zone on the clock face, not in real time.
    """
    moment = datetime.combine(day, at, tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return fixed_offset(moment)


def real_time_after(start: datetime, duration: timedelta, tz: tzinfo) -> datetime:
    """`duration` after `start` in real time, on the town's clocks (with a fixed offset).

    Python adds to a datetime of a zone on the clock face, so across a change
    of the clocks 1 h on the face would be 0 h or 2 h of an appointment.
    """
    return fixed_offset((start.astimezone(UTC) + duration).astimezone(tz))


def fixed_offset(moment: datetime) -> datetime:
    """The same moment with its zone's offset at that moment as a fixed one."""
    offset = moment.utcoffset()
    assert offset is not None  # aware
    return moment.astimezone(timezone(offset))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_missing", "must include a timezone offset, e.g. 2026-12-01T09:00:00+01:00"
        )
    return value


def _datetime_in_range(value: datetime) -> datetime:
    # Compared as instants; comparing aware datetimes cannot overflow, converting them can.
    if not FIRST_MOMENT <= value < END_MOMENT:
        raise _out_of_range()
    return value


def _reject_bare_numbers(value: object) -> object:
    # pydantic would read 1700000000 (or "1700000000" in a query) as a Unix
    # time; a person never means that.
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise PydanticCustomError(
            "datetime_format", "must be an ISO 8601 date and time, e.g. 2026-12-01T09:00:00+01:00"
        )
    return value


def _iso_day_only(value: object) -> object:
    # pydantic would also take a Unix time or a date with a time of day.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise PydanticCustomError("date_format", "must be a day as YYYY-MM-DD, e.g. 2026-12-01")
    return value.strip()


def _local_iso(value: datetime) -> str:
    """Times go out in the town's time zone, as people read them."""
    from config.settings import get_settings

    return value.astimezone(get_settings().tz).isoformat()


#: Every date and time the API takes: ISO 8601 with an offset, within the calendar.
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_reject_bare_numbers),
    AfterValidator(_aware),
    AfterValidator(_datetime_in_range),
    PlainSerializer(_local_iso, return_type=str, when_used="json"),
]
#: Every day the API takes (YYYY-MM-DD), within the calendar.
Day = Annotated[date, BeforeValidator(_iso_day_only), AfterValidator(within_calendar)]
#: A timestamp in a response, shown in local time with its offset.
Timestamp = Annotated[datetime, PlainSerializer(_local_iso, return_type=str, when_used="json")]

#: Database ids in paths and bodies: positive and within a 32-bit column.
MAX_ID = 2_147_483_647


def whole_number(typed: str, *, most: int = MAX_ID) -> int | None:
    """`typed` (a form field, a field's name) as a whole number from 0 to `most`, else None.

    ASCII digits only: `str.isdigit` also says yes to "²" and other digits `int`
    refuses, which became a ValueError and a server error where the form should
    have marked its field. The length is checked before `int`, so thirty typed
    nines are refused as out of range instead of reaching a `timedelta` or the
    database and overflowing there.
    """
    if not (typed.isascii() and typed.isdigit()) or len(typed) > len(str(most)):
        return None
    number = int(typed)
    return number if number <= most else None


_CLOCK = re.compile(r"([0-9]{1,2})[:.,h]([0-9]{2})|([0-9]{2})([0-9]{2})")


def clock_time(typed: str) -> time | None:
    """A time of day as a person types it, else None: 09:30, 9:30, 9.30, 9,30 or 0930.

    A phone's browser without a time picker (a data-saving or an older one) shows the
    form's time field as a text box, and the person types the time as they write it.
    Not `time.fromisoformat`: it reads "15.45" as 15:00 and 0.45 seconds, a report
    three quarters of an hour short, and refuses "9:30".
    """
    match = _CLOCK.fullmatch(typed.strip())
    if match is None:
        return None
    hour = int(match[1] or match[3])
    minute = int(match[2] or match[4])
    return time(hour, minute) if hour < 24 and minute < 60 else None


_DAY_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def calendar_day(typed: str) -> date | None:
    """A day as a person types it, else None: 2026-12-03 (what a date picker sends) or
    3.12.2026 / 03.12.2026 (how it is written in Germany).

    A browser without a date picker (a data-saving or an older one) shows the form's date
    field as a text box; "03.12.2026" is what a caseworker types there. A two-digit year
    is refused: "03.12.26" could be a typo of any century's day.
    """
    text = typed.strip()
    dotted = _DAY_DOTTED.fullmatch(text)
    try:
        if dotted is not None:
            return date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
        return date.fromisoformat(text)
    except ValueError:
        return None
