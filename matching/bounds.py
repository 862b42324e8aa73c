"""Bounds on filled priority for weeks too large for an LP: min-cost flows of minutes.

Relax the week's model: a request may be split over mediators (each share
earns its share of the priority), overlapping jobs of one mediator need not
exclude each other, travel is free. What is kept: each request's minutes
are given at most once; each mediator's work in the week fits the weekly
cap (`Pool.minutes_left`); and each mediator's work on a day fits the
length of the union of the intervals of their candidate jobs that day (the
jobs one mediator does never overlap, so together they last at most that
long). Every plan is a flow of this network (a job's minutes along request
-> (mediator, day) -> mediator), so the flow's best profit bounds every
plan. Profit per minute is the request's priority over its minutes, rounded
up to an integer scale, so rounding can only raise the bound.

It is a transportation problem, solved exactly by OR-Tools' min-cost flow
in seconds where the LP of the region's week (977,000 columns) did not
finish in 400 s. It is looser than the LP where overlaps bind rather than
the caps (bench/RESULTS.md compares both on the city). `slot_flow_bound`
cuts each mediator's time into quarter hours instead of days, which is
tighter (congested town 438 against 443, city 5,135 against 5,182, region
26,308 against 26,340; the city's week LP is 5,055). Used by
bench/bench_peers.py; tests/matching/test_matching_bounds.py checks both
against brute force.

`by_component` bounds each connected component of the request-mediator
graph on its own and adds up the least bound of each: no plan links two
components, so the optimum is the sum of theirs, and the sum of per-component
bounds is a bound at least as tight as any one method on the whole week. The
methods may differ by component (the engine's proof where it solved one
whole, an LP where it finishes, a flow elsewhere).

`lp_rows` and `dual_bound` bound the LP without travel rows from any duals
y >= 0 (weak duality), so an LP solver's duals give a bound even from a run
cut by its time limit; the region's 788,058-pair component's LP gave 21,357
against the quarter-hour flow's 21,478 (bench/RESULTS.md, sixth step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.candidates import FloatArray, IntArray, Jobs, Pairs
from matching.optimize import connected_components, maximal_cliques
from matching.rank import Pool

SCALE = 10**9
"""Profit per second is priority x SCALE / seconds, rounded up."""


def flow_bound(pool: Pool, jobs: Jobs, pairs: Pairs, day_of: IntArray) -> tuple[int, float]:
    """(The bound, rounded down to an integer priority; seconds it took)."""
    started = time.perf_counter()
    if len(pairs) == 0:
        return 0, time.perf_counter() - started
    request, mediator = pairs.request, pairs.mediator
    day = day_of[request]
    days, day_slot = np.unique(day, return_inverse=True)
    cell = mediator * len(days) + day_slot  # (mediator, day)
    order = np.lexsort((jobs.start[request], cell))
    # Union of the candidate jobs' intervals per (mediator, day), by a sweep.
    union: dict[int, float] = {}
    current, reach, covered = -1, -math.inf, 0.0
    starts, ends, cells = jobs.start[request][order], jobs.end[request][order], cell[order]
    for s, e, c in zip(starts.tolist(), ends.tolist(), cells.tolist(), strict=True):
        if c != current:
            if current >= 0:
                union[current] = covered
            current, reach, covered = c, -math.inf, 0.0
        if e > reach:
            covered += e - max(s, reach)
            reach = e
    if current >= 0:
        union[current] = covered
    cell_ids = np.array(sorted(union), dtype=np.int64)
    cell_node = {c: i for i, c in enumerate(cell_ids.tolist())}

    request_count = len(jobs.seconds)
    source = 0
    first_request = 1
    first_cell = first_request + request_count
    first_mediator = first_cell + len(cell_ids)
    sink = first_mediator + len(pool)
    flow = min_cost_flow.SimpleMinCostFlow()
    seconds = jobs.seconds.astype(np.int64)
    total = int(seconds.sum())
    # source -> request: its minutes, once
    flow.add_arcs_with_capacity_and_unit_cost(
        np.zeros(request_count, dtype=np.int32),
        (first_request + np.arange(request_count)).astype(np.int32),
        seconds,
        np.zeros(request_count, dtype=np.int64),
    )
    # request -> (mediator, day): the request's profit per second (negated: minimised)
    per_second = -np.ceil(jobs.priority * SCALE / np.maximum(seconds, 1)).astype(np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        (first_request + request).astype(np.int32),
        (first_cell + np.array([cell_node[c] for c in cell.tolist()])).astype(np.int32),
        seconds[request],
        per_second[request],
    )
    # (mediator, day) -> mediator: the union of that day's candidate intervals
    flow.add_arcs_with_capacity_and_unit_cost(
        (first_cell + np.arange(len(cell_ids))).astype(np.int32),
        (first_mediator + cell_ids // len(days)).astype(np.int32),
        np.array([math.floor(union[c]) for c in cell_ids.tolist()], dtype=np.int64),
        np.zeros(len(cell_ids), dtype=np.int64),
    )
    return _solve_with_caps(flow, pool, first_mediator, source, sink, total, started)


SLOT_S = 900
"""The time grid of `slot_flow_bound`: a quarter of an hour."""


def slot_flow_bound(pool: Pool, jobs: Jobs, pairs: Pairs) -> tuple[int, float]:
    """The flow of minutes with each mediator's time cut into quarter hours.

    As `flow_bound`, but a request's minutes reach its mediator through the
    quarter hours they fall in (at most the overlap with each), and a
    mediator gives at most a quarter hour's seconds in each quarter hour:
    the jobs one mediator does never overlap, so within any quarter hour
    they last at most that long. The day's union of candidate intervals
    let minutes of a crowded hour borrow from a quiet one; this does not,
    so it is tighter where many requests want the same speakers at once.
    (The bound, rounded down; seconds it took.)
    """
    started = time.perf_counter()
    if len(pairs) == 0:
        return 0, time.perf_counter() - started
    request, mediator = pairs.request, pairs.mediator
    origin = float(jobs.start.min())
    first_slot = np.floor((jobs.start[request] - origin) / SLOT_S).astype(np.int64)
    last_slot = np.ceil((jobs.end[request] - origin) / SLOT_S).astype(np.int64) - 1
    spans = np.maximum(last_slot - first_slot + 1, 1)
    pair_of_arc = np.repeat(np.arange(len(request)), spans)
    slot = first_slot[pair_of_arc] + (
        np.arange(len(pair_of_arc)) - np.repeat(np.cumsum(spans) - spans, spans)
    )
    slot_start = origin + slot * SLOT_S
    overlap = np.minimum(jobs.end[request][pair_of_arc], slot_start + SLOT_S) - np.maximum(
        jobs.start[request][pair_of_arc], slot_start
    )
    useful = overlap > 0
    pair_of_arc, slot, overlap = pair_of_arc[useful], slot[useful], overlap[useful]
    slots = int(slot.max()) + 1
    cells, cell_of_arc = np.unique(mediator[pair_of_arc] * slots + slot, return_inverse=True)

    request_count = len(jobs.seconds)
    source = 0
    first_request = 1
    first_cell = first_request + request_count
    first_mediator = first_cell + len(cells)
    sink = first_mediator + len(pool)
    flow = min_cost_flow.SimpleMinCostFlow()
    seconds = jobs.seconds.astype(np.int64)
    total = int(seconds.sum())
    flow.add_arcs_with_capacity_and_unit_cost(
        np.zeros(request_count, dtype=np.int32),
        (first_request + np.arange(request_count)).astype(np.int32),
        seconds,
        np.zeros(request_count, dtype=np.int64),
    )
    per_second = -np.ceil(jobs.priority * SCALE / np.maximum(seconds, 1)).astype(np.int64)
    # request -> (mediator, quarter hour): the seconds of the request in that quarter hour
    flow.add_arcs_with_capacity_and_unit_cost(
        (first_request + request[pair_of_arc]).astype(np.int32),
        (first_cell + cell_of_arc).astype(np.int32),
        np.ceil(overlap).astype(np.int64),
        per_second[request[pair_of_arc]],
    )
    # (mediator, quarter hour) -> mediator: a quarter hour's seconds
    flow.add_arcs_with_capacity_and_unit_cost(
        (first_cell + np.arange(len(cells))).astype(np.int32),
        (first_mediator + cells // slots).astype(np.int32),
        np.full(len(cells), SLOT_S, dtype=np.int64),
        np.zeros(len(cells), dtype=np.int64),
    )
    return _solve_with_caps(flow, pool, first_mediator, source, sink, total, started)


def _solve_with_caps(
    flow: min_cost_flow.SimpleMinCostFlow,
    pool: Pool,
    first_mediator: int,
    source: int,
    sink: int,
    total: int,
    started: float,
) -> tuple[int, float]:
    """Both flows' end: mediator -> sink capped at the weekly minutes, source -> sink for
    the seconds nobody gives (no profit), then the solve; the bound (filled priority) and
    the seconds since `started`."""
    caps = np.where(
        np.isfinite(pool.minutes_left), np.floor(pool.minutes_left * 60.0 + 1e-6), total
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        (first_mediator + np.arange(len(pool))).astype(np.int32),
        np.full(len(pool), sink, dtype=np.int32),
        np.minimum(caps, total).astype(np.int64),
        np.zeros(len(pool), dtype=np.int64),
    )
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, 0)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow: status {status}")
    return math.floor(-flow.optimal_cost() / SCALE + 1e-9), time.perf_counter() - started


@dataclass(frozen=True)
class ComponentBound:
    """The bounds found for one connected component, by method."""

    requests: IntArray
    """Request indices, ascending."""
    pairs: IntArray
    """Indices into the Pairs given to `by_component`."""
    bounds: Mapping[str, int]
    """Method code -> bound on the component's filled priority."""

    @property
    def best(self) -> tuple[str, int]:
        """(Method, bound) of the least bound; the first method named wins a tie."""
        return min(self.bounds.items(), key=lambda item: item[1])


