"""Filing under load: what intake keeps between requests, how SQLite writers queue, what it costs.

- The ranking keeps the pool's members under the pool's token; every change
  to a mediator, a language or a weekly slot (through the API, the ORM or a
  bulk UPDATE) renews the token in its own transaction, so a request filed
  right after a change ranks the pool as changed; a rolled-back change
  leaves the token (and what is kept) as it was.
- The engine's mediators of a day and language, before their jobs and
  absences, are kept under the same token; an absence (which does not renew
  it) still reaches the ranking.
- SQLite writers queue in the process: a second write transaction waits for
  the first to end instead of sleeping in SQLite's busy handler.
- A POST /api/v1/requests costs a pinned number of SQL statements, so a
  query added per request (or per mediator) shows up here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from config.settings import Settings
from dispatch.mediators.models import (
    LEDGER_ROW,
    Absence,
    Mediator,
    bump_version,
    pool_version,
)
from dispatch.planning import service as planning
from dispatch.storage import sqlite_write_lock, unit_of_work
from tests.conftest import BERLIN, NOW, Staff, mediator_payload, request_payload

TUESDAY = (NOW.replace(day=1, month=12, hour=9), NOW.replace(day=1, month=12, hour=10))


def add_mediator(client: TestClient, coordinator: Staff, **overrides: object) -> int:
    response = client.post(
        "/api/v1/mediators",
        json=mediator_payload(
            availability=[{"weekday": "tue", "start": "08:00", "end": "16:00"}],
            languages=[{"language": "ti", "level": "native"}],
            **overrides,
        ),
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def token(engine: Engine) -> str | None:
    with Session(engine) as session:
        return pool_version(session)


def speakers(engine: Engine, language: str = "ti") -> dict[str, str | None]:
    """Who the ranking sees for `language` on Tuesday morning: id -> travel mode."""
    with Session(engine) as session:
        snapshot = planning.pool_snapshot(
            session, start=TUESDAY[0], end=TUESDAY[1], tz=BERLIN, language=language
        )
    return {m.id: m.travel_mode for m in snapshot.mediators}


def test_every_change_to_the_pool_renews_its_token_and_the_ranking_sees_it(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    assert token(engine) is None
    first = add_mediator(client, coordinator, phone="+4915112340001")
    after_create = token(engine)
    assert after_create is not None
    assert speakers(engine) == {str(first): "bike"}
    assert token(engine) == after_create  # reading keeps the token

    # A change through the API: the kept members are not used any more.
    response = client.patch(
        f"/api/v1/mediators/{first}", json={"travel_mode": "car"}, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    after_patch = token(engine)
    assert after_patch not in (None, after_create)
    assert speakers(engine) == {str(first): "car"}

    # A new language: the mediator is a speaker at once.
    response = client.patch(
        f"/api/v1/mediators/{first}",
        json={"languages": [{"language": "ar", "level": "fluent"}]},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    assert speakers(engine) == {}
    assert speakers(engine, "AR") == {str(first): "car"}

    # A bulk UPDATE through the ORM, as a pause by SMS might do it.
    before_bulk = token(engine)
    with unit_of_work(engine) as session:
        session.exec(sa.update(Mediator).where(col(Mediator.id) == first).values(paused=True))
    assert token(engine) != before_bulk
    assert speakers(engine, "ar") == {}

    # A change that is rolled back leaves the token as it was.
    settled = token(engine)
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        mediator = session.get(Mediator, first)
        assert mediator is not None
        mediator.paused = False
        session.add(mediator)
        session.flush()
        raise RuntimeError("changed my mind")
    assert token(engine) == settled
    assert speakers(engine, "ar") == {}


def test_reading_a_mediator_does_not_renew_the_token(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    add_mediator(client, coordinator, phone="+4915112340001")
    before = token(engine)
    response = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "offered"
    assert token(engine) == before


def test_a_request_filed_right_after_a_change_is_offered_to_the_changed_pool(
    client: TestClient, coordinator: Staff, caseworker: Staff, engine: Engine
) -> None:
    first = add_mediator(client, coordinator, phone="+4915112340001")
    response = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert response.json()["status"] == "offered"  # the pool is now kept
    response = client.patch(
        f"/api/v1/mediators/{first}", json={"active": False}, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    response = client.post(
        "/api/v1/requests",
        json=request_payload(start="2026-12-01T11:00:00+01:00", end="2026-12-01T12:00:00+01:00"),
        headers=caseworker.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "unfilled"


def test_kept_mediators_of_a_day_still_get_their_absences(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    """An absence does not renew the pool's token; the day's kept mediators still see it."""
    first = add_mediator(client, coordinator, phone="+4915112340001")
    second = add_mediator(client, coordinator, phone="+4915112340002", name="Selam Tesfay")

    def busy() -> dict[str, int]:
        with Session(engine) as session:
            snapshot = planning.pool_snapshot(
                session, start=TUESDAY[0], end=TUESDAY[1], tz=BERLIN, language="ti"
            )
        return {m.id: len(m.busy) for m in snapshot.mediators}

    assert busy() == {str(first): 0, str(second): 0}
    before = token(engine)
    with unit_of_work(engine) as session:
        session.add(Absence(mediator_id=second, start=TUESDAY[0], end=TUESDAY[1]))
    assert token(engine) == before  # the kept mediators of the day are used again
    assert busy() == {str(first): 0, str(second): 1}


def test_sqlite_writers_queue_in_the_process(engine: Engine) -> None:
    lock = sqlite_write_lock(engine)
    if engine.dialect.name != "sqlite":
        assert lock is None
        return
    assert lock is not None
    order: list[str] = []
    entered = threading.Event()

    def second() -> None:
        with unit_of_work(engine, immediate=True) as session:
            session.execute(sa.text("SELECT 1"))  # the transaction begins: it queues here
            order.append("second begins")

    with unit_of_work(engine, immediate=True) as session:
        session.execute(sa.text("SELECT 1"))
        order.append("first holds")
        waiter = threading.Thread(target=second)
        waiter.start()
        entered.wait(0.3)  # the second writer had time to start: it must still wait
        assert order == ["first holds"]
        assert lock.locked()
        order.append("first commits")
    waiter.join(timeout=10)
    assert order == ["first holds", "first commits", "second begins"]
    assert not lock.locked()


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


#: Statements for one POST that sends a wave of three offers by SMS (each mediator
#: has one channel), the pool and the year's allowance totals kept: the token's user,
#: idempotency, the organisation, insert request, the wave (the pool's and the
#: ledger's tokens in one read, absences, jobs, lists, past offers for "who answers",
#: the chosen mediators, their reply codes in one read, the offers, their messages),
#: then, at the end, the audit events and the deadlines (the wave's and the erasure
#: of the request's data), one INSERT per table. A request
#: filed in this transaction has no earlier wave, nobody asked, no assignment, no
#: deadline or message under its id: none of that is read (34 and 28 before).
#: A wave's offers are one INSERT on both, their ids matched by token hash
#: (``storage.insert_rows_with_ids``; the ORM's flush inserted them one by one on
#: SQLite, 24 before, since SQLite cannot return new ids in the rows' order). SQLite
#: counts its BEGIN; PostgreSQL's BEGIN and COMMIT do not pass through a cursor. The
#: wave's messages are one INSERT run for all rows on both (``outbox.batched``; 26 on
#: SQLite before). Raise it only with a reason: a query per mediator of the pool would
#: add a dozen here. Scarce people (issue 17) add the other open
#: requests around the job and their answered offers, and the ranking of each such
#: request (the warm-up's here). The wave run reads its language's absences and jobs
#: once for the window those others are sought in, and an organisation's lists once,
#: so the other request of the same language and organisation adds none of those
#: (29 and 23 before). The request's audit events and deadlines go in at the end, one
#: INSERT per table (``storage.rows_later``; 22 and 20 before).
STATEMENTS_PER_POST = {"sqlite": 20, "postgresql": 18}


def test_a_post_costs_a_pinned_number_of_statements(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    engine: Engine,
    settings: Settings,
) -> None:
    for index in range(12):
        add_mediator(
            client,
            coordinator,
            phone=f"+49151123400{index:02d}",
            email=None,
            channels=["sms"],
            name=f"Mediator {index}",
        )
    with unit_of_work(engine) as session:
        bump_version(session, LEDGER_ROW)  # as the migration leaves it
    warm = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert warm.status_code == 201, warm.text
    with counted(engine) as statements:
        began = time.perf_counter()
        response = client.post(
            "/api/v1/requests",
            json=request_payload(
                start="2026-12-01T11:00:00+01:00", end="2026-12-01T12:00:00+01:00"
            ),
            headers={**caseworker.headers, "Idempotency-Key": "pinned-1"},
        )
        elapsed = time.perf_counter() - began
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "offered"
    assert len(statements) == STATEMENTS_PER_POST[engine.dialect.name], "\n".join(statements)
    # The pool is kept: its languages and weekly slots are not read again.
    assert not any(s.startswith("SELECT mediator_language.mediator_id, ") for s in statements)
    assert not any(s.startswith("SELECT availability_slot.") for s in statements)
    assert elapsed < 30  # only that it answered; timing is the bench's business
    assert settings.database_url
