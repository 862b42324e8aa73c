"""The engine on congested weeks: day-by-day planning, LNS and polish keep it feasible
and never below the careful greedy; the congested town is proven."""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.candidates import feasible_pairs, problem_jobs
from matching.feasibility import check
from matching.generate import generate
from matching.greedy import (
    careful_greedy,
    careful_plan,
    plan_solution,
    status_quo,
    status_quo_plan,
)
from matching.highs import highspy
from matching.model import Location, Problem
from matching.optimize import (
    MIP_SPLIT_NEAREST,
    Weights,
    _Budget,
    _Component,
    _exchange,
    _insert,
    _travel_mip_pass,
    _travel_pass,
    optimize,
    pair_tiers,
)
from matching.rank import Pool
from tests.matching.matching_factories import (
    HOME,
    HOSPITAL,
    JOB_CENTRE,
    TOWN_HALL,
    mediator,
    request,
)


def preferences_and_travel(problem: Problem, pool: Pool, holder: dict[int, int]) -> tuple[int, int]:
    """The plan's preferences tier and its travel (negated: higher is better), pair by pair."""
    pairs = feasible_pairs(problem, pool)
    tiers = pair_tiers(problem, pool, pairs, Weights())
    preferences = travel = 0
    for r, m in holder.items():
        lo = int(pairs.offsets[r])
        q = lo + int(np.searchsorted(pairs.mediator[lo : pairs.offsets[r + 1]], m))
        preferences += int(tiers.preferences[q])
        travel += int(tiers.travel[q])
    return preferences, -travel


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


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    mediators=st.integers(10, 40),
    requests=st.integers(20, 80),
    shrink=st.integers(2, 5),
    split=st.booleans(),
)
def test_pruned_plans_are_feasible_and_never_below_the_careful_greedy(
    seed: int, mediators: int, requests: int, shrink: int, split: bool
) -> None:
    """With fewer pairs allowed than exist (the region's path), the greedy's pairs survive
    pruning, so the plan is never below it, and the bound reported is the plain one."""
    problem = generate(
        "city", seed=seed, preset=True, mediator_count=mediators, request_count=requests
    )
    pool = Pool(problem.mediators)
    pairs = feasible_pairs(problem, pool)
    solution = optimize(
        problem,
        time_limit_s=3,
        num_workers=1,
        pool=pool,
        max_pairs=max(1, len(pairs) // shrink),
        day_split_pairs=0 if split else None,
    )
    assert check(problem, solution).feasible
    assert solution.filled_priority >= careful_greedy(problem, pool).filled_priority
    assert solution.filled_priority >= status_quo(problem, pool).filled_priority
    if len(pairs) > max(1, len(pairs) // shrink):
        pruned_to = solution.stats["pruned_to"]
        assert isinstance(pruned_to, int) and pruned_to >= 1
        plain = sum(
            problem.requests[r].priority
            for r in range(len(problem.requests))
            if pairs.offsets[r + 1] > pairs.offsets[r]
        )
        assert solution.filled_priority_bound == plain
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


def _run_exchange(problem: Problem, holder: dict[int, int]) -> tuple[dict[int, int], int]:
    """The exchange polish on a given plan (request index -> mediator index)."""
    pool = Pool(problem.mediators)
    jobs = problem_jobs(problem)
    pairs = feasible_pairs(problem, pool)
    tiers = pair_tiers(problem, pool, pairs, Weights())
    local = np.arange(len(pairs), dtype=np.int64)
    chosen = np.array(
        [holder.get(int(r)) == int(m) for r, m in zip(pairs.request, pairs.mediator, strict=True)],
        dtype=np.int64,
    )
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    changes = _exchange(problem, pool, jobs, pairs, tiers, local, chosen, {}, day_of, None)
    after = {int(pairs.request[k]): int(pairs.mediator[k]) for k in np.flatnonzero(chosen)}
    return after, changes


def test_exchange_swaps_two_jobs_to_honour_continuity() -> None:
    """r1 wants m2, who holds r2 at the same hour; r2 can go to m1: a swap, no single move."""
    problem = Problem(
        (mediator("m1"), mediator("m2")),
        (
            request("r1", "09:00", "10:00", preferred_mediators=("m2",)),
            request("r2", "09:00", "10:00"),
        ),
    )
    after, changes = _run_exchange(problem, {0: 0, 1: 1})
    assert after == {0: 1, 1: 0}
    assert changes == 1
    plan = plan_solution(problem, Pool(problem.mediators), after, "FEASIBLE")
    assert check(problem, plan).feasible


def test_exchange_hands_a_job_on_to_a_third_mediator_for_shorter_trips() -> None:
    """m2 lives next to r1 but holds r2; r2 goes to m3, r1 from far-away m1 to m2."""
    far = Location(51.9000, 8.3000)
    problem = Problem(
        (mediator("m1", home=far), mediator("m2", home=TOWN_HALL), mediator("m3")),
        (
            request("r1", "09:00", "10:00", location=TOWN_HALL),
            request("r2", "09:30", "10:30", location=JOB_CENTRE),
        ),
    )
    after, changes = _run_exchange(problem, {0: 0, 1: 1})
    assert after == {0: 1, 1: 2}
    assert changes == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), requests=st.integers(10, 60), mediators=st.integers(4, 15))