@dataclass(frozen=True)
class ByComponent:
    """`by_component`'s answer: the sum of each component's least bound."""

    bound: int
    components: tuple[ComponentBound, ...]
    seconds: float

    def counts(self) -> dict[str, int]:
        """Method -> number of components whose least bound it gave."""
        counts: dict[str, int] = {}
        for component in self.components:
            method = component.best[0]
            counts[method] = counts.get(method, 0) + 1
        return counts


ComponentMethod = Callable[[IntArray], float | None]
"""A bound on one component's filled priority from its pair indices; None if none found."""


def component_pairs(pairs: Pairs, local: IntArray) -> Pairs:
    """The pairs at `local` (ascending) as a Pairs of their own, over the same requests."""
    counts = np.bincount(pairs.request[local], minlength=len(pairs.offsets) - 1)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts)
    return Pairs(
        request=pairs.request[local],
        mediator=pairs.mediator[local],
        distance_km=pairs.distance_km[local],
        level=pairs.level[local],
        offsets=offsets,
    )


def by_component(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    day_of: IntArray,
    *,
    proven: Mapping[int, float] | None = None,
    methods: Mapping[str, ComponentMethod] | None = None,
) -> ByComponent:
    """Each component's least bound among several methods, summed over the components.

    Methods, in this order (the first wins a tie): "total" (the priority of
    its requests; exact for a component of one request, whose pairs all pass
    every pair rule alone), "slot_flow" and "day_flow" (`slot_flow_bound`,
    `flow_bound` on the component's pairs alone), "proven" (`proven` maps a
    component's smallest request index to a proven bound on it, as the
    engine's `stats["component_bound_<r>"]`, see `engine_bounds`; each must
    be a proof for the whole component, as the engine's are: a proof for a
    part of one bounds nothing here), then each of `methods`. Every
    per-component bound is rounded down (filled priority is a whole number).
    """
    started = time.perf_counter()
    proven = proven or {}
    methods = methods or {}
    found: list[ComponentBound] = []
    total = 0
    for component in connected_components(pairs, len(pool)):
        bounds: dict[str, int] = {"total": int(jobs.priority[component.requests].sum())}
        if len(component.requests) > 1:
            own = component_pairs(pairs, component.pairs)
            bounds["slot_flow"] = slot_flow_bound(pool, jobs, own)[0]
            bounds["day_flow"] = flow_bound(pool, jobs, own, day_of)[0]
            first = int(component.requests[0])
            if first in proven:
                bounds["proven"] = math.floor(proven[first] + 1e-9)
            for name, method in methods.items():
                value = method(component.pairs)
                if value is not None and math.isfinite(value):
                    bounds[name] = math.floor(value + 1e-9)
        bound = ComponentBound(component.requests, component.pairs, bounds)
        found.append(bound)
        total += bound.best[1]
    return ByComponent(total, tuple(found), time.perf_counter() - started)


