"""Dispatch benchmark: from intake to the first offer, and a busy week under three policies.

1. Intake to first offer. The first wave of offers is written in the same
   transaction as the request, so the time from `POST /api/v1/requests` to
   the first offer in the outbox is the POST's own latency. For each backend
   (SQLite file, PostgreSQL in a fresh schema of --pg-url's database) the
   script seeds a pool of --mediators mediators like bench_intake.py does,
   starts the real app under uvicorn in its own process, and posts requests
   one at a time (no queueing, so this is service time) that many mediators
   can serve: common languages, weekdays 08:00-18:00, 4 h to 14 days ahead.
   After each response it reads the database and checks that the offers and
   their outbox messages are there. Interleaved in random order, the same
   requests in a language nobody in the pool speaks (Vietnamese) give the
   baseline: they find no candidate and are marked unfilled. Then, in the
   bench process, a few requests are ranked again with the pieces timed
   (pool snapshot from the database, the engine's ranking).

2. A busy week (bench/_dispatch_sim.py): --requests requests arrive over
   Monday to Friday office hours, with lead times from 1 h to 7 days, for a
   town pool of --pool mediators; the real service functions run on a
   ManualClock in one process on a SQLite file, and offered mediators answer
   with a seeded behaviour (40 % never answer, the others after a lognormal
   delay with a median of 20 waking minutes, 30 % of those decline). The
   same arrivals and the same behaviour per (request, mediator) run under
   the default policy (config/policy.toml), "broadcast to all" (every request
   asks for broadcast) and "one at a time" (every band's size 1, the same
   lifetimes, as an Organisation.policy override).

It prints figures and ratios measured in this process and never asserts on
timing. --repeat N repeats part 1 N times (fresh databases each time) and
runs the week with N seeds (seed, seed + 1, ...); the week is deterministic
for a given seed, so its spread over seeds is the simulation's noise.

    .venv/bin/python bench/bench_dispatch.py --repeat 3
    .venv/bin/python bench/bench_dispatch.py --quick          # under a minute
    .venv/bin/python bench/bench_dispatch.py --part week --extra

PostgreSQL: a schema `bench_dispatch_<random>` is created in --pg-url's
database and dropped at the end; nothing else is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("ENVIRONMENT", "test")

import _dispatch_sim as sim  # noqa: E402 (after the path set-up above)
import bench_intake as intake  # noqa: E402

#: Configured, but nobody in the demo pool speaks it: no candidate, no offer.
UNSERVED_LANGUAGE = "vi"
#: The languages of the intake mix that many in the pool speak, with their weights.
SERVED_LANGUAGES = [tag for tag in intake.LANGUAGES if tag in {"ar", "uk", "ru", "tr", "fa", "prs"}]


# ------------------------------------------------------------ part 1: intake to first offer


@dataclass
class OfferLatency:
    backend: str
    #: POST latency (ms) of requests whose first wave was in the outbox when the answer came.
    served_ms: list[float] = field(default_factory=list)
    #: POST latency (ms) of the same requests in a language nobody speaks.
    unserved_ms: list[float] = field(default_factory=list)
    wave_sizes: list[int] = field(default_factory=list)
    #: Served-language requests that found no candidate after all (not timed).
    no_candidate: int = 0
    #: Answers that did not match the database (offers or messages missing, HTTP errors).
    mismatches: list[str] = field(default_factory=list)
    snapshot_ms: list[float] = field(default_factory=list)
    rank_ms: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        p50, p99 = sim.nearest_rank(self.served_ms, 50), sim.nearest_rank(self.served_ms, 99)
        b50, b99 = sim.nearest_rank(self.unserved_ms, 50), sim.nearest_rank(self.unserved_ms, 99)
        return {
            "p50": p50,
            "p99": p99,
            "base_p50": b50,
            "base_p99": b99,
            "ratio_p50": p50 / b50,
            "ratio_p99": p99 / b99,
            "snapshot_p50": sim.nearest_rank(self.snapshot_ms, 50),
            "rank_p50": sim.nearest_rank(self.rank_ms, 50),
            "wave_p50": sim.nearest_rank([float(n) for n in self.wave_sizes], 50),
        }


def served_body(rng: random.Random, place_ids: list[int], now: datetime) -> dict[str, Any]:
    """A request many can serve: a common language, no qualification, 4 h to 14 days ahead."""
    start = sim.working_hours_start(rng, now, 4.0, 14 * 24.0)
    assert start is not None
    moved = sim.moved(intake.request_body(rng, place_ids, now), start)
    body = intake.with_urgency(moved, start, now)
    body.pop("qualification", None)
    return {**body, "language": rng.choice(SERVED_LANGUAGES)}


def _in_outbox(engine: Any, request_id: int) -> tuple[int, int]:
    """(offers, offer messages) the database holds for a request."""
    from sqlmodel import Session, func, select

    from dispatch.offers.models import Offer
    from dispatch.outbox.models import Message

    with Session(engine) as session:
        offers = session.exec(
            select(func.count()).select_from(Offer).where(Offer.request_id == request_id)
        ).one()
        messages = session.exec(
            select(func.count())
            .select_from(Message)
            .where(Message.request_id == request_id, Message.kind == "offer")
        ).one()
    return int(offers), int(messages)


def measure_intake(
    backend: str, url: str, *, mediators: int, count: int, seed: int
) -> OfferLatency:
    """Seed, serve, post `count` served and `count` unserved requests singly; check the outbox."""
    from dispatch.storage import make_engine

    began = time.perf_counter()
    prepared = intake.seed(url, mediators)
    print(f"  ({backend}: {mediators} mediators seeded in {time.perf_counter() - began:.1f} s)")
    rng = random.Random(seed)
    now = intake.BENCH_NOW  # the server's clock starts there (intake.server)
    served = [served_body(rng, prepared.place_ids, now) for _ in range(count + 5)]
    jobs = [("served", body) for body in served[5:]] + [
        ("unserved", {**body, "language": UNSERVED_LANGUAGE}) for body in served[5:]
    ]
    rng.shuffle(jobs)
    warmup = [("served", body) for body in served[:5]] + [
        ("unserved", {**served[0], "language": UNSERVED_LANGUAGE})
    ]
    result = OfferLatency(backend)
    engine = make_engine(url)
    try:
        with (
            intake.server("sprachpool", database_url=url, workers=1) as running,
            httpx.Client(
                base_url=running.base,
                headers={"Authorization": f"Bearer {prepared.token}"},
                timeout=60,
            ) as client,
        ):
            for index, (kind, body) in enumerate(warmup + jobs):
                began = time.perf_counter()
                response = client.post("/api/v1/requests", json=body)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 201:
                    result.mismatches.append(f"HTTP {response.status_code}: {response.text[:200]}")
                    continue
                answer = response.json()
                offers, messages = _in_outbox(engine, answer["id"])
                if index < len(warmup):
                    continue
                if kind == "served" and answer["status"] == "offered" and 0 < offers <= messages:
                    result.served_ms.append(elapsed)
                    result.wave_sizes.append(offers)
                elif answer["status"] == "unfilled" and offers == messages == 0:
                    if kind == "unserved":
                        result.unserved_ms.append(elapsed)
                    else:
                        result.no_candidate += 1
                else:
                    result.mismatches.append(
                        f"{kind} request {answer['id']}: status {answer['status']}, "
                        f"{offers} offers, {messages} offer messages in the outbox"
                    )
        result.snapshot_ms, result.rank_ms = where_the_time_goes(engine, served[:10], now=now)
    finally:
        engine.dispose()
    return result


def where_the_time_goes(
    engine: Any, bodies: list[dict[str, object]], *, now: datetime
) -> tuple[list[float], list[float]]:
    """Rank requests again in this process, timing pool snapshot and engine apart; rolled back."""
    from sqlmodel import Session, select

    import matching
    from dispatch.planning import service as planning
    from dispatch.requests import service as requests_service
    from dispatch.requests.schemas import RequestCreate
    from dispatch.users.models import User

    snapshot_ms, rank_ms = [], []
    for body in bodies:
        with Session(engine) as session:  # one transaction per request, as in the app
            actor = session.exec(select(User)).one()
            request, _ = requests_service.create_request(
                session,
                # The same bodies were filed over HTTP a moment ago.
                data=RequestCreate.model_validate({**body, "allow_duplicate": True}),
                actor=actor,
                now=now,
            )
            began = time.perf_counter()
            snapshot = planning.pool_snapshot(
                session,
                start=request.start,
                end=request.end,
                tz=intake.BERLIN,
                skip_request_ids=frozenset({request.id}),
            )  # type: ignore[arg-type]
            ranked = time.perf_counter()
            matching.rank(
                planning.engine_request(session, request, tz=intake.BERLIN),
                snapshot.mediators,
                now=now,
            )
            done = time.perf_counter()
            snapshot_ms.append((ranked - began) * 1000)
            rank_ms.append((done - ranked) * 1000)
            session.rollback()
    return snapshot_ms, rank_ms


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL on a new, empty schema of `url`'s database; the schema is dropped afterwards."""
    import sqlalchemy as sa

    from dispatch.storage import make_engine

    schema = f"bench_dispatch_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def print_latency(result: OfferLatency) -> None:
    f = result.figures()
    print(
        f"  {result.backend:<9} first offer in the outbox (POST latency): "
        f"p50 {f['p50']:7.1f}  p99 {f['p99']:7.1f} ms"
        f"  ({len(result.served_ms)} requests, median wave {f['wave_p50']:.0f} offers)"
    )
    print(
        f"  {'':<9} nobody speaks it (baseline):           "
        f"p50 {f['base_p50']:7.1f}  p99 {f['base_p99']:7.1f} ms"
        f"  ({len(result.unserved_ms)} requests)"
    )
    print(
        f"  {'':<9} ratio to the baseline: p50 x{f['ratio_p50']:.2f}  p99 x{f['ratio_p99']:.2f};"
        "  in-process "
        f"pool snapshot p50 {f['snapshot_p50']:.1f} ms, engine ranking p50 {f['rank_p50']:.2f} ms"
    )
    if result.no_candidate:
        print(
            f"  {'':<9} ({result.no_candidate} served-language requests found no candidate;"
            " not timed)"
        )
    for problem in result.mismatches[:5]:
        print(f"  {'':<9} MISMATCH: {problem}")


