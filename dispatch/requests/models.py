"""Einsatzanfragen: a caseworker's request for a mediator."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class RequestStatus(StrEnum):
    open = "open"
    offered = "offered"
    assigned = "assigned"
    completed = "completed"
    cancelled = "cancelled"
    unfilled = "unfilled"


class Mode(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"


class CallDirection(StrEnum):
    """Who dials whom for a phone or video job."""

    mediator_calls = "mediator_calls"
    office_calls = "office_calls"


class RequestDeadlineKind(StrEnum):
    """The timed steps of a request itself (handlers in ``dispatch/requests/scheduled.py``)."""

    #: ``REQUEST_DATA_DAYS`` after the end: erase the request's personal data.
    erase_data = "request_data_erase"


class Request(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("created_by_user_id", "idempotency_key"),
        sa.Index("ix_request_status_start", "status", "start"),
    )

    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_user_id: int = Field(foreign_key="user.id")
    language: str = Field(max_length=12)
    min_level: str = Field(default="fluent", max_length=10)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    mode: Mode = Field(sa_type=sa.String(12))
    place_id: int | None = Field(default=None, foreign_key="place.id")
    location_lat: float | None = None
    location_lon: float | None = None
    #: The street of a typed address (as the geocoder spells it); for the assigned mediator only.
    address: str | None = Field(default=None, max_length=300)
    #: The job is at the client's home: the street and the point are personal data, erased
    #: with the request's data, and nobody but the assigned mediator sees them.
    home_visit: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    qualification: str | None = Field(default=None, max_length=40)
    gender_value: str | None = Field(default=None, max_length=1)
    gender_strength: str | None = Field(default=None, max_length=10)
    #: Pseudonymous client reference for continuity; never a name.
    client_ref: str | None = Field(default=None, max_length=64, index=True)
    #: Notes for the mediator that hold no personal data.
    notes: str | None = Field(default=None, max_length=1000)
    #: Conflict of interest: the mediator must not know the client's family or community.
    #: Offers show it as a note (no personal data); the mediator steps back if they do.
    unknown_to_client: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=20)
    #: Phone and video: who calls whom, and the office's number (E.164) or an https link.
    #: Shown to the assigned mediator only, never in an offer or an SMS.
    call_direction: CallDirection | None = Field(default=None, sa_type=sa.String(16))
    connection: str | None = Field(default=None, max_length=500)
    priority: int = 1
    #: Einsatzbereich (SPEC "How German pools run"): which funding rules apply.
    category: str = Field(
        default="other", max_length=20, sa_column_kwargs={"server_default": "other"}
    )
    #: Why a request comes at shorter notice than the funding policy asks for.
    urgency_reason: str | None = Field(default=None, max_length=500)
    #: Key of the funding policy's source that pays, set by rule; the coordinator may change it.
    funding_source: str | None = Field(default=None, max_length=40, index=True)
    #: Why the coordinator filed it against the policy (refused category, short notice).
    policy_override_reason: str | None = Field(default=None, max_length=500)
    #: Dispatch policy overrides for this request only, e.g. {"broadcast": true}.
    policy: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    status: RequestStatus = Field(default=RequestStatus.open, sa_type=sa.String(12), index=True)
    idempotency_key: str | None = Field(default=None, max_length=200)
    #: Fingerprint of the body sent with the idempotency key.
    idempotency_fingerprint: str | None = Field(default=None, max_length=64)
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    filled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The last wave sent before time, place, language or mode last changed: offers up
    #: to it were for earlier terms, so whoever had one (and not the job) may be asked again.
    terms_wave: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: The series this request is an occurrence of (``dispatch.series``), if any.
    series_id: int | None = Field(default=None, foreign_key="series.id", index=True)


class ClientExclusion(SQLModel, table=True):
    """ "Not again for this client": a mediator the engine leaves out for one client reference.

    Marked after a job by the caseworker (request page) or by the mediator
    (their report page); it holds for every later request of the
    organisation with that client reference (reason code
    ``not_for_this_client``). Erasing the client reference's data deletes it.
    """

    __tablename__ = "client_exclusion"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "client_ref", "mediator_id"),)

    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    client_ref: str = Field(max_length=64)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    #: Who marked it: "caseworker" or "mediator".
    marked_by: str = Field(max_length=10)
    #: The job after which it was marked.
    request_id: int | None = Field(default=None, foreign_key="request.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)
