"""Bounds on filled priority by min-cost flow: never below a plan that exists."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from matching.bounds import flow_bound, slot_flow_bound
from matching.candidates import feasible_pairs, problem_jobs
from matching.generate import generate
from matching.model import Problem
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


def test_quarter_hour_flow_on_the_congested_town_is_at_least_the_proven_optimum() -> None:
    problem = generate("town", seed=1, preset=True)
    solution = optimize(problem, time_limit_s=10, num_workers=2)
    by_day, by_quarter_hour = both_bounds(problem)
    assert solution.filled_priority_bound == solution.filled_priority  # proven
    assert solution.filled_priority <= by_quarter_hour <= by_day
