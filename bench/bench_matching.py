"""Matching engine benchmark: ranking latency and whole-week optimisation.

    .venv/bin/python bench/bench_matching.py            # ranking, town, city
    .venv/bin/python bench/bench_matching.py --region   # and the region (about 5 min)
    .venv/bin/python bench/bench_matching.py --ranking-only [--ranking-sizes 1000 10000]
    .venv/bin/python bench/bench_matching.py --ranking-only --no-freeze   # the pool left to the GC

Prints figures and ratios measured in the same run; asserts nothing. Each
optimisation runs in its own process so the peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # the checkout's engine, installed or not: imports follow

from matching.feasibility import check  # noqa: E402
from matching.generate import generate  # noqa: E402
from matching.greedy import careful_greedy, status_quo  # noqa: E402
from matching.model import Problem, Solution  # noqa: E402
from matching.optimize import TIERS, optimize  # noqa: E402
from matching.rank import Pool, rank  # noqa: E402

INSTANCES: dict[str, tuple[str, float, float]] = {
    # name: (size, congestion, time limit for the optimiser)
    "town": ("town", 1.0, 10.0),
    "town-congested": ("town", 2.5, 10.0),
    "city": ("city", 1.0, 55.0),
    "city-congested": ("city", 2.0, 55.0),
    "region": ("region", 1.0, 280.0),
}


def ranking_latency(
    mediators: int, requests: int = 500, *, freeze: bool = True
) -> dict[str, float]:
    """Rank each request against one pool held in memory.

    With `freeze`, the generated problem and the pool's index are moved out of
    the garbage collector's way (gc.freeze) once built, as a process holding a
    large pool for long should do: every full collection otherwise walks their
    ~165,000 objects (50-80 ms at 10,000 mediators, about ten times in 500
    requests), and where those pauses fall, not the ranking, sets the p99.
    """
    problem = generate("region", seed=11, mediator_count=mediators, request_count=requests)
    started = time.perf_counter()
    pool = Pool(problem.mediators)
    for request in problem.requests:  # warm the per-language index once
        pool.speakers(request.language)
    build = time.perf_counter() - started
    if freeze:
        gc.collect()
        gc.freeze()
    timings, with_reasons, candidates, excluded = [], [], [], []
    for request in problem.requests:
        started = time.perf_counter()
        ranking = rank(request, pool)
        timings.append(time.perf_counter() - started)
        candidates.append(len(ranking.candidates))
        started = time.perf_counter()
        ranking.excluded  # noqa: B018 - the lazy reasons (codes and params), timed on their own
        with_reasons.append(time.perf_counter() - started + timings[-1])
        excluded.append(len(ranking.excluded_codes))
    if freeze:
        gc.unfreeze()
    timings.sort()
    with_reasons.sort()
    median_ms = statistics.median(timings) * 1000
    p99_ms = timings[int(0.99 * (len(timings) - 1))] * 1000
    median_with_reasons_ms = statistics.median(with_reasons) * 1000
    p99_with_reasons_ms = with_reasons[int(0.99 * (len(with_reasons) - 1))] * 1000
    return {
        "mediators": mediators,
        "index_build_s": build,
        "median_ms": median_ms,
        "p99_ms": p99_ms,
        "median_with_reasons_ms": median_with_reasons_ms,
        "p99_with_reasons_ms": p99_with_reasons_ms,
        "max_with_reasons_ms": with_reasons[-1] * 1000,
        "median_ratio": median_with_reasons_ms / median_ms,
        "p99_ratio": p99_with_reasons_ms / p99_ms,
        "median_candidates": statistics.median(candidates),
        "median_excluded": statistics.median(excluded),
        "max_excluded": max(excluded),
    }


def figures(problem: Problem, solution: Solution, seconds: float) -> dict[str, Any]:
    report = check(problem, solution)
    return {
        "feasible": report.feasible,
        "filled_priority": report.figures.filled_priority,
        "filled": report.figures.filled,
        "travel_km": round(report.figures.travel_km, 1),
        "seconds": round(seconds, 2),
    }


def one_instance(name: str, workers: int) -> dict[str, Any]:
    """Runs in a child process: the three planners on one instance."""
    size, congestion, limit = INSTANCES[name]
    problem = generate(size, seed=1, congestion=congestion)
    pool = Pool(problem.mediators)
    rows: dict[str, Any] = {
        "instance": name,
        "mediators": len(problem.mediators),
        "requests": len(problem.requests),
        "total_priority": sum(r.priority for r in problem.requests),
    }
    for planner, run in (("status_quo", status_quo), ("careful_greedy", careful_greedy)):
        started = time.perf_counter()
        solution = run(problem, pool)
        rows[planner] = figures(problem, solution, time.perf_counter() - started)
    started = time.perf_counter()
    solution = optimize(problem, time_limit_s=limit, num_workers=workers, pool=pool)
    rows["optimize"] = figures(problem, solution, time.perf_counter() - started)
    rows["optimize"].update(
        status=solution.status,
        filled_priority_bound=solution.filled_priority_bound,
        time_limit_s=limit,
        stats=dict(solution.stats),
    )
    rows["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return rows


def print_instance(rows: dict[str, Any]) -> None:
    best = rows["optimize"]
    bound = best["filled_priority_bound"] or 0
    print(
        f"\n{rows['instance']}: {rows['mediators']} mediators, {rows['requests']} requests, "
        f"total priority {rows['total_priority']}, peak RSS {rows['peak_rss_mb']} MB"
    )
    print(
        f"  {'planner':<15} {'filled prio':>11} {'% of bound':>10} {'filled':>7}"
        f" {'travel km':>10} {'seconds':>8} feasible"
    )
    for planner in ("status_quo", "careful_greedy", "optimize"):
        row = rows[planner]
        share = 100.0 * row["filled_priority"] / bound if bound else float("nan")
        print(
            f"  {planner:<15} {row['filled_priority']:>11} {share:>9.2f}% {row['filled']:>7} "
            f"{row['travel_km']:>10.1f} {row['seconds']:>8.2f} {row['feasible']}"
        )
    to_status_quo = best["filled_priority"] / max(1, rows["status_quo"]["filled_priority"])
    to_greedy = best["filled_priority"] / max(1, rows["careful_greedy"]["filled_priority"])
    print(
        f"  optimiser: status {best['status']}, filled-priority bound {bound}, "
        f"ratio to status quo {to_status_quo:.4f}, to careful greedy {to_greedy:.4f}"
    )
    stats = best["stats"]
    print(
        f"  model: {stats.get('model_pairs')} of {stats.get('pairs')} pairs (pruned to "
        f"{stats.get('pruned_to') or 'none'}), {stats.get('components')} components, largest "
        f"{stats.get('largest_component_requests')} requests, {stats.get('cliques')} cliques, "
        f"{stats.get('travel_pairs')} travel pairs, prepare {stats.get('prepare_seconds')} s"
    )
    tiers = ", ".join(
        f"{tier} {stats.get(f'{tier}_value')} / {stats.get(f'{tier}_bound')}"
        f" {stats.get(f'{tier}_status')}"
        for tier in TIERS
    )
    print(f"  tiers (value / bound status; travel in 0.1 km, negated): {tiers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--region", action="store_true", help="also the 3,000 x 15,000 region")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--only", choices=sorted(INSTANCES), help=argparse.SUPPRESS)
    parser.add_argument("--skip-ranking", action="store_true")
    parser.add_argument(
        "--instances",
        nargs="+",
        choices=sorted(INSTANCES),
        metavar="NAME",
        help="optimise only these instances (town, town-congested, city, city-congested, region)",
    )
    parser.add_argument("--ranking-only", action="store_true", help="only the ranking latency")
    parser.add_argument(
        "--ranking-sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000],
        metavar="N",
        help="pool sizes for the ranking latency (default 1000 10000)",
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the pool to the garbage collector's full collections (see ranking_latency)",
    )
    args = parser.parse_args()
    if args.only:
        print(json.dumps(one_instance(args.only, args.workers)))
        return
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if not args.skip_ranking:
        frozen = "" if args.no_freeze else ", frozen out of the collector"
        print(f"\nranking one request (pool index built once{frozen}; 500 requests)")
        for count in args.ranking_sizes:
            result = ranking_latency(count, freeze=not args.no_freeze)
            print(
                f"  {count:>6} mediators: median {result['median_ms']:.2f} ms,"
                f" p99 {result['p99_ms']:.2f} ms; "
                f"with every exclusion reason median {result['median_with_reasons_ms']:.2f} ms, "
                f"p99 {result['p99_with_reasons_ms']:.2f} ms (x{result['median_ratio']:.2f} / "
                f"x{result['p99_ratio']:.2f} the ranking alone),"
                f" max {result['max_with_reasons_ms']:.1f} ms;"
                f" index build {result['index_build_s']:.2f} s; "
                f"median {result['median_candidates']:.0f} candidates, "
                f"{result['median_excluded']:.0f} excluded speakers (max {result['max_excluded']})"
            )
    if args.ranking_only:
        return
    names = args.instances or ["town", "town-congested", "city", "city-congested"] + (
        ["region"] if args.region else []
    )
    for name in names:
        child = subprocess.run(
            [sys.executable, __file__, "--only", name, "--workers", str(args.workers)],
            capture_output=True,
            text=True,
            check=True,
        )
        print_instance(json.loads(child.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
