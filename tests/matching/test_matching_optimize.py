"""The optimiser: feasible, never worse than greedy, optimal where brute force knows."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.feasibility import (
    assigned_travel_km,
    check,
    pair_feasible,
    request_job,
    travel_conflict,
)
from matching.generate import generate
from matching.greedy import careful_greedy, status_quo
from matching.model import (
    Assignment,
    Busy,
    Interval,
    Location,
    Mediator,
    Problem,
    Request,
    Solution,
)
from matching.optimize import TIERS, Weights, optimize
from tests.matching.matching_factories import (
    HOSPITAL,
    JOB_CENTRE,
    TOWN_HALL,
    at,
    mediator,
    request,
    slot,
)

PLACES = (TOWN_HALL, JOB_CENTRE, HOSPITAL, Location(51.70, 8.10))
CLOCK = [f"{h:02d}:{m:02d}" for h in range(8, 14) for m in (0, 30)]


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    """A few mediators and requests on one morning, with every rule in play."""
    mediators = []
    for i in range(draw(st.integers(1, 3))):
        start = draw(st.sampled_from(CLOCK[:4]))
        busy_blocks: tuple[Busy, ...] = ()
        if draw(st.booleans()):
            b = draw(st.sampled_from(CLOCK[2:8]))
            where = draw(st.sampled_from((None, *PLACES)))
            busy_blocks = (Busy(at(b), at(b) + timedelta(minutes=30), where),)
        mediators.append(
            mediator(
                f"m{i + 1}",
                languages={
                    draw(st.sampled_from(["ar", "uk"])): draw(
                        st.sampled_from(["basic", "fluent", "native"])
                    )
                },
                home=draw(st.sampled_from(PLACES)),
                travel_mode=draw(st.sampled_from(["car", "foot", "bike", "transit"])),
                max_travel_km=draw(st.sampled_from([None, 1.0, 6.0])),
                max_minutes=draw(st.sampled_from([None, 60, 120])),
                availability=(Interval(at(start), at("14:00")),),
                busy=busy_blocks,
                monthly_limit_cents=draw(st.sampled_from([None, None, 60_00, 100_00])),
                annual_left_cents=draw(st.sampled_from([{}, {}, {2026: 80_00}])),
            )
        )
    requests = []
    for i in range(draw(st.integers(1, 5))):
        begin = draw(st.sampled_from(CLOCK[:-2]))
        minutes = draw(st.sampled_from([30, 60, 90]))
        mode = draw(st.sampled_from(["in_person", "in_person", "phone"]))
        base = request(
            f"r{i + 1}",
            language=draw(st.sampled_from(["ar", "uk"])),
            mode=mode,
            location=draw(st.sampled_from(PLACES)) if mode == "in_person" else None,
            priority=draw(st.integers(1, 3)),
            paid=draw(st.sampled_from([True, True, False])),
            expected_allowance_cents=draw(st.sampled_from([15_00, 30_00, 45_00])),
            preferred_mediators=(draw(st.sampled_from([m.id for m in mediators])),)
            if draw(st.booleans())
            else (),
        )
        requests.append(replace(base, start=at(begin), end=at(begin) + timedelta(minutes=minutes)))
    return Problem(tuple(mediators), tuple(requests))


def first_tiers(problem: Problem, plan: dict[str, Mediator]) -> tuple[int, int, int]:
    """Filled priority, continuity (1000 per preferred mediator), minus travel in tenths of a km.

    The first three tiers of the SPEC's order, written out independently of
    the optimiser (the small problems have no gender or previous plan).
    """
    filled = sum(r.priority for r in problem.requests if r.id in plan)
    continuity = sum(
        1000 for r in problem.requests if r.id in plan and plan[r.id].id in r.preferred_mediators
    )
    travel = sum(
        round(assigned_travel_km(r, plan[r.id]) / 0.1) for r in problem.requests if r.id in plan
    )
    return filled, continuity, -travel


def brute_force_best(problem: Problem) -> tuple[int, int, int]:
    """Try every way to give each request nobody or one feasible mediator."""
    options = [
        [None, *[m for m in problem.mediators if pair_feasible(r, m)]] for r in problem.requests
    ]
    best = (0, 0, 0)
    for choice in itertools.product(*options):
        jobs: dict[str, list[Request]] = {}
        for req, med in zip(problem.requests, choice, strict=True):
            if med is not None:
                jobs.setdefault(med.id, []).append(req)
        if all(
            _fits(next(m for m in problem.mediators if m.id == mid), reqs)
            for mid, reqs in jobs.items()
        ):
            plan = {r.id: m for r, m in zip(problem.requests, choice, strict=True) if m is not None}
            best = max(best, first_tiers(problem, plan))
    return best


def _fits(med: Mediator, reqs: list[Request]) -> bool:
    if med.max_minutes is not None and sum(r.minutes for r in reqs) > med.max_minutes:
        return False
    # The small problems lie on one morning: one month, one year.
    paid = sum(r.expected_allowance_cents for r in reqs if r.paid)
    if med.monthly_limit_cents is not None and paid > med.monthly_limit_cents:
        return False
    if paid > med.annual_left_cents.get(2026, paid):
        return False
    return not any(
        travel_conflict(request_job(a), request_job(b), med.travel_mode)
        for a, b in itertools.combinations(reqs, 2)
    )


SMALL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(small_problems())
def test_every_plan_passes_the_checker(problem: Problem) -> None:
    solution = optimize(problem, time_limit_s=5, num_workers=1)
    report = check(problem, solution)
    assert report.feasible, report.violations


@SMALL
@given(small_problems())
def test_lexicographic_optimum_found_where_brute_force_knows_it(problem: Problem) -> None:
    solution = optimize(problem, time_limit_s=5, num_workers=1)
    by_id = {m.id: m for m in problem.mediators}
    plan = {a.request: by_id[a.mediator] for a in solution.assignments}
    assert solution.status == "OPTIMAL"
    assert first_tiers(problem, plan) == brute_force_best(problem)
    assert solution.filled_priority_bound == solution.filled_priority


@SMALL
@given(small_problems())
def test_never_fills_less_priority_than_either_greedy(problem: Problem) -> None:
    solution = optimize(problem, time_limit_s=5, num_workers=1)
    assert solution.filled_priority >= status_quo(problem).filled_priority
    assert solution.filled_priority >= careful_greedy(problem).filled_priority


def test_greedy_plans_pass_the_checker_on_a_generated_town() -> None:
    problem = generate("town", seed=2, congestion=2.0)
    assert check(problem, status_quo(problem)).feasible
    assert check(problem, careful_greedy(problem)).feasible


def test_congested_town_beats_both_greedy_plans_and_passes_the_checker() -> None:
    problem = generate("town", seed=2, congestion=2.0)
    solution = optimize(problem, time_limit_s=10)
    assert check(problem, solution).feasible
    assert solution.filled_priority >= careful_greedy(problem).filled_priority
    assert solution.filled_priority >= status_quo(problem).filled_priority


def test_same_seed_and_one_worker_give_the_same_plan() -> None:
    town = generate("town", seed=5)
    problem = replace(town, requests=town.requests[:120])
    first = optimize(problem, time_limit_s=20, num_workers=1, seed=7)
    second = optimize(problem, time_limit_s=20, num_workers=1, seed=7)
    assert first.status == second.status == "OPTIMAL"
    assert first.assignments == second.assignments


def test_deterministic_time_gives_the_same_plan_even_when_the_limit_cuts_the_search() -> None:
    problem = generate("town", seed=3, congestion=3.0)
    runs = [
        optimize(problem, time_limit_s=0.3, num_workers=1, seed=7, deterministic=True)
        for _ in range(2)
    ]
    assert any(runs[0].stats[f"{tier}_status"] != "OPTIMAL" for tier in TIERS)  # the limit did cut
    assert runs[0].assignments == runs[1].assignments
    assert [runs[0].stats[f"{t}_value"] for t in TIERS] == [
        runs[1].stats[f"{t}_value"] for t in TIERS
    ]


def test_fixed_pair_is_kept_even_when_another_is_nearer() -> None:
    problem = Problem(
        (mediator("m1", home=TOWN_HALL), mediator("m2", home=HOSPITAL)),
        (request("r1"),),
        fixed=(("r1", "m2"),),
    )
    assert optimize(problem, num_workers=1).as_dict() == {"r1": "m2"}


def test_infeasible_fixed_pair_makes_the_problem_infeasible_with_a_reason() -> None:
    problem = Problem(
        (mediator("m1", languages={"uk": "native"}),), (request("r1"),), fixed=(("r1", "m1"),)
    )
    solution = optimize(problem, num_workers=1)
    assert solution.status == "INFEASIBLE"
    assert str(solution.stats["reason"]) == "fixed pair r1-m1: language(language=ar)"


def test_higher_priority_wins_a_contested_mediator() -> None:
    problem = Problem(
        (mediator("m1"),),
        (request("r1", "09:00", "10:00"), request("r2", "09:30", "10:30", priority=3)),
    )
    assert optimize(problem, num_workers=1).as_dict() == {"r2": "m1"}


def test_two_small_jobs_beat_one_of_equal_total_priority_only_on_lower_terms() -> None:
    problem = Problem(
        (mediator("m1"),),
        (
            request("r1", "09:00", "10:00"),
            request("r2", "10:00", "11:00"),
            request("r3", "09:00", "11:00", priority=3),
        ),
    )
    solution = optimize(problem, num_workers=1)
    assert solution.filled_priority == 3
    assert solution.status == "OPTIMAL"


def test_continuity_beats_less_travel() -> None:
    problem = Problem(
        (mediator("m1", home=TOWN_HALL), mediator("m2", home=HOSPITAL)),
        (request("r1", preferred_mediators=("m2",)),),
    )
    assert optimize(problem, num_workers=1).as_dict() == {"r1": "m2"}


def test_continuity_beats_any_amount_of_travel_whatever_the_weights() -> None:
    """The tiers are strictly ordered; weights only matter inside one tier."""
    far = Location(51.90, 8.40)  # about 30 km out
    problem = Problem(
        (mediator("m1", home=TOWN_HALL), mediator("m2", home=far)),
        (request("r1", preferred_mediators=("m2",)),),
    )
    assert optimize(problem, num_workers=1, weights=Weights(continuity=1)).as_dict() == {"r1": "m2"}


def test_one_preferred_mediator_beats_less_travel_on_several_other_requests() -> None:
    """A per-pair weighting would trade this away; the strict order does not.

    r1 (by phone) wants m1, who lives by the town hall; r2-r4 are at the
    town hall while r1 runs. If m1 takes r1, m2 must come 100 km for each
    of r2-r4; if m2 takes r1, nobody travels, but the family loses its
    mediator. Continuity comes first.
    """
    far = Location(52.65, 8.04)
    problem = Problem(
        (mediator("m1", home=TOWN_HALL), mediator("m2", home=far)),
        (
            request(
                "r1", "09:00", "12:00", mode="phone", location=None, preferred_mediators=("m1",)
            ),
            request("r2", "09:00", "09:30"),
            request("r3", "10:00", "10:30"),
            request("r4", "11:00", "11:30"),
        ),
    )
    solution = optimize(problem, num_workers=1)
    assert solution.as_dict() == {"r1": "m1", "r2": "m2", "r3": "m2", "r4": "m2"}
    assert check(problem, solution).figures.travel_km > 290


def test_less_travel_beats_fairness_and_fairness_beats_a_higher_level() -> None:
    busy_near = mediator("m1", home=TOWN_HALL, load_minutes=30 * 60, languages={"ar": "native"})
    idle_far = mediator("m2", home=HOSPITAL, languages={"ar": "native"})
    assert optimize(Problem((busy_near, idle_far), (request("r1"),)), num_workers=1).as_dict() == {
        "r1": "m1"
    }
    native_busy = mediator("m1", home=TOWN_HALL, load_minutes=30 * 60, languages={"ar": "native"})
    fluent_idle = mediator("m2", home=TOWN_HALL, languages={"ar": "fluent"})
    assert optimize(
        Problem((native_busy, fluent_idle), (request("r1"),)), num_workers=1
    ).as_dict() == {"r1": "m2"}


def test_a_higher_level_wins_when_nothing_else_differs() -> None:
    problem = Problem(
        (mediator("m1", languages={"ar": "fluent"}), mediator("m2", languages={"ar": "native"})),
        (request("r1"),),
    )
    assert optimize(problem, num_workers=1).as_dict() == {"r1": "m2"}


def test_every_tier_is_reported_with_value_bound_and_status() -> None:
    problem = generate("town", seed=5)
    solution = optimize(problem, time_limit_s=20)
    for tier in TIERS:
        assert solution.stats[f"{tier}_status"] in ("OPTIMAL", "FEASIBLE")
        assert float(solution.stats[f"{tier}_bound"]) >= float(solution.stats[f"{tier}_value"])
    assert solution.stats["filled_priority_value"] == solution.filled_priority
    assert solution.objective == solution.filled_priority
    assert check(problem, solution).figures.travel_km == pytest.approx(
        -int(solution.stats["travel_value"]) / 10, abs=0.05 * len(solution.assignments)
    )


def test_less_travel_wins_when_nothing_else_differs() -> None:
    problem = Problem(
        (mediator("m1", home=HOSPITAL), mediator("m2", home=TOWN_HALL)), (request("r1"),)
    )
    assert optimize(problem, num_workers=1).as_dict() == {"r1": "m2"}


def test_earlier_proposal_is_kept_when_it_costs_nothing() -> None:
    twins = (mediator("m1"), mediator("m2"))
    problem = Problem(twins, (request("r1"),), previous={"r1": "m2"})
    assert optimize(problem, num_workers=1).as_dict() == {"r1": "m2"}
    assert optimize(replace(problem, previous={}), num_workers=1).as_dict() == {"r1": "m1"}


def test_request_nobody_can_take_is_listed_unassigned() -> None:
    problem = Problem((mediator(),), (request("r1", language="ti"),))
    solution = optimize(problem, num_workers=1)
    assert solution.unassigned == ("r1",)
    assert solution.status == "OPTIMAL"


# --- allowance limits across a plan ---------------------------------------------------


def limited(left_cents: int, limit: str) -> dict[str, object]:
    """A mediator's fields with `left_cents` left under their monthly or annual limit in
    December 2026."""
    if limit == "monthly":
        counted = {(2026, 12): 250_00 - left_cents}
        return {"monthly_limit_cents": 250_00, "monthly_counted_cents": counted}
    return {"annual_left_cents": {2026: left_cents}}


def two_paid_jobs(left_cents: int, limit: str, *, second_day: int = 0) -> Problem:
    """Two paid jobs of 45 EUR each in December, both m1's best pick (nearest, preferred);
    m2 lives farther away and has no limit."""
    days = (slot("08:00", "16:00"), slot("08:00", "16:00", day=second_day))
    near = mediator("m1", home=TOWN_HALL, availability=days, **limited(left_cents, limit))
    far = mediator("m2", home=HOSPITAL, availability=days)
    jobs = (
        request("r1", start="09:00", end="12:00", expected_allowance_cents=45_00),
        request("r2", start="13:00", end="16:00", day=second_day, expected_allowance_cents=45_00),
    )
    return Problem((near, far), tuple(replace(r, preferred_mediators=("m1",)) for r in jobs))


def jobs_of(solution: Solution, mediator_id: str) -> list[str]:
    return sorted(a.request for a in solution.assignments if a.mediator == mediator_id)


@pytest.mark.parametrize("limit", ["monthly", "annual"])
def test_two_paid_jobs_over_what_is_left_go_to_the_limited_mediator_once(limit: str) -> None:
    # 60 EUR left: either job alone fits, both (90 EUR) do not.
    problem = two_paid_jobs(60_00, limit)
    for solution in (
        optimize(problem, time_limit_s=5, num_workers=1),
        careful_greedy(problem),
        status_quo(problem),
    ):
        assert len(jobs_of(solution, "m1")) == 1
        assert jobs_of(solution, "m2") != []
        assert check(problem, solution).feasible


@pytest.mark.parametrize("limit", ["monthly", "annual"])
def test_two_paid_jobs_within_what_is_left_both_go_to_the_limited_mediator(limit: str) -> None:
    problem = two_paid_jobs(100_00, limit)
    solution = optimize(problem, time_limit_s=5, num_workers=1)
    assert jobs_of(solution, "m1") == ["r1", "r2"]
    assert check(problem, solution).feasible


@pytest.mark.parametrize("limit", ["monthly", "annual"])
def test_a_plan_split_by_day_keeps_the_limit_across_its_days(limit: str) -> None:
    # The jobs a week apart, and every component planned day by day (LNS, travel pass).
    problem = two_paid_jobs(60_00, limit, second_day=7)
    solution = optimize(problem, time_limit_s=5, num_workers=1, day_split_pairs=0)
    assert solution.stats["components_split_by_day"] == 1
    assert len(jobs_of(solution, "m1")) == 1
    assert check(problem, solution).feasible
    both = two_paid_jobs(100_00, limit, second_day=7)
    solution = optimize(both, time_limit_s=5, num_workers=1, day_split_pairs=0)
    assert jobs_of(solution, "m1") == ["r1", "r2"]


def test_unpaid_jobs_count_nothing_against_the_limits() -> None:
    problem = two_paid_jobs(60_00, "monthly")
    unpaid = replace(problem, requests=tuple(replace(r, paid=False) for r in problem.requests))
    assert jobs_of(optimize(unpaid, time_limit_s=5, num_workers=1), "m1") == ["r1", "r2"]


@pytest.mark.parametrize(
    ("limit", "period"), [("monthly", {"month": "2026-12"}), ("annual", {"year": 2026})]
)
def test_a_plan_over_what_is_left_fails_the_check_with_the_limits_code(
    limit: str, period: dict[str, object]
) -> None:
    both_to_m1 = (Assignment("r1", "m1"), Assignment("r2", "m1"))
    over = check(two_paid_jobs(60_00, limit), Solution(both_to_m1, (), "FEASIBLE"))
    assert not over.feasible
    assert [(v.code, v.mediator_id, dict(v.params)) for v in over.violations] == [
        (f"{limit}_limit", "m1", {**period, "left_cents": 60_00, "job_cents": 90_00})
    ]
    assert check(two_paid_jobs(90_00, limit), Solution(both_to_m1, (), "FEASIBLE")).feasible
