"""Request intake benchmark: POST /api/v1/requests under concurrent clients.

For each backend (SQLite file, PostgreSQL) the script prepares a fresh
database (migrations, a pool of --mediators mediators, the demo places, a
caseworker and their token), starts the real server as a separate process
(uvicorn as `sprachpool serve [--workers N]` runs it: bench/_intake_serve.py,
bench/_intake_app.py) on a free 127.0.0.1 port,
waits for /health, and drives it with --clients threads, each with its own
keep-alive httpx.Client, posting --requests varied requests (languages,
times, modes; every one with its own Idempotency-Key) after a short warm-up.
Every non-2xx answer and every exception counts as an error.

The same harness then drives a trivial FastAPI endpoint served the same way
(separate uvicorn process, same worker count, same client threads), so the
ratio shows what our own work costs on top of framework, server and client.

It prints figures and never asserts on timing. The goal (issue 18) is a p99
under 200 ms and at least 150 requests a second with 20 concurrent clients and
no error at all; the script says whether a run met it.

    .venv/bin/python bench/bench_intake.py                      # both backends
    .venv/bin/python bench/bench_intake.py --backend sqlite --requests 500
    .venv/bin/python bench/bench_intake.py --repeat 3            # medians of 3

PostgreSQL: the database `sprachpool_bench` on --pg-url's server is dropped
and created at the start and dropped at the end; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The app's formatting helpers read the settings; a bench is not "local" use.
os.environ.setdefault("ENVIRONMENT", "test")

#: Issue 18's goals: at 20 clients and 1,000 mediators, p99 under 200 ms and at least
#: 150 requests a second, every request answered with its first wave and no error.
GOAL_P99_MS = 200.0
GOAL_THROUGHPUT = 150.0
BENCH_DB = "sprachpool_bench"
#: The server's maintenance database, beside which BENCH_DB is made (BENCH_PG_ADMIN_URL).
DEFAULT_PG_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BERLIN = ZoneInfo("Europe/Berlin")
#: The instant the benches file at, whatever the hour they run: a Monday, 09:00 in Berlin
#: (the server's clock starts there, `CLOCK_START`). Filed at the wall clock, a run after
#: 21:00 Berlin time fell in the quiet hours, where most requests are held for the morning
#: without a wave: less work, so figures taken at night and by day did not compare.
BENCH_NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
# Languages of the demo pool, weighted roughly like a German town's demand.
LANGUAGES = (
    ["ar"] * 6
    + ["uk"] * 5
    + ["ru"] * 3
    + ["tr"] * 3
    + ["fa"] * 2
    + ["prs"] * 2
    + [
        "ps",
        "kmr",
        "ckb",
        "ti",
        "so",
        "ro",
        "bg",
        "sq",
        "pl",
        "ur",
    ]
)


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    label: str
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: int
    error_samples: list[str]
    server_cpu_ms: float = float("nan")
    """The server's CPU time (every process of it) per request, warm-up included."""

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        index = min(len(data) - 1, max(0, round(q / 100 * len(data) + 0.5) - 1))  # nearest rank
        return data[index]

    def figures(self) -> dict[str, float]:
        return {
            "throughput": self.throughput,
            "p50": self.pct(50),
            "p90": self.pct(90),
            "p99": self.pct(99),
            "max": max(self.latencies_ms) if self.latencies_ms else float("nan"),
            "errors": float(self.errors),
            "cpu": self.server_cpu_ms,
        }


# --------------------------------------------------------------------------- databases


