"""Deadlines: every timed step is a row, not a timer in memory."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class Deadline(SQLModel, table=True):
    """One timed step; `done_at` is set in the transaction that performs it.

    `kind` names the step; the domain that schedules it registers what it
    does (``dispatch.deadlines.registry``). A restart finds the rows that are
    due and not done; several processes claim them with FOR UPDATE SKIP
    LOCKED, so each fires exactly once.
    """

    __table_args__ = (
        sa.UniqueConstraint("kind", "subject_id", "sequence"),
        sa.Index("ix_deadline_open_due", "done_at", "due_at"),
    )

    id: int = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(20))
    #: The row the step is about (a request, an assignment, ...: the kind says which).
    subject_id: int
    #: Tells apart several steps of one kind for one subject (a wave number, hours before).
    sequence: int = 0
    due_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: What happened when it fired ("next wave", "no-op: assigned", ...).
    outcome: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
