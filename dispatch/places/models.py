"""Named places the coordinator maintains, so caseworkers pick instead of type."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class Place(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    address: str | None = Field(default=None, max_length=300)
    lat: float
    lon: float
    #: Whom a mediator asks for on arrival ("Empfang, Zimmer 012").
    contact_hint: str | None = Field(default=None, max_length=300)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
