"""Planning a whole period at once with CP-SAT.

The model, top to bottom (start times are fixed, so no scheduling variables
are needed):

- data: every feasible (request, mediator) pair from the vectorised pool
  check (candidates.py); requests without any pair stay unassigned;
- decomposition: requests that share no mediator, even through other
  requests, are independent problems, solved one after the other;
- variables: one Boolean per feasible pair, "this mediator does this job";
- constraints: each request has at most one mediator; per mediator, at most
  one job of each clique of time-overlapping jobs (a sweep over the jobs
  sorted by start gives the maximal cliques of the interval graph); per
  mediator, at most one of two in-person jobs that do not overlap but leave
  too little time to travel between them; the jobs of a mediator fit under
  max_minutes; fixed pairs are forced;
- objective (maximised): filled priority times a weight larger than any
  possible change of everything below it, so more filled priority always
  wins; below that, per pair, continuity (preferred mediator) over keeping
  an earlier proposal (stability) over a preferred gender over level over
  travel distance and recent load, and a penalty per half hour a mediator
  works above the component's fair share. Only the first level is strictly
  lexicographic; the lower ones are weights (see `Weights`), chosen so one
  continuity bonus outweighs 250 km of travel.

The careful greedy plan is the solver's hint and the fallback when the time
runs out before the solver finds anything better.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from matching.candidates import FloatArray, IntArray, Jobs, Pairs, feasible_pairs, problem_jobs
from matching.feasibility import exclusions, travel_conflict_array
from matching.greedy import careful_plan, plan_solution, status_quo_plan
from matching.model import LEVEL_RANK, Problem, Solution
from matching.rank import Pool

DEFAULT_TIME_LIMIT_S = 10.0
FAIRNESS_UNIT_S = 1800
"""Work above the fair share is penalised per started half hour."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Integer objective weights below filled priority (which always dominates)."""

    continuity: int = 1000
    stability: int = 500
    gender: int = 200
    level: int = 10
    """Per level above the required one."""
    travel_per_km: int = 4
    travel_cap: int = 400
    load_per_hour: int = 1
    load_cap: int = 40
    fairness: int = 1
    """Per half hour above the fair share of work."""


@dataclass
class _Component:
    requests: IntArray
    pairs: IntArray
    """Indices into the global Pairs arrays."""


def pair_scores(
    problem: Problem, pool: Pool, pairs: Pairs, weights: Weights
) -> npt.NDArray[np.int64]:
    """The lower-level objective value of each pair (everything but priority)."""
    score = np.zeros(len(pairs), dtype=np.int64)
    for r, request in enumerate(problem.requests):
        lo, hi = int(pairs.offsets[r]), int(pairs.offsets[r + 1])
        if lo == hi:
            continue
        mediator_ids = [pool.mediators[m].id for m in pairs.mediator[lo:hi]]
        if request.preferred_mediators:
            wanted = set(request.preferred_mediators)
            score[lo:hi] += weights.continuity * np.array([m in wanted for m in mediator_ids])
        previous = problem.previous.get(request.id)
        if previous is not None:
            score[lo:hi] += weights.stability * np.array([m == previous for m in mediator_ids])
        if request.gender is not None and request.gender.strength == "preferred":
            genders = [pool.genders[m] for m in pairs.mediator[lo:hi]]
            score[lo:hi] += weights.gender * np.array([g == request.gender.value for g in genders])
        score[lo:hi] += weights.level * (pairs.level[lo:hi] - LEVEL_RANK[request.min_level])
    travel = np.minimum(np.round(pairs.distance_km * weights.travel_per_km), weights.travel_cap)
    load = np.minimum(
        np.round(pool.load_minutes[pairs.mediator] / 60.0 * weights.load_per_hour), weights.load_cap
    )
    score -= travel.astype(np.int64) + load.astype(np.int64)
    return score