def engine_bounds(stats: Mapping[str, float | int | str]) -> dict[int, float]:
    """The per-component proofs in an engine solution's stats, for `by_component`'s `proven`."""
    prefix = "component_bound_"
    return {
        int(key[len(prefix) :]): float(value)
        for key, value in stats.items()
        if key.startswith(prefix) and not isinstance(value, str)
    }


@dataclass(frozen=True)
class LpRows:
    """The week's LP relaxation over some pairs without its travel rows: maximise
    profit . x subject to A x <= upper, 0 <= x <= 1; A in coordinates, all entries >= 0.

    Rows: each request at most once, each mediator at most one of each maximal set of
    overlapping candidate jobs, each mediator's weekly cap in seconds (where it can bind).
    Dropping the travel rows only relaxes it, so its optimum still bounds every plan.
    """

    row: IntArray
    column: IntArray
    """Position in the `local` pairs given to `lp_rows`."""
    value: FloatArray
    upper: FloatArray
    profit: FloatArray
    unit: IntArray
    """Rows whose entries and upper bound are all 1 (requests and cliques), ascending."""


def lp_rows(pool: Pool, jobs: Jobs, pairs: Pairs, local: IntArray) -> LpRows:
    """The LP's rows over the pairs at `local` (see `LpRows`)."""
    request, mediator = pairs.request[local], pairs.mediator[local]
    rows: list[IntArray] = []
    values: list[FloatArray] = []
    upper: list[float] = []
    order = np.argsort(request, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(request[order])) + 1):
        if len(group) > 0:
            rows.append(group)
            values.append(np.ones(len(group)))
            upper.append(1.0)
    order = np.lexsort((jobs.start[request], mediator))
    for group in np.split(order, np.flatnonzero(np.diff(mediator[order])) + 1):
        if len(group) < 2:
            continue
        job = request[group]
        for clique in maximal_cliques(jobs.start[job], jobs.end[job]):
            rows.append(group[clique])
            values.append(np.ones(len(clique)))
            upper.append(1.0)
        left = float(pool.minutes_left[int(mediator[group[0]])])
        seconds = jobs.seconds[job].astype(np.float64)
        if math.isfinite(left) and float(seconds.sum()) > left * 60.0 + 1e-6:
            rows.append(group)
            values.append(seconds)
            upper.append(math.floor(left * 60.0 + 1e-6))
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    upper_array = np.array(upper, dtype=np.float64)
    return LpRows(
        row=np.repeat(np.arange(len(rows), dtype=np.int64), lengths),
        column=np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, np.int64),
        value=np.concatenate(values) if values else np.zeros(0),
        upper=upper_array,
        profit=jobs.priority[request].astype(np.float64),
        unit=np.flatnonzero(upper_array == 1.0).astype(np.int64),
    )