def test_exchange_keeps_the_plan_feasible_and_never_worse(
    seed: int, requests: int, mediators: int
) -> None:
    """From the status quo's plan: the same requests filled, preferences no lower, and
    travel no longer where preferences are equal; every plan passes `check`."""
    problem = generate(
        "town", seed=seed, preset=True, mediator_count=mediators, request_count=requests
    )
    pool = Pool(problem.mediators)
    before = status_quo_plan(problem, pool).holder
    after, _ = _run_exchange(problem, before)
    assert set(after) == set(before)
    assert check(problem, plan_solution(problem, pool, after, "FEASIBLE")).feasible
    assert preferences_and_travel(problem, pool, after) >= preferences_and_travel(
        problem, pool, before
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), requests=st.integers(10, 80), mediators=st.integers(3, 12))
def test_insert_fills_at_least_the_greedy_plan_and_stays_feasible(
    seed: int, requests: int, mediators: int
) -> None:
    problem = generate(
        "town", seed=seed, preset=True, mediator_count=mediators, request_count=requests
    )
    pool = Pool(problem.mediators)
    pairs = feasible_pairs(problem, pool)
    before = careful_plan(problem, pool, pairs).holder
    after = _insert(problem, pool, problem_jobs(problem), pairs, dict(before), {}, None)
    assert check(problem, plan_solution(problem, pool, after, "FEASIBLE")).feasible
    filled = sum(problem.requests[r].priority for r in after)
    assert filled >= sum(problem.requests[r].priority for r in before)


def test_insert_hands_a_job_on_to_fill_an_open_request() -> None:
    """m1 speaks both languages and holds r1 (ar); r2 (tr) needs m1; r1 can go to m2."""
    problem = Problem(
        (mediator("m1", languages={"ar": "native", "tr": "native"}), mediator("m2")),
        (request("r1", "09:00", "10:00"), request("r2", "09:00", "10:00", language="tr")),
    )
    pool = Pool(problem.mediators)
    pairs = feasible_pairs(problem, pool)
    after = _insert(problem, pool, problem_jobs(problem), pairs, {0: 0}, {}, None)
    assert after == {0: 1, 1: 0}


def _run_travel_pass(problem: Problem, holder: dict[int, int]) -> dict[int, int]:
    """The per-day travel pass on a given plan, in deterministic time, one worker."""
    pool = Pool(problem.mediators)
    jobs = problem_jobs(problem)
    pairs = feasible_pairs(problem, pool)
    tiers = pair_tiers(problem, pool, pairs, Weights())
    local = np.arange(len(pairs), dtype=np.int64)
    component = _Component(np.unique(pairs.request), local)
    chosen = np.array(
        [holder.get(int(r)) == int(m) for r, m in zip(pairs.request, pairs.mediator, strict=True)],
        dtype=np.int64,
    )
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    budget = _Budget(20.0, deterministic=True)
    _travel_pass(
        pool, jobs, pairs, tiers, component, chosen, {}, Weights(), day_of, budget, 20.0,
        num_workers=1, seed=0, log=False, max_memory_mb=None,
    )  # fmt: skip
    return {int(pairs.request[k]): int(pairs.mediator[k]) for k in np.flatnonzero(chosen)}


def test_travel_pass_hands_a_job_to_the_mediator_next_door() -> None:
    """r1 is held by far-away m1 while m2, living at the town hall, is free."""
    far = Location(51.9000, 8.3000)
    problem = Problem(
        (mediator("m1", home=far), mediator("m2", home=TOWN_HALL)),
        (request("r1", "09:00", "10:00", location=TOWN_HALL),),
    )
    assert _run_travel_pass(problem, {0: 0}) == {0: 1}


@pytest.mark.parametrize("travel_pass", ["cp_sat", "mip", "mip_nearest"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), requests=st.integers(10, 80), mediators=st.integers(3, 15))
def test_travel_passes_keep_every_filled_request_and_never_lose_a_tier(
    travel_pass: str, seed: int, requests: int, mediators: int
) -> None:
    """From the status quo's plan: the same requests filled, preferences no lower, and
    travel no longer where preferences are equal; the weekly caps hold (`check`)."""
    problem = generate(
        "city", seed=seed, preset=True, mediator_count=mediators, request_count=requests
    )
    pool = Pool(problem.mediators)
    before = status_quo_plan(problem, pool).holder
    if travel_pass == "cp_sat":
        after = _run_travel_pass(problem, before)
    else:
        nearest = MIP_SPLIT_NEAREST if travel_pass == "mip_nearest" else None
        after = _run_travel_mip_pass(problem, before, nearest)
    assert set(after) == set(before)
    assert check(problem, plan_solution(problem, pool, after, "FEASIBLE")).feasible
    assert preferences_and_travel(problem, pool, after) >= preferences_and_travel(
        problem, pool, before
    )


