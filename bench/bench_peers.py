"""The engine against its peers on congested weeks, in one process, same instances.

    .venv/bin/python bench/bench_peers.py --instances town city          # about 10 min
    .venv/bin/python bench/bench_peers.py --instances region             # about 33 min

Instances are `generate(size, seed=1, preset=True)` (recent demand by language
against an older supply, see matching/generate.py). Planners, each on the
same Problem and Pool, each in a forked child process with a stated time
budget, stopped at 1.5 x that budget + 60 s (`isolated`; a planner stopped
there is reported as not finished, with no figures):

- status quo: requests in order, first feasible mediator on the list;
- careful greedy: matching.greedy.careful_greedy;
- VROOM (pyvroom): one run per day (bench/_vroom_peer.py), made feasible
  for the week by `make_week_feasible`;
- HiGHS MIP per day (highspy): filled priority per day with the weekly cap
  as the day's cap, started from the careful greedy's plan for that day,
  each day given an equal share of the time (and as much again for the
  day's LP relaxation, town and city), then made feasible for the week the
  same way; HiGHS's presolve is off for a day of more than
  `_highs_peer.PRESOLVE_MAX_ROWS` rows (the region's);
- Sprachpool optimize with the instance's time limit.

Bounds on filled priority: the engine's own (when it did not prune or split
by day), the sum of HiGHS's per-day LP relaxations and the sum of the
per-day MIP dual bounds (each day with the whole weekly cap is a relaxation
of the week), the LP relaxation of the whole week by HiGHS's simplex (town
and city; the region's, without even its travel rows, did not finish in
400 s), and a min-cost flow of minutes (matching/bounds.py: requests split
freely, the weekly caps and each mediator's day kept; seconds on the region),
also with each mediator's time cut into quarter hours (`slot_flow_bound`:
tighter, town 438 / city 5,135 / region 26,308 against 443 / 5,182 / 26,340;
50 s and 0.7 GB on the region). "Per component, best of each"
(`matching.bounds.by_component`): the sum over the connected components of
each one's least bound among its total, both flows on it alone, the
engine's proof where it solved it whole, its LP relaxation where it has at
most 20,000 pairs, and the bound from the duals of its LP without travel rows
after at most 480 s of HiGHS's interior point method (any duals >= 0 give a
bound, `matching.bounds.dual_bound`); it names the method that gave each
component's.
The week LP keeps the weekly caps, so it is tighter than the days' (city:
5,055 against 5,173). The best (lowest) is "the best bound known". Every
plan is verified by `check`; figures are check's. Peak memory is the child
process's peak resident set (the kernel's VmHWM: the pages of the instance
it touched and what the planner built). Asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "bench"))

from matching.bounds import (  # noqa: E402
    by_component,
    dual_bound,
    engine_bounds,
    flow_bound,
    lp_rows,
    slot_flow_bound,
)
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

INSTANCES: dict[str, tuple[str, float, float, float, bool]] = {
    # name: (preset size, engine seconds, per-day MIP seconds in all, week LP seconds,
    # whether each day's LP relaxation runs too, with as much time again as its MIP)
    "town": ("town", 10.0, 30.0, 60.0, True),
    "city": ("city", 60.0, 120.0, 600.0, True),
    # The region's HiGHS gets the engine's 300 s in all, every second of it for the MIP
    # (60 s a day): a region day's LP (199,043 columns, 1.4 million rows) did not finish
    # in 30 s nor in 120 s, so it gave no bound, and the bench stopped the peer at its
    # cap before the last days' MIPs had run (ninth step). The flow bounds need no LP.
    "region": ("region", 300.0, 300.0, 0.0, False),
}
VROOM_LEVEL = {"town": 5, "city": 5, "region": 2}
"""VROOM's exploration level per instance (`--vroom-level` sets one for all). Level 5 did
not finish the region within the bench's cap (176 s for one day on a slow host, the
week's 60 s a day notwithstanding); level 2 plans the region's week in about 415 s."""
BASELINE_CAP_S = 900.0
"""The greedy baselines have no time limit of their own; a run longer than this is reported."""
PEER_CAP_FACTOR = 1.5
PEER_CAP_EXTRA_S = 60.0
"""A planner with a time budget is stopped at 1.5 x its budget + 60 s (model building and
reading the plan back are outside the solvers' clocks) and reported as not finished."""


def _status_kb(pid: int | str, key: str) -> int:
    """A figure of /proc/<pid>/status in kB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Outcome:
    """What a planner run in a child process sends back."""

    solution: Solution | None
    note: str
    bounds: dict[str, float]
    peak_kb: int
    skipped: str = ""


def isolated(
    run: Callable[[], tuple[Solution, str, dict[str, float]]], cap_s: float
) -> tuple[Outcome | None, float]:
    """Run a planner in a forked child, killed after `cap_s` seconds of wall clock.

    The child shares the parent's problem, pool and pairs (copy on write), so
    its peak resident set (the kernel's VmHWM) counts what the planner holds
    on top of them, the instance included as before. Returns the outcome
    (None when the child was killed at the cap or died) and the seconds.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            solution, note, bounds = run()
            send.send(Outcome(solution, note, bounds, _status_kb("self", "VmHWM")))
        except SkipPeer as skip:
            send.send(Outcome(None, "", {}, 0, skipped=str(skip)))
        send.close()

    began = time.perf_counter()
    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    outcome: Outcome | None = None
    if receive.poll(cap_s):
        try:
            outcome = receive.recv()
        except EOFError:  # the child died without an answer
            outcome = None
    seconds = time.perf_counter() - began
    if process.is_alive():
        process.kill()
    process.join()
    return outcome, seconds


@dataclass
class Row:
    planner: str
    solution: Solution | None
    """None: the planner did not finish within its cap."""
    seconds: float
    peak_mb: float
    note: str
    load: float
    """The one-minute load average when the planner ended."""


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


def run_instance(name: str, workers: int, vroom_level: int | None) -> None:
    size, engine_s, mip_s, week_lp_s, day_lp = INSTANCES[name]
    problem = generate(size, seed=1, preset=True)
    pool = Pool(problem.mediators)
    started = time.perf_counter()
    pairs = feasible_pairs(problem, pool)
    pairs_s = time.perf_counter() - started
    jobs = problem_jobs(problem)
    total = sum(r.priority for r in problem.requests)
    print(
        f"\n## {name}: {len(problem.mediators)} mediators, {len(problem.requests)} requests,"
        f" total priority {total}, {len(pairs)} feasible pairs ({pairs_s:.1f} s);"
        f" load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: list[Row] = []
    bounds: dict[str, float] = {}
    days = days_of(problem, pairs)

    def timed(
        planner: str,
        budget: str,
        cap_s: float,
        run: Callable[[], tuple[Solution, str, dict[str, float]]],
    ) -> None:
        outcome, seconds = isolated(run, cap_s)
        load = os.getloadavg()[0]
        if outcome is not None and outcome.skipped:
            print(f"  {planner}: skipped, {outcome.skipped}", flush=True)
            return
        if outcome is None or outcome.solution is None:
            note = f"(budget {budget}; **did not finish**: stopped at {cap_s:.0f} s)"
            rows.append(Row(planner, None, seconds, 0.0, note, load))
            print(f"  {planner}: did not finish in {cap_s:.0f} s", flush=True)
            return
        bounds.update(outcome.bounds)
        note = f"(budget {budget}{'; ' if outcome.note else ''}{outcome.note})"
        solution = outcome.solution
        rows.append(Row(planner, solution, seconds, outcome.peak_kb / 1024, note, load))
        print(
            f"  {planner}: {solution.filled_priority} in {seconds:.1f} s {note}, load {load:.1f}",
            flush=True,
        )

    def plain(planner: Callable[[Problem, Pool], Solution]) -> Callable[..., Any]:
        return lambda: (planner(problem, pool), "", {})

    timed("status quo", "none", BASELINE_CAP_S, plain(status_quo))
    timed("careful greedy", "none", BASELINE_CAP_S, plain(careful_greedy))

    level = VROOM_LEVEL[name] if vroom_level is None else vroom_level

    def with_vroom() -> tuple[Solution, str, dict[str, float]]:
        try:
            import _vroom_peer
        except ImportError as error:
            raise SkipPeer(f"pyvroom not installed ({error})") from error
        proposed, _ = _vroom_peer.plan_week(
            problem,
            pool,
            pairs,
            exploration_level=level,
            threads=workers,
            seconds_per_day=engine_s / len(days),
        )
        holder, dropped = make_week_feasible(problem, pool, pairs, proposed)
        note = f"level {level}; {dropped} of {len(proposed)} pairs dropped to fit the week"
        return plan_solution(problem, pool, holder, "FEASIBLE"), note, {}

    def with_highs() -> tuple[Solution, str, dict[str, float]]:
        try:
            import _highs_peer
        except ImportError as error:
            raise SkipPeer(f"highspy not installed ({error})") from error
        proposed: dict[int, int] = {}
        day_bound = 0.0
        lp_bound = 0.0 if day_lp else math.inf  # without the day LPs, no bound from them
        statuses = []
        greedy = careful_plan(problem, pool, pairs).holder
        for local in days:
            in_greedy = np.array(
                [
                    greedy.get(int(r)) == int(m)
                    for r, m in zip(pairs.request[local], pairs.mediator[local], strict=True)
                ]
            )
            if day_lp:
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
            statuses.append(result.status + ("" if result.presolved else " (no presolve)"))
            day_bound += result.bound
            for k in result.chosen:
                proposed[int(pairs.request[k])] = int(pairs.mediator[k])
        found: dict[str, float] = {}
        if math.isfinite(lp_bound):
            found["HiGHS LP relaxation per day"] = math.floor(lp_bound + 1e-6)
        if math.isfinite(day_bound):
            found["HiGHS per-day MIP bound"] = math.floor(day_bound + 1e-6)
        holder, dropped = make_week_feasible(problem, pool, pairs, proposed)
        note = (
            f"days: {', '.join(sorted(set(statuses)))}; {dropped} of {len(proposed)} pairs"
            " dropped to fit the week"
        )
        return plan_solution(problem, pool, holder, "FEASIBLE"), note, found

    def with_engine() -> tuple[Solution, str, dict[str, float]]:
        solution = optimize(problem, time_limit_s=engine_s, num_workers=workers, pool=pool)
        found: dict[str, float] = {}
        if solution.stats.get("pruned_to"):
            note = f"pruned to {solution.stats['pruned_to']} per request"
        else:
            found["engine's own"] = float(solution.filled_priority_bound or math.inf)
            note = f"own bound {solution.filled_priority_bound}, {solution.status}"
        return solution, note, found

    timed(
        "VROOM per day",
        f"{engine_s / len(days):.0f} s a day",
        engine_s * PEER_CAP_FACTOR + PEER_CAP_EXTRA_S,
        with_vroom,
    )
    day_s = mip_s / len(days)
    timed(
        "HiGHS MIP per day",
        f"{day_s:.0f} s LP + {day_s:.0f} s MIP a day" if day_lp else f"{day_s:.0f} s MIP a day",
        (2 if day_lp else 1) * mip_s * PEER_CAP_FACTOR + PEER_CAP_EXTRA_S,
        with_highs,
    )
    timed(
        "Sprachpool optimize",
        f"{engine_s:.0f} s",
        engine_s * PEER_CAP_FACTOR + PEER_CAP_EXTRA_S,
        with_engine,
    )

    if week_lp_s > 0:
        week_lp_bound(pool, jobs, pairs, workers, week_lp_s, bounds)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    flow, flow_s = flow_bound(pool, jobs, pairs, day_of)
    print(f"  min-cost flow bound: {flow:,} in {flow_s:.1f} s", flush=True)
    bounds["min-cost flow of minutes"] = float(flow)
    slot_flow, slot_flow_s = slot_flow_bound(pool, jobs, pairs)
    print(f"  min-cost flow of quarter hours: {slot_flow:,} in {slot_flow_s:.1f} s", flush=True)
    bounds["min-cost flow of quarter hours"] = float(slot_flow)
    has_candidate = pairs.count_per_request() > 0
    bounds["every request with a candidate"] = float(jobs.priority[has_candidate].sum())
    engine = next((r.solution for r in rows if r.planner == "Sprachpool optimize"), None)
    bounds[PER_COMPONENT] = float(component_bound(pool, jobs, pairs, day_of, engine, workers))
    best_by, best = min(bounds.items(), key=lambda item: item[1])
    print(
        "\n  bounds: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in bounds.items())
        + f"; best known {best:,.0f} ({best_by})"
    )
    preferred = [set(r.preferred_mediators) for r in problem.requests]
    index = {r.id: i for i, r in enumerate(problem.requests)}
    print(
        "\n| planner | filled priority | % of best bound | filled | continuity matches"
        " | travel km | load spread (min) | seconds | peak RSS | load avg | feasible |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        if row.solution is None:
            print(
                f"| {row.planner} {row.note} | - | - | - | - | - | - | {row.seconds:.1f} | - |"
                f" {row.load:.1f} | - |",
                flush=True,
            )
            continue
        report = check(problem, row.solution)
        continuity = sum(
            a.mediator in preferred[index[a.request]] for a in row.solution.assignments
        )
        print(
            f"| {row.planner} {row.note} | {report.figures.filled_priority:,} |"
            f" {100.0 * report.figures.filled_priority / best:.2f} |"
            f" {report.figures.filled:,} | {continuity} | {report.figures.travel_km:,.0f} |"
            f" {report.figures.fairness_spread_minutes:,.0f} | {row.seconds:.1f} |"
            f" {row.peak_mb:,.0f} MB | {row.load:.1f} | {report.feasible} |",
            flush=True,
        )


PER_COMPONENT = "per component, best of each"
LP_COMPONENT_PAIRS = 20_000
"""Components up to this many pairs get their own LP relaxation (HiGHS, simplex)."""
LP_COMPONENT_S = 20.0
LP_DUAL_S = 480.0
"""Every component of more than one request gets a bound from the duals of its LP without
travel rows after at most this long by HiGHS's interior point method (`dual_bound`); the
congested city's 42,198-pair component's LP is solved in 3 s, the region's 788,058-pair
one's in 325 s at load 1.3-2.5 (21,357); cut by the limit, the last iterate's duals
still bound it, but loosely (22,270 after 250 s at load 6)."""
DUAL_SWEEPS = 3


def component_bound(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    day_of: np.ndarray,  # type: ignore[type-arg]
    engine: Solution | None,
    workers: int,
) -> int:
    """`matching.bounds.by_component`: per component the least of its total, both flows,
    the engine's proof (components it solved whole) and its LP (small components), summed.

    Prints which method gave each component's bound, and each component's bounds.
    """
    methods = {}
    try:
        import _highs_peer
    except ImportError:
        print("  per component: no LP (highspy not installed)", flush=True)
    else:

        def lp(local: np.ndarray) -> float | None:  # type: ignore[type-arg]
            if len(local) > LP_COMPONENT_PAIRS:
                return None
            result = _highs_peer.solve(
                pool,
                jobs,
                pairs,
                local,
                integer=False,
                time_limit_s=LP_COMPONENT_S,
                threads=workers,
                lp_solver="simplex",
            )
            return result.bound if math.isfinite(result.bound) else None

        def lp_dual(local: np.ndarray) -> float | None:  # type: ignore[type-arg]
            started = time.perf_counter()
            rows = lp_rows(pool, jobs, pairs, local)
            duals, status = _highs_peer.interior_duals(
                rows, time_limit_s=LP_DUAL_S, threads=workers
            )
            found = [dual_bound(rows, dual, DUAL_SWEEPS) for dual in duals]
            print(
                f"    LP duals, {len(local):,} pairs: {status};"
                f" {', '.join(f'{f:,.1f}' for f in found)}"
                f" in {time.perf_counter() - started:.0f} s, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            return min(found, default=None)

        methods["lp"] = lp
        methods["lp_dual"] = lp_dual
    proven = engine_bounds(engine.stats) if engine is not None else {}
    found = by_component(pool, jobs, pairs, day_of, proven=proven, methods=methods)
    counts = ", ".join(f"{method} {count}" for method, count in sorted(found.counts().items()))
    print(
        f"  {PER_COMPONENT}: {found.bound:,} in {found.seconds:.1f} s over"
        f" {len(found.components)} components (least bound by: {counts})",
        flush=True,
    )
    for component in sorted(found.components, key=lambda c: -len(c.pairs))[:8]:
        if len(component.requests) > 1:
            method, bound = component.best
            each = ", ".join(f"{k} {v:,}" for k, v in component.bounds.items())
            print(
                f"    {len(component.requests):,} requests, {len(component.pairs):,} pairs:"
                f" {bound:,} ({method}; {each})",
                flush=True,
            )
    return found.bound


def week_lp_bound(
    pool: Pool, jobs: Jobs, pairs: Pairs, workers: int, seconds: float, bounds: dict[str, float]
) -> None:
    """The LP relaxation of the whole week (weekly caps included), by HiGHS's simplex.

    Only a proven optimum is a bound; a run cut by its time limit adds none.
    Timed apart from the planners (it plans nothing), in a child process
    stopped at twice its time limit (building the rows is outside HiGHS's clock).
    """

    def run() -> tuple[Solution, str, dict[str, float]]:
        try:
            import _highs_peer
        except ImportError as error:
            raise SkipPeer(f"highspy not installed ({error})") from error
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
        found = {}
        if math.isfinite(result.bound):
            found["HiGHS LP relaxation of the week"] = math.floor(result.bound + 1e-6)
        note = f"{result.status}, {result.objective:,.2f}"
        return Solution((), (), "NONE"), note, found

    outcome, took = isolated(run, 2 * seconds + PEER_CAP_EXTRA_S)
    if outcome is None:
        print(f"  week LP relaxation: did not finish in {took:.0f} s", flush=True)
        return
    print(f"  week LP relaxation: {outcome.note} in {took:.0f} s", flush=True)
    bounds.update(outcome.bounds)


class SkipPeer(Exception):
    """A peer whose library is not installed."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instances", nargs="+", choices=sorted(INSTANCES), default=["town", "city"]
    )
    parser.add_argument("--workers", type=int, default=2, help="threads for every solver")
    parser.add_argument(
        "--vroom-level", type=int, default=None, help="VROOM exploration level (VROOM_LEVEL)"
    )
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f},"
        f" python {sys.version.split()[0]}"
    )
    for name in args.instances:
        run_instance(name, args.workers, args.vroom_level)


if __name__ == "__main__":
    main()