def pool_payloads(
    count: int, seed: int = 11, *, today: date | None = None
) -> list[Any]:  # list[MediatorCreate]
    """`count` realistic mediators: the demo pool, varied in name, contact, home and hours.

    Their clearance counts from `today` (default: BENCH_NOW's date), so they are
    cleared on the day the bench files at.
    """
    from dispatch.demo import demo_mediators
    from dispatch.mediators.schemas import MediatorCreate

    rng = random.Random(seed)
    today = today if today is not None else BENCH_NOW.date()
    base = [m.model_dump(mode="json", exclude_unset=True) for m in demo_mediators(today=today)]
    first = [m["name"].split()[0] for m in base]
    last = [m["name"].split()[-1] for m in base]
    payloads = []
    for index in range(count):
        data = json.loads(json.dumps(base[index % len(base)]))
        data["name"] = f"{rng.choice(first)} {rng.choice(last)} {index + 1}"
        data["phone"] = f"+4915200{index + 1:06d}"
        data["email"] = f"mediator.{index + 1}@example.org"
        if data.get("home"):
            data["home"] = {
                "lat": round(data["home"]["lat"] + rng.uniform(-0.03, 0.03), 5),
                "lon": round(data["home"]["lon"] + rng.uniform(-0.04, 0.04), 5),
            }
        data["max_hours_per_week"] = rng.choice([5, 8, 10, 15, 20, 30])
        payloads.append(MediatorCreate.model_validate(data))
    return payloads


@dataclass
class Prepared:
    url: str
    token: str
    place_ids: list[int]


def seed(url: str, mediators: int, *, today: date | None = None) -> Prepared:
    """A fresh database: migrations, `mediators` mediators cleared as of `today` (default:
    BENCH_NOW's date), the demo places, a caseworker and their token (issued at BENCH_NOW)."""
    from config.settings import Settings
    from dispatch.demo import PLACES
    from dispatch.mediators import service as mediator_service
    from dispatch.places.models import Place
    from dispatch.storage import make_engine, migrate, unit_of_work
    from dispatch.users import service as users
    from dispatch.users.models import Role

    migrate(url)
    engine = make_engine(url)
    now = BENCH_NOW
    town = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    try:
        with unit_of_work(engine) as session:
            organisation = users.get_or_create_organisation(
                session, name="Jobcenter Bench", now=now
            )
            user = users.create_user(
                session,
                email="bench@jobcenter.example",
                name="Bench Caseworker",
                role=Role.caseworker,
                organisation=organisation,
                now=now,
            )
            token = users.issue_token(session, user=user, now=now)
            places = [
                Place(
                    name=name,
                    address=address,
                    lat=lat,
                    lon=lon,
                    contact_hint=hint,
                    created_at=now,
                    updated_at=now,
                )
                for name, address, lat, lon, hint in PLACES
            ]
            session.add_all(places)
            session.flush()
            place_ids = [p.id for p in places]
            for data in pool_payloads(mediators, today=today):
                mediator_service.create_mediator(
                    session, data=data, actor=None, now=now, settings=town
                )
    finally:
        engine.dispose()
    return Prepared(url=url, token=token, place_ids=place_ids)  # type: ignore[arg-type]


#: A pool in use: the share of its past offers that ended each way (withdrawn: someone
#: else was quicker), and the median minutes to an answer.
PAST_OUTCOMES = {"accepted": 0.2, "declined": 0.25, "expired": 0.35, "withdrawn": 0.2}
PAST_ANSWER_MINUTES = 20.0


def add_past_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--past-weeks",
        type=int,
        default=0,
        help="weeks of answered and unanswered offers on file first (add_past_offers)",
    )
    parser.add_argument(
        "--past-per-week", type=int, default=3, help="past offers a week to each mediator"
    )


