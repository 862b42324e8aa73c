from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from dispatch.validation import Latitude, Line, Longitude, Timestamp, refuse_null_island


def _not_null_island(lon: float | None, info: ValidationInfo) -> float | None:
    """(0, 0) is refused beside the latitude and longitude's second half, the longitude."""
    refuse_null_island(info.data.get("lat"), lon)
    return lon


class PlaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)]
    address: Annotated[str, Line(300)] | None = None
    lat: Latitude
    lon: Longitude
    contact_hint: Annotated[str, Line(300)] | None = None

    _point = field_validator("lon")(_not_null_island)


class PlaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)] | None = None
    address: Annotated[str, Line(300)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    contact_hint: Annotated[str, Line(300)] | None = None
    active: bool | None = None

    _point = field_validator("lon")(_not_null_island)


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
