from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from dispatch.validation import Latitude, Line, Longitude, Timestamp


class PlaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)]
    address: Annotated[str, Line(300)] | None = None
    lat: Latitude
    lon: Longitude
    contact_hint: Annotated[str, Line(300)] | None = None


class PlaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)] | None = None
    address: Annotated[str, Line(300)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    contact_hint: Annotated[str, Line(300)] | None = None
    active: bool | None = None


class PlacePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str | None
    lat: float
    lon: float
    contact_hint: str | None
    active: bool
    created_at: Timestamp
    updated_at: Timestamp
