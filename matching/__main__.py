"""Command line: `python -m matching solve|check|generate`.

The file format is SPEC.md's "The matching problem format".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence

from matching.feasibility import check
from matching.generate import SIZES, generate
from matching.optimize import optimize
from matching.problem_io import (
    ProblemFormatError,
    load_problem,
    load_solution,
    problem_to_dict,
    solution_to_dict,
)


def _solve(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    solution = optimize(
        problem,
        time_limit_s=args.time_limit,
        num_workers=args.workers,
        seed=args.seed,
        deterministic=args.deterministic,
    )
    json.dump(solution_to_dict(solution), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _check(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    solution = load_solution(args.solution)
    report = check(problem, solution)
    figures = report.figures
    print("FEASIBLE" if report.feasible else "INFEASIBLE")
    for violation in report.violations:
        where = ", ".join(x for x in (violation.request_id, violation.mediator_id) if x)
        print(f"  {violation.message} ({where})")
    for warning in report.warnings:
        print(f"  warning: {warning}")
    print(f"filled: {figures.filled} of {figures.requests} requests")
    print(f"filled priority: {figures.filled_priority} of {figures.total_priority}")
    if solution.bound is not None:
        print(
            f"solver status: {solution.status}, objective {solution.objective},"
            f" bound {solution.bound}"
        )
    print(f"travel: {figures.travel_km:.1f} km (home to job, great-circle)")
    print(f"mediators working: {len(figures.minutes_by_mediator)}")
    print(f"fairness spread: {figures.fairness_spread_minutes:.0f} min")
    return 0 if report.feasible else 1


def _generate(args: argparse.Namespace) -> int:
    if args.preset is not None:
        problem = generate(args.preset, seed=args.seed, congestion=args.congestion, preset=True)
    else:
        problem = generate(args.size, seed=args.seed, congestion=args.congestion)
    json.dump(problem_to_dict(problem), sys.stdout)
    sys.stdout.write("\n")
    return 0


#: The most `--congestion` takes: ten times a preset's requests (150,000 on the region).
MOST_CONGESTION = 10.0


def _congestion(text: str) -> float:
    """A number above 0 and at most `MOST_CONGESTION`; argparse words the refusal."""
    return _bounded_float(text, most=MOST_CONGESTION)


def _seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    return _bounded_float(text, most=math.inf)


def _bounded_float(text: str, *, most: float) -> float:
    """`text` as a finite float in (0, most]: nan, inf or a negative scale made a traceback
    (a count of requests from infinity) or a silent one-request week."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= most):
        limit = "" if math.isinf(most) else f" and at most {most:g}"
        raise argparse.ArgumentTypeError(f"must be above 0{limit}: {text!r}")
    return value


def _workers(text: str) -> int:
    """CP-SAT's workers: a whole number from 1 to 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="optimise problem.json, print solution.json")
    solve.add_argument("problem")
    solve.add_argument(
        "--time-limit",
        type=_seconds,
        default=None,
        help="seconds (default: the problem's time_limit_s, else 10)",
    )
    solve.add_argument("--workers", type=_workers, default=8)
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument(
        "--deterministic",
        action="store_true",
        help="count the time limit in CP-SAT's deterministic time: with --workers 1 the same "
        "problem and seed give the same plan on any machine",
    )
    solve.set_defaults(run=_solve)
    checker = commands.add_parser("check", help="verify a solution; exit 1 if infeasible")
    checker.add_argument("problem")
    checker.add_argument("solution")
    checker.set_defaults(run=_check)
    maker = commands.add_parser("generate", help="print a seeded realistic problem.json")
    maker.add_argument("--size", choices=sorted(SIZES), default="town")
    maker.add_argument(
        "--preset",
        choices=sorted(SIZES),
        default=None,
        help="a congested week of this size: recent demand by language against an older "
        "supply (status quo at about 85-92 %% of the bound); overrides --size",
    )
    maker.add_argument("--seed", type=int, default=0)
    maker.add_argument(
        "--congestion",
        type=_congestion,
        default=1.0,
        help=f"scales the number of requests (above 0, at most {MOST_CONGESTION:g})",
    )
    maker.set_defaults(run=_generate)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except (ProblemFormatError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
