"""The pool: mediators, their languages, weekly availability and absences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class Level(StrEnum):
    basic = "basic"
    fluent = "fluent"
    native = "native"


class TravelMode(StrEnum):
    car = "car"
    bike = "bike"
    foot = "foot"
    transit = "transit"


class Mediator(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20, index=True)
    email: str | None = Field(default=None, max_length=254)
    german_level: Level | None = Field(default=None, sa_type=sa.String(10))
    gender: str | None = Field(default=None, max_length=1)
    home_lat: float | None = None
    home_lon: float | None = None
    travel_mode: TravelMode = Field(default=TravelMode.car, sa_type=sa.String(10))
    max_travel_km: float | None = None
    max_hours_per_week: float | None = None
    qualifications: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    channels: list[str] = Field(default_factory=lambda: ["sms"], sa_type=sa.JSON)
    message_locale: str = Field(default="de", max_length=10)
    active: bool = True
    #: Paused by the mediator (SMS STOP, own page) or the coordinator.
    paused: bool = False
    #: Offers for urgent jobs may reach them in the quiet hours (policy, default 21-07).
    night_messages: bool = False
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MediatorLanguage(SQLModel, table=True):
    __tablename__ = "mediator_language"
    __table_args__ = (sa.UniqueConstraint("mediator_id", "language"),)

    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    language: str = Field(max_length=12, index=True)
    level: Level = Field(sa_type=sa.String(10))


class AvailabilitySlot(SQLModel, table=True):
    """A weekly recurring window in local time: weekday 0 = Monday."""

    __tablename__ = "availability_slot"

    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    weekday: int
    start_minute: int
    end_minute: int


class Absence(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