def part_intake(args: argparse.Namespace) -> list[dict[str, OfferLatency]]:
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends:
        import sqlalchemy as sa

        from dispatch.storage import make_engine

        try:
            with make_engine(args.pg_url, poolclass=sa.pool.NullPool).connect():
                pass
        except sa.exc.OperationalError as exc:
            print(
                f"PostgreSQL at {args.pg_url} is not reachable ({str(exc).splitlines()[0]}):"
                " SQLite only"
            )
            backends.remove("postgres")
    print(
        f"Intake to first offer: {args.mediators} mediators, "
        f"{args.count} served + {args.count} unserved "
        f"requests per backend and run, one client, 1 uvicorn worker"
    )
    runs = []
    for number in range(args.repeat):
        print(f"run {number + 1}/{args.repeat}:")
        results = {}
        for backend in backends:
            manager = (
                intake.sqlite_database() if backend == "sqlite" else postgres_schema(args.pg_url)
            )
            with manager as url:
                results[backend] = measure_intake(
                    backend,
                    url,
                    mediators=args.mediators,
                    count=args.count,
                    seed=args.seed + number,
                )
            print_latency(results[backend])
        runs.append(results)
    if args.repeat > 1:
        print(
            f"\nintake to first offer, medians of {args.repeat} runs"
            " (ratios: median of the per-run ratios):"
        )
        for backend in runs[0]:
            med = {
                k: statistics.median(run[backend].figures()[k] for run in runs)
                for k in runs[0][backend].figures()
            }
            mismatches = sum(len(run[backend].mismatches) for run in runs)
            print(
                f"  {backend:<9} p50 {med['p50']:.1f} ms  p99 {med['p99']:.1f} ms;"
                f"  nobody speaks it: p50 {med['base_p50']:.1f} ms  p99 {med['base_p99']:.1f} ms;"
                f"  ratio p50 x{med['ratio_p50']:.2f}  p99 x{med['ratio_p99']:.2f};"
                f"  pool snapshot {med['snapshot_p50']:.1f} ms,"
                f" ranking {med['rank_p50']:.2f} ms; mismatches {mismatches}"
            )
    return runs


