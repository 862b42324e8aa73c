"""The engine on congested weeks: day-by-day planning, LNS and polish keep it feasible
and never below the careful greedy; the congested town is proven."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.feasibility import check
from matching.generate import generate
from matching.greedy import careful_greedy, status_quo
from matching.optimize import optimize
from matching.rank import Pool


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    size=st.sampled_from(["town", "city"]),
    mediators=st.integers(6, 20),
    requests=st.integers(10, 60),
    split=st.booleans(),
)
def test_engine_plans_are_feasible_and_never_below_the_careful_greedy(
    seed: int, size: str, mediators: int, requests: int, split: bool
) -> None:
    """Whole-week or split into days with LNS (split forces it on any component)."""
    problem = generate(
        size, seed=seed, preset=True, mediator_count=mediators, request_count=requests
    )
    pool = Pool(problem.mediators)
    solution = optimize(
        problem,
        time_limit_s=3,
        num_workers=1,
        pool=pool,
        day_split_pairs=0 if split else None,
    )
    assert check(problem, solution).feasible
    assert solution.filled_priority >= careful_greedy(problem, pool).filled_priority
    assert solution.filled_priority >= status_quo(problem, pool).filled_priority
    assert solution.filled_priority_bound is not None
    assert solution.filled_priority <= solution.filled_priority_bound


def test_day_split_is_used_and_beats_the_careful_greedy_where_it_can() -> None:
    problem = generate("town", seed=4, preset=True, congestion=1.5)
    pool = Pool(problem.mediators)
    solution = optimize(problem, time_limit_s=8, num_workers=1, pool=pool, day_split_pairs=0)
    greedy = careful_greedy(problem, pool)
    split = solution.stats["components_split_by_day"]
    assert isinstance(split, int) and split >= 1
    assert check(problem, solution).feasible
    assert solution.filled_priority >= greedy.filled_priority


def test_congested_town_filled_priority_is_proven() -> None:
    """In deterministic time, so a loaded machine cannot make it fail."""
    problem = generate("town", seed=1, preset=True)
    solution = optimize(problem, time_limit_s=10, num_workers=1, deterministic=True)
    assert solution.stats["filled_priority_status"] == "OPTIMAL"
    assert solution.filled_priority == solution.filled_priority_bound
    assert check(problem, solution).feasible
