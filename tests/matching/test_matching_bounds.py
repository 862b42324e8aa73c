"""Bounds on filled priority by min-cost flow: never below a plan that exists."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.bounds import (
    LpRows,
    by_component,
    dual_bound,
    engine_bounds,
    flow_bound,
    lp_rows,
    slot_flow_bound,
)
from matching.candidates import feasible_pairs, problem_jobs
from matching.generate import generate
from matching.model import Problem, Solution
from matching.optimize import optimize
from matching.rank import Pool
from tests.matching.matching_factories import mediator, request
from tests.matching.test_matching_optimize import SMALL, brute_force_best, small_problems


def both_bounds(problem: Problem) -> tuple[int, int]:
    pool = Pool(problem.mediators)
    jobs, pairs = problem_jobs(problem), feasible_pairs(problem, pool)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    return flow_bound(pool, jobs, pairs, day_of)[0], slot_flow_bound(pool, jobs, pairs)[0]


@SMALL
@given(small_problems())
def test_both_flows_bound_the_best_plan_brute_force_finds(problem: Problem) -> None:
    best = brute_force_best(problem)[0]
    by_day, by_quarter_hour = both_bounds(problem)
    assert by_quarter_hour >= best
    assert by_day >= best


def test_quarter_hours_keep_a_crowded_hour_from_borrowing_a_quiet_one() -> None:
    # Two jobs worth 3 at nine, one worth 1 at ten: the mediator does one of the
    # first two and the third (4). The day's union of candidate times is two
    # hours, so the day flow gives both nine o'clock jobs (6).
    problem = Problem(
        (mediator("m1"),),
        (
            request("a", "09:00", "10:00", priority=3),
            request("b", "09:00", "10:00", priority=3),
            request("c", "10:00", "11:00", priority=1),
        ),
    )
    assert both_bounds(problem) == (6, 4)


@pytest.fixture(scope="module")
def town() -> tuple[Problem, Solution]:
    problem = generate("town", seed=1, preset=True)
    return problem, optimize(problem, time_limit_s=10, num_workers=2)


def test_quarter_hour_flow_on_the_congested_town_is_at_least_the_proven_optimum(
    town: tuple[Problem, Solution],
) -> None:
    problem, solution = town
    by_day, by_quarter_hour = both_bounds(problem)
    assert solution.filled_priority_bound == solution.filled_priority  # proven
    assert solution.filled_priority <= by_quarter_hour <= by_day


def per_component(problem: Problem, pool: Pool | None = None, proofs: bool = False) -> int:
    """`by_component` on the problem's pairs, its caps taken from `pool` when given."""
    true_pool = Pool(problem.mediators)
    jobs, pairs = problem_jobs(problem), feasible_pairs(problem, true_pool)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    proven = engine_bounds(optimize(problem, time_limit_s=5, num_workers=1).stats) if proofs else {}
    return by_component(pool or true_pool, jobs, pairs, day_of, proven=proven).bound


@SMALL
@given(small_problems())
def test_per_component_bound_lies_between_the_best_plan_and_every_single_bound(
    problem: Problem,
) -> None:
    best = brute_force_best(problem)[0]
    total = sum(r.priority for r in problem.requests)
    bound = per_component(problem, proofs=True)
    assert best <= bound <= min(*both_bounds(problem), total)


def test_per_component_bound_with_halved_weekly_caps_falls_below_a_plan_and_is_caught() -> None:
    # The control for the test above: one mediator with two hours a week does
    # both one-hour jobs; a bound that wrongly halves the cap says only one fits.
    problem = Problem(
        (mediator("m1", max_minutes=120),),
        (request("a", "09:00", "10:00"), request("b", "11:00", "12:00")),
    )
    halved = Pool(tuple(replace(m, max_minutes=60) for m in problem.mediators))
    assert brute_force_best(problem)[0] == 2
    assert per_component(problem) == 2
    assert per_component(problem, pool=halved) == 1


def test_per_component_bound_on_the_congested_town_takes_the_engines_proofs(
    town: tuple[Problem, Solution],
) -> None:
    problem, solution = town
    pool = Pool(problem.mediators)
    jobs, pairs = problem_jobs(problem), feasible_pairs(problem, pool)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    found = by_component(pool, jobs, pairs, day_of, proven=engine_bounds(solution.stats))
    # The quarter-hour flow says 438; the engine proved 431 over the components.
    assert found.bound == solution.filled_priority == 431
    assert found.bound < both_bounds(problem)[1]
    assert found.counts().get("proven", 0) >= 1
    assert sum(found.counts().values()) == len(found.components)


def lp_of(problem: Problem) -> LpRows:
    pool = Pool(problem.mediators)
    jobs, pairs = problem_jobs(problem), feasible_pairs(problem, pool)
    return lp_rows(pool, jobs, pairs, np.arange(len(pairs), dtype=np.int64))


@SMALL
@given(small_problems(), st.integers(0, 2**32 - 1))
def test_any_duals_bound_the_best_plan_and_sweeps_only_lower_the_bound(
    problem: Problem, seed: int
) -> None:
    best = brute_force_best(problem)[0]
    lp = lp_of(problem)
    duals = np.random.default_rng(seed).uniform(-1.0, 3.0, len(lp.upper))
    plain, swept = dual_bound(lp, duals), dual_bound(lp, duals, sweeps=2)
    # In floating point a bound may land a rounding below the plan (2 > 1.9999999999999996).
    assert best <= swept + 1e-9 and swept <= plain + 1e-9


def test_duals_on_rows_with_halved_weekly_caps_fall_below_a_plan_and_are_caught() -> None:
    # One mediator with two hours a week does two of three one-hour jobs. A price
    # of 1/3,600 per second of the cap proves 2; with the cap wrongly halved, 1.
    problem = Problem(
        (mediator("m1", max_minutes=120),),
        (
            request("a", "09:00", "10:00"),
            request("b", "11:00", "12:00"),
            request("c", "13:00", "14:00"),
        ),
    )
    lp = lp_of(problem)
    cap_row = np.flatnonzero(lp.upper > 1.0)
    assert lp.upper[cap_row].tolist() == [7200.0]
    duals = np.zeros(len(lp.upper))
    duals[cap_row] = 1 / 3600
    halved = replace(lp, upper=np.where(lp.upper > 1.0, lp.upper / 2, lp.upper))
    assert brute_force_best(problem)[0] == 2
    assert dual_bound(lp, duals) == pytest.approx(2.0)
    assert dual_bound(halved, duals) == pytest.approx(1.0)


def test_the_engine_offers_no_proof_for_a_component_its_cut_made_smaller(
    town: tuple[Problem, Solution],
) -> None:
    # With 300 of the town's 901 pairs (one per request) the cut model's components
    # are parts of the week's, and their proofs (199 for the part of the one proven
    # 244 whole) would undercut the proven optimum 431.
    problem, _ = town
    cut = optimize(problem, time_limit_s=5, num_workers=2, max_pairs=300)
    pool = Pool(problem.mediators)
    jobs, pairs = problem_jobs(problem), feasible_pairs(problem, pool)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    found = by_component(pool, jobs, pairs, day_of, proven=engine_bounds(cut.stats))
    assert cut.stats["pruned_to"] == 1
    assert found.bound >= 431
