from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

import locales
from dispatch.mediators.models import Level, TravelMode
from dispatch.validation import (
    AwareDatetime,
    Day,
    Email,
    LanguageTag,
    Line,
    Location,
    Phone,
    Point,
    Qualification,
    Timestamp,
)

WEEKDAYS = {
    "mon": 0,
    "mo": 0,
    "tue": 1,
    "di": 1,
    "wed": 2,
    "mi": 2,
    "thu": 3,
    "do": 3,
    "fri": 4,
    "fr": 4,
    "sat": 5,
    "sa": 5,
    "sun": 6,
    "so": 6,
}
WEEKDAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MESSAGE_LOCALES = locales.MEDIATOR_LOCALES
#: The same locales as a type (a Literal must be spelled out; a test keeps the two equal).
MessageLocale = Literal["de", "en", "ar", "uk", "ru", "fa", "tr"]


def _weekday(value: object) -> object:
    if isinstance(value, str):
        key = value.strip().lower()[:3]
        key = key if key in WEEKDAYS else key[:2]
        if key not in WEEKDAYS:
            raise PydanticCustomError(
                "weekday", "must be a weekday: 0-6 (Monday = 0) or mon, tue, ... / Mo, Di, ..."
            )
        return WEEKDAYS[key]
    return value


Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=0, le=6)]


def parse_clock(value: str) -> int:
    """'08:30' -> 510 minutes after midnight; '24:00' is the end of the day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match:
        raise PydanticCustomError("time_of_day", "must be a time of day like 08:00")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise PydanticCustomError("time_of_day", "must be a time of day between 00:00 and 24:00")
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class LanguageSkill(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: LanguageTag
    level: Level


class WeeklySlot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: Weekday
    start: Annotated[str, Field(max_length=5, examples=["08:00"])]
    end: Annotated[str, Field(max_length=5, examples=["12:00"])]

    @model_validator(mode="after")
    def _start_before_end(self) -> WeeklySlot:
        start, end = parse_clock(self.start), parse_clock(self.end)
        if end <= start:
            raise PydanticCustomError(
                "slot_order",
                "availability ends ({end}) before or when it starts ({start})",
                {"start": self.start, "end": self.end},
            )
        self.start, self.end = format_clock(start), format_clock(end)
        return self


class AbsenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _start_before_end(self) -> AbsenceIn:
        if self.end <= self.start:
            raise ValueError("an absence must end after it starts")
        return self


Home = Location


Channel = Literal["sms", "email"]
Gender = Literal["f", "m", "d"]


class MediatorFields(BaseModel):
    """Fields shared by create and update; on update every field is optional."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)] | None = None
    phone: Phone | None = None
    email: Email | None = None
    languages: Annotated[list[LanguageSkill], Field(max_length=20)] | None = None
    german_level: Level | None = None
    gender: Gender | None = None
    home: Point | None = None
    travel_mode: TravelMode | None = None
    max_travel_km: Annotated[float, Field(gt=0, le=500, allow_inf_nan=False)] | None = None
    max_hours_per_week: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] | None = None
    #: Yearly allowance limit in euros (960 Ehrenamtspauschale, 3300 Übungsleiterpauschale);
    #: null: the allowance rules' figure of the year.
    annual_limit: (
        Annotated[Decimal, Field(ge=0, le=100_000, max_digits=8, decimal_places=2)] | None
    ) = None
    #: The coordinator lets the mediator take paid jobs beyond the limit in this year.
    annual_limit_override_year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    #: The mediator's own limit on a calendar month's allowances in euros (250 for one
    #: on Bürgergeld who asks for it, SGB II § 11b); null: no monthly limit.
    monthly_limit: (
        Annotated[
            Decimal,
            Field(
                gt=0,
                le=100_000,
                max_digits=8,
                decimal_places=2,
                description="The mediator's own limit on a calendar month's allowances in "
                "euros: no paid offers for jobs in a month whose approved allowances reached "
                "it. Null: no monthly limit. Only the figure is kept, never why.",
            ),
        ]
        | None
    ) = None
    qualifications: Annotated[list[Qualification], Field(max_length=10)] | None = None
    channels: Annotated[list[Channel], Field(max_length=2)] | None = None
    message_locale: MessageLocale | None = None
    availability: Annotated[list[WeeklySlot], Field(max_length=50)] | None = None
    absences: Annotated[list[AbsenceIn], Field(max_length=100)] | None = None
    active: bool | None = None
    paused: bool | None = None
    #: Offers for urgent jobs may come in the quiet hours (21:00-07:00 by default).
    night_messages: bool | None = None
    consent_at: AwareDatetime | None = None
    trained_on: Annotated[
        Day | None, Field(description="basic training completed; not after today")
    ] = None
    pledge_signed_on: Annotated[
        Day | None,
        Field(
            description="confidentiality pledge (Schweigepflichterklärung) signed; not after today"
        ),
    ] = None
    police_certificate_seen_on: Annotated[
        Day | None,
        Field(
            description="extended police certificate (erweitertes Führungszeugnis) seen; "
            "not after today"
        ),
    ] = None
    listed_until: Annotated[
        Day | None, Field(description="last day the mediator is listed; no offers after it")
    ] = None

    @model_validator(mode="after")
    def _languages_unique(self) -> MediatorFields:
        if self.languages is not None:
            tags = [skill.language for skill in self.languages]
            if len(tags) != len(set(tags)):
                raise PydanticCustomError(
                    "language_repeated", "languages: each language may be listed once"
                )
        return self


class MediatorCreate(MediatorFields):
    name: Annotated[str, Line(200)]
    languages: Annotated[list[LanguageSkill], Field(min_length=1, max_length=20)]


class MediatorUpdate(MediatorFields):
    release_jobs: bool = Field(
        default=False,
        description="With a change that takes the mediator out of the pool (`active` false "
        "or `paused` true), or of one already out of it: the jobs they hold that have not "
        "started yet go to other mediators at once, as when a mediator drops out (they are "
        "told, each caseworker hears the mediator is not coming, the request is dispatched "
        "again). Without it they keep those jobs. With a mediator who stays in the pool: 422.",
    )


#: What an update asks for besides changing the mediator's fields: not audited as a change.
UPDATE_INSTRUCTIONS = frozenset({"release_jobs"})


class MediatorPublic(BaseModel):
    id: int
    name: str
    phone: str | None
    email: str | None
    languages: list[LanguageSkill]
    german_level: Level | None
    gender: str | None
    home: Home | None
    travel_mode: TravelMode
    max_travel_km: float | None
    max_hours_per_week: float | None
    annual_limit: Decimal | None
    annual_limit_override_year: int | None
    monthly_limit: Decimal | None
    qualifications: list[str]
    channels: list[str]
    message_locale: str
    availability: list[WeeklySlot]
    absences: list[AbsenceIn]
    active: bool
    paused: bool
    night_messages: bool
    consent_at: Timestamp | None
    trained_on: date | None
    pledge_signed_on: date | None
    police_certificate_seen_on: date | None
    listed_until: date | None
    erased_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class MediatorChanged(MediatorPublic):
    """The mediator after an update, with what the coordinator decides about next."""

    jobs_held: int = Field(
        description="Jobs the mediator still holds that have not started yet (0 after "
        "`release_jobs`). One taken out of the pool may still hold some: a holiday after a "
        "job is fine; an ill mediator's jobs are stranded until someone releases them."
    )


class MediatorPage(BaseModel):
    items: list[MediatorPublic]
    total: int
    limit: int
    offset: int
