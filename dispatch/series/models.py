"""Series (Serientermine): one appointment that repeats every N weeks until a date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class Series(SQLModel, table=True):
    """A repeating request; each occurrence is a request of its own (``Request.series_id``).

    `template` holds the terms every occurrence was filed with (the API's body
    without start and end), so the series can say what it was asked for even
    after single occurrences were changed or cancelled.
    """

    __table_args__ = (sa.UniqueConstraint("created_by_user_id", "idempotency_key"),)

    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_user_id: int = Field(foreign_key="user.id")
    interval_weeks: int
    #: The last day (local) an occurrence may fall on.
    until: date
    #: The first occurrence's start; later ones keep its local wall-clock time.
    first_start: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    template: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: Set when every occurrence from `cancelled_from` on was cancelled.
    cancelled_from: date | None = None
    cancel_reason: str | None = Field(default=None, max_length=500)
    #: The caller's `Idempotency-Key`, so a retried POST returns this series (per user).
    idempotency_key: str | None = Field(default=None, max_length=200)
    #: A SHA-256 of the body it was filed with: the same key with another body is refused.
    idempotency_fingerprint: str | None = Field(default=None, max_length=64)