def _run_travel_mip_pass(
    problem: Problem, holder: dict[int, int], nearest: int | None = None
) -> dict[int, int]:
    """The per-day MIP travel pass on a given plan, the whole problem one component
    (`nearest`: the day-split component's pair set)."""
    pool = Pool(problem.mediators)
    pairs = feasible_pairs(problem, pool)
    local = np.arange(len(pairs), dtype=np.int64)
    chosen = np.array(
        [holder.get(int(r)) == int(m) for r, m in zip(pairs.request, pairs.mediator, strict=True)],
        dtype=np.int64,
    )
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    _travel_mip_pass(
        pool, problem_jobs(problem), pairs, pair_tiers(problem, pool, pairs, Weights()),
        _Component(np.unique(pairs.request), local), chosen, {}, Weights(), day_of,
        time.perf_counter() + 30.0, nearest,
    )  # fmt: skip
    return {int(pairs.request[k]): int(pairs.mediator[k]) for k in np.flatnonzero(chosen)}


def _next_door_problem() -> Problem:
    """m1 lives next door to both jobs and speaks both languages; m2 (Turkish) far away;
    m3 (Arabic) 4 km from r1's town hall."""
    return Problem(
        (
            mediator("m1", languages={"ar": "native", "tr": "native"}, home=HOME),
            mediator("m2", languages={"tr": "native"}, home=Location(51.9000, 8.3000)),
            mediator("m3", home=HOSPITAL),
        ),
        (
            request("r1", "09:00", "10:00", location=TOWN_HALL),
            request("r2", "09:00", "10:00", language="tr", location=JOB_CENTRE),
        ),
    )


def test_travel_mip_pass_sends_a_job_a_little_farther_to_free_the_mediator_next_door() -> None:
    """m1 (next door to both) holds r1, so r2 (Turkish) goes to far-away m2. Handing r1 to
    m3 (4 km off) frees m1 for r2: 4.3 + 1.3 km instead of 0.6 + 23. The CP-SAT pass
    cannot, as r1 only moves to pairs nearer for r1 itself; the MIP over all pairs does."""
    problem = _next_door_problem()
    before = {0: 0, 1: 1}
    assert _run_travel_pass(problem, before) == before
    assert _run_travel_mip_pass(problem, before) == {0: 2, 1: 0}


def test_day_split_mip_pass_offers_the_nearest_pairs_as_well_as_the_better_ones() -> None:
    """The case above with the day-split component's pair set: m3 is no better for r1
    than m1, so only as one of r1's nearest pairs can r1 go there and free m1 for r2."""
    problem = _next_door_problem()
    before = {0: 0, 1: 1}
    assert _run_travel_mip_pass(problem, before, 0) == before
    assert _run_travel_mip_pass(problem, before, MIP_SPLIT_NEAREST) == {0: 2, 1: 0}


def test_day_split_component_gets_the_mip_travel_pass_on_the_wall_clock_only() -> None:
    """HiGHS has no deterministic time: a deterministic run leaves the pass out."""
    problem = generate("town", seed=4, preset=True, mediator_count=12, request_count=60)
    pool = Pool(problem.mediators)
    timed = optimize(problem, time_limit_s=3, num_workers=1, pool=pool, day_split_pairs=0)
    split = timed.stats["components_split_by_day"]
    assert isinstance(split, int) and split >= 1
    assert "travel_mip_split_days" in timed.stats
    assert check(problem, timed).feasible
    steady = optimize(
        problem, time_limit_s=3, num_workers=1, pool=pool, day_split_pairs=0, deterministic=True
    )
    assert "travel_mip_split_days" not in steady.stats


def _highs_mip_on_two_threads() -> str:
    """A small MIP that HiGHS branches on, on two threads: its scheduler's workers run."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 2)
    count = 60
    columns = np.arange(count, dtype=np.int32)
    for _ in range(count):
        highs.addVar(0.0, 1.0)
    highs.changeColsIntegrality(count, columns, np.full(count, highspy.HighsVarType.kInteger))
    highs.changeColsCost(count, columns, -np.linspace(1.0, 2.0, count))
    for first in range(0, count - 4, 2):
        highs.addRow(-highspy.kHighsInf, 2.0, 5, columns[first : first + 5], np.ones(5))
    highs.run()
    return str(highs.getModelStatus())


def test_a_process_forked_after_highs_ran_can_solve_with_highs() -> None:
    """HiGHS's worker threads do not survive a fork: a child's first solve that needed
    them waited forever (the bench's engine and HiGHS peer on the city, forked after
    the town's bounds had used HiGHS, stopped at their caps). Importing highspy through
    `matching.highs`, as the engine does, gives each child a scheduler of its own."""
    assert _highs_mip_on_two_threads() == "HighsModelStatus.kOptimal"
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=lambda: send.send(_highs_mip_on_two_threads()))
    child.start()
    try:
        assert receive.poll(60), "the forked child's HiGHS solve did not finish in 60 s"
        assert receive.recv() == "HighsModelStatus.kOptimal"
    finally:
        child.kill()
        child.join()