def _keep_best_pairs(
    pairs: Pairs, scores: IntArray, must_keep: npt.NDArray[np.bool_], max_pairs: int
) -> tuple[Pairs, IntArray, int]:
    """At most k best-scoring pairs per request, k as large as max_pairs allows.

    Fixed pairs are always kept. Returns the kept pairs, their scores and k.
    """
    counts = pairs.count_per_request()
    low, high = 1, int(counts.max())
    while low < high:  # largest k with sum(min(count, k)) <= max_pairs
        middle = (low + high + 1) // 2
        if int(np.minimum(counts, middle).sum()) <= max_pairs:
            low = middle
        else:
            high = middle - 1
    order = np.lexsort((-scores, pairs.request))
    rank_in_request = np.arange(len(pairs)) - pairs.offsets[pairs.request[order]]
    keep = np.zeros(len(pairs), dtype=bool)
    keep[order[rank_in_request < low]] = True
    keep |= must_keep
    kept = np.flatnonzero(keep)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(pairs.request[kept], minlength=len(counts)))
    pruned = Pairs(
        request=pairs.request[kept],
        mediator=pairs.mediator[kept],
        distance_km=pairs.distance_km[kept],
        level=pairs.level[kept],
        offsets=offsets,
    )
    return pruned, scores[kept], low


