"""Instructions per filing, counted by callgrind: a figure the machine's load does not move.

CPU seconds per request move by 10-30 % with what else runs on a shared
2-core machine; instructions do not (the same code gives the same count to
0.3 %). The script seeds a SQLite pool as `bench_intake.py` does, files
`--history` requests natively (the open requests and offer records a busy
Monday finds), then runs itself under ``valgrind --tool=callgrind`` with
counting off, files `--warmup` requests on a copy of that database, and
counts `--requests` more (``callgrind_control -i on/off``). The time is fixed
(Monday 2026-11-30 08:00 UTC), so two versions of the code meet the same
requests. Needs valgrind; takes about a minute per 40 filings.
`--past-weeks` puts a record of answered and unanswered offers on file
first (`bench_intake.add_past_offers`), as a pool in use has.

    .venv/bin/python bench/bench_filing_instructions.py --history 2000
    .venv/bin/python bench/bench_filing_instructions.py --history 2000 --past-weeks 26
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_intake  # noqa: E402  (the bench's own seed and request mix)
from bench_intake import BENCH_NOW  # noqa: E402  (the instant every bench files at)


def _bodies(seed: int, count: int, place_ids: list[int]) -> list[Any]:
    from dispatch.requests.schemas import RequestCreate

    rng = random.Random(seed)
    return [
        RequestCreate.model_validate(bench_intake.request_body(rng, place_ids, BENCH_NOW))
        for _ in range(count)
    ]


def prepare(directory: Path, mediators: int, history: int, past: tuple[int, int]) -> Path:
    """The seeded database with `history` filings on file, and its token and places beside it.

    `past`: (weeks, offers a week to each mediator) of past offers on file first
    (`bench_intake.add_past_offers`).
    """
    with bench_intake.sqlite_database() as url:
        prepared = bench_intake.seed(url, mediators, today=BENCH_NOW.date())
        weeks, per_week = past
        bench_intake.add_past_offers(url, weeks=weeks, per_week=per_week, now=BENCH_NOW)
        engine, file = bench_intake.in_process_filer(url, prepared.token, BENCH_NOW)
        for i, body in enumerate(_bodies(5, history, prepared.place_ids)):
            file(body, f"history-{i}")
        engine.dispose()
        template = directory / "template.db"
        shutil.copy(url.removeprefix("sqlite:///"), template)
    meta = {"token": prepared.token, "place_ids": prepared.place_ids}
    (directory / "template.json").write_text(json.dumps(meta))
    return template


def measure(template: Path, warmup: int, requests: int) -> None:
    """Run under callgrind: file on a copy of `template`, counting only the measured filings."""
    meta = json.loads(template.with_suffix(".json").read_text())
    database = template.with_name("run.db")
    shutil.copy(template, database)
    engine, file = bench_intake.in_process_filer(f"sqlite:///{database}", meta["token"], BENCH_NOW)
    bodies = _bodies(99, warmup + requests, meta["place_ids"])
    for i in range(warmup):
        file(bodies[i], f"warm-{i}")

    def counting(switch: str) -> None:
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True)

    counting("on")
    for i in range(warmup, warmup + requests):
        file(bodies[i], f"measured-{i}")
    counting("off")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=int, default=2000, help="filings on file first")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--mediators", type=int, default=1000)
    bench_intake.add_past_arguments(parser)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's template
    args = parser.parse_args(argv)
    if args.measure is not None:
        measure(args.measure, args.warmup, args.requests)
        return 0
    if min(args.requests, args.mediators) < 1 or min(args.history, args.warmup) < 0:
        parser.error("--requests and --mediators must be positive, the others not negative")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("valgrind (with callgrind_control) is needed: apt-get install valgrind")
    print(f"code: {bench_intake.code_version()}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="sprachpool-callgrind-") as tmp:
        directory = Path(tmp)
        template = prepare(
            directory, args.mediators, args.history, (args.past_weeks, args.past_per_week)
        )
        out = directory / "callgrind.out"
        child = [sys.executable, __file__, "--measure", str(template)]
        child += ["--warmup", str(args.warmup), "--requests", str(args.requests)]
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
            + child,
            check=True,
            capture_output=True,
        )
        totals = next(
            int(line.split()[1])
            for line in out.read_text().splitlines()
            if line.startswith("totals:")
        )
    per_filing = totals / args.requests / 1e6
    print(
        f"{args.history} filings and {args.past_weeks} weeks of past offers"
        f" ({args.past_per_week} a mediator a week) on file, {args.warmup} warm-up,"
        f" {args.requests} counted: "
        f"{per_filing:.2f} M instructions per filing"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
