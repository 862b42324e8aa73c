"""Writers in several processes on one SQLite file queue for it, never in its busy handler.

Several uvicorn workers (and the CLI) may serve one SQLite database. A writer
of one process that finds another process writing waits on the file lock
beside the database (`storage.SqliteWriteLock`) and goes on the moment the
other commits, instead of sleeping in SQLite's busy handler. The children
here set SQLite's busy timeout to 0, so a writer that met the database
locked would fail at once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dispatch.storage import WRITERS_FILE_SUFFIX, make_engine

CHILD = """
import sys, time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from dispatch import storage

url, role, flag, file_lock = sys.argv[1:5]
if file_lock == "off":
    storage.SqliteWriteLock._file = lambda self: None  # the control: threads' lock only
engine = storage.make_engine(url)


@event.listens_for(engine, "connect")
def _no_busy_wait(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA busy_timeout=0")


ready = Path(flag + "-ready")
try:
    if role == "holder":
        with storage.unit_of_work(engine, immediate=True) as session:
            session.execute(sa.text("UPDATE counter SET n = n + 1"))
            Path(flag).touch()
            deadline = time.monotonic() + 30
            while not ready.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # the follower is at its BEGIN by now
    else:
        ready.touch()
        with storage.unit_of_work(engine, immediate=True) as session:
            session.execute(sa.text("UPDATE counter SET n = n * 10"))
except sa.exc.OperationalError as exc:
    print("error:", exc.orig)
    sys.exit(3)
print("done")
"""


def run_pair(tmp_path: Path, *, file_lock: str) -> tuple[subprocess.CompletedProcess[str], int]:
    database = tmp_path / f"pool-{file_lock}.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        connection.execute(sa.text("INSERT INTO counter (n) VALUES (1)"))
    flag = tmp_path / f"holding-{file_lock}"
    command = [sys.executable, "-c", CHILD, url]
    holder = subprocess.Popen(
        [*command, "holder", str(flag), file_lock], stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not flag.exists():
        assert holder.poll() is None, "the holder ended before it held the database"
        assert time.monotonic() < deadline, "the holder never began writing"
        time.sleep(0.01)
    follower = subprocess.run(
        [*command, "follower", str(flag), file_lock],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    holder_out, _ = holder.communicate(timeout=30)
    assert holder.returncode == 0, holder_out
    with engine.connect() as connection:
        n = connection.execute(sa.text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    return follower, n


def test_a_writer_of_another_process_waits_its_turn_and_goes_on_after_the_commit(
    tmp_path: Path,
) -> None:
    follower, n = run_pair(tmp_path, file_lock="on")
    assert follower.returncode == 0, follower.stdout + follower.stderr
    assert n == (1 + 1) * 10  # the follower wrote after the holder had committed
    assert (tmp_path / f"pool-on.db{WRITERS_FILE_SUFFIX}").exists()


def test_without_the_file_lock_the_other_process_meets_the_database_locked(
    tmp_path: Path,
) -> None:
    # The control: the threads' lock alone does not reach another process.
    follower, n = run_pair(tmp_path, file_lock="off")
    assert follower.returncode == 3, follower.stdout + follower.stderr
    assert "database is locked" in follower.stdout
    assert n == 2


@pytest.mark.parametrize("database", [":memory:", ""])
def test_an_in_memory_database_has_no_file_to_lock(database: str) -> None:
    from dispatch.storage import sqlite_write_lock

    lock = sqlite_write_lock(make_engine(f"sqlite:///{database}"))
    assert lock is not None
    assert lock.acquire(timeout=1)
    lock.release()
    assert not lock.locked()
