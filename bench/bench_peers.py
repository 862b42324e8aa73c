"""The engine against its peers on congested weeks, in one process, same instances.

    .venv/bin/python bench/bench_peers.py --instances town city          # about 6 min
    .venv/bin/python bench/bench_peers.py --instances region             # about 20 min

Instances are `generate(size, seed=1, preset=True)` (recent demand by language
against an older supply, see matching/generate.py). Planners, each on the
same Problem and Pool:

- status quo: requests in order, first feasible mediator on the list;
- careful greedy: matching.greedy.careful_greedy;
- VROOM (pyvroom): one run per day (bench/_vroom_peer.py), made feasible
  for the week by `make_week_feasible`;
- HiGHS MIP per day (highspy): filled priority per day with the weekly cap
  as the day's cap, started from the careful greedy's plan for that day,
  each day given an equal share of the time (and as much again for the
  day's LP relaxation), then made feasible for the week the same way;
- Sprachpool optimize with the instance's time limit.

Bounds on filled priority: the engine's own (when it did not prune or split
by day), the sum of HiGHS's per-day LP relaxations and the sum of the
per-day MIP dual bounds (each day with the whole weekly cap is a relaxation
of the week), and the LP relaxation of the whole week by HiGHS's simplex
(town and city; the interior point method had not finished it in 120 s, the
simplex took 224 s on the loaded machine; the region's is too large). The
week LP keeps the weekly caps, so it is tighter than the days' (city: 5,055
against 5,173).
The best (lowest) is "the best bound known". Every plan is verified by
`check`; figures are check's. Peak memory is the process's resident set,
sampled every 20 ms while the planner runs (the problem and pool, held
throughout, are included). Asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "bench"))

from matching.candidates import Jobs, Pairs, feasible_pairs, problem_jobs  # noqa: E402
from matching.feasibility import check  # noqa: E402
from matching.generate import generate  # noqa: E402
from matching.greedy import (  # noqa: E402
    Planner,
    careful_greedy,
    careful_plan,
    plan_solution,
    status_quo,
)
from matching.model import Problem, Solution  # noqa: E402
from matching.optimize import optimize  # noqa: E402
from matching.rank import Pool  # noqa: E402

INSTANCES: dict[str, tuple[str, float, float, float]] = {
    # name: (preset size, engine seconds, per-day MIP seconds in all, week LP seconds)
    "town": ("town", 10.0, 30.0, 60.0),
    "city": ("city", 60.0, 120.0, 600.0),
    "region": ("region", 300.0, 300.0, 0.0),
}


class PeakMemory:
    """The process's peak resident set while a block runs, sampled from /proc."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def rss_kb() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def __enter__(self) -> PeakMemory:
        self.peak_kb = self.rss_kb()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kb = max(self.peak_kb, self.rss_kb())

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_kb = max(self.peak_kb, self.rss_kb())


@dataclass
class Row:
    planner: str
    solution: Solution
    seconds: float
    peak_mb: float
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def make_week_feasible(
    problem: Problem, pool: Pool, pairs: Pairs, holder: dict[int, int]
) -> tuple[dict[int, int], int]:
    """Keep a proposed plan's pairs that fit together, higher priority first.

    Pairs are added in the order (priority, earlier start) through the same
    conflict test as the greedy planners (overlap, travel between jobs and
    busy places, the weekly minutes cap); a pair the rules forbid or that no
    longer fits is dropped. Returns the plan and how many pairs were dropped.
    """
    planner = Planner(problem, pool, problem_jobs(problem))
    dropped = 0
    order = sorted(holder, key=lambda r: (-problem.requests[r].priority, problem.requests[r].start))
    for r in order:
        m = holder[r]
        lo, hi = int(pairs.offsets[r]), int(pairs.offsets[r + 1])
        if m in pairs.mediator[lo:hi] and planner.fits(r, m):
            planner.assign(r, m)
        else:
            dropped += 1
    return planner.holder, dropped


