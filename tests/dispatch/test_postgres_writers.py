"""On PostgreSQL a process lets `POSTGRES_WRITERS` units of work write at once; the rest queue.

The queue is entered when a writing unit's transaction begins, so whoever
waits holds no row lock and has sent nothing; reads never wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.storage import POSTGRES_WRITERS, make_engine, postgres_writers, unit_of_work
from tests.conftest import POSTGRES_URL, require_postgres, wait_until


@pytest.fixture
def pg() -> Iterator[Engine]:
    require_postgres()
    engine = make_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


class Writers:
    """Writing units of work on threads, each holding its transaction until let go."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.inside: list[int] = []
        self.go: dict[int, threading.Event] = {}
        self.threads: list[threading.Thread] = []

    def start(self, n: int) -> None:
        self.go[n] = threading.Event()

        def write() -> None:
            with unit_of_work(self.engine, immediate=True) as session:
                session.execute(sa.text("SELECT 1"))
                self.inside.append(n)
                assert self.go[n].wait(10)

        thread = threading.Thread(target=write)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        for event in self.go.values():
            event.set()
        for thread in self.threads:
            thread.join(10)


def test_one_writer_more_waits_before_its_first_statement_until_one_ends(pg: Engine) -> None:
    slots = postgres_writers(pg)
    assert slots is not None
    writers = Writers(pg)
    try:
        for n in range(POSTGRES_WRITERS):
            writers.start(n)
        wait_until(lambda: len(writers.inside) == POSTGRES_WRITERS)
        late = POSTGRES_WRITERS
        writers.start(late)
        wait_until(lambda: slots.waiting() == 1)
        writers.start(late + 1)
        wait_until(lambda: slots.waiting() == 2)
        time.sleep(0.05)
        assert late not in writers.inside

        writers.go[0].set()  # the first ends: the one that waited longest goes on
        wait_until(lambda: late in writers.inside)
        assert late + 1 not in writers.inside
    finally:
        writers.finish()
    assert sorted(writers.inside) == list(range(POSTGRES_WRITERS + 2))
    assert not slots.locked()


def test_reads_do_not_wait_for_the_writers(pg: Engine) -> None:
    writers = Writers(pg)
    try:
        for n in range(POSTGRES_WRITERS):
            writers.start(n)
        wait_until(lambda: len(writers.inside) == POSTGRES_WRITERS)
        with unit_of_work(pg) as session:
            assert session.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        writers.finish()


def test_sqlite_has_its_own_queue_and_no_slots() -> None:
    assert postgres_writers(make_engine("sqlite://")) is None
