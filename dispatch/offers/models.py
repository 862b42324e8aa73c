"""Offers to mediators and the assignments that come of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class OfferStatus(StrEnum):
    """Where an offer stands.

    ``accepted`` means the mediator holds (or did) the job. An accepted offer
    whose assignment ends before the job moves on, so it never shows as
    accepted for someone who no longer has the job: ``returned`` (the
    mediator gave it back), ``revoked`` (the coordinator took it back:
    un-assigned, replaced by an override, or the mediator was erased) or
    ``withdrawn`` (the request was cancelled).
    """

    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"
    returned = "returned"
    revoked = "revoked"


class Offer(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_offer_status_expires", "status", "expires_at"),
        # A mediator's live offers (their reply codes): without the status in the index,
        # SQLite read every accepted offer on file through the index above.
        sa.Index("ix_offer_mediator_status", "mediator_id", "status"),
    )

    id: int = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    mediator_id: int = Field(foreign_key="mediator.id")
    wave: int
    #: SHA-256 of the link token; the token itself exists only in the message.
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    #: Short code for SMS replies ("JA 4711"), unique among pending offers.
    short_code: str = Field(max_length=8, index=True)
    channel: str = Field(default="sms", max_length=10)
    status: OfferStatus = Field(default=OfferStatus.pending, sa_type=sa.String(10))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str | None = Field(default=None, max_length=300)
    #: When the link was first opened (a preview counts; it accepts nothing).
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MediatorHabit(SQLModel, table=True):
    """How a mediator has answered offers sent in one time slot, as running totals.

    Who answers (`estimate`) needs, per candidate, how many offers they
    answered or let run out, how many they accepted and how fast they
    answered. Read from the offers themselves, that cost every wave more with
    each month of records, without limit. The totals move with each answer
    (`estimate.count_answer`) and each offer that runs out
    (`estimate.count_run_out`), in the same transaction; the offers stay the
    record, and `estimate.rebuild` computes the totals afresh from them.
    Offers sent in wave 0 (the coordinator assigned directly) count for nothing.
    """

    __tablename__ = "mediator_habit"

    mediator_id: int = Field(foreign_key="mediator.id", primary_key=True, ondelete="CASCADE")
    #: `estimate.time_slot` of when the offers were sent.
    slot: str = Field(primary_key=True, max_length=10)
    answered: int = 0
    unanswered: int = 0
    accepted: int = 0
    declined: int = 0
    #: The sum of the natural logs of the answers' waking minutes (at least half a minute).
    log_minutes: float = 0.0


class OfferLink(SQLModel, table=True):
    """A further link to an offer, for a later message (reminder, report).

    Each message gets its own token, stored hashed like the offer's first
    one, so that no token ever has to be kept in a form that can be read
    back; each link expires on its own.
    """

    __tablename__ = "offer_link"

    id: int = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    purpose: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class AssignmentSource(StrEnum):
    offer = "offer"
    coordinator = "coordinator"


class Assignment(SQLModel, table=True):
    __table_args__ = (
        # At most one live assignment per request, whatever the concurrency.
        sa.Index(
            "uq_assignment_live_request",
            "request_id",
            unique=True,
            sqlite_where=sa.text("cancelled_at IS NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True)
    source: AssignmentSource = Field(sa_type=sa.String(12))
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=300)
    reconfirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Not reconfirmed in time: shown at risk on the dashboard.
    at_risk_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes_worked: int | None = None
    travel_km: float | None = None
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    no_show: bool = False
    #: Road km there and back from the mediator's home to the job, as the allowance
    #: estimates the travel of a job reported without km; kept here when the mediator is
    #: erased (their home goes), so the job's allowance stays what it was. A distance, not
    #: a point; None: estimated from the home while there is one.
    home_road_km: float | None = None


class OfferDeadlineKind(StrEnum):
    """The timed steps of offers and assignments (rows in ``deadline``).

    Each has its handler in ``dispatch/offers/scheduled.py``.
    """

    #: A wave's offers run out: expire them and send the next wave (subject: the request).
    wave_expiry = "wave_expiry"
    #: A wave held back by the quiet hours goes out (subject: the request; sequence: the wave).
    wave_due = "wave_due"
    #: A request filed ahead of its dispatch window (a later occurrence of a series) gets
    #: its first wave (subject: the request).
    first_wave = "first_wave"
    #: Reminders before the start (subject: the assignment; sequence: hours before).
    reminder = "reminder"
    #: No reconfirmation by now: mark at risk and alert the coordinator (the assignment).
    reconfirm_check = "reconfirm_check"
    #: The job is over: ask the mediator for hours and travel (the assignment).
    after_job = "after_job"
    #: Nobody yet this long before the start: warn the caseworker (the request; sequence:
    #: the dispatch round).
    unfilled_warning = "unfilled_warning"


#: The deadlines that belong to an assignment; they close when it ends.
ASSIGNMENT_DEADLINES = (
    OfferDeadlineKind.reminder,
    OfferDeadlineKind.reconfirm_check,
    OfferDeadlineKind.after_job,
)
