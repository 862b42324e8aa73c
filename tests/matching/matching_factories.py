"""Small factories for matching tests: one day, a few places in Beckum."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from matching.model import Busy, Interval, Location, Mediator, Request

CET = timezone(timedelta(hours=1))
DAY = datetime(2026, 12, 1, tzinfo=CET)
TOWN_HALL = Location(51.7553, 8.0403)
JOB_CENTRE = Location(51.7600, 8.0500)  # about 0.7 km from the town hall
HOSPITAL = Location(51.7800, 8.0900)  # about 4.3 km from the town hall
HOME = Location(51.7500, 8.0400)


def at(clock: str, day: int = 0) -> datetime:
    hours, minutes = clock.split(":")
    return DAY + timedelta(days=day, hours=int(hours), minutes=int(minutes))


def slot(start: str, end: str, day: int = 0) -> Interval:
    return Interval(at(start, day), at(end, day))


def busy(start: str, end: str, location: Location | None = None, label: str | None = None) -> Busy:
    return Busy(at(start), at(end), location, label)


def mediator(mediator_id: str = "m1", **fields: Any) -> Mediator:
    values: dict[str, Any] = {
        "languages": {"ar": "native"},
        "home": HOME,
        "availability": (slot("08:00", "16:00"),),
    }
    values.update(fields)
    return Mediator(id=mediator_id, **values)


def request(
    request_id: str = "r1", start: str = "09:00", end: str = "10:00", day: int = 0, **fields: Any
) -> Request:
    values: dict[str, Any] = {"language": "ar", "mode": "in_person", "location": TOWN_HALL}
    values.update(fields)
    return Request(id=request_id, start=at(start, day), end=at(end, day), **values)
