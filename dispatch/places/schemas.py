from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dispatch.validation import Latitude, Line, Longitude, Timestamp


class PlaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line(200)  # type: ignore[valid-type]
    address: Line(300) | None = None  # type: ignore[valid-type]
    lat: Latitude
    lon: Longitude
    contact_hint: Line(300) | None = None  # type: ignore[valid-type]


class PlaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line(200) | None = None  # type: ignore[valid-type]
    address: Line(300) | None = None  # type: ignore[valid-type]
    lat: Latitude | None = None
    lon: Longitude | None = None
    contact_hint: Line(300) | None = None  # type: ignore[valid-type]
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
