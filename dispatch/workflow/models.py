"""Deadlines: every timed step of the workflow is a row, not a timer in memory."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class DeadlineKind(StrEnum):
    #: A wave's offers run out: expire them and send the next wave.
    wave_expiry = "wave_expiry"
    #: Reminders before the start (sequence = hours before).
    reminder = "reminder"
    #: No reconfirmation by now: mark at risk and alert the coordinator.
    reconfirm_check = "reconfirm_check"
    #: The job is over: ask the mediator for hours and travel.
    after_job = "after_job"


class Deadline(SQLModel, table=True):
    """One timed step; `done_at` is set in the transaction that performs it.

    A restart finds the rows that are due and not done; several processes
    claim them with FOR UPDATE SKIP LOCKED, so each fires exactly once.
    """

    __table_args__ = (
        sa.UniqueConstraint("kind", "subject_id", "sequence"),
        sa.Index("ix_deadline_open_due", "done_at", "due_at"),
    )

    id: int = Field(default=None, primary_key=True)
    kind: DeadlineKind = Field(sa_type=sa.String(20))
    #: The request (wave_expiry) or the assignment (all others).
    subject_id: int
    #: The wave number, or the hours before the start for reminders.
    sequence: int = 0
    due_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: What happened when it fired ("next wave", "no-op: assigned", ...).
    outcome: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