def add_past_offers(url: str, *, weeks: int, per_week: int, now: datetime, seed: int = 7) -> int:
    """What a pool in use has on file: `per_week` offers a week to each mediator, `weeks` back.

    Each ended as `PAST_OUTCOMES` says, sent on a working day 08:00-18:00.
    They hang on one past, completed request a week (offers need one).
    Written as rows, the way any version of the code reads them; where the
    code keeps running totals of them (`estimate.rebuild`), those are then
    built as the migration that introduced them does. Returns the number of
    offers.
    """
    if weeks < 1 or per_week < 1:
        return 0
    import sqlalchemy as sa
    from sqlmodel import col

    from dispatch.mediators.models import Mediator
    from dispatch.offers import estimate
    from dispatch.offers.models import Offer
    from dispatch.requests.models import Mode, Request, RequestStatus
    from dispatch.storage import make_engine, unit_of_work
    from dispatch.users.models import User

    rng = random.Random(seed)
    engine = make_engine(url)
    offers: list[dict[str, Any]] = []
    try:
        with unit_of_work(engine) as session:
            user = session.scalars(sa.select(User).order_by(col(User.id)).limit(1)).one()
            mediator_ids = list(session.scalars(sa.select(col(Mediator.id))))
            for week in range(1, weeks + 1):
                day = (now - timedelta(weeks=week)).astimezone(BERLIN).date()
                monday = datetime.combine(day - timedelta(days=day.weekday()), dtime(), BERLIN)
                request = Request(
                    organisation_id=user.organisation_id,
                    created_by_user_id=user.id,
                    language="ar",
                    start=monday + timedelta(days=4, hours=9),
                    end=monday + timedelta(days=4, hours=10),
                    mode=Mode.phone,
                    status=RequestStatus.completed,
                    created_at=monday,
                    updated_at=monday,
                )
                session.add(request)
                session.flush()
                for mediator_id in mediator_ids:
                    for _ in range(per_week):
                        sent = monday + timedelta(
                            days=rng.randrange(5), hours=8, minutes=rng.randrange(600)
                        )
                        status = rng.choices(
                            list(PAST_OUTCOMES), weights=list(PAST_OUTCOMES.values())
                        )[0]
                        minutes = PAST_ANSWER_MINUTES * rng.lognormvariate(0.0, 1.2)
                        offers.append(
                            {
                                "request_id": request.id,
                                "mediator_id": mediator_id,
                                "wave": 1,
                                "token_hash": f"{rng.getrandbits(256):064x}",
                                "short_code": "0000",
                                "channel": "sms",
                                "status": status,
                                "created_at": sent.astimezone(UTC),
                                "expires_at": (sent + timedelta(hours=1)).astimezone(UTC),
                                "responded_at": None
                                if status == "expired"
                                else (sent + timedelta(minutes=minutes)).astimezone(UTC),
                            }
                        )
            session.execute(Offer.__table__.insert(), offers)  # type: ignore[attr-defined]
            if hasattr(estimate, "rebuild"):
                estimate.rebuild(session, tz=BERLIN)
    finally:
        engine.dispose()
    return len(offers)


def in_process_filer(url: str, token: str, now: datetime) -> tuple[Any, Any]:
    """(engine, file(body, key)): the filing flow at `now` without HTTP, as the token's user.

    For the benches that measure a filing alone (`bench_filing_cpu.py`,
    `bench_filing_instructions.py`): the route's unit of work, flow and answer.
    """
    from pydantic import SecretStr
    from sqlmodel import Session

    from config.settings import Settings
    from dispatch.requests import flows, service
    from dispatch.storage import make_engine, unit_of_work
    from dispatch.users import service as users

    settings = Settings(
        database_url=url,
        environment="test",
        secret_key=SecretStr("bench-" * 8),
        run_background_jobs=False,
    )
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        actor = users.user_for_token(session.connection(), token=token, now=now)
        session.commit()
    assert actor is not None, "the seeded token signs in"

    def file(body: Any, key: str) -> None:
        with unit_of_work(engine, immediate=True) as session:
            request, replayed = flows.file_request(
                session, data=body, actor=actor, now=now, settings=settings, idempotency_key=key
            )
            service.to_public(session, request, actor=actor, new=not replayed)

    return engine, file


