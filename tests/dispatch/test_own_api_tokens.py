"""The limit on the API tokens staff make for themselves holds when clicks come at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dispatch.clock import ManualClock
from dispatch.errors import Conflict
from dispatch.storage import unit_of_work
from dispatch.users import service as users
from dispatch.users.models import ApiToken, User
from tests.conftest import Staff, get_row


def _attempt(
    engine: Engine,
    user_id: int,
    clock: ManualClock,
    *,
    barrier: threading.Barrier,
    results: list[bool],
) -> None:
    barrier.wait()
    try:
        with unit_of_work(engine, immediate=True) as session:
            user = get_row(session, User, user_id)
            users.issue_own_token(session, user=user, limit=3, now=clock.now())
        results.append(True)
    except Conflict:
        results.append(False)


def test_simultaneous_new_tokens_never_exceed_the_limit(
    engine: Engine, clock: ManualClock, make_staff: Callable[..., Staff]
) -> None:
    """Twelve clicks at once on "Create a new token" with one token held and a limit of
    three: two made, ten refused, on either database."""
    staff = make_staff()  # holds one token already
    attempts = 12
    barrier = threading.Barrier(attempts)
    results: list[bool] = []
    threads = [
        threading.Thread(
            target=_attempt,
            args=(engine, staff.user_id, clock),
            kwargs={"barrier": barrier, "results": results},
        )
        for _ in range(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == attempts
    assert results.count(True) == 2
    with Session(engine) as session:
        held = session.exec(
            select(func.count())
            .select_from(ApiToken)
            .where(col(ApiToken.user_id) == staff.user_id, col(ApiToken.revoked_at).is_(None))
        ).one()
    assert held == 3