# ------------------------------------------------------------ part 2: a busy week


def print_week(results: list[sim.WeekFigures]) -> None:
    default = results[0].figures()
    print(
        f"  {'policy':<14} {'filled':>8} {'fill rate':>9} {'of feasible':>11}"
        f" {'ttf p50':>8} {'ttf p90':>8} {'offers/filled':>13} {'offer msgs/filled':>17}"
        f" {'all msgs/filled':>15} {'late yes/filled':>15}"
        f" {'wall s':>6}"
    )
    for result in results:
        f = result.figures()
        print(
            f"  {result.policy:<14} {result.filled:>4}/{result.requests:<3} {f['fill_rate']:>9.1%}"
            f" {f['fill_rate_feasible']:>11.1%} {f['ttf_p50_min']:>7.0f}m {f['ttf_p90_min']:>7.0f}m"
            f" {f['offers_per_filled']:>13.2f} {f['offer_messages_per_filled']:>17.2f}"
            f" {f['messages_per_filled']:>15.2f} {f['late_yes_per_filled']:>15.2f}"
            f" {result.seconds:>6.1f}"
        )
    for result in results[1:]:
        f = result.figures()
        print(
            f"  {result.policy} / default: fill rate"
            f" {f['fill_rate'] - default['fill_rate']:+.1%} points,"
            f" ttf p50 x{f['ttf_p50_min'] / default['ttf_p50_min']:.2f}, ttf p90 x"
            f"{f['ttf_p90_min'] / default['ttf_p90_min']:.2f}, offer messages per filled x"
            f"{f['offer_messages_per_filled'] / default['offer_messages_per_filled']:.2f}"
        )
    print("  by lead time (filled / requests, median time to fill):")
    for label, _, _, _ in sim.LEAD_MIX:
        cells = []
        for result in results:
            band = result.by_band[label]
            cells.append(
                f"{result.policy} {band.filled:>3}/{band.requests:<3} "
                f"{sim.nearest_rank(band.fill_minutes, 50):5.0f}m"
            )
        print(f"    {label:<10} " + "   ".join(cells))
    for result in results:
        answers = ", ".join(f"{k} {v}" for k, v in sorted(result.answers.items()))
        print(
            f"  answers under {result.policy}: {answers}; unfilled after a late yes: "
            f"{result.unfilled_after_late_yes}; late yeses lost while seeking: "
            f"{result.late_yes_lost}; offers sent at night: {result.night_offers}"
            f" of {result.offers} ({result.night_offers_not_allowed} to people who did not"
            " allow it);"
            f" given up at night: {result.unfilled_at_night}"
        )
        for problem in result.problems[:10]:
            print(f"  PROBLEM ({result.policy}): {problem}")


