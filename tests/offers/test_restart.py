"""Real service processes: killed in the middle of a wave, and two of them on one PostgreSQL.

These start `python -m dispatch serve` as separate processes, kill them with
SIGKILL (no shutdown code runs), and read the outcome from the database.
Their clock runs at real speed from the tests' fixed Monday morning
(`CLOCK_START`), carried on across restarts, so the outcome does not depend
on the hour the suite runs at. Time passing while the service is down is
simulated by moving the wave's deadline and its offers' expiry into the
past, which is exactly what a long outage looks like to the restarted service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.clock import RunningClock
from dispatch.storage import make_engine, migrate, unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Role
from tests.conftest import (
    NOW,
    ROOT,
    drop_postgres_schema,
    fresh_postgres_schema_url,
    require_postgres,
)
from tests.offers.conftest import tigrinya_speaker

SETTLE_LIMIT_S = 60  # how long to wait for an outcome before calling it missing (not a speed check)
#: How long a fresh `serve` process may take to answer /health. Generous on purpose: on a
#: shared 2-core machine under load, importing and migrating alone took 58 s once.
STARTUP_LIMIT_S = 240
#: Messages not yet handed to a channel. A kill while one is `sending` would leave it to
#: the worker's lease (at most once: failed, not resent), so tests wait for none before killing.
UNSETTLED = "SELECT count(*) FROM message WHERE status IN ('pending', 'sending')"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """One `sprachpool serve` process on a free port."""

    def __init__(self, database_url: str, workdir: Path, clock: RunningClock) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.clock = clock
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PUBLIC_BASE_URL": "https://sprachpool.test",
            "SECRET_KEY": "restart-test-" + "k" * 40,
            "ENVIRONMENT": "test",
            "DEADLINE_POLL_SECONDS": "0.2",
            "OUTBOX_POLL_SECONDS": "0.2",
            # The test's time, not the wall clock's: it goes on where the last process left it.
            "CLOCK_START": self.clock.now().isoformat(),
        }
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_HOST"):
            env.pop(name, None)
        with (self.workdir / f"serve-{self.port}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dispatch", "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (
                self.workdir / f"serve-{self.port}.log"
            ).read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).json()["scheduler"] == "running":
                    return self
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError("the service did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no final commit, like a power cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def seed(database_url: str, clock: RunningClock) -> tuple[str, Engine]:
    """Schema, a coordinator with a token, and no pool yet (the pool goes in through the API)."""
    migrate(database_url)
    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    now = clock.now()
    with unit_of_work(engine) as session:
        org = users.get_or_create_organisation(session, name="Stadt Beckum", now=now)
        user = users.create_user(
            session,
            email="koordination@beckum.example",
            name="Koordination",
            role=Role.coordinator,
            organisation=org,
            now=now,
        )
        token = users.issue_token(session, user=user, now=now)
    return token, engine


def file_requests(service: Service, token: str, mediators: int, requests: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=30) as http:
        for number in range(1, mediators + 1):
            body = tigrinya_speaker(
                number,
                availability=[
                    {"weekday": day, "start": "00:00", "end": "23:59"}
                    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                ],
            )
            assert http.post("/api/v1/mediators", json=body).status_code == 201
        ids = []
        base = service.clock.now().replace(microsecond=0) + timedelta(hours=2)
        for index in range(requests):
            start = base + timedelta(minutes=10 * index)
            response = http.post(
                "/api/v1/requests",
                json={
                    "language": "ti",
                    "mode": "phone",
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=5)).isoformat(),
                },
            )
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "offered"
            ids.append(response.json()["id"])
    return ids


def let_the_wave_run_out_while_down(engine: Engine, clock: RunningClock) -> None:
    past = (clock.now() - timedelta(minutes=1)).astimezone(UTC)  # raw SQL: stored as UTC text
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE deadline SET due_at = :past WHERE done_at IS NULL"), {"past": past}
        )
        connection.execute(
            sa.text("UPDATE offer SET expires_at = :past WHERE status = 'pending'"), {"past": past}
        )


def wait_until(engine: Engine, sql: str, expected: int) -> None:
    deadline = time.monotonic() + SETTLE_LIMIT_S
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(sa.text(sql)).scalar_one() == expected:
                return
        time.sleep(0.1)
    raise AssertionError(f"{sql!r} never reached {expected}")


def waves_per_request(engine: Engine) -> Counter[tuple[int, int]]:
    with engine.connect() as connection:
        return Counter(connection.execute(sa.text("SELECT request_id, wave FROM offer")).all())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'restart.db'}"


def test_a_killed_service_fires_the_waves_deadline_exactly_once_after_restart(
    sqlite_url: str, tmp_path: Path
) -> None:
    clock = RunningClock(NOW)
    token, engine = seed(sqlite_url, clock)
    first = Service(sqlite_url, tmp_path, clock).start()
    try:
        [request_id] = file_requests(first, token, mediators=12, requests=1)
        wait_until(engine, UNSETTLED, 0)  # the offers are out, none mid-send
    finally:
        first.kill()
    assert waves_per_request(engine) == {(request_id, 1): 5}  # under 4 h: five at once
    let_the_wave_run_out_while_down(engine, clock)

    second = Service(sqlite_url, tmp_path, clock).start()
    try:
        wait_until(
            engine, "SELECT count(*) FROM deadline WHERE sequence = 1 AND done_at IS NOT NULL", 1
        )
        wait_until(engine, UNSETTLED, 0)
    finally:
        second.kill()
    third = Service(
        sqlite_url, tmp_path, clock
    ).start()  # a second restart must not repeat anything
    try:
        wait_until(engine, UNSETTLED, 0)
        time.sleep(1.0)  # several scheduler rounds (every 0.2 s) go by
    finally:
        third.kill()
    assert waves_per_request(engine) == {(request_id, 1): 5, (request_id, 2): 5}
    with engine.connect() as connection:
        waves = connection.execute(
            sa.text("SELECT count(*) FROM audit_event WHERE action = 'request.wave'")
        )
        assert waves.scalar_one() == 2
        attempts = connection.execute(
            sa.text("SELECT attempts, status FROM message WHERE kind = 'offer'")
        ).all()
        assert len(attempts) == 10 and set(attempts) == {(1, "logged")}
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    url, schema = fresh_postgres_schema_url()
    yield url
    drop_postgres_schema(schema)


def test_two_service_processes_on_one_postgres_never_fire_or_send_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    clock = RunningClock(NOW)
    token, engine = seed(postgres_url, clock)
    setup = Service(postgres_url, tmp_path, clock).start()
    try:
        request_ids = file_requests(setup, token, mediators=15, requests=12)
        wait_until(engine, UNSETTLED, 0)
    finally:
        setup.kill()
    let_the_wave_run_out_while_down(engine, clock)
    services = [Service(postgres_url, tmp_path, clock), Service(postgres_url, tmp_path, clock)]
    try:
        for service in services:
            service.start()
        wait_until(
            engine,
            "SELECT count(*) FROM deadline WHERE sequence = 1 AND done_at IS NOT NULL",
            len(request_ids),
        )
        wait_until(engine, UNSETTLED, 0)
    finally:
        for service in services:
            service.kill()
    waves = waves_per_request(engine)
    for request_id in request_ids:
        assert (
            waves[(request_id, 1)] == 5
            and waves[(request_id, 2)] == 5
            and waves[(request_id, 3)] == 0
        )
    with engine.connect() as connection:
        per_request = connection.execute(
            sa.text(
                "SELECT entity_id, count(*) FROM audit_event"
                " WHERE action = 'request.wave' GROUP BY entity_id"
            )
        ).all()
        assert {count for _, count in per_request} == {2}
        sends = connection.execute(
            sa.text("SELECT attempts, status FROM message WHERE kind = 'offer'")
        ).all()
        assert len(sends) == 10 * len(request_ids) and set(sends) == {(1, "logged")}
    engine.dispose()
    assert ROOT.exists()
