"""Outbox delivery benchmark: messages per second and commit-to-provider latency.

For each backend (SQLite file, PostgreSQL) the script migrates a fresh
database and runs the real `OutboxWorker` (dispatch/outbox/worker.py) with
the real `TwilioSmsChannel` against a stand-in of Twilio's Messages endpoint
served by uvicorn in its own process (so the stand-in does not compete for
this process's GIL). The stand-in answers 201 like Twilio, after
--provider-ms of simulated network and API time, and notes when each call
arrived.

- **Throughput**: --messages offer SMS are committed, then 1 and then 4
  workers (threads, each with its own engine and connections, as several
  `serve` processes would have) drain the backlog, claiming --batch messages
  at a time; messages per second from the workers' start to the last one
  recorded, and the ratio 4 vs 1 from the same run.
- **Latency**: workers poll like the service (`run_forever`, sleeping --poll
  seconds when idle) while a producer commits --latency-messages messages
  one by one, --interval apart; latency is from each commit returning to the
  stand-in receiving the call (p50/p99).

Every run also checks the promise the benchmark must not break: each message
reaches the provider exactly once. It prints figures and never asserts on
timing.

    .venv/bin/python bench/bench_outbox.py                   # both backends, one run
    .venv/bin/python bench/bench_outbox.py --repeat 3        # medians of 3
    .venv/bin/python bench/bench_outbox.py --provider-ms 100 # a Twilio-like API delay

PostgreSQL: the database `sprachpool_bench` on --pg-url's server is dropped
and created for each backend run and dropped at the end (as bench_intake.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENVIRONMENT", "test")

from bench_intake import (  # noqa: E402 (after the path set-up above)
    code_version,
    free_port,
    postgres_database,
    sqlite_database,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-auth-token"
START_IN = timedelta(days=3)


# --------------------------------------------------------------------------- Twilio stand-in


def stand_in_app(provider_seconds: float) -> Any:
    """Twilio's create-message endpoint (201 + message JSON), and /calls to read the arrivals."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    calls: list[tuple[str, float]] = []

    async def create(request: Request) -> JSONResponse:
        arrived = time.time()
        form = await request.form()
        to = str(form.get("To"))
        calls.append((to, arrived))
        if provider_seconds:
            await asyncio.sleep(provider_seconds)
        sid = f"SM{len(calls):032x}"
        return JSONResponse(
            {
                "sid": sid,
                "status": "queued",
                "to": to,
                "body": str(form.get("Body")),
                "account_sid": request.path_params["account_sid"],
                "api_version": "2010-04-01",
            },
            status_code=201,
        )

    async def read_calls(_request: Request) -> JSONResponse:
        return JSONResponse(calls)

    async def reset(_request: Request) -> JSONResponse:
        calls.clear()
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/2010-04-01/Accounts/{account_sid}/Messages.json", create, methods=["POST"]),
            Route("/calls", read_calls, methods=["GET"]),
            Route("/reset", reset, methods=["POST"]),
        ]
    )


@contextmanager
def twilio_stand_in(provider_ms: float) -> Iterator[str]:
    """Run the stand-in under uvicorn in its own process; yield its base URL."""
    port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve-stand-in",
        str(port),
        "--provider-ms",
        str(provider_ms),
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/calls", timeout=1)
                    break
                except httpx.HTTPError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(
                            "the Twilio stand-in did not start:\n" + log.read().decode()
                        ) from None
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


def stand_in_calls(base: str) -> list[tuple[str, float]]:
    return [(to, float(at)) for to, at in httpx.get(f"{base}/calls", timeout=30).json()]


# --------------------------------------------------------------------------- outbox


def bench_settings(url: str, stand_in: str) -> Any:
    from pydantic import SecretStr

    from config.settings import Settings

    return Settings(
        database_url=url,
        environment="test",
        secret_key=SecretStr("bench-" + "x" * 40),
        public_base_url="https://sprachpool.bench",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_from="+4925219999000",
        twilio_api_base=stand_in,
        run_background_jobs=False,
        _env_file=None,  # type: ignore[call-arg]
    )


def offer_fields(now: Any) -> dict[str, Any]:
    start = now + START_IN
    return {
        "language": "Tigrinya",
        "start": start,
        "end": start + timedelta(minutes=90),
        "mode": "in_person",
        "place": "Jobcenter Beckum",
        "link": "https://sprachpool.beckum.de/o/AbCdEfGhJk12",
        "code": "4711",
    }


