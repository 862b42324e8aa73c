from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dispatch.funding.policy import Category
from dispatch.mediators.models import Level
from dispatch.mediators.schemas import Gender
from dispatch.requests.models import CallDirection, Mode, RequestStatus
from dispatch.validation import (
    MAX_ID,
    AwareDatetime,
    LanguageTag,
    Line,
    Location,
    Phone,
    Point,
    Qualification,
    Text,
    Timestamp,
    normalise_phone,
)

ClientRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,63}$"),
    Field(
        description="Pseudonymous client reference for continuity, e.g. 'JC-2026-0417'. "
        "Letters, digits and . _ / - only, so that no name is typed here.",
    ),
]


_HOST = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d{1,5})?$")


def check_connection(value: str) -> str:
    """The office's phone number (E.164) or a video link (https), nothing else.

    A link must be https with a real host name, so that nobody is sent to a
    typo or an unencrypted page; a number is normalised to E.164.
    """
    value = value.strip()
    if value.lower().startswith("https://"):
        parts = urlsplit(value)
        if (
            len(value) <= 500
            and value.isprintable()
            and " " not in value
            and _HOST.match(parts.netloc or "")
        ):
            return value
        raise PydanticCustomError(
            "connection_link", "the video link must be an https address, e.g. https://meet.example"
        )
    if value.startswith("+") or value[:1].isdigit():
        return normalise_phone(value)
    raise PydanticCustomError(
        "connection_format",
        "give the office's phone number in international format (+49 2521 29-0) "
        "or a video link starting with https://",
    )


Connection = Annotated[
    str,
    AfterValidator(check_connection),
    Field(
        description="Phone jobs: the office's number in E.164 (+4925212900); video jobs: an "
        "https link to the meeting. Shown to the assigned mediator only.",
    ),
]


