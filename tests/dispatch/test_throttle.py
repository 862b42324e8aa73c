"""Counted attempts hold their limit when several arrive at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dispatch.storage import unit_of_work
from dispatch.throttle import ThrottleHit, allow

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def ask(session: Session, key: str, *, limit: int) -> bool:
    """One forgotten-password ask for `key`, counted against `limit` an hour."""
    return allow(
        session,
        scope="forgot_email",
        key=key,
        limit=limit,
        window=timedelta(hours=1),
        secret="test-secret",
        now=NOW,
    )


def _attempt(engine: Engine, key: str, *, barrier: threading.Barrier, results: list[bool]) -> None:
    barrier.wait()
    with unit_of_work(engine, immediate=True) as session:
        results.append(ask(session, key, limit=3))


def test_simultaneous_attempts_never_exceed_the_limit(engine: Engine) -> None:
    """Twelve asks for one address at once: three counted, nine refused, on either database."""
    attempts = 12
    barrier = threading.Barrier(attempts)
    results: list[bool] = []
    threads = [
        threading.Thread(
            target=_attempt,
            args=(engine, "frau.a@example.org"),
            kwargs={"barrier": barrier, "results": results},
        )
        for _ in range(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == attempts
    assert results.count(True) == 3
    with Session(engine) as session:
        stored = session.exec(
            select(func.count())
            .select_from(ThrottleHit)
            .where(col(ThrottleHit.scope) == "forgot_email")
        ).one()
    assert stored == 3


def test_other_addresses_are_counted_apart(engine: Engine) -> None:
    with unit_of_work(engine, immediate=True) as session:
        counted = [
            ask(session, key, limit=1)
            for key in ("a@example.org", "b@example.org", "a@example.org")
        ]
    assert counted == [True, True, False]
