"""Stored allowance lines: what was paid, frozen when the coordinator marks a month paid.

Until a month is paid its statement is computed from the approved reports
each time it is read. Marking it paid writes one ``AllowanceLine`` per job
(and per correction); a paid line is never changed. When an approved report
of a paid month changes or comes late, the difference becomes a new line
(``kind`` ``correction``) the next time the month is marked paid.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class LineKind(StrEnum):
    job = "job"
    late_cancellation = "late_cancellation"
    correction = "correction"


class AllowanceMonth(SQLModel, table=True):
    """A month the coordinator marked paid (once per payment run: the last one counts)."""

    __tablename__ = "allowance_month"

    id: int = Field(default=None, primary_key=True)
    #: "YYYY-MM" in the town's calendar.
    month: str = Field(max_length=7, index=True)
    paid_at: datetime = Field(sa_type=UTCDateTime)
    paid_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    #: The sum of the lines written by this run, in euros.
    amount: Decimal = Field(sa_type=sa.Numeric(12, 2))


class AllowanceLine(SQLModel, table=True):
    """One paid amount for one job of one mediator; never edited once written."""

    __tablename__ = "allowance_line"

    id: int = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="allowance_month.id", index=True)
    month: str = Field(max_length=7, index=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    request_id: int = Field(foreign_key="request.id")
    funding_source: str | None = Field(default=None, max_length=40)
    kind: LineKind = Field(sa_type=sa.String(20))
    job_date: date
    paid_minutes: int
    km: Decimal = Field(sa_type=sa.Numeric(7, 1))
    amount: Decimal = Field(sa_type=sa.Numeric(10, 2))
    created_at: datetime = Field(sa_type=UTCDateTime)