def dual_bound(lp: LpRows, dual: FloatArray, sweeps: int = 0) -> float:
    """The LP's optimum is at most upper . y + sum of max(0, profit - A^T y) for ANY y >= 0.

    (For a plan x: profit . x = y . A x + (profit - A^T y) . x, and A x <= upper, x <= 1.)
    So duals from anywhere, an interior point run cut by its time limit included, give a
    bound; negative entries are taken as 0. `sweeps` rounds of exact coordinate descent
    (each row's dual set to the best value with the others held) can only lower it.
    """
    y = np.maximum(np.asarray(dual, dtype=np.float64), 0.0)
    columns = len(lp.profit)
    used = np.bincount(lp.column, weights=lp.value * y[lp.row], minlength=columns)
    starts = np.r_[0, np.flatnonzero(np.diff(lp.row)) + 1]
    ends = np.r_[starts[1:], len(lp.row)]
    for _ in range(sweeps):
        for k in range(len(lp.upper)):
            at = slice(starts[k], ends[k])
            cols, coefficient = lp.column[at], lp.value[at]
            reduced = lp.profit[cols] - used[cols] + coefficient * y[k]
            step = _best_row_dual(reduced, coefficient, float(lp.upper[k]))
            used[cols] += coefficient * (step - y[k])
            y[k] = step
    return float(lp.upper @ y + np.maximum(lp.profit - used, 0.0).sum())


def _best_row_dual(reduced: FloatArray, coefficient: FloatArray, upper: float) -> float:
    """argmin over t >= 0 of upper t + sum of max(0, reduced - coefficient t): the largest
    break point reduced / coefficient at which the coefficients above reach `upper`."""
    positive = reduced > 0
    if not positive.any():
        return 0.0
    ratio = reduced[positive] / coefficient[positive]
    order = np.argsort(-ratio)
    reach = np.cumsum(coefficient[positive][order])
    enough = np.flatnonzero(reach >= upper)
    return float(ratio[order[enough[0]]]) if len(enough) else 0.0
