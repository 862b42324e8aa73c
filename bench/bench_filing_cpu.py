"""CPU per filing in process: the filing flow alone, no HTTP server, no client threads.

Seeds a SQLite database as `bench_intake.py` does (the same pool, places and
request mix), files `--warmup` requests, then `--requests` measured ones
through `requests.flows.file_request` and `to_public` in their own unit of
work each, and prints the process CPU per filing; the median of `--repeat`
runs. `--profile file.py:function,...` adds cProfile's cumulative time per
filing for those functions (the profiler inflates Python loops more than
numpy, so compare profiled figures only with each other).

    .venv/bin/python bench/bench_filing_cpu.py --requests 300 --repeat 3
    .venv/bin/python bench/bench_filing_cpu.py --requests 300 \\
        --profile offers/service.py:ranked_with_preferred,offers/flows.py:_scarce
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_intake  # noqa: E402  (the bench's own seed and request mix)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--mediators", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", default="", help="file.py:function,... to time under cProfile")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=bench_intake.DEFAULT_PG_URL,
        help=f"a maintenance database on the server; {bench_intake.BENCH_DB} is made beside it",
    )
    args = parser.parse_args(argv)
    if min(args.requests, args.repeat, args.mediators) < 1 or args.warmup < 0:
        parser.error("--requests, --repeat and --mediators must be positive")

    from dispatch.requests.schemas import RequestCreate

    print(f"code: {bench_intake.code_version()}; python {sys.version.split()[0]}; {args.backend}")
    database = (
        bench_intake.sqlite_database()
        if args.backend == "sqlite"
        else bench_intake.postgres_database(args.pg_url)
    )
    with database as url:
        prepared = bench_intake.seed(url, args.mediators)
        now = bench_intake.BENCH_NOW
        engine, file_one = bench_intake.in_process_filer(url, prepared.token, now)
        rng = random.Random(5)
        total = args.warmup + args.requests * (args.repeat + (1 if args.profile else 0))
        bodies = [
            RequestCreate.model_validate(bench_intake.request_body(rng, prepared.place_ids, now))
            for _ in range(total)
        ]
        numbers = iter(range(total))

        def file() -> None:
            i = next(numbers)
            file_one(bodies[i], f"cpu-{i}")

        for _ in range(args.warmup):
            file()
        runs = []
        for run in range(args.repeat):
            began = time.process_time()
            for _ in range(args.requests):
                file()
            runs.append((time.process_time() - began) / args.requests * 1000)
            print(f"run {run + 1}/{args.repeat}: {runs[-1]:.2f} ms CPU per filing")
        print(f"median of {args.repeat}: {statistics.median(runs):.2f} ms CPU per filing")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(args.requests):
                file()
            profiler.disable()
            stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            for wanted in args.profile.split(","):
                path, _, name = wanted.partition(":")
                cumulative = sum(
                    row[3]
                    for (filename, _line, function), row in stats.items()
                    if filename.endswith(path) and function == name
                )
                print(f"  {cumulative / args.requests * 1000:7.2f} ms profiled  {wanted}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
