"""Scheduling and closing deadlines, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from dispatch.deadlines.models import Deadline
from dispatch.storage import insert_later, write_later


def schedule(
    session: Session,
    *,
    kind: str,
    subject_id: int,
    due_at: datetime,
    now: datetime,
    sequence: int = 0,
    new: bool = False,
) -> None:
    """Add the deadline unless this (kind, subject, sequence) is scheduled already.

    `new`: the subject was created in this transaction, so nothing can be
    scheduled for it yet and the lookup is skipped; the unique key on (kind,
    subject, sequence) still refuses a second row.
    """
    if not new:
        write_later(session, _INSERT)
    exists = (
        None
        if new
        else session.exec(
            select(Deadline.id).where(
                Deadline.kind == kind,
                Deadline.subject_id == subject_id,
                Deadline.sequence == sequence,
            )
        ).first()
    )
    if exists is None:
        add(session, kind=kind, subject_id=subject_id, due_at=due_at, now=now, sequence=sequence)


#: Built once: intake writes two or three deadlines per request.
_INSERT = sa.insert(SQLModel.metadata.tables["deadline"])


def add(
    session: Session,
    *,
    kind: str,
    subject_id: int,
    due_at: datetime,
    now: datetime,
    sequence: int = 0,
) -> None:
    """Write a deadline without asking whether it exists (the unique key refuses a second).

    A plain INSERT in the session's transaction, not an object for the next
    flush: the runner reads deadlines in transactions of its own. Now, or at
    the end of the ``storage.rows_later`` block around it (the steps here that
    read or change deadlines write those first).
    """
    insert_later(
        session,
        _INSERT,
        {
            "kind": kind,
            "subject_id": subject_id,
            "sequence": sequence,
            "due_at": due_at,
            "created_at": now,
        },
    )


def close(
    session: Session, *, kinds: Iterable[str], subject_id: int, now: datetime, outcome: str
) -> None:
    """Mark the subject's open deadlines of these kinds done: their step will not happen."""
    write_later(session, _INSERT)
    session.exec(
        sa.update(Deadline)
        .where(
            col(Deadline.subject_id) == subject_id,
            col(Deadline.kind).in_(list(kinds)),
            col(Deadline.done_at).is_(None),
        )
        .values(done_at=now, outcome=outcome[:200])
    )


def move(session: Session, *, kind: str, subject_id: int, sequence: int, due_at: datetime) -> None:
    """An open deadline falls due at another time (its subject moved); a done one stays done."""
    write_later(session, _INSERT)
    session.exec(
        sa.update(Deadline)
        .where(
            col(Deadline.kind) == kind,
            col(Deadline.subject_id) == subject_id,
            col(Deadline.sequence) == sequence,
            col(Deadline.done_at).is_(None),
        )
        .values(due_at=due_at)
    )
