"""The transactional outbox: every SMS and email, with its delivery state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class MessageStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    logged = "logged"
    #: Never sent: what it said no longer holds, or whom it named was erased.
    cancelled = "cancelled"


class Message(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_message_status_next", "status", "next_attempt_at"),)

    id: int = Field(default=None, primary_key=True)
    #: One message per purpose and recipient, however often a job re-runs.
    idempotency_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    channel: str = Field(max_length=10)
    kind: str = Field(max_length=60)
    recipient: str | None = Field(default=None, max_length=254)
    recipient_kind: str = Field(max_length=20)
    recipient_id: int | None = None
    locale: str = Field(default="de", max_length=10)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(sa_type=sa.Text)
    html: str | None = Field(default=None, sa_type=sa.Text)
    #: The calendar file (.ics) that goes with an email, if any.
    ics: str | None = Field(default=None, sa_type=sa.Text)
    status: MessageStatus = Field(default=MessageStatus.pending, sa_type=sa.String(12))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    provider_id: str | None = Field(default=None, max_length=64, index=True)
    #: The provider's own last word on the message (Twilio: queued, sent, delivered,
    #: undelivered, failed), kept apart from `status` so callbacks never move it back.
    provider_status: str | None = Field(default=None, max_length=20)
    #: Which worker took the message out of `pending` and when: a message left in
    #: `sending` by a worker that died is recognised by an old `claimed_at`.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The template fields the other channel's version of this message needs, for the
    #: fallback after a permanent failure; only fields that channel's template accepts.
    fallback_fields: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    error: str | None = Field(default=None, max_length=500)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
