"""Firing due deadlines: each one exactly once, whatever restarts or how many processes.

A deadline is claimed and performed in one transaction: its row is locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second process skips it
instead of waiting; SQLite has one writer at a time anyway), its kind's
handler runs, and ``done_at`` is written in the same commit. A crash before
the commit leaves the row due, so the step runs again from scratch after a
restart; a crash after it leaves it done. Nothing fires twice and nothing is
lost. A handler that raises (or a kind nobody registered) rolls back its
transaction and the row is pushed back, so the others go first.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

import dispatch.scheduled  # noqa: F401 - registers every domain's deadline handlers
from config.settings import Settings
from dispatch.clock import Clock
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handler_for
from dispatch.storage import unit_of_work

log = logging.getLogger("sprachpool.deadlines")

#: A step that raised is tried again after this long.
RETRY_AFTER = timedelta(minutes=5)


def run_due(engine: Engine, *, clock: Clock, settings: Settings, limit: int = 100) -> int:
    """Fire up to `limit` due deadlines, one transaction each; returns how many fired."""
    fired = 0
    while fired < limit:
        now = clock.now()
        deadline_id: int | None = None
        try:
            with unit_of_work(engine, immediate=True) as session:
                query = (
                    select(Deadline)
                    .where(col(Deadline.done_at).is_(None), col(Deadline.due_at) <= now)
                    .order_by(col(Deadline.due_at), col(Deadline.id))
                    .limit(1)
                )
                if engine.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                deadline = session.exec(query).first()
                if deadline is None:
                    return fired
                deadline_id = deadline.id
                outcome = handler_for(deadline.kind)(session, deadline, now=now, settings=settings)
                deadline.done_at = now
                deadline.outcome = outcome[:200]
                session.add(deadline)
        except Exception as exc:  # one broken step must not stop the others
            log.exception("deadline %s failed; retrying later", deadline_id)
            if deadline_id is None:
                return fired
            # The step rolled back as a whole; push the row back so the others go first.
            with unit_of_work(engine, immediate=True) as session:
                session.exec(
                    sa.update(Deadline)
                    .where(col(Deadline.id) == deadline_id)
                    .values(due_at=now + RETRY_AFTER, outcome=f"failed: {exc}"[:200])
                )
        fired += 1
    return fired