def _components(pairs: Pairs, request_count: int, mediator_count: int) -> list[_Component]:
    """Connected components of the request-mediator graph, by label propagation."""
    has_pairs = np.flatnonzero(np.diff(pairs.offsets) > 0)
    if len(has_pairs) == 0:
        return []
    label = np.arange(mediator_count, dtype=np.int64)
    starts = pairs.offsets[has_pairs]
    while True:
        request_label = np.minimum.reduceat(label[pairs.mediator], starts)
        per_pair = np.repeat(request_label, np.diff(pairs.offsets)[has_pairs])
        new_label = label.copy()
        np.minimum.at(new_label, pairs.mediator, per_pair)
        if np.array_equal(new_label, label):
            break
        label = new_label
    order = np.argsort(request_label, kind="stable")
    sorted_labels = request_label[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    components = []
    for group in np.split(has_pairs[order], cuts):
        group = np.sort(group)
        ranges = [np.arange(pairs.offsets[r], pairs.offsets[r + 1]) for r in group]
        components.append(_Component(group, np.concatenate(ranges)))
    components.sort(key=lambda c: len(c.pairs))
    return components


def _maximal_cliques(start: FloatArray, end: FloatArray) -> list[list[int]]:
    """Maximal sets of pairwise overlapping intervals (sorted by start), size >= 2."""
    cliques: list[list[int]] = []
    active: list[int] = []
    grew = False
    for i in range(len(start)):
        if any(end[a] <= start[i] for a in active):
            if grew and len(active) >= 2:
                cliques.append(list(active))
            active = [a for a in active if end[a] > start[i]]
        active.append(i)
        grew = True
    if grew and len(active) >= 2:
        cliques.append(active)
    return cliques


def _travel_pairs(
    start: FloatArray, end: FloatArray, lat: FloatArray, lon: FloatArray,
    speed_kmh: float, reach_km: float,
) -> tuple[IntArray, IntArray]:
    """Non-overlapping job pairs (sorted by start) with too little time to travel."""
    located = np.flatnonzero(~np.isnan(lat))
    if len(located) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    s, e = start[located], end[located]
    horizon_s = reach_km * 1.3 / speed_kmh * 3600.0 + 1.0
    lo = np.searchsorted(s, e, side="left")
    hi = np.searchsorted(s, e + horizon_s, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    first = np.repeat(np.arange(len(located)), counts)
    second = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    a, b = located[first], located[second]
    clash = travel_conflict_array(
        start[a], end[a], lat[a], lon[a], start[b], end[b], lat[b], lon[b], speed_kmh
    )
    return a[clash], b[clash]


@dataclass
class _Built:
    model: cp_model.CpModel
    fill_weight: int
    lower_min: int
    lower_max: int
    coefficients: IntArray
    over_vars: list[tuple[int, IntArray, int]]
    """(variable index, local pair indices, share seconds) of each fairness excess."""
    cliques: int
    travel_pairs: int


def _build(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    scores: IntArray,
    component: _Component,
    fixed: dict[int, int],
    weights: Weights,
    hint: dict[int, int],
) -> _Built:
    model = cp_model.CpModel()
    proto = model.proto
    local = component.pairs
    request = pairs.request[local]
    mediator = pairs.mediator[local]
    count = len(local)
    for _ in range(count):
        model.new_bool_var("")

    # Each request has at most one mediator (pairs are grouped by request).
    cuts = np.flatnonzero(np.diff(request)) + 1
    for group in np.split(np.arange(count), cuts):
        if len(group) > 1:
            proto.constraints.add().at_most_one.literals.extend(group.tolist())

    # Fixed pairs are kept.
    for k in range(count):
        if fixed.get(int(request[k])) == int(mediator[k]):
            proto.constraints.add().bool_and.literals.append(k)

    order = np.lexsort((jobs.start[request], mediator))
    cuts = np.flatnonzero(np.diff(mediator[order])) + 1
    total_seconds = int(jobs.seconds[component.requests].sum())
    mediator_count = len(np.unique(mediator))
    share_s = math.ceil(total_seconds / max(1, mediator_count))
    clique_count = travel_count = 0
    over_vars: list[tuple[int, IntArray, int]] = []
    fairness_span = 0
    for group in np.split(order, cuts):
        m = int(mediator[group[0]])
        job = request[group]
        start, end = jobs.start[job], jobs.end[job]
        seconds = jobs.seconds[job]
        if len(group) > 1:
            # A mediator does at most one of jobs that overlap in time.
            for clique in _maximal_cliques(start, end):
                proto.constraints.add().at_most_one.literals.extend(group[clique].tolist())
                clique_count += 1
            # A mediator does not do two in-person jobs with too little time to travel between.
            reach = 2.0 * float(np.max(pairs.distance_km[local[group]]))
            if np.isnan(pool.home_lat[m]):
                reach = 20_040.0  # half the earth: no home, no bound from the radius
            first, second = _travel_pairs(
                start, end, jobs.lat[job], jobs.lon[job], float(pool.speed_kmh[m]), reach
            )
            for a, b in zip(group[first].tolist(), group[second].tolist()):
                proto.constraints.add().at_most_one.literals.extend((a, b))
            travel_count += len(first)
        # A mediator's jobs fit under max_minutes.
        left_minutes = float(pool.minutes_left[m])
        cap_s = math.floor(left_minutes * 60.0 + 1e-6) if math.isfinite(left_minutes) else None
        if cap_s is not None and int(seconds.sum()) > cap_s:
            constraint = proto.constraints.add().linear
            constraint.vars.extend(group.tolist())
            constraint.coeffs.extend(seconds.tolist())
            constraint.domain.extend((0, cap_s))
        # Work above the fair share costs, so it spreads over mediators.
        if len(group) > 1 and int(seconds.sum()) > share_s:
            upper = math.ceil((int(seconds.sum()) - share_s) / FAIRNESS_UNIT_S)
            over = model.new_int_var(0, upper, "").index
            constraint = proto.constraints.add().linear
            constraint.vars.extend([*group.tolist(), over])
            constraint.coeffs.extend([*seconds.tolist(), -FAIRNESS_UNIT_S])
            constraint.domain.extend((-(2**40), share_s))
            over_vars.append((over, group, share_s))
            fairness_span += upper * weights.fairness

    # Objective: filled priority first, then the weighted lower levels.
    lower = scores[local]
    per_request_max = np.maximum.reduceat(lower, np.r_[0, np.flatnonzero(np.diff(request)) + 1])
    per_request_min = np.minimum.reduceat(lower, np.r_[0, np.flatnonzero(np.diff(request)) + 1])
    lower_min = int(np.minimum(per_request_min, 0).sum()) - fairness_span
    lower_max = int(np.maximum(per_request_max, 0).sum())
    fill_weight = lower_max - lower_min + 1
    coefficients = fill_weight * jobs.priority[request] + lower
    objective = proto.objective
    objective.vars.extend(range(count))
    objective.coeffs.extend((-coefficients).tolist())
    for over, _, _ in over_vars:
        objective.vars.append(over)
        objective.coeffs.append(weights.fairness)
    objective.scaling_factor = -1.0

    # Hint: the careful greedy plan.
    chosen = np.array([hint.get(int(r)) == int(m) for r, m in zip(request, mediator)], dtype=bool)
    proto.solution_hint.vars.extend(range(count))
    proto.solution_hint.values.extend(chosen.astype(np.int64).tolist())
    for over, group, share in over_vars:
        worked = int(jobs.seconds[request[group]][chosen[group]].sum())
        proto.solution_hint.vars.append(over)
        proto.solution_hint.values.append(max(0, math.ceil((worked - share) / FAIRNESS_UNIT_S)))
    return _Built(
        model, fill_weight, lower_min, lower_max, coefficients, over_vars, clique_count, travel_count
    )


def _objective_of(built: _Built, chosen: npt.NDArray[np.bool_], jobs: Jobs, request: IntArray, weights: Weights) -> int:
    value = int(built.coefficients[chosen].sum())
    for _, group, share in built.over_vars:
        worked = int(jobs.seconds[request[group]][chosen[group]].sum())
        value -= weights.fairness * max(0, math.ceil((worked - share) / FAIRNESS_UNIT_S))
    return value


def optimize(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    num_workers: int = 8,
    seed: int = 0,
    pool: Pool | None = None,
    weights: Weights = Weights(),
    max_pairs: int | None = 200_000,
    log: bool = False,
) -> Solution:
    """Plan all requests of the problem at once; see the module docstring for the model.

    When the problem has more than `max_pairs` feasible pairs, each request
    keeps only its k best-scoring mediators (k as large as fits); the
    solver's bound then holds for that smaller model only, so the reported
    `filled_priority_bound` falls back to the plain bound "every request
    with a candidate filled" (`stats["pruned_to"]` says k).
    """
    clock = time.perf_counter()
    limit = time_limit_s if time_limit_s is not None else problem.time_limit_s
    deadline = clock + (limit if limit is not None else DEFAULT_TIME_LIMIT_S)
    pool = pool or Pool(problem.mediators)
    jobs = problem_jobs(problem)
    pairs = feasible_pairs(problem, pool)
    request_index = {r.id: i for i, r in enumerate(problem.requests)}

    fixed: dict[int, int] = {}
    for request_id, mediator_id in problem.fixed:
        r, m = request_index[request_id], pool.index[mediator_id]
        lo, hi = pairs.offsets[r], pairs.offsets[r + 1]
        if fixed.get(r, m) != m or m not in pairs.mediator[lo:hi]:
            reasons = exclusions(problem.requests[r], pool.mediators[m])
            why = reasons[0].message if reasons else "two mediators fixed for one request"
            return plan_solution(
                problem, pool, {}, "INFEASIBLE", time.perf_counter() - clock,
                objective=None, stats={"reason": f"fixed pair {request_id}-{mediator_id}: {why}"},
            )
        fixed[r] = m

    scores = pair_scores(problem, pool, pairs, weights)
    has_candidate = pairs.count_per_request() > 0
    plain_bound = int(jobs.priority[has_candidate].sum())
    all_pairs = len(pairs)
    pruned_to = 0
    # The better greedy plan on all pairs is the hint; its pairs survive pruning,
    # so the solver never ends below either greedy baseline.
    hint = max(
        (careful_plan(problem, pool, pairs).holder, status_quo_plan(problem, pool, pairs).holder),
        key=lambda plan: sum(problem.requests[r].priority for r in plan),
    )
    if max_pairs is not None and len(pairs) > max_pairs:
        must_keep = np.array(
            [fixed.get(int(r), hint.get(int(r))) == int(m) for r, m in zip(pairs.request, pairs.mediator)],
            dtype=bool,
        )
        pairs, scores, pruned_to = _keep_best_pairs(pairs, scores, must_keep, max_pairs)
    components = _components(pairs, len(problem.requests), len(pool))
    prepared = time.perf_counter()

    holder: dict[int, int] = {}
    objective_total = 0
    bound_total = 0.0
    filled_bound = 0
    statuses: set[str] = set()
    cliques = travel_pairs = solver_calls = 0
    pairs_left = sum(len(c.pairs) for c in components)
    for component in components:
        local = component.pairs
        request, mediator = pairs.request[local], pairs.mediator[local]
        built = _build(problem, pool, jobs, pairs, scores, component, fixed, weights, hint)
        cliques += built.cliques
        travel_pairs += built.travel_pairs
        hinted = np.array([hint.get(int(r)) == int(m) for r, m in zip(request, mediator)])
        if len(component.requests) == 1:
            best = int(np.argmax(built.coefficients))
            forced = [k for k in range(len(local)) if fixed.get(int(request[k])) == int(mediator[k])]
            chosen = np.zeros(len(local), dtype=bool)
            chosen[forced[0] if forced else best] = True
            value = _objective_of(built, chosen, jobs, request, weights)
            status_name, bound = "OPTIMAL", float(value)
        else:
            solver = cp_model.CpSolver()
            remaining = max(0.05, deadline - time.perf_counter())
            solver.parameters.max_time_in_seconds = max(0.05, remaining * len(local) / pairs_left)
            solver.parameters.num_workers = num_workers
            solver.parameters.random_seed = seed
            solver.parameters.log_search_progress = log
            status = solver.solve(built.model)
            solver_calls += 1
            status_name = solver.status_name(status)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                values = np.array(list(solver.response_proto.solution), dtype=np.int64)[: len(local)]
                chosen = values == 1
                value = round(solver.objective_value)
                bound = float(solver.best_objective_bound)
            elif status == cp_model.INFEASIBLE:
                statuses.add("INFEASIBLE")
                pairs_left -= len(local)
                continue
            else:  # no solution in time: keep the greedy plan, bound unknown
                chosen = hinted
                value = _objective_of(built, chosen, jobs, request, weights)
                bound = float(solver.best_objective_bound)
                status_name = "FEASIBLE"
        pairs_left -= len(local)
        statuses.add(status_name)
        for k in np.flatnonzero(chosen):
            holder[int(request[k])] = int(mediator[k])
        objective_total += value
        # Without an LP bound in time the solver's bound can exceed the plain
        # one (every request filled with its best pair); keep the smaller.
        plain = int(jobs.priority[component.requests].sum())
        bound = min(bound, float(built.fill_weight * plain + built.lower_max))
        bound_total += bound
        filled_bound += min(
            plain, math.floor((bound - built.lower_min) / built.fill_weight + 1e-9)
        )

    overall = "FEASIBLE"
    if "INFEASIBLE" in statuses:
        overall = "INFEASIBLE"
    elif statuses <= {"OPTIMAL"}:
        overall = "OPTIMAL"
    elapsed = time.perf_counter() - clock
    largest = components[-1] if components else None
    return plan_solution(
        problem,
        pool,
        holder if overall != "INFEASIBLE" else {},
        overall,
        elapsed,
        objective=float(objective_total) if overall != "INFEASIBLE" else None,
        bound=bound_total if overall != "INFEASIBLE" else None,
        filled_priority_bound=(
            None if overall == "INFEASIBLE" else plain_bound if pruned_to else filled_bound
        ),
        stats={
            "pairs": all_pairs,
            "model_pairs": len(pairs),
            "pruned_to": pruned_to,
            "model_filled_priority_bound": filled_bound,
            "plain_filled_priority_bound": plain_bound,
            "components": len(components),
            "solver_calls": solver_calls,
            "largest_component_requests": 0 if largest is None else len(largest.requests),
            "largest_component_pairs": 0 if largest is None else len(largest.pairs),
            "cliques": cliques,
            "travel_pairs": travel_pairs,
            "prepare_seconds": round(prepared - clock, 3),
            "hint_filled_priority": int(sum(problem.requests[r].priority for r in hint)),
        },
    )