def days_of(problem: Problem, pairs: Pairs) -> list[np.ndarray]:  # type: ignore[type-arg]
    """Pair indices per calendar day of the request's start."""
    day = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    per_pair = day[pairs.request]
    return [np.flatnonzero(per_pair == d) for d in np.unique(per_pair)]


def run_instance(name: str, workers: int, vroom_level: int) -> None:
    size, engine_s, mip_s, week_lp_s = INSTANCES[name]
    problem = generate(size, seed=1, preset=True)
    pool = Pool(problem.mediators)
    started = time.perf_counter()
    pairs = feasible_pairs(problem, pool)
    pairs_s = time.perf_counter() - started
    jobs = problem_jobs(problem)
    total = sum(r.priority for r in problem.requests)
    print(
        f"\n## {name}: {len(problem.mediators)} mediators, {len(problem.requests)} requests,"
        f" total priority {total}, {len(pairs)} feasible pairs ({pairs_s:.1f} s)",
        flush=True,
    )
    rows: list[Row] = []
    bounds: dict[str, float] = {}

    def timed(planner: str, run: Callable[[], tuple[Solution, str]]) -> None:
        with PeakMemory() as memory:
            began = time.perf_counter()
            solution, note = run()
            seconds = time.perf_counter() - began
        rows.append(Row(planner, solution, seconds, memory.peak_kb / 1024, note))
        print(f"  {planner}: {solution.filled_priority} in {seconds:.1f} s {note}", flush=True)

    timed("status quo", lambda: (status_quo(problem, pool), ""))
    timed("careful greedy", lambda: (careful_greedy(problem, pool), ""))

    def with_vroom() -> tuple[Solution, str]:
        try:
            import _vroom_peer
        except ImportError as error:
            raise SkipPeer(f"pyvroom not installed ({error})") from error
        days = len(days_of(problem, pairs))
        proposed, _ = _vroom_peer.plan_week(
            problem,
            pool,
            pairs,
            exploration_level=vroom_level,
            threads=workers,
            seconds_per_day=engine_s / days,
        )
        holder, dropped = make_week_feasible(problem, pool, pairs, proposed)
        note = (
            f"(level {vroom_level}, {engine_s / days:.0f} s a day; {dropped} of {len(proposed)}"
            " pairs dropped to fit the week)"
        )
        return plan_solution(problem, pool, holder, "FEASIBLE"), note

    def with_highs() -> tuple[Solution, str]:
        try:
            import _highs_peer
        except ImportError as error:
            raise SkipPeer(f"highspy not installed ({error})") from error
        proposed: dict[int, int] = {}
        day_bound = lp_bound = 0.0
        days = days_of(problem, pairs)
        statuses = []
        greedy = careful_plan(problem, pool, pairs).holder
        for local in days:
            in_greedy = np.array(
                [
                    greedy.get(int(r)) == int(m)
                    for r, m in zip(pairs.request[local], pairs.mediator[local], strict=True)
                ]
            )
            relaxed = _highs_peer.solve(
                pool,
                jobs,
                pairs,
                local,
                integer=False,
                time_limit_s=mip_s / len(days),
                threads=workers,
            )
            lp_bound += relaxed.bound
            result = _highs_peer.solve(
                pool,
                jobs,
                pairs,
                local,
                integer=True,
                time_limit_s=mip_s / len(days),
                threads=workers,
                start=np.flatnonzero(in_greedy),
            )
            statuses.append(result.status)
            day_bound += result.bound
            for k in result.chosen:
                proposed[int(pairs.request[k])] = int(pairs.mediator[k])
        if math.isfinite(lp_bound):
            bounds["HiGHS LP relaxation per day"] = math.floor(lp_bound + 1e-6)
        if math.isfinite(day_bound):
            bounds["HiGHS per-day MIP bound"] = math.floor(day_bound + 1e-6)
        holder, dropped = make_week_feasible(problem, pool, pairs, proposed)
        note = (
            f"(days: {', '.join(sorted(set(statuses)))}; {dropped} of {len(proposed)} pairs"
            " dropped to fit the week)"
        )
        return plan_solution(problem, pool, holder, "FEASIBLE"), note

    def with_engine() -> tuple[Solution, str]:
        solution = optimize(problem, time_limit_s=engine_s, num_workers=workers, pool=pool)
        if solution.stats.get("pruned_to"):
            note = f"(pruned to {solution.stats['pruned_to']} per request)"
        else:
            bounds["engine's own"] = float(solution.filled_priority_bound or math.inf)
            note = f"(own bound {solution.filled_priority_bound}, {solution.status})"
        return solution, note

    for planner, run in (
        ("VROOM per day", with_vroom),
        ("HiGHS MIP per day", with_highs),
        ("Sprachpool optimize", with_engine),
    ):
        try:
            timed(planner, run)
        except SkipPeer as skip:
            print(f"  {planner}: skipped, {skip}", flush=True)

    if week_lp_s > 0:
        week_lp_bound(pool, jobs, pairs, workers, week_lp_s, bounds)
    has_candidate = pairs.count_per_request() > 0
    bounds["every request with a candidate"] = float(jobs.priority[has_candidate].sum())
    best_by, best = min(bounds.items(), key=lambda item: item[1])
    print(
        "\n  bounds: "
        + ", ".join(f"{k} {v:.0f}" for k, v in bounds.items())
        + f"; best known {best:.0f} ({best_by})"
    )
    preferred = [set(r.preferred_mediators) for r in problem.requests]
    index = {r.id: i for i, r in enumerate(problem.requests)}
    print(
        "\n| planner | filled priority | % of best bound | filled | continuity matches"
        " | travel km | load spread (min) | seconds | peak RSS | feasible |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        report = check(problem, row.solution)
        continuity = sum(
            a.mediator in preferred[index[a.request]] for a in row.solution.assignments
        )
        print(
            f"| {row.planner} {row.note} | {report.figures.filled_priority:,} |"
            f" {100.0 * report.figures.filled_priority / best:.2f} |"
            f" {report.figures.filled} | {continuity} | {report.figures.travel_km:,.0f} |"
            f" {report.figures.fairness_spread_minutes:,.0f} | {row.seconds:.1f} |"
            f" {row.peak_mb:,.0f} MB | {report.feasible} |",
            flush=True,
        )


def week_lp_bound(
    pool: Pool, jobs: Jobs, pairs: Pairs, workers: int, seconds: float, bounds: dict[str, float]
) -> None:
    """The LP relaxation of the whole week (weekly caps included), by HiGHS's simplex.

    Only a proven optimum is a bound; a run cut by its time limit adds none.
    Timed apart from the planners (it plans nothing).
    """
    try:
        import _highs_peer
    except ImportError:
        return
    result = _highs_peer.solve(
        pool,
        jobs,
        pairs,
        np.arange(len(pairs), dtype=np.int64),
        integer=False,
        time_limit_s=seconds,
        threads=workers,
        lp_solver="simplex",
    )
    print(
        f"  week LP relaxation: {result.status}, {result.objective:,.2f} in {result.seconds:.0f} s",
        flush=True,
    )
    if math.isfinite(result.bound):
        bounds["HiGHS LP relaxation of the week"] = math.floor(result.bound + 1e-6)


class SkipPeer(Exception):
    """A peer whose library is not installed."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instances", nargs="+", choices=sorted(INSTANCES), default=["town", "city"]
    )
    parser.add_argument("--workers", type=int, default=2, help="threads for every solver")
    parser.add_argument("--vroom-level", type=int, default=5, help="VROOM exploration level")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f},"
        f" python {sys.version.split()[0]}"
    )
    for name in args.instances:
        run_instance(name, args.workers, args.vroom_level)


if __name__ == "__main__":
    main()