def enqueue_messages(engine: Any, numbers: list[str], *, per_transaction: int = 500) -> None:
    """Commit one offer SMS to each number, as the dispatch workflow would."""
    from dispatch.clock import SystemClock
    from dispatch.outbox.service import enqueue
    from dispatch.storage import unit_of_work

    now = SystemClock().now()
    fields = offer_fields(now)
    for first in range(0, len(numbers), per_transaction):
        # IMMEDIATE, as the API's write sessions: on SQLite a deferred transaction that
        # reads (the idempotency check) and then writes fails while a worker holds the lock.
        with unit_of_work(engine, immediate=True) as session:
            for number in numbers[first : first + per_transaction]:
                enqueue(
                    session,
                    key=f"bench:{number}:sms",
                    kind="offer",
                    channel="sms",
                    to=number,
                    recipient_kind="mediator",
                    recipient_id=None,
                    locale="de",
                    now=now,
                    **fields,
                )


def new_worker(url: str, settings: Any, name: str) -> Any:
    from dispatch.clock import SystemClock
    from dispatch.outbox.worker import OutboxWorker
    from dispatch.storage import make_engine

    return OutboxWorker(make_engine(url), settings=settings, clock=SystemClock(), worker_id=name)


def empty_outbox(engine: Any) -> None:
    from sqlmodel import delete

    from dispatch.outbox.models import Message
    from dispatch.storage import unit_of_work

    with unit_of_work(engine) as session:
        session.exec(delete(Message))


def check_exactly_once(calls: list[tuple[str, float]], numbers: list[str], label: str) -> int:
    """How many messages broke exactly-once (0 is the only good answer)."""
    counts = Counter(to for to, _ in calls)
    wrong = sum(1 for n in numbers if counts[n] != 1) + sum(
        1 for n in counts if n not in set(numbers)
    )
    if wrong:
        print(f"    !! {label}: {wrong} messages were not sent exactly once")
    return wrong


@dataclass
class Throughput:
    workers: int
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def drain(
    url: str, settings: Any, stand_in: str, *, workers: int, messages: int, tag: str, batch: int
) -> Throughput:
    """Commit `messages`, then let `workers` threads deliver until the outbox is empty."""
    from dispatch.storage import make_engine

    engine = make_engine(url)
    empty_outbox(engine)
    numbers = [f"+49151{tag}{workers}{i:06d}" for i in range(messages)]
    enqueue_messages(engine, numbers)
    httpx.post(f"{stand_in}/reset", timeout=10)
    team = [new_worker(url, settings, f"bench-{i}") for i in range(workers)]
    for worker in team:  # open a connection each before the clock runs
        worker.run_once(limit=0)
    barrier = threading.Barrier(workers + 1)

    def deliver(worker: Any) -> None:
        barrier.wait()
        while worker.run_once(limit=batch) > 0:
            pass

    threads = [threading.Thread(target=deliver, args=(w,)) for w in team]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    check_exactly_once(stand_in_calls(stand_in), numbers, f"{workers} worker(s)")
    for worker in team:
        worker.engine.dispose()
    engine.dispose()
    return Throughput(workers, messages, seconds)


def percentile(data: list[float], q: float) -> float:
    ordered = sorted(data)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[index]


def latency(
    url: str,
    settings: Any,
    stand_in: str,
    *,
    workers: int,
    messages: int,
    interval: float,
    poll: float,
) -> list[float]:
    """Latencies (ms) from each commit to its provider call; idle workers poll every `poll` s."""
    from dispatch.storage import make_engine

    engine = make_engine(url)
    empty_outbox(engine)
    httpx.post(f"{stand_in}/reset", timeout=10)
    team = [new_worker(url, settings, f"bench-lat-{i}") for i in range(workers)]
    threads = [threading.Thread(target=w.run_forever, kwargs={"idle_seconds": poll}) for w in team]
    for thread in threads:
        thread.start()
    numbers = [f"+49160{workers}{i:07d}" for i in range(messages)]
    committed: dict[str, float] = {}
    for number in numbers:
        enqueue_messages(engine, [number])
        committed[number] = time.time()
        time.sleep(interval)
    deadline = time.monotonic() + 60
    while len(stand_in_calls(stand_in)) < messages and time.monotonic() < deadline:
        time.sleep(0.2)
    for worker in team:
        worker.stop()
    for thread in threads:
        thread.join()
    calls = stand_in_calls(stand_in)
    check_exactly_once(calls, numbers, f"latency, {workers} worker(s)")
    for worker in team:
        worker.engine.dispose()
    engine.dispose()
    return [(at - committed[to]) * 1000 for to, at in calls if to in committed]