@contextmanager
def sqlite_database() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="sprachpool-bench-")
    try:
        yield f"sqlite:///{directory}/bench.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    def run(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(sql)

    run(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    run(f"CREATE DATABASE {BENCH_DB}")
    # The URL's own options stay (`?host=/var/run/postgresql`: the server's Unix socket).
    bench_url = make_url(admin_url).set(database=BENCH_DB)
    try:
        yield bench_url.render_as_string(hide_password=False)
    finally:
        run(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str
    """The server's base URL."""
    session: int
    """The session id of uvicorn and its workers (it runs in a session of its own)."""

    def cpu_seconds(self) -> float:
        """CPU time so far of every live process of the server (Linux `/proc`; nan elsewhere).

        The figure that bounds throughput on a shared machine: the server's
        own time per request moves far less with the load than req/s do.
        """
        proc = Path("/proc")
        if not proc.is_dir():
            return float("nan")
        ticks = 0
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # ended meanwhile
            if int(fields[3]) == self.session:  # state ppid pgrp session ... utime stime
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def cpu_ms_per_request(self, since: float, requests: int) -> float:
        """The server's CPU milliseconds per request since `cpu_seconds` gave `since`."""
        return (self.cpu_seconds() - since) * 1000 / max(requests, 1)


@contextmanager
def server(
    kind: str, *, database_url: str | None, workers: int, stack: tuple[str, str] = ("auto", "auto")
) -> Iterator[Served]:
    """Run bench/_intake_app.py under uvicorn in its own process; yield where it serves.

    `stack`: uvicorn's event loop and HTTP parser ("auto": uvloop and httptools
    where installed, as `serve` would; the project installs httptools, not
    uvloop, which added nothing measurable: RESULTS, issue 18's eleventh step).
    """
    port = free_port()
    env = dict(
        os.environ,
        SPRACHPOOL_BENCH_APP=kind,
        SPRACHPOOL_BENCH_CLOCK_START=BENCH_NOW.isoformat(),
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["SPRACHPOOL_BENCH_DATABASE_URL"] = database_url
    # As `sprachpool serve [--workers N]` runs it (see bench/_intake_serve.py).
    command = [
        sys.executable,
        str(ROOT / "bench" / "_intake_serve.py"),
        str(port),
        str(workers),
        stack[0],
        stack[1],
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(process, base, kind, log)
            yield Served(base, process.pid)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)  # its own session: uvicorn and its workers only
                    process.wait(timeout=5)
            problems = _tail(log)
            if "Traceback" in problems or "ERROR" in problems:
                lines = problems.splitlines()[-30:]
                print(f"    [{kind} server log]\n" + "\n".join("    " + line for line in lines))


def _wait_healthy(process: subprocess.Popen[bytes], base: str, kind: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=2) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} server exited with {process.returncode}:\n{_tail(log)}")
            try:
                if client.get(f"{base}/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server not healthy within 60 s:\n{_tail(log)}")
            time.sleep(0.1)


def _tail(log: IO[bytes], limit: int = 6000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


# --------------------------------------------------------------------------- load


def filed_at() -> str:
    """The header line every filing bench prints: when its requests are filed."""
    return f"filed at {BENCH_NOW.astimezone(BERLIN):%A %Y-%m-%d %H:%M} Berlin time (BENCH_NOW)"


def with_urgency(body: dict[str, object], start: datetime, now: datetime) -> dict[str, object]:
    """`body` with an urgency reason when its start is within the funding policy's notice.

    As the form asks (config/funding.toml, working days and the state's holidays):
    without a reason such a request is refused (notice_too_short); a request with
    enough notice is filed without one, as a caseworker would.
    """
    from dispatch.funding.policy import load_policy

    body = {key: value for key, value in body.items() if key != "urgency_reason"}
    if load_policy().notice_too_short(now=now, start=start, tz=BERLIN):
        body["urgency_reason"] = "Termin kurzfristig vom Amt angesetzt"
    return body


def request_body(rng: random.Random, place_ids: list[int], now: datetime) -> dict[str, object]:
    """A plausible request: mostly in person at a named place, some by phone or video.

    Appointments fall on working days between 08:00 and 16:00 (Berlin), within
    the next 60 days, as at a job centre or a town hall; the pool's hours are
    the demo pool's (working days), so nearly every filing sends a first wave.
    Until 2026-11-30 the start was any hour of any day, so about four filings
    in five found nobody available and ended at once, unfilled.
    """
    day = (now + timedelta(days=rng.randrange(0, 60))).astimezone(BERLIN).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(
        day.year,
        day.month,
        day.day,
        rng.randrange(8, 16),
        rng.choice([0, 15, 30, 45]),
        tzinfo=BERLIN,
    )
    if start <= now + timedelta(hours=3):
        start += timedelta(days=7)
    end = start + timedelta(minutes=rng.choice([30, 45, 60, 60, 90, 120, 180, 240]))
    mode = rng.choices(["in_person", "phone", "video"], weights=[7, 2, 1])[0]
    body: dict[str, object] = {
        "language": rng.choice(LANGUAGES),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "mode": mode,
    }
    if mode == "in_person":
        body["place_id"] = rng.choice(place_ids)
    elif mode == "video":
        # Since 2026-12-01 a video job needs its link unless the office calls.
        body["connection"] = f"https://meet.example.org/jc-{rng.randrange(10**6):06d}"
    body = with_urgency(body, start, now)
    if rng.random() < 0.3:
        body["qualification"] = rng.choice(["medical", "school", "authority"])
    if rng.random() < 0.2:
        body["client_ref"] = f"JC-2026-{rng.randrange(10000):04d}"
    return body


def drive(
    label: str,
    base: str,
    *,
    token: str,
    place_ids: list[int],
    clients: int,
    count: int,
    warmup: int,
    seed: int,
) -> Result:
    """`clients` threads post `count` requests in all (after `warmup` unrecorded ones)."""
    now = BENCH_NOW  # the server's clock starts there too
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    bodies = [request_body(rng, place_ids, now) for _ in range(warmup + count)]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/v1/requests"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    lock = threading.Lock()
    latencies: list[float] = []
    error_samples: list[str] = []
    errors = 0

    def post(client: httpx.Client, index: int) -> tuple[float, str | None]:
        key = {"Idempotency-Key": f"bench-{run}-{index}"}
        began = time.perf_counter()
        try:
            response = client.post(url, json=bodies[index], headers=key)
            elapsed = (time.perf_counter() - began) * 1000
            if 200 <= response.status_code < 300:
                return elapsed, None
            return elapsed, f"HTTP {response.status_code}: {response.text[:300]}"
        except Exception as exc:  # noqa: BLE001 - every failure is an error to report
            return (time.perf_counter() - began) * 1000, f"{type(exc).__name__}: {exc}"[:300]

    def phase(indices: Iterator[int], record: bool) -> float:
        nonlocal errors
        next_lock = threading.Lock()
        barrier = threading.Barrier(clients + 1)

        def worker() -> None:
            nonlocal errors
            with httpx.Client(headers=headers, timeout=30, limits=limits) as client:
                client.get(f"{base}/health")  # open the keep-alive connection before the clock runs
                barrier.wait()
                while True:
                    with next_lock:
                        index = next(indices, None)
                    if index is None:
                        return
                    elapsed, error = post(client, index)
                    if record:
                        with lock:
                            latencies.append(elapsed)
                            if error is not None:
                                errors += 1
                                if len(error_samples) < 5:
                                    error_samples.append(error)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=60)
        began = time.perf_counter()
        for thread in threads:
            thread.join(timeout=600)
        if any(thread.is_alive() for thread in threads):
            raise RuntimeError(f"{label}: client threads still running after 600 s")
        return time.perf_counter() - began

    phase(iter(range(warmup)), record=False)
    seconds = phase(iter(range(warmup, warmup + count)), record=True)
    return Result(label, count, seconds, latencies, errors, error_samples)


# --------------------------------------------------------------------------- report


def print_result(result: Result, baseline: Result | None) -> None:
    f = result.figures()
    print(
        f"  {result.label:<22} {f['throughput']:8.0f} req/s"
        f"   p50 {f['p50']:7.1f}   p90 {f['p90']:7.1f}"
        f"   p99 {f['p99']:7.1f}   max {f['max']:7.1f} ms   errors {result.errors}"
        f"   server CPU {f['cpu']:5.2f} ms/request"
    )
    for sample in result.error_samples:
        print(f"      error: {sample}")
    if baseline is not None and result is not baseline:
        b = baseline.figures()
        print(
            f"  {'':<22} vs trivial: p50 x{f['p50'] / b['p50']:.1f}"
            f"   p99 x{f['p99'] / b['p99']:.1f}"
            f"   throughput x{f['throughput'] / b['throughput']:.2f}"
        )
        met = f["p99"] < GOAL_P99_MS and f["throughput"] >= GOAL_THROUGHPUT and result.errors == 0
        print(
            f"  {'':<22} goal (p99 < {GOAL_P99_MS:.0f} ms, >= {GOAL_THROUGHPUT:.0f} req/s,"
            f" no error): {'MET' if met else 'NOT MET'}"
        )


def one_run(args: argparse.Namespace, run: int) -> dict[str, Result]:
    results: dict[str, Result] = {}
    common = {
        "clients": args.clients,
        "count": args.requests,
        "warmup": args.warmup,
        "seed": 1000 + run,
    }
    print(
        f"run {run + 1}/{args.repeat}: {args.clients} clients, {args.requests} requests "
        f"(+{args.warmup} warm-up), {args.mediators} mediators, {args.workers} uvicorn worker(s), "
        f"loop {args.loop}, http {args.http}"
    )
    stack = (args.loop, args.http)
    total = args.warmup + args.requests  # what the server's CPU time is divided by
    with server("trivial", database_url=None, workers=args.workers, stack=stack) as served:
        began = served.cpu_seconds()
        results["trivial"] = drive(
            "trivial FastAPI", served.base, token="none", place_ids=[1], **common
        )
        results["trivial"].server_cpu_ms = served.cpu_ms_per_request(began, total)
    print_result(results["trivial"], None)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        manager = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
        with manager as url:
            began = time.perf_counter()
            prepared = seed(url, args.mediators)
            past = add_past_offers(
                url, weeks=args.past_weeks, per_week=args.past_per_week, now=BENCH_NOW
            )
            print(
                f"  ({backend}: database prepared in {time.perf_counter() - began:.1f} s,"
                f" {past:,} past offers on file)"
            )
            with server(
                "sprachpool", database_url=prepared.url, workers=args.workers, stack=stack
            ) as served:
                began = served.cpu_seconds()
                results[backend] = drive(
                    f"sprachpool {backend}",
                    served.base,
                    token=prepared.token,
                    place_ids=prepared.place_ids,
                    **common,
                )
                results[backend].server_cpu_ms = served.cpu_ms_per_request(began, total)
        print_result(results[backend], results["trivial"])
    return results


def code_version() -> str:
    """Which code was measured: the commit, and whether the app's files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "dispatch", "config"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{head or 'unknown'}{' + uncommitted changes in dispatch/ or config/' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--warmup", type=int, default=200, help="unrecorded requests before measuring"
    )
    parser.add_argument("--mediators", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    add_past_arguments(parser)
    parser.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="uvicorn's event loop (auto: uvloop where installed)",
    )
    parser.add_argument(
        "--http",
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="uvicorn's HTTP parser (auto: httptools where installed)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="repeat the whole run; prints medians"
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"a maintenance database on the server; {BENCH_DB} is created next to it",
    )
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--clients, --requests and --repeat must be positive")

    print(f"code: {code_version()}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    print(filed_at())
    runs = [one_run(args, run) for run in range(args.repeat)]
    if args.repeat > 1:
        print(f"\nmedians of {args.repeat} runs:")
        for label in runs[0]:
            med = {
                k: statistics.median(r[label].figures()[k] for r in runs)
                for k in runs[0][label].figures()
            }
            line = (
                f"  {label:<10} {med['throughput']:8.0f} req/s"
                f"   p50 {med['p50']:7.1f}   p90 {med['p90']:7.1f}"
                f"   p99 {med['p99']:7.1f}   max {med['max']:7.1f} ms   errors {med['errors']:.0f}"
                f" (total {sum(r[label].errors for r in runs)})"
                f"   server CPU {med['cpu']:5.2f} ms/request"
            )
            if label != "trivial":
                ratios = {
                    k: statistics.median(
                        r[label].figures()[k] / r["trivial"].figures()[k] for r in runs
                    )
                    for k in ("p50", "p99", "throughput")
                }
                line += (
                    f"\n  {'':<10} vs trivial (median of per-run ratios): p50 x{ratios['p50']:.1f}"
                    f"   p99 x{ratios['p99']:.1f}   throughput x{ratios['throughput']:.2f}"
                )
            print(line)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        label: {**r.figures(), "error_samples": r.error_samples}
                        for label, r in run.items()
                    }
                    for run in runs
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
