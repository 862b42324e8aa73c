"""Counted attempts in a time window, kept in the database so every process sees them.

Used where an anonymous form must not be tried without end (a forgotten
password: per address and per client). A limit held in one process's memory
resets on a restart and is multiplied by the number of workers; these rows
are not. Only a keyed hash of what is counted is stored (HMAC-SHA256 with the
service's secret key), so the table names no email address or IP address,
and each row is deleted once it falls out of its window.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, delete, func, select

from dispatch.storage import UTCDateTime


class ThrottleHit(SQLModel, table=True):
    """One counted attempt: what was counted (`scope`), for whom (`key_hash`), when."""

    __tablename__ = "throttle_hit"
    __table_args__ = (sa.Index("ix_throttle_hit_scope_key_at", "scope", "key_hash", "at"),)

    id: int = Field(default=None, primary_key=True)
    scope: str = Field(max_length=30)
    key_hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)


def key_hash(key: str, *, secret: str) -> str:
    """The stored form of a counted key: HMAC-SHA256, so a copy of the table names nobody."""
    return hmac.new(
        secret.encode(), key.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()


def _lock_id(scope: str, hashed: str) -> int:
    """A PostgreSQL advisory lock's 64-bit key for one counted key of one scope."""
    digest = hashlib.sha256(f"throttle:{scope}:{hashed}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def allow(
    session: Session,
    *,
    scope: str,
    key: str,
    limit: int,
    window: timedelta,
    secret: str,
    now: datetime,
) -> bool:
    """Count one attempt unless `limit` were counted within `window`; True when it is counted.

    Attempts refused are not counted, so the window slides: the oldest attempt
    leaving it lets the next one in. Rows of the scope older than the window go.
    """
    since = now - window
    hashed = key_hash(key, secret=secret)
    if session.get_bind().dialect.name == "postgresql":
        # Counting then inserting lets two simultaneous attempts both see room under
        # READ COMMITTED; one lock per (scope, key) until the commit puts them in a row.
        # SQLite needs none: a writing request holds the database's write lock throughout.
        session.execute(sa.select(func.pg_advisory_xact_lock(_lock_id(scope, hashed))))
    session.exec(
        delete(ThrottleHit).where(col(ThrottleHit.scope) == scope, col(ThrottleHit.at) <= since)
    )
    counted = session.exec(
        select(func.count())
        .select_from(ThrottleHit)
        .where(
            col(ThrottleHit.scope) == scope,
            col(ThrottleHit.key_hash) == hashed,
            col(ThrottleHit.at) > since,
        )
    ).one()
    if counted >= limit:
        return False
    session.add(ThrottleHit(scope=scope, key_hash=hashed, at=now))
    session.flush()
    return True
