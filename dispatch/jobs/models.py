"""Einsatzbestätigung: what the mediator reports after a job, and who vouched for it.

German pools pay a mediator only for jobs the requester confirmed (formerly a
signed paper sheet) and the coordinator approved. One ``JobReport`` per
assignment carries the actual figures and the confirmation's state; the
allowance is computed from approved reports only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class JobOutcome(StrEnum):
    """What happened at the job, as the mediator reports it."""

    done = "done"
    #: The mediator came, the client did not.
    client_no_show = "client_no_show"
    #: The job was called off when the mediator was already there.
    cancelled_on_site = "cancelled_on_site"


class ReportState(StrEnum):
    """Where a report stands: ``reported`` → ``confirmed`` | ``disputed`` → ``approved``.

    The caseworker confirms or disputes; the coordinator approves (a disputed
    or unconfirmed one only with a reason) or rejects a disputed one. Only
    ``approved`` reports are paid.
    """

    reported = "reported"
    confirmed = "confirmed"
    disputed = "disputed"
    approved = "approved"
    rejected = "rejected"


class JobReport(SQLModel, table=True):
    """The Einsatzbestätigung of one assignment (at most one per assignment)."""

    __tablename__ = "job_report"
    __table_args__ = (sa.Index("ix_job_report_state_reported", "state", "reported_at"),)

    id: int = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", sa_column_kwargs={"unique": True})
    #: Denormalised from the assignment, so lists per organisation or month need no joins.
    request_id: int = Field(foreign_key="request.id", index=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True)
    actual_start: datetime = Field(sa_type=UTCDateTime)
    actual_end: datetime = Field(sa_type=UTCDateTime)
    waiting_minutes: int = 0
    #: Kilometres driven (there and back), one decimal.
    travel_km: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(6, 1))
    #: A public transport ticket, in euros.
    ticket_cost: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(8, 2))
    outcome: JobOutcome = Field(sa_type=sa.String(20))
    state: ReportState = Field(default=ReportState.reported, sa_type=sa.String(12))
    reported_at: datetime = Field(sa_type=UTCDateTime)
    #: The caseworker who confirmed or disputed, and when.
    confirmed_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispute_reason: str | None = Field(default=None, max_length=500)
    #: The coordinator who approved (or rejected), and when.
    approved_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Needed when an unconfirmed or disputed report is approved, or one is rejected.
    approval_reason: str | None = Field(default=None, max_length=500)


class ConfirmationLink(SQLModel, table=True):
    """A caseworker's one-click confirm-or-dispute link for one report.

    Only the SHA-256 of the token is stored; the link works once (``used_at``),
    until ``expires_at``, and only for the organisation that filed the request.
    """

    __tablename__ = "confirmation_link"

    id: int = Field(default=None, primary_key=True)
    job_report_id: int = Field(foreign_key="job_report.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id")
    #: Whom the e-mail went to (the caseworker who filed the request).
    user_id: int | None = Field(default=None, foreign_key="user.id")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobDeadlineKind(StrEnum):
    """The timed steps of the Einsatzbestätigung (handlers in ``dispatch/jobs/scheduled.py``)."""

    #: Three days after the job and still no report: remind the mediator (the assignment).
    report_overdue = "report_overdue"
    #: Three days after the report and still unconfirmed: remind the requester (the report).
    confirm_overdue = "confirm_overdue"