class GenderPreference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Gender
    strength: Literal["preferred", "required"] = "preferred"


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: LanguageTag
    min_level: Level = Level.fluent
    start: AwareDatetime
    end: AwareDatetime
    mode: Mode
    place_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    location: Point | None = Field(
        default=None, description="The point, when the client already has it (else `address`)."
    )
    address: Annotated[str, Line(300)] | None = Field(
        default=None,
        description="In person without a place: the street address, e.g. 'Weststraße 46, "
        "Beckum'. Without `location` it is looked up with the geocoder: one match inside "
        "the pool's area is taken; none, several or only outside answer 422 "
        "(address_not_found, address_ambiguous with `candidates`, address_outside_area); "
        "without a geocoder, or when it does not answer, 422 geocoder_unavailable (send "
        "`place_id` or `location`). Shown to the assigned mediator only.",
    )
    home_visit: bool = Field(
        default=False,
        description="In person at the client's home (an `address`, not a place): the street "
        "and the point are erased with the request's data.",
    )
    qualification: Qualification | None = None
    gender: GenderPreference | None = None
    client_ref: ClientRef | None = None
    notes: Annotated[str, Text(1000)] | None = Field(
        default=None, description="For the mediator; no names or other personal data."
    )
    contact_name: Annotated[str, Line(200)] | None = Field(
        default=None, description="Whom the mediator asks for on arrival."
    )
    unknown_to_client: bool = Field(
        default=False,
        description="Conflict of interest: the mediator must not know the client's family or "
        "community. Offers say so (a note without personal data), so a mediator who may know "
        "them declines or steps back.",
    )
    contact_phone: Phone | None = None
    call_direction: CallDirection | None = Field(
        default=None, description="Phone and video: who calls whom."
    )
    connection: Connection | None = None
    priority: Annotated[int, Field(ge=1, le=5)] = 1
    broadcast: bool = Field(
        default=False, description="Urgent: offer to every feasible mediator at once."
    )
    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="Coordinators only: file the request for this organisation."
    )
    category: Category = Field(
        default=Category.other,
        description="Einsatzbereich; the funding policy says which ones the pool serves "
        "(a refused one answers 422 with code not_served and the next step).",
    )
    urgency_reason: Annotated[str, Line(500)] | None = Field(
        default=None,
        description="Why the job cannot wait: needed when it starts sooner than the policy's "
        "minimum notice in working days (else 422 with code notice_too_short).",
    )
    override_reason: Annotated[str, Line(500)] | None = Field(
        default=None,
        description="Coordinators only: file it although the policy refuses it (audited).",
    )
    funding_source: Annotated[str, Line(40)] | None = Field(
        default=None,
        description="Coordinators only: the funding source's key, instead of the policy's rule.",
    )
    allow_duplicate: bool = Field(
        default=False,
        description="File it even though a request of the same organisation for the same "
        "client reference, language and an overlapping time was filed within the last day "
        "(otherwise 409 with that request).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RequestCreate:
        if self.end <= self.start:
            raise PydanticCustomError("end_before_start", "end must be after start")
        if (
            self.mode == Mode.in_person
            and self.place_id is None
            and self.location is None
            and self.address is None
        ):
            raise PydanticCustomError(
                "place_or_location_required",
                "an in-person request needs a place_id, an address or a location",
            )
        if self.home_visit and (self.mode != Mode.in_person or self.place_id is not None):
            raise PydanticCustomError(
                "home_visit_needs_address",
                "a home visit is in person at an address, not at a place",
            )
        check_connection_fits(self.mode, self.connection)
        check_connection_given(self.mode, self.call_direction, self.connection)
        if self.mode == Mode.phone and self.call_direction is None:
            # Who calls, said outright: the only reading that works, as the messages
            # always read it. With a number the mediator calls it; without one the
            # office calls the mediator, whose number it gets with the confirmation.
            self.call_direction = (
                CallDirection.mediator_calls if self.connection else CallDirection.office_calls
            )
        return self


def check_connection_given(
    mode: Mode, call_direction: CallDirection | None, connection: str | None
) -> None:
    """A mediator who is to call or join needs the number or link to do it with.

    Phone with the mediator calling, or video unless the office calls: without
    a number or link the assigned mediator has nothing to dial or open. When
    the office calls, it needs only the mediator's number, which it gets with
    the confirmation.
    """
    if connection is not None or mode == Mode.in_person:
        return
    if call_direction == CallDirection.mediator_calls or (
        mode == Mode.video and call_direction != CallDirection.office_calls
    ):
        raise PydanticCustomError(
            "connection_missing",
            "the mediator needs the office's phone number (phone) or the video link (video) "
            "to call or join; or choose that the office calls",
        )


def check_connection_fits(mode: Mode, connection: str | None) -> None:
    """A video job's connection is a link; a phone job's is a number; in person has none."""
    if connection is None:
        return
    is_link = connection.startswith("https://")
    if mode == Mode.in_person:
        raise PydanticCustomError(
            "connection_not_in_person", "an in-person request has no phone or video connection"
        )
    if mode == Mode.video and not is_link:
        raise PydanticCustomError("connection_link", "a video request needs an https link")
    if mode == Mode.phone and is_link:
        raise PydanticCustomError(
            "connection_phone", "a phone request needs the office's phone number"
        )


class RequestChange(BaseModel):
    """What a caseworker may change; fields left out stay as they are.

    Sending `start` without `end` keeps the duration. `null` clears an
    optional field (notes, contact, connection).
    """

    model_config = ConfigDict(extra="forbid")

    language: LanguageTag | None = None
    min_level: Level | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    mode: Mode | None = None
    place_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    location: Point | None = None
    address: Annotated[str, Line(300)] | None = Field(
        default=None, description="A new street address; without `location` it is geocoded."
    )
    home_visit: bool | None = None
    notes: Annotated[str, Text(1000)] | None = None
    contact_name: Annotated[str, Line(200)] | None = None
    contact_phone: Phone | None = None
    call_direction: CallDirection | None = None
    connection: Connection | None = None
    unknown_to_client: bool | None = None
    category: Category | None = Field(
        default=None,
        description="A new Einsatzbereich: checked by the funding policy as at filing (422 "
        "not_served); the funding source follows it by the policy's rules.",
    )
    urgency_reason: Annotated[str, Line(500)] | None = Field(
        default=None,
        description="Why the job cannot wait: needed when a new `start` is sooner than the "
        "policy's minimum notice (else 422 with code notice_too_short).",
    )

    @model_validator(mode="after")
    def _required_stay(self) -> RequestChange:
        for name in (
            "language",
            "min_level",
            "start",
            "end",
            "mode",
            "home_visit",
            "unknown_to_client",
            "category",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError(
                    "required_field", "{field} cannot be removed", {"field": name}
                )
        return self


class FundingSourceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    funding_source: Annotated[str, Line(40)]
    reason: Annotated[str, Line(500)] | None = Field(
        default=None, description="Why the rule's source does not fit (kept in the audit log)."
    )


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Line(500)] | None = None


class PlaceRef(BaseModel):
    id: int
    name: str


class AssignmentPublic(BaseModel):
    id: int
    mediator_id: int
    mediator_name: str
    mediator_phone: str | None
    source: str
    created_at: Timestamp
    reconfirmed_at: Timestamp | None
    cancelled_at: datetime | None = None


class OfferPublic(BaseModel):
    id: int
    mediator_id: int
    mediator_name: str
    wave: int
    channel: str
    status: str
    created_at: Timestamp
    expires_at: Timestamp
    responded_at: Timestamp | None
    decline_reason: str | None


class RequestPublic(BaseModel):
    id: int
    status: RequestStatus
    organisation_id: int
    created_by_user_id: int
    language: str
    language_name: str
    min_level: str
    start: Timestamp
    end: Timestamp
    mode: Mode
    place: PlaceRef | None
    location: Location | None
    address: str | None
    home_visit: bool = False
    qualification: str | None
    gender: GenderPreference | None
    client_ref: str | None
    notes: str | None
    unknown_to_client: bool = Field(
        description="The mediator must not know the client's family or community."
    )
    contact_name: str | None
    contact_phone: str | None
    call_direction: CallDirection | None = Field(
        default=None, description="Phone and video: who calls whom."
    )
    connection: str | None = Field(
        default=None, description="The office's number or the video link (staff only)."
    )
    priority: int
    broadcast: bool
    category: str
    urgency_reason: str | None
    funding_source: str | None
    policy_override_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
    cancelled_at: Timestamp | None
    cancel_reason: str | None
    filled_at: Timestamp | None
    series_id: int | None = Field(
        default=None, description="The series this request is an occurrence of, if any."
    )
    assignment: AssignmentPublic | None
    offers: list[OfferPublic] | None = Field(
        default=None, description="Coordinators only: every offer made for this request."
    )


class RequestPage(BaseModel):
    items: list[RequestPublic]
    total: int
    limit: int
    offset: int


class AddressCandidate(BaseModel):
    """A match of a typed address that the client may send back as `location`."""

    address: str
    label: str
    location: Location
    in_area: bool


class ClientExclusionPublic(BaseModel):
    """A "not again for this client" mark."""

    id: int
    organisation_id: int
    client_ref: str
    mediator_id: int
    marked_by: str = Field(description="caseworker or mediator")
    request_id: int | None
    created_at: Timestamp


class ClientErase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_ref: ClientRef
    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="Coordinators only: another organisation than their own."
    )


class ClientErased(BaseModel):
    requests: int = Field(description="How many requests carried the reference.")