# --------------------------------------------------------------------------- runs


def one_run(args: argparse.Namespace, run: int, stand_in: str) -> dict[str, dict[str, float]]:
    from dispatch.storage import migrate

    figures: dict[str, dict[str, float]] = {}
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(
        f"run {run + 1}/{args.repeat}: {args.messages} messages, claimed {args.batch} at a time, "
        f"provider {args.provider_ms:g} ms, "
        f"latency: {args.latency_messages} messages {args.interval * 1000:g} ms apart,"
        f" poll {args.poll:g} s"
    )
    for backend in backends:
        manager = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
        with manager as url:
            migrate(url)
            settings = bench_settings(url, stand_in)
            one = drain(
                url,
                settings,
                stand_in,
                workers=1,
                messages=args.messages,
                tag="1",
                batch=args.batch,
            )
            four = drain(
                url,
                settings,
                stand_in,
                workers=4,
                messages=args.messages,
                tag="4",
                batch=args.batch,
            )
            lat = latency(
                url,
                settings,
                stand_in,
                workers=args.latency_workers,
                messages=args.latency_messages,
                interval=args.interval,
                poll=args.poll,
            )
        result = {
            "1 worker msg/s": one.per_second,
            "4 workers msg/s": four.per_second,
            "4 vs 1": four.per_second / one.per_second,
            "latency p50 ms": percentile(lat, 50),
            "latency p99 ms": percentile(lat, 99),
        }
        figures[backend] = result
        print(
            f"  {backend:<8} 1 worker {result['1 worker msg/s']:7.0f} msg/s   4 workers "
            f"{result['4 workers msg/s']:7.0f} msg/s   4 vs 1 x{result['4 vs 1']:.2f}   "
            f"latency p50 {result['latency p50 ms']:6.1f} ms"
            f"  p99 {result['latency p99 ms']:6.1f} ms"
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--messages", type=int, default=1000, help="backlog per throughput measurement"
    )
    parser.add_argument(
        "--batch", type=int, default=50, help="messages a worker claims at once (run_once limit)"
    )
    parser.add_argument("--provider-ms", type=float, default=0.0, help="stand-in's answer delay")
    parser.add_argument("--latency-messages", type=int, default=300)
    parser.add_argument("--latency-workers", type=int, default=1)
    parser.add_argument(
        "--interval", type=float, default=0.02, help="seconds between latency commits"
    )
    parser.add_argument(
        "--poll", type=float, default=0.1, help="workers' idle sleep in the latency test"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="repeat the whole run; prints medians"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--serve-stand-in", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_stand_in:
        import uvicorn

        uvicorn.run(
            stand_in_app(args.provider_ms / 1000),
            host="127.0.0.1",
            port=args.serve_stand_in,
            log_level="warning",
            access_log=False,
        )
        return 0
    if min(args.messages, args.latency_messages, args.repeat, args.batch) < 1:
        parser.error("--messages, --latency-messages, --repeat and --batch must be positive")

    print(f"code: {code_version()}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    with twilio_stand_in(args.provider_ms) as stand_in:
        runs = [one_run(args, run, stand_in) for run in range(args.repeat)]
    if args.repeat > 1:
        print(f"\nmedians of {args.repeat} runs:")
        for backend in runs[0]:
            med = {k: statistics.median(r[backend][k] for r in runs) for k in runs[0][backend]}
            print(
                f"  {backend:<8} 1 worker {med['1 worker msg/s']:7.0f} msg/s   4 workers "
                f"{med['4 workers msg/s']:7.0f} msg/s   4 vs 1 x{med['4 vs 1']:.2f}"
                " (median of per-run ratios)"
                f"   latency p50 {med['latency p50 ms']:6.1f} ms"
                f"  p99 {med['latency p99 ms']:6.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
