"""The API's bodies for series of requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dispatch.requests.schemas import RequestCreate, RequestPublic
from dispatch.validation import Day, Line, Timestamp

#: At most this many weeks between two occurrences.
MAX_INTERVAL_WEEKS = 12
#: At most this many occurrences in one series (issue 14).
MAX_OCCURRENCES = 26


class SeriesCreate(RequestCreate):
    """A request that repeats: the first occurrence is `start`/`end`, then every
    `interval_weeks` weeks at the same local time until `until` (that day included)."""

    interval_weeks: Annotated[int, Field(ge=1, le=MAX_INTERVAL_WEEKS)] = Field(
        description=f"Weeks between two occurrences, 1 to {MAX_INTERVAL_WEEKS}."
    )
    until: Day = Field(
        description="The last day an occurrence may fall on (local). It must lie after the "
        f"first occurrence's day; at most {MAX_OCCURRENCES} occurrences in all."
    )


class SeriesCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_day: Day = Field(
        alias="from",
        description="Every occurrence on this day (local) or later is cancelled.",
    )
    reason: Annotated[str, Line(500)] | None = None


class SeriesPublic(BaseModel):
    id: int
    organisation_id: int
    created_by_user_id: int
    interval_weeks: int
    until: date
    first_start: Timestamp
    duration_minutes: int
    language: str
    mode: str
    client_ref: str | None
    created_at: Timestamp
    cancelled_from: date | None
    cancel_reason: str | None
    occurrences: list[RequestPublic]


class SeriesPage(BaseModel):
    items: list[SeriesPublic]
    total: int
    limit: int
    offset: int