def part_week(args: argparse.Namespace) -> list[list[sim.WeekFigures]]:
    behaviour = sim.Behaviour()
    chosen = sim.policies() + (sim.extra_policies() if args.extra else [])
    chosen += [
        sim.SimPolicy(name, organisation_policy=json.loads(values))
        for name, _, values in (variant.partition(":") for variant in args.variant)
    ]
    if args.policies:
        keep = {name.strip() for name in args.policies.split(",")}
        chosen = [p for p in chosen if p.name in keep or p.name in args.variant_names]
    print(
        f"\nA busy week: {args.requests} requests, a town pool of {args.pool};"
        f" {behaviour.describe()}."
    )
    runs = []
    for number in range(args.repeat):
        seed = args.seed + number
        arrivals = sim.week_of_arrivals(seed, args.requests, sim.town_place_ids())
        bands = Counter(a.band for a in arrivals)
        print(
            f"seed {seed}: lead times "
            + ", ".join(f"{label} {bands[label]}" for label, _, _, _ in sim.LEAD_MIX)
        )
        with tempfile.TemporaryDirectory(prefix="sprachpool-week-") as directory:
            results = [
                sim.simulate(
                    policy,
                    arrivals=arrivals,
                    pool=args.pool,
                    seed=seed,
                    behaviour=behaviour,
                    directory=Path(directory),
                    history_weeks=args.history_weeks,
                )
                for policy in chosen
            ]
        print_week(results)
        runs.append(results)
    if args.repeat > 1:
        print(f"\nweek, medians over {args.repeat} seeds:")
        for index, policy in enumerate(chosen):
            med = {
                k: statistics.median(run[index].figures()[k] for run in runs)
                for k in runs[0][index].figures()
            }
            line = (
                f"  {policy.name:<14} fill rate {med['fill_rate']:.1%}"
                f" (of feasible {med['fill_rate_feasible']:.1%})"
                f"  ttf p50 {med['ttf_p50_min']:.0f} min  p90 {med['ttf_p90_min']:.0f} min"
                f"  offers/filled {med['offers_per_filled']:.2f}"
                f"  offer msgs/filled {med['offer_messages_per_filled']:.2f}"
                f"  all msgs/filled {med['messages_per_filled']:.2f}"
                f"  late yes/filled {med['late_yes_per_filled']:.2f}"
                f"  waves/filled {med['waves_per_filled']:.2f}"
                f"  offers at night {med['night_offers']:.0f}"
                f" (not allowed {med['night_offers_not_allowed']:.0f})"
                f"  late yeses lost {med['late_yes_lost']:.0f}"
                f"  given up at night {med['unfilled_at_night']:.0f}  unfilled after a late yes "
                f"{med['unfilled_after_late_yes']:.0f}"
            )
            print(line)
            cells = []
            for label, _, _, _ in sim.LEAD_MIX:
                rate = statistics.median(
                    run[index].by_band[label].filled / run[index].by_band[label].requests
                    for run in runs
                )
                ttf = statistics.median(
                    sim.nearest_rank(run[index].by_band[label].fill_minutes, 50) for run in runs
                )
                cells.append(f"{label}: {rate:.0%} filled, ttf p50 {ttf:.0f} min")
            print(f"  {'':<14} " + "; ".join(cells))
    return runs


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["intake", "week", "both"], default="both")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="repeat part 1 N times and run the week with N seeds; prints medians",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 15 + 15 requests per backend, a week of 60 requests",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--mediators", type=int, default=1000, help="pool size for part 1")
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="served (and as many unserved) requests per backend and run (default 60)",
    )
    parser.add_argument(
        "--requests", type=int, default=None, help="requests in the simulated week (default 300)"
    )
    parser.add_argument("--pool", type=int, default=100, help="mediators in the simulated town")
    parser.add_argument(
        "--history-weeks",
        type=int,
        default=4,
        help="weeks of earlier offers in the records before the simulated week (0: none)",
    )
    parser.add_argument(
        "--extra", action="store_true", help="also simulate the policy variants in _dispatch_sim"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:JSON",
        help="also simulate the default with these policy values (organisation overrides),"
        " e.g. 't55:{\"target_chance\": 0.55}'",
    )
    parser.add_argument(
        "--policies",
        help="simulate only these of default, broadcast, one at a time, oracle (comma-separated)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a database in which a throw-away schema is created",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.variant_names = {variant.partition(":")[0] for variant in args.variant}
    args.count = args.count or (15 if args.quick else 60)
    args.requests = args.requests or (60 if args.quick else 300)
    if args.repeat < 1 or args.count < 1 or args.requests < 1 or args.pool < 1:
        parser.error("--repeat, --count, --requests and --pool must be positive")

    print(f"code: {intake.code_version()}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
    print(intake.filed_at())
    began = time.perf_counter()
    report: dict[str, Any] = {}
    if args.part in ("intake", "both"):
        report["intake"] = [
            {b: {**r.figures(), "mismatches": r.mismatches} for b, r in run.items()}
            for run in part_intake(args)
        ]
    if args.part in ("week", "both"):
        report["week"] = [
            {r.policy: {**r.figures(), "problems": r.problems} for r in run}
            for run in part_week(args)
        ]
    print(f"\n(total {time.perf_counter() - began:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
