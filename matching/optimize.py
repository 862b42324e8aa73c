"""Planning a whole period at once with CP-SAT, in strict lexicographic order.

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
- objective, five tiers in strict order (SPEC.md: "more filled priority,
  then continuity and soft preferences, then less travel, then a fairer
  spread of work"):
  1. filled priority;
  2. preferences: continuity (a preferred mediator) over keeping an earlier
     proposal (stability, so a re-plan does not shuffle mediators) over a
     preferred gender;
  3. travel, in tenths of a km;
  4. fairness: recent load per pair, plus each half hour a mediator works
     above the component's fair share;
  5. a higher language level than the request needs, as the last
     tie-break (a native speaker 20 km away should not beat a fluent one
     next door).

The search, per component, on one model: tier by tier. The first solve
maximises filled priority alone (its LP bound is tight, so small and
congested components are proven); each later one maximises W x (its tier)
+ (the lower tiers, weighted by `Weights`), W larger than any swing of that
weighted sum, so the tier itself comes first and its bound is still a
proven bound on the tier; after each solve the tier's value is locked in as
a constraint before the next. The second solve (preferences over all the
lower tiers) is the blend that finds plans good on every lower tier at
once. Large components spanning several days are improved from the hint by
LNS per language (a day, or the week), then a travel pass per day (CP-SAT),
one MIP per day over a few pairs per filled request (`_travel_mip_pass`,
HiGHS through highspy: preferences, then travel) and two polishes
(`_solve_by_day`, `_exchange`); a component solved whole whose travel tier
is not proven first gets the same MIP per day over all its filled requests'
pairs. Whole-day solves before the LNS are possible (`DAY_SHARE`)
but off, since they gained next to nothing once the hint was filled.
Without the tie-break a strict search moves mediators freely
within its own tier: measured on the city, the preferences search undid
the greedy's short trips and the travel search had no time left to win
them back (5,693 km against 3,343 km with the tie-break). A tier whose plan
already reaches its trivial bound (every request at its best pair) is not
solved; later solves start from a feasible full hint and skip presolve,
which would take seconds per tier on a city-sized component.

When every solve proves optimality the plan is exactly the lexicographic
optimum (the property tests check the first three tiers against brute
force); under a time limit each tier is as good as the time allowed, and
never worse than the plan before it. The first solve gets 70 % of a
component's time, each later one half of what is left, the last tier the
rest. The careful greedy plan, filled further by handing single jobs on
(`_insert`), is the first hint and the fallback when the time runs out
before the solver finds anything better.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model, cp_model_helper

from matching.candidates import FloatArray, IntArray, Jobs, Pairs, feasible_pairs, problem_jobs
from matching.feasibility import LimitPeriod, cents_left, exclusions, travel_conflict_array
from matching.greedy import Planner, careful_plan, plan_solution, status_quo_plan
from matching.highs import highspy
from matching.model import LEVEL_RANK, Mediator, Problem, Solution
from matching.rank import Pool

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MAX_MEMORY_MB = 3500
"""CP-SAT stops searching (keeping its best plan) once the process uses this much.

A guard, not a bound: CP-SAT checks it only inside its SAT search, and a
region-sized component with 8 workers grew past it to 4.5 GB in 280 s."""
LARGE_COMPONENT_PAIRS = 100_000
LARGE_COMPONENT_WORKERS = 4
"""Each CP-SAT worker holds its own copy of the model, LP and learnt clauses:
on the region's 188,000-pair component 8 workers peaked at 3.7 GB after 150 s,
4 workers at 2.2 GB. Smaller components keep every worker (the portfolio's LP
and LNS workers find the bounds there)."""
DAY_SHARE = 0.0
"""Of a day-split component's time, the share the whole-day solves get; LNS the rest.

Zero: since the hint is filled further by `_insert`, the whole-day solves
gained 0 and 5 filled priority on the congested city in 18-20 s (two runs),
while the LNS over languages gained 45-55 in the same time; so the LNS starts
from the hint (`stats` has each stage's gain, `day_solves_*` and `lns_*`)."""
LNS_MIN_S = 0.5
LNS_STEP_S = 3.0
"""Time for one day-and-language neighbourhood; most are proven much sooner."""
LNS_WEEK_STEP_S = 6.0
"""Time for one language over the whole week."""
LNS_FREE_HELD = True
LNS_TIERS = 3
"""A neighbourhood searches filled priority, preferences and travel; the polish and
the day solves look after the rest."""
POLISH_SHARE = 0.05
POLISH_MAX_S = 6.0
"""Of a day-split component's time, what the LNS leaves to the polish (moves and swaps)."""
TRAVEL_SHARE = 0.05
TRAVEL_ROUNDS = 4
"""Of a day-split component's time, what the LNS leaves to `_travel_pass`, and its rounds."""
FEASIBLE_SOLUTION = highspy.SolutionStatus.kSolutionStatusFeasible
"""HiGHS's status of a solution that satisfies every row: a plan to read back."""
MIP_MAX_S = 4.0
"""At most this long for `_travel_mip_pass` on one component (the city's two whole
components take 0.8 and 1.5 s at load 4)."""
MIP_MIN_S = 0.05
MIP_SPLIT_SHARE = 0.45
MIP_SPLIT_MAX_S = 18.0
"""Of a day-split component's time, what the LNS leaves to `_travel_mip_pass` (wall clock
only; deterministic runs give it to the LNS). On the congested city the LNS gained as much
filled priority in the 12-14 s left as in 21-26 s (56-58); the pass's first round over
the city's five days took 17 s uncut (load 2.5), so it is often cut."""
MIP_SPLIT_NEAREST = 6
MIP_SPLIT_ROUNDS = 3
"""On a day-split component, `_travel_mip_pass` offers each filled request its own pair,
those better for it alone and this many nearest; another round (at most this many) while
the last improved a day, as the new pairs have better ones of their own."""
MIP_EXCHANGE_FIRST_S = 2.0
"""At most this long for the exchange polish before `_travel_mip_pass` on a day-split
component (it settled in 1.1 s on the city)."""
EXCHANGE_PASSES = 4
EXCHANGE_MIN_S = 1.0
"""The exchange polish runs at least this long (wall clock) even when the LNS used its time."""
INSERT_PASSES = 3
INSERT_SHARE = 0.1
INSERT_AFTER_LNS_S = 3.0
"""At most this long for `_insert` on a day-split component's plan after its LNS."""
"""Of the time limit, at most what `_insert` may spend improving the greedy hint."""
EXCHANGE_TAIL_S = 0.3
"""After a whole-component solve whose travel tier is not proven, the exchange polish
gets what is left of the time, and at least this (a town's takes a few hundredths)."""
DAY_SPLIT_PAIRS = 20_000
"""Components with more pairs than this are planned one day at a time (`_solve_by_day`)."""
MIN_COMPONENT_S = 1.0
"""A small component's share of the time may be a tenth of a second: too little for a
proof on a loaded machine (the congested town's 18-pair component stayed FEASIBLE).
CP-SAT stops when it has proven every tier, so the floor costs nothing when idle."""
EQUAL_COMPONENT_MAX_S = 15.0
"""A component solved whole whose hint leaves filled priority open may take an equal share
of the time left among those still to solve, up to this, where its share by pairs is less.
On the congested city the 4,490-pair component (a scarce language over the week) got 3 s
by pairs and ended at 929-930 filled priority, 964-993 with 10 s (930 once at load 5); the
day-split component's LNS, last, keeps the rest (its gains level off after ~25 s)."""
FAIRNESS_UNIT_S = 1800
"""Work above the fair share is penalised per started half hour."""
TIERS = ("filled_priority", "preferences", "travel", "fairness", "level")
REFINE_PARAMS: dict[str, object] = {"cp_model_presolve": False}
"""Refining tiers start from a feasible full hint and run briefly: presolving the
whole model again for each (seconds on a city-sized component) would eat the time."""
FIRST_PARAMS: dict[str, object] = {"linearization_level": 2, "cp_model_presolve": False}
"""The filled-priority search lives on its LP bound: with the full LP (cuts on the
cliques and caps) the congested town's largest component was proven in 1.2-5 s,
with the default LP it was still open after 8 s. Without presolve the bound is
tighter and comes sooner: on the congested city's 4,490-pair component 994 after
2 s against 1,024 with presolve, and the plan 984-991 in 7-12 s against 964-979;
the LNS's week neighbourhood of its scarcest language ended at 692 (bound 693)
in 6 s against 684 (bound 707), and its day neighbourhoods were proven in under
a second instead of 1-3 s. The town is still proven (1.8 s)."""
TIER_SHARE = (0.7, 0.5, 0.5, 0.5, 1.0)
"""Share of the component's remaining time each tier may use (the first solve gets the first)."""


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights inside a tier, and of the blend that warm-starts the search.

    The tiers themselves are strictly ordered; the weights only say how the
    parts of one tier add up (continuity, stability and gender in tier 2;
    load and fair share in tier 4). The blend is one weighted sum of every
    tier, filled priority dominating, used for the first solve so the plan
    that the strict tiers then refine is good on all of them at once.
    """

    continuity: int = 1000
    stability: int = 500
    gender: int = 200
    travel_unit_km: float = 0.1
    """Travel counts in units of this length."""
    load_per_hour: int = 1
    load_cap: int = 40
    fairness: int = 1
    """Per half hour above the fair share of work."""
    blend_level: int = 10
    """In the blend: per language level above the required one."""
    blend_travel_per_km: int = 4
    blend_travel_cap: int = 400


@dataclass(frozen=True, slots=True)
class PairTiers:
    """Per feasible pair, its contribution to tiers 2-5 (tier 1 is the request's priority)."""

    preferences: IntArray
    """Maximised."""
    travel: IntArray
    """Minimised, in travel units."""
    load: IntArray
    """Minimised, together with the fair-share excess."""
    level: IntArray
    """Maximised: levels above the required one."""

    def subset(self, index: IntArray) -> PairTiers:
        return PairTiers(
            self.preferences[index], self.travel[index], self.load[index], self.level[index]
        )


@dataclass
class _Component:
    requests: IntArray
    pairs: IntArray
    """Indices into the global Pairs arrays."""


def pair_tiers(problem: Problem, pool: Pool, pairs: Pairs, weights: Weights) -> PairTiers:
    """Each pair's contribution to the preference, travel, load and level tiers."""
    preferences = np.zeros(len(pairs), dtype=np.int64)
    for r, request in enumerate(problem.requests):
        lo, hi = int(pairs.offsets[r]), int(pairs.offsets[r + 1])
        if lo == hi:
            continue
        if request.preferred_mediators or request.id in problem.previous:
            mediator_ids = [pool.mediators[m].id for m in pairs.mediator[lo:hi]]
            wanted = set(request.preferred_mediators)
            previous = problem.previous.get(request.id)
            preferences[lo:hi] += weights.continuity * np.array([m in wanted for m in mediator_ids])
            preferences[lo:hi] += weights.stability * np.array(
                [m == previous for m in mediator_ids]
            )
        if request.gender is not None and request.gender.strength == "preferred":
            genders = [pool.genders[m] for m in pairs.mediator[lo:hi]]
            preferences[lo:hi] += weights.gender * np.array(
                [g == request.gender.value for g in genders]
            )
    travel = np.round(pairs.distance_km / weights.travel_unit_km).astype(np.int64)
    load = np.minimum(
        np.round(pool.load_minutes[pairs.mediator] / 60.0 * weights.load_per_hour), weights.load_cap
    ).astype(np.int64)
    required = np.array([LEVEL_RANK[r.min_level] for r in problem.requests], dtype=np.int64)
    level = pairs.level - required[pairs.request] if len(problem.requests) else pairs.level
    return PairTiers(preferences, travel, load, level.astype(np.int64))


def _keep_best_pairs(
    pairs: Pairs, tiers: PairTiers, must_keep: npt.NDArray[np.bool_], max_pairs: int
) -> tuple[Pairs, PairTiers, int]:
    """At most k best pairs per request (in tier order), k as large as max_pairs allows.

    Fixed and hinted pairs are always kept. Returns the kept pairs, their
    tiers and k.
    """
    counts = pairs.count_per_request()
    low, high = 1, int(counts.max())
    while low < high:  # largest k with sum(min(count, k)) <= max_pairs
        middle = (low + high + 1) // 2
        if int(np.minimum(counts, middle).sum()) <= max_pairs:
            low = middle
        else:
            high = middle - 1
    order = np.lexsort((-tiers.level, tiers.load, tiers.travel, -tiers.preferences, pairs.request))
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
    return pruned, tiers.subset(kept), low


def connected_components(pairs: Pairs, mediator_count: int) -> list[_Component]:
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


def maximal_cliques(start: FloatArray, end: FloatArray) -> list[list[int]]:
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
    start: FloatArray,
    end: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    speed_kmh: float,
    reach_km: float,
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
    second = (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    )
    a, b = located[first], located[second]
    clash = travel_conflict_array(
        start[a], end[a], lat[a], lon[a], start[b], end[b], lat[b], lon[b], speed_kmh
    )
    return a[clash], b[clash]


@dataclass
class _Tier:
    """One objective tier of a component's model, in maximise form."""

    variables: IntArray
    coefficients: IntArray
    trivial_bound: int
    """Every request at its best pair for this tier alone; no plan does better."""

    def value(self, solution: IntArray) -> int:
        return int(np.dot(self.coefficients, solution[self.variables]))


@dataclass
class _Search:
    """What one solve maximises: its tier times `weight`, plus the lower tiers weighted."""

    objective: _Tier
    weight: int
    lower_min: int
    """The least the weighted lower tiers can add."""

    def tier_bound(self, bound: float) -> int:
        """A bound on the search's own tier, from a bound on its objective."""
        return math.floor((bound - self.lower_min) / self.weight + 1e-9)


@dataclass
class _Built:
    model: cp_model.CpModel
    tiers: list[_Tier]
    searches: list[_Search]
    """One per tier; the first is filled priority alone, the second the blend."""
    hint_keeps_fixed: bool
    hint: IntArray
    """A full assignment of the model's variables: the greedy plan."""
    cliques: int
    travel_pairs: int


@dataclass
class _Mip:
    """A MIP over a model's first `count` (pair) variables, in HiGHS."""

    highs: highspy.Highs
    count: int


@dataclass
class _TierResult:
    value: int
    bound: float
    status: str


@dataclass
class _Budget:
    """Seconds left, on the wall clock or in CP-SAT's deterministic time."""

    total: float
    deterministic: bool
    started: float = field(default_factory=time.perf_counter)
    used: float = 0.0
    solves: int = 0

    def left(self) -> float:
        if self.deterministic:
            return self.total - self.used
        return self.total - (time.perf_counter() - self.started)

    def spent(self, solver: cp_model.CpSolver) -> None:
        self.used += solver.response_proto.deterministic_time
        self.solves += 1


def _tier(variables: IntArray, coefficients: IntArray, per_request: IntArray) -> _Tier:
    """A tier over the given variables, the pair variables first, grouped by per_request."""
    nonzero = coefficients != 0
    starts = np.r_[0, np.flatnonzero(np.diff(per_request)) + 1]
    trivial = int(
        np.maximum(np.maximum.reduceat(coefficients[: len(per_request)], starts), 0).sum()
    )
    return _Tier(variables[nonzero], coefficients[nonzero], trivial)


def _build(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    fixed: dict[int, int],
    weights: Weights,
    hint: dict[int, int],
    minutes_left: FloatArray | None = None,
    cents_used: Mapping[tuple[int, LimitPeriod], int] | None = None,
) -> _Built:
    """The component's model; `minutes_left` and `cents_used` (the cents a mediator's jobs
    outside the component count in a period) for a neighbourhood of a larger plan."""
    model = cp_model.CpModel()
    minutes_left = pool.minutes_left if minutes_left is None else minutes_left
    limited = pool.limited
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
    over_vars: list[tuple[int, IntArray]] = []
    for group in np.split(order, cuts):
        m = int(mediator[group[0]])
        job = request[group]
        start, end = jobs.start[job], jobs.end[job]
        seconds = jobs.seconds[job]
        if len(group) > 1:
            # A mediator does at most one of jobs that overlap in time.
            for clique in maximal_cliques(start, end):
                proto.constraints.add().at_most_one.literals.extend(group[clique].tolist())
                clique_count += 1
            # A mediator does not do two in-person jobs with too little time to travel between.
            reach = 2.0 * float(np.max(pairs.distance_km[local[group]]))
            if np.isnan(pool.home_lat[m]):
                reach = 20_040.0  # half the earth: no home, no bound from the radius
            first, second = _travel_pairs(
                start, end, jobs.lat[job], jobs.lon[job], float(pool.speed_kmh[m]), reach
            )
            for a, b in zip(group[first].tolist(), group[second].tolist(), strict=True):
                proto.constraints.add().at_most_one.literals.extend((a, b))
            travel_count += len(first)
        # A mediator's jobs fit under max_minutes.
        left_minutes = float(minutes_left[m])
        cap_s = math.floor(left_minutes * 60.0 + 1e-6) if math.isfinite(left_minutes) else None
        if cap_s is not None and int(seconds.sum()) > cap_s:
            constraint = proto.constraints.add().linear
            constraint.vars.extend(group.tolist())
            constraint.coeffs.extend(seconds.tolist())
            constraint.domain.extend((0, cap_s))
        # A mediator's paid jobs in a month or a year fit what is left of their limits there.
        if m in limited:
            _add_limits(proto, limited[m], m, job, group, jobs, cents_used or {})
        # Work above the fair share costs (tier 4), so it spreads over mediators.
        if len(group) > 1 and int(seconds.sum()) > share_s:
            upper = math.ceil((int(seconds.sum()) - share_s) / FAIRNESS_UNIT_S)
            over = model.new_int_var(0, upper, "").index
            constraint = proto.constraints.add().linear
            constraint.vars.extend([*group.tolist(), over])
            constraint.coeffs.extend([*seconds.tolist(), -FAIRNESS_UNIT_S])
            constraint.domain.extend((-(2**40), share_s))
            over_vars.append((over, group))

    pair_index = np.arange(count, dtype=np.int64)
    over_index = np.array([over for over, _ in over_vars], dtype=np.int64)
    fairness_coefficients = np.r_[-tiers.load[local], np.full(len(over_vars), -weights.fairness)]
    built_tiers = [
        _tier(pair_index, jobs.priority[request], request),
        _tier(pair_index, tiers.preferences[local], request),
        _tier(pair_index, -tiers.travel[local], request),
        _tier(
            np.r_[pair_index, over_index].astype(np.int64),
            fairness_coefficients.astype(np.int64),
            request,
        ),
        _tier(pair_index, tiers.level[local], request),
    ]

    # Searches: each tier times a weight larger than any swing of the weighted
    # tiers below it, plus that weighted sum as the tie-break (tier 1 alone, see
    # below); a bound of any search still bounds its own tier.
    travel_blend = np.minimum(
        np.round(tiers.travel[local] * weights.travel_unit_km * weights.blend_travel_per_km),
        weights.blend_travel_cap,
    ).astype(np.int64)
    blend_parts = [
        tiers.preferences[local],
        -travel_blend,
        -tiers.load[local],
        weights.blend_level * tiers.level[local],
    ]
    starts = np.r_[0, np.flatnonzero(np.diff(request)) + 1]
    fairness_span = sum(
        weights.fairness
        * math.ceil((int(jobs.seconds[request[group]].sum()) - share_s) / FAIRNESS_UNIT_S)
        for _, group in over_vars
    )
    fair_share_index = TIERS.index("fairness")
    # Filled priority alone first: its LP bound is tight, so CP-SAT proves it
    # where the blend (priority times W plus every lower tier) left a gap of
    # 11 on the congested town after 10 s; the next search is then the blend
    # of the lower tiers with filled priority locked.
    searches = [_Search(built_tiers[0], 1, 0)]
    for number, tier in enumerate(built_tiers[1:], start=1):
        lower = np.zeros(count, dtype=np.int64)
        for part in blend_parts[number:]:
            lower += part
        with_fair_share = number < fair_share_index
        lower_min = int(np.minimum(np.minimum.reduceat(lower, starts), 0).sum())
        lower_min -= fairness_span if with_fair_share else 0
        weight = int(np.maximum(np.maximum.reduceat(lower, starts), 0).sum()) - lower_min + 1
        main = np.zeros(len(proto.variables), dtype=np.int64)
        main[tier.variables] = tier.coefficients
        combined = weight * main
        combined[:count] += lower
        if with_fair_share:
            combined[over_index] -= weights.fairness
        searches.append(
            _Search(
                _tier(np.arange(len(combined), dtype=np.int64), combined, request),
                weight,
                lower_min,
            )
        )

    # The first hint: the greedy plan, with each fair-share excess as it works out.
    values = np.zeros(len(proto.variables), dtype=np.int64)
    values[:count] = [hint.get(int(r)) == int(m) for r, m in zip(request, mediator, strict=True)]
    for over, group in over_vars:
        worked = int(jobs.seconds[request[group]][values[group] == 1].sum())
        values[over] = max(0, math.ceil((worked - share_s) / FAIRNESS_UNIT_S))
    keeps_fixed = all(
        values[k] == 1 for k in range(count) if fixed.get(int(request[k])) == int(mediator[k])
    )
    return _Built(model, built_tiers, searches, keeps_fixed, values, clique_count, travel_count)


def _add_limits(
    proto: cp_model_helper.CpModelProto,
    mediator: Mediator,
    m: int,
    job: IntArray,
    group: IntArray,
    jobs: Jobs,
    cents_used: Mapping[tuple[int, LimitPeriod], int],
) -> None:
    """Per period with a limit: the cents of the mediator's jobs there (variables `group`,
    requests `job`) at most what is left, less what their jobs outside count."""
    variables: dict[LimitPeriod, list[tuple[int, int]]] = {}
    for k, r in zip(group.tolist(), job.tolist(), strict=True):
        cents = int(jobs.cents[r])
        if cents:
            for period in jobs.periods[r]:
                variables.setdefault(period, []).append((k, cents))
    for period, terms in variables.items():
        left = cents_left(mediator, period)
        if left is None:
            continue
        cap = left - cents_used.get((m, period), 0)
        if sum(cents for _, cents in terms) <= cap:
            continue
        constraint = proto.constraints.add().linear
        constraint.vars.extend(k for k, _ in terms)
        constraint.coeffs.extend(cents for _, cents in terms)
        constraint.domain.extend((0, max(0, cap)))


def _cents_used(
    pool: Pool, jobs: Jobs, request: IntArray, mediator: IntArray, on: npt.NDArray[np.bool_]
) -> dict[tuple[int, LimitPeriod], int]:
    """The cents the pairs `on` count in each period of the mediators with a limit."""
    limited = pool.limited
    used: dict[tuple[int, LimitPeriod], int] = {}
    if not limited:
        return used
    for r, m in zip(request[on].tolist(), mediator[on].tolist(), strict=True):
        cents = int(jobs.cents[r])
        if cents and m in limited:
            for period in jobs.periods[r]:
                used[(m, period)] = used.get((m, period), 0) + cents
    return used


def _set_objective(model: cp_model.CpModel, tier: _Tier) -> None:
    """Maximise the tier (CP-SAT minimises: negated coefficients, scaling -1)."""
    proto = model.proto
    proto.clear_objective()
    proto.objective.vars.extend(tier.variables.tolist())
    proto.objective.coeffs.extend((-tier.coefficients).tolist())
    proto.objective.scaling_factor = -1.0


def _set_hint(model: cp_model.CpModel, values: IntArray) -> None:
    proto = model.proto
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(range(len(values)))
    proto.solution_hint.values.extend(values.tolist())


def _lock(model: cp_model.CpModel, tier: _Tier, value: int) -> None:
    """Later tiers may not give up what this tier reached."""
    constraint = model.proto.constraints.add().linear
    constraint.vars.extend(tier.variables.tolist())
    constraint.coeffs.extend(tier.coefficients.tolist())
    constraint.domain.extend((value, max(value, int(tier.coefficients.clip(min=0).sum()))))


def _solve(
    built: _Built,
    objective: _Tier,
    hint: IntArray,
    limit: float,
    budget: _Budget,
    *,
    num_workers: int,
    seed: int,
    log: bool,
    max_memory_mb: int | None,
    refine: bool = False,
) -> tuple[cp_model.CpSolverStatus, IntArray | None, float]:
    """One CP-SAT run; (status, the solution or None, proven bound)."""
    _set_objective(built.model, objective)
    _set_hint(built.model, hint)
    solver = cp_model.CpSolver()
    if budget.deterministic:
        solver.parameters.max_deterministic_time = limit
    else:
        solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = num_workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    if max_memory_mb is not None:
        solver.parameters.max_memory_in_mb = max_memory_mb
    for key, setting in (REFINE_PARAMS if refine else FIRST_PARAMS).items():
        setattr(solver.parameters, key, setting)
    status = solver.solve(built.model)
    budget.spent(solver)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    values = np.array(solver.response_proto.solution, dtype=np.int64) if found else None
    if status == cp_model.UNKNOWN:  # stopped before any bound: best_objective_bound means nothing
        return status, values, float(objective.trivial_bound)
    return status, values, min(float(solver.best_objective_bound), float(objective.trivial_bound))


def _solve_tiers(
    built: _Built,
    budget: _Budget,
    allowance: float,
    *,
    num_workers: int,
    seed: int,
    log: bool,
    max_memory_mb: int | None,
    tier_count: int | None = None,
) -> tuple[IntArray, list[_TierResult]] | None:
    """Tier by tier, each search tie-broken by the tiers below; None when fixed pairs clash.

    With `tier_count`, only that many tiers are searched (and reported).
    """
    component_left = budget.left()
    current = built.hint
    results: list[_TierResult] = []
    solved_once = False
    count = len(built.tiers) if tier_count is None else tier_count
    last = count - 1
    for number, (tier, search) in enumerate(
        zip(built.tiers[:count], built.searches[:count], strict=True)
    ):
        value = tier.value(current)
        if value >= tier.trivial_bound and (solved_once or built.hint_keeps_fixed):
            results.append(_TierResult(value, float(value), "OPTIMAL"))
        else:
            share = 1.0 if number == last else TIER_SHARE[number] if solved_once else TIER_SHARE[0]
            limit = max(0.01, (allowance - (component_left - budget.left())) * share)
            status, values, bound = _solve(
                built,
                search.objective,
                current,
                limit,
                budget,
                num_workers=num_workers,
                seed=seed,
                log=log,
                max_memory_mb=max_memory_mb,
                refine=solved_once,
            )
            if status == cp_model.INFEASIBLE and not solved_once:
                return None
            solved_once = True
            if values is not None and search.objective.value(values) >= search.objective.value(
                current
            ):
                current, value = values, tier.value(values)
            if status == cp_model.OPTIMAL:
                tier_bound = value
            elif status == cp_model.UNKNOWN:
                tier_bound = tier.trivial_bound
            else:
                tier_bound = min(tier.trivial_bound, search.tier_bound(bound))
            tier_bound = max(tier_bound, value)
            results.append(
                _TierResult(
                    value, float(tier_bound), "OPTIMAL" if tier_bound == value else "FEASIBLE"
                )
            )
        if number < last:
            _lock(built.model, tier, value)
    return current, results


def _day_caps(
    pool: Pool,
    jobs: Jobs,
    request: IntArray,
    mediator: IntArray,
    in_hint: npt.NDArray[np.bool_],
    day: IntArray,
    days: IntArray,
) -> FloatArray:
    """Minutes left per (day, mediator): the hint's work that day plus a share of the slack.

    Each mediator's weekly slack (cap minus the hint's work) is split over the
    days in proportion to the seconds of the candidate jobs the hint did not
    give them that day. The day caps add up to at most the weekly cap, so the
    days' plans together keep it, and each day's cap still holds the hint's work.
    """
    count = len(pool)
    seconds = jobs.seconds[request].astype(np.float64)
    day_index = np.searchsorted(days, day)
    hint_s = np.zeros((len(days), count))
    np.add.at(hint_s, (day_index[in_hint], mediator[in_hint]), seconds[in_hint])
    wanted = np.zeros((len(days), count))
    np.add.at(wanted, (day_index[~in_hint], mediator[~in_hint]), seconds[~in_hint])
    finite = np.isfinite(pool.minutes_left)
    left_s = np.where(finite, pool.minutes_left * 60.0, 0.0)
    slack = np.maximum(0.0, left_s - hint_s.sum(axis=0))
    share = wanted / np.maximum(wanted.sum(axis=0), 1.0)
    caps: FloatArray = np.where(finite, np.floor(hint_s + slack * share) / 60.0, np.inf)
    return caps


def _plan_tiers(
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    chosen: IntArray,
    weights: Weights,
) -> tuple[list[int], list[int]]:
    """A plan's value on each tier as the component's model counts it, and each trivial bound."""
    local = component.pairs
    on = chosen == 1
    request, mediator = pairs.request[local], pairs.mediator[local]
    seconds = jobs.seconds[request]
    total_seconds = int(jobs.seconds[component.requests].sum())
    mediators, slot = np.unique(mediator, return_inverse=True)
    share_s = math.ceil(total_seconds / max(1, len(mediators)))
    worked = np.zeros(len(mediators), dtype=np.int64)
    np.add.at(worked, slot[on], seconds[on])
    over = np.maximum(0, np.ceil((worked - share_s) / FAIRNESS_UNIT_S)).astype(np.int64)
    columns = [
        jobs.priority[request],
        tiers.preferences[local],
        -tiers.travel[local],
        -tiers.load[local],
        tiers.level[local],
    ]
    values = [int(column[on].sum()) for column in columns]
    values[TIERS.index("fairness")] -= weights.fairness * int(over.sum())
    index = np.arange(len(local), dtype=np.int64)
    trivial = [_tier(index, column.astype(np.int64), request).trivial_bound for column in columns]
    return values, trivial


def _polish(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    local: IntArray,
    chosen: IntArray,
    fixed: dict[int, int],
) -> None:
    """Move single jobs to a mediator who is preferred, or as preferred and nearer.

    Each move keeps filled priority, never lowers the preferences tier and
    only cuts travel when it leaves preferences equal, so the plan improves
    lexicographically (fairness and level may move). The whole-day solves
    spend most of their time on filled priority; this wins back the short
    trips of the greedy hint that they gave away, at a few seconds for a city.
    """
    planner = Planner(problem, pool, jobs)
    where = np.full(len(problem.requests), -1, dtype=np.int64)
    for k in np.flatnonzero(chosen == 1):
        planner.assign(int(pairs.request[local[k]]), int(pairs.mediator[local[k]]))
        where[pairs.request[local[k]]] = k
    position = {int(p): k for k, p in enumerate(local)}
    for r in sorted(planner.holder, key=lambda r: -int(tiers.travel[local[where[r]]])):
        if r in fixed:
            continue
        k_now = int(where[r])
        now = local[k_now]
        lo, hi = int(pairs.offsets[r]), int(pairs.offsets[r + 1])
        better = [
            q
            for q in range(lo, hi)
            if q in position
            and (
                tiers.preferences[q] > tiers.preferences[now]
                or (
                    tiers.preferences[q] == tiers.preferences[now]
                    and tiers.travel[q] < tiers.travel[now]
                )
            )
        ]
        better.sort(key=lambda q: (-int(tiers.preferences[q]), int(tiers.travel[q])))
        for q in better:
            m = int(pairs.mediator[q])
            planner.unassign(r)
            if planner.fits(r, m):
                planner.assign(r, m)
                chosen[k_now] = 0
                chosen[position[q]] = 1
                where[r] = position[q]
                break
            planner.assign(r, int(pairs.mediator[now]))


def _exchange(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    local: IntArray,
    chosen: IntArray,
    fixed: dict[int, int],
    day_of: IntArray,
    deadline: float | None,
) -> int:
    """Move a job to a better mediator who must hand one of that day's jobs on.

    For each held job (longest trips first) and each of its candidates who
    would be preferred, or as preferred and nearer: if the candidate is free
    for it, move it (what `_polish` does, possible again after other moves);
    else try each of the candidate's jobs that day in turn, taken off and
    given to the best of its own candidates who can take it, the first
    mediator included (then it is a swap). A change is made only when the
    two moves together raise the preferences tier, or keep it and cut
    travel; filled priority stays as it is. Passes repeat until one changes
    nothing, or the deadline (wall clock; None: no deadline, for
    deterministic runs) passes. Returns the number of changes.
    """
    planner = Planner(problem, pool, jobs)
    position = {int(p): k for k, p in enumerate(local)}
    held: dict[int, int] = {}
    for k in np.flatnonzero(chosen == 1):
        r = int(pairs.request[local[k]])
        planner.assign(r, int(pairs.mediator[local[k]]))
        held[r] = int(local[k])
    preference = tiers.preferences.tolist()
    travel = tiers.travel.tolist()
    mediator_of = pairs.mediator.tolist()
    candidates: dict[int, list[int]] = {}
    best_preference: dict[int, int] = {}
    least_travel: dict[int, int] = {}
    for r in np.unique(pairs.request[local]).tolist():
        mine = [q for q in range(int(pairs.offsets[r]), int(pairs.offsets[r + 1])) if q in position]
        candidates[r] = mine
        best_preference[r] = max(preference[q] for q in mine)
        least_travel[r] = min(travel[q] for q in mine)
    day = day_of.tolist()

    def better(gain_preference: int, gain_travel: int) -> bool:
        return gain_preference > 0 or (gain_preference == 0 and gain_travel > 0)

    def move(r: int, q: int) -> None:
        chosen[position[held[r]]] = 0
        chosen[position[q]] = 1
        held[r] = q

    changes = 0
    for _ in range(EXCHANGE_PASSES):
        changed = 0
        for r in sorted(held, key=lambda r: (-travel[held[r]], r)):
            if deadline is not None and time.perf_counter() > deadline:
                return changes + changed
            if r in fixed:
                continue
            q1 = held[r]
            m1 = mediator_of[q1]
            options = [
                q
                for q in candidates[r]
                if q != q1 and better(preference[q] - preference[q1], travel[q1] - travel[q])
            ]
            options.sort(key=lambda q: (-preference[q], travel[q]))
            planner.unassign(r)
            done = False
            for q in options:
                m2 = mediator_of[q]
                gain_p, gain_t = preference[q] - preference[q1], travel[q1] - travel[q]
                if planner.fits(r, m2):
                    planner.assign(r, m2)
                    move(r, q)
                    done = True
                    break
                for r2 in planner.jobs_of(m2):
                    if r2 in fixed or day[r2] != day[r]:
                        continue
                    q2 = held[r2]
                    if not better(
                        gain_p + best_preference[r2] - preference[q2],
                        gain_t + travel[q2] - least_travel[r2],
                    ):
                        continue
                    planner.unassign(r2)
                    if planner.fits(r, m2):
                        planner.assign(r, m2)
                        onward = [
                            q3
                            for q3 in candidates[r2]
                            if mediator_of[q3] != m2
                            and better(
                                gain_p + preference[q3] - preference[q2],
                                gain_t + travel[q2] - travel[q3],
                            )
                        ]
                        onward.sort(key=lambda q3: (-preference[q3], travel[q3]))
                        for q3 in onward:
                            if planner.fits(r2, mediator_of[q3]):
                                planner.assign(r2, mediator_of[q3])
                                move(r, q)
                                move(r2, q3)
                                done = True
                                break
                        if done:
                            break
                        planner.unassign(r)
                    planner.assign(r2, m2)
                if done:
                    break
            if done:
                changed += 1
            else:
                planner.assign(r, m1)
        changes += changed
        if not changed:
            break
    return changes


def _insert(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    plan: dict[int, int],
    fixed: dict[int, int],
    deadline: float | None,
    local: IntArray | None = None,
) -> dict[int, int]:
    """Fill more priority than the greedy plan by handing one job on.

    For each request left open (higher priority, then fewest candidates
    first) and each of its candidates: take it if the candidate is free for
    it; else try each of the candidate's jobs (that day first) in turn: taken
    off, the open request put in its place, and the job given to another of
    its candidates who can take it, or left open if it is worth less. Every
    change raises filled priority, so the passes end; also at the deadline
    (wall clock; None for deterministic runs: one pass). With `local` (the
    pairs of one component), only that component's requests are tried.
    Returns the plan.
    """
    planner = Planner(problem, pool, jobs)
    for r, m in plan.items():
        planner.assign(r, m)
    priority = jobs.priority.tolist()
    day = [r.start.date().toordinal() for r in problem.requests]
    counts = pairs.count_per_request()
    mediator_of: list[int] = pairs.mediator.tolist()
    offsets: list[int] = pairs.offsets.tolist()

    def others(r: int) -> list[int]:
        return mediator_of[offsets[r] : offsets[r + 1]]

    inside = None
    if local is not None:
        inside = np.zeros(len(problem.requests), dtype=bool)
        inside[pairs.request[local]] = True

    for _ in range(1 if deadline is None else INSERT_PASSES):
        gained = 0
        open_requests = [
            r
            for r in np.lexsort((counts, -jobs.priority)).tolist()
            if r not in planner.holder and counts[r] > 0 and (inside is None or inside[r])
        ]
        for r in open_requests:
            if deadline is not None and time.perf_counter() > deadline:
                return planner.holder
            for m in others(r):
                if planner.fits(r, m):
                    planner.assign(r, m)
                    gained += 1
                    break
                placed = False
                held = sorted(planner.jobs_of(m), key=lambda j: (day[j] != day[r], priority[j]))
                for r2 in held:
                    if r2 in fixed:
                        continue
                    planner.unassign(r2)
                    if planner.fits(r, m):
                        planner.assign(r, m)
                        for m3 in others(r2):
                            if m3 != m and planner.fits(r2, m3):
                                planner.assign(r2, m3)
                                placed = True
                                break
                        if placed or priority[r] > priority[r2]:
                            placed = True
                            break
                        planner.unassign(r)
                    planner.assign(r2, m)
                if placed:
                    gained += 1
                    break
        if not gained:
            break
    return planner.holder


def _after_exchange(
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    chosen: IntArray,
    weights: Weights,
    results: list[_TierResult],
) -> list[_TierResult]:
    """Tier results once `_exchange` or `_travel_mip_pass` changed a solved plan.

    Filled priority is as it was; the preferences bound still holds (it was
    proven with filled priority locked, which the exchange keeps); the bounds
    below it were proven with the preferences locked at their old value, so
    those tiers fall back to their trivial bounds.
    """
    values, trivial = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)
    updated = [results[0]]
    for number in range(1, len(TIERS)):
        bound = max(results[number].bound, values[number]) if number == 1 else trivial[number]
        bound = max(bound, values[number])
        status = "OPTIMAL" if values[number] >= bound else "FEASIBLE"
        updated.append(_TierResult(values[number], float(bound), status))
    return updated


def _solve_by_day(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    fixed: dict[int, int],
    weights: Weights,
    hint: dict[int, int],
    day_of: IntArray,
    language_of: IntArray,
    budget: _Budget,
    allowance: float,
    *,
    num_workers: int,
    seed: int,
    log: bool,
    max_memory_mb: int | None,
    counters: dict[str, float] | None = None,
) -> tuple[IntArray, list[_TierResult], int, int, int] | None:
    """A large component by LNS from the hint, after whole-day solves if `DAY_SHARE` > 0.

    Only the weekly minutes cap ties the days together (jobs of two days
    never overlap, and the night leaves time to travel anywhere within a
    radius), so day-sized models plan the week: on a loaded 2-core machine
    the congested city's week model spent its whole minute in presolve.
    Whole-day solves take each day's caps from `_day_caps`; the LNS takes
    each neighbourhood's from the current plan. Neither proves a bound for
    the week, so each tier reports its trivial bound. After the LNS come
    `_travel_pass` (CP-SAT), on the wall clock the polishes and `_travel_mip_pass`
    over a few pairs per filled request (HiGHS), and the polishes. `counters` (when
    given) gets what each stage gained in filled priority and how long it took, for the
    stats.
    """
    counters = {} if counters is None else counters
    priority_of = jobs.priority[pairs.request[component.pairs]]
    stage_started = time.perf_counter()
    local = component.pairs
    request, mediator = pairs.request[local], pairs.mediator[local]
    day = day_of[request]
    days = np.unique(day)
    in_hint = np.array(
        [hint.get(int(r)) == int(m) for r, m in zip(request, mediator, strict=True)], dtype=bool
    )
    caps = _day_caps(pool, jobs, request, mediator, in_hint, day, days)
    started_left = budget.left()
    chosen = in_hint.astype(np.int64)
    cliques = travel = 0
    pairs_left = len(local)
    day_allowance = allowance * DAY_SHARE
    for number, today in enumerate(days if day_allowance > 0 else ()):
        inside = np.flatnonzero(day == today)
        part = _Component(np.unique(request[inside]), local[inside])
        # Days before this one are planned, later ones still at the hint: what each day may
        # add to a limit is what those leave, so the days' plans together keep it.
        outside = chosen == 1
        outside[inside] = False
        used = _cents_used(pool, jobs, request, mediator, outside)
        built = _build(pool, jobs, pairs, tiers, part, fixed, weights, hint, caps[number], used)
        cliques += built.cliques
        travel += built.travel_pairs
        spent = started_left - budget.left()
        share = max(0.05, (day_allowance - spent) * len(inside) / pairs_left)
        pairs_left -= len(inside)
        solved = _solve_tiers(
            built,
            budget,
            share,
            num_workers=num_workers,
            seed=seed,
            log=log,
            max_memory_mb=max_memory_mb,
        )
        if solved is None:
            return None
        chosen[inside] = solved[0][: len(inside)]
    _count(counters, "day_solves", chosen, in_hint.astype(np.int64), priority_of, stage_started)
    stage_started = time.perf_counter()
    after_days = chosen.copy()
    # Large-neighbourhood search: one language on one day, or on the whole week,
    # its pairs free and the other jobs of its speakers there fixed, solved
    # exactly (these models are small), until the time is up. Each
    # neighbourhood's caps are the weekly cap minus its speakers' work outside
    # it, from the current plan: the split of the weekly cap over the days made
    # for the day solves no longer binds, so minutes move to the day that needs
    # them (scarce languages, whose speakers reach their weekly cap, gain most).
    language = language_of[request]
    seconds = jobs.seconds[request].astype(np.float64)
    neighbourhoods: list[tuple[int | None, IntArray]] = []
    for tag in np.unique(language):
        week = np.flatnonzero(language == tag)
        if len(np.unique(day[week])) > 1 and len(week) > 1:
            neighbourhoods.append((None, week))
        for today in np.unique(day[week]):
            free = week[day[week] == today]
            if len(free) > 1:
                neighbourhoods.append((int(today), free))
    polish_reserve = min(POLISH_MAX_S, allowance * POLISH_SHARE)
    travel_reserve = allowance * TRAVEL_SHARE
    mip_reserve = 0.0 if budget.deterministic else min(MIP_SPLIT_MAX_S, allowance * MIP_SPLIT_SHARE)
    lns_allowance = allowance - polish_reserve - travel_reserve - mip_reserve
    improved = True
    passes = 0
    fixed_requests = np.array(sorted(fixed), dtype=np.int64)
    while improved and lns_allowance - (started_left - budget.left()) > LNS_MIN_S:
        improved = False
        passes += 1
        # Neighbourhoods with the most priority left unfilled first: only there
        # can filled priority still grow; the others can only win lower tiers.
        # Another pass while the last one improved anything.
        filled = np.zeros(len(problem.requests), dtype=bool)
        filled[request[chosen == 1]] = True
        unfilled = [
            -int(jobs.priority[np.unique(request[free][~filled[request[free]]])].sum())
            for _, free in neighbourhoods
        ]
        for at in np.argsort(unfilled, kind="stable"):
            if lns_allowance - (started_left - budget.left()) <= LNS_MIN_S:
                break
            today, free = neighbourhoods[int(at)]
            speakers = np.unique(mediator[free])
            there = np.isin(mediator, speakers) & (chosen == 1)
            if today is not None:
                there &= day == today
            held = np.flatnonzero(there)
            held = held[~np.isin(held, free)]
            inside = np.union1d(free, held)
            if LNS_FREE_HELD and today is not None:
                # The speakers' other jobs there may move among the speakers (or
                # give way to a job worth more): every job of every speaker there
                # is in the model, so the moves stay feasible.
                movable = held[~np.isin(request[held], fixed_requests)]
                extra = np.flatnonzero(
                    np.isin(request, request[movable]) & np.isin(mediator, speakers)
                )
                inside = np.union1d(inside, extra)
                held = held[~np.isin(held, movable)]
            outside = chosen == 1
            outside[inside] = False
            worked_s = np.zeros(len(pool))
            np.add.at(worked_s, mediator[outside], seconds[outside])
            caps = pool.minutes_left - worked_s / 60.0
            keep = {int(request[k]): int(mediator[k]) for k in held}
            keep.update(fixed)
            current = {int(request[k]): int(mediator[k]) for k in inside if chosen[k] == 1}
            part = _Component(np.unique(request[inside]), local[inside])
            used = _cents_used(pool, jobs, request, mediator, outside)
            built = _build(pool, jobs, pairs, tiers, part, keep, weights, current, caps, used)
            left = lns_allowance - (started_left - budget.left())
            before = _plan_tiers(jobs, pairs, tiers, part, chosen[inside], weights)[0][:LNS_TIERS]
            solved = _solve_tiers(
                built,
                budget,
                min(LNS_STEP_S if today is not None else LNS_WEEK_STEP_S, left),
                num_workers=num_workers,
                seed=seed,
                log=log,
                max_memory_mb=max_memory_mb,
                tier_count=LNS_TIERS,
            )
            if solved is not None:
                after = solved[0][: len(inside)]
                gained = _plan_tiers(jobs, pairs, tiers, part, after, weights)[0][:LNS_TIERS]
                kind = "lns_day" if today is not None else "lns_week"
                counters[f"{kind}_tried"] = counters.get(f"{kind}_tried", 0) + 1
                if solved[1][0].status == "OPTIMAL":
                    counters[f"{kind}_proven"] = counters.get(f"{kind}_proven", 0) + 1
                if gained > before:
                    counters[f"{kind}_improved"] = counters.get(f"{kind}_improved", 0) + 1
                    counters[f"{kind}_priority"] = (
                        counters.get(f"{kind}_priority", 0) + gained[0] - before[0]
                    )
                    chosen[inside] = after
                    improved = True
    counters["lns_passes"] = passes
    _count(counters, "lns", chosen, after_days, priority_of, stage_started)
    # The LNS moved jobs between speakers, so handing single jobs on may fill
    # requests again (cheap next to a CP-SAT neighbourhood).
    stage_started = time.perf_counter()
    after_lns = chosen.copy()
    _refill(problem, pool, jobs, pairs, local, chosen, fixed, budget, INSERT_AFTER_LNS_S)
    _count(counters, "insert_after_lns", chosen, after_lns, priority_of, stage_started)
    stage_started = time.perf_counter()
    travel_before = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)[0]
    counters["travel_pass_rounds"] = _travel_pass(
        pool,
        jobs,
        pairs,
        tiers,
        component,
        chosen,
        fixed,
        weights,
        day_of,
        budget,
        max(0.0, allowance - polish_reserve - mip_reserve - (started_left - budget.left())),
        num_workers=num_workers,
        seed=seed,
        log=log,
        max_memory_mb=max_memory_mb,
    )
    travel_after = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)[0]
    travel_tier = TIERS.index("travel")
    counters["travel_pass_gain"] = travel_after[travel_tier] - travel_before[travel_tier]
    counters["travel_pass_seconds"] = round(time.perf_counter() - stage_started, 2)
    exchanges = 0
    if not budget.deterministic:
        # The polishes first (the exchange settles in about a second on the city), so
        # HiGHS starts from their plan; they run again after it on what it leaves.
        stage_started = time.perf_counter()
        _polish(problem, pool, jobs, pairs, tiers, local, chosen, fixed)
        exchanges += _exchange(
            problem,
            pool,
            jobs,
            pairs,
            tiers,
            local,
            chosen,
            fixed,
            day_of,
            time.perf_counter() + MIP_EXCHANGE_FIRST_S,
        )
        mip_before = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)[0]
        counters["travel_mip_split_days"] = _travel_mip_pass(
            pool,
            jobs,
            pairs,
            tiers,
            component,
            chosen,
            fixed,
            weights,
            day_of,
            time.perf_counter()
            + max(0.0, allowance - polish_reserve - (started_left - budget.left())),
            MIP_SPLIT_NEAREST,
        )
        mip_after = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)[0]
        preference_tier = TIERS.index("preferences")
        counters["travel_mip_split_preferences"] = (
            mip_after[preference_tier] - mip_before[preference_tier]
        )
        counters["travel_mip_split_travel"] = mip_after[travel_tier] - mip_before[travel_tier]
        counters["travel_mip_split_seconds"] = round(time.perf_counter() - stage_started, 2)
    _polish(problem, pool, jobs, pairs, tiers, local, chosen, fixed)
    deadline = None
    if not budget.deterministic:
        deadline = time.perf_counter() + max(
            EXCHANGE_MIN_S, allowance - (started_left - budget.left())
        )
    exchanges += _exchange(
        problem, pool, jobs, pairs, tiers, local, chosen, fixed, day_of, deadline
    )
    totals, trivial = _plan_tiers(jobs, pairs, tiers, component, chosen, weights)
    results = [
        _TierResult(
            int(value), float(max(value, bound)), "OPTIMAL" if value >= bound else "FEASIBLE"
        )
        for value, bound in zip(totals, trivial, strict=True)
    ]
    return chosen, results, cliques, travel, exchanges


def _travel_pass(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    chosen: IntArray,
    fixed: dict[int, int],
    weights: Weights,
    day_of: IntArray,
    budget: _Budget,
    allowance: float,
    *,
    num_workers: int,
    seed: int,
    log: bool,
    max_memory_mb: int | None,
) -> int:
    """Re-plan each day's filled requests for preferences and travel, in place.

    The LNS spends its time where filled priority can still grow, so the
    last plan's trips are whatever its neighbourhoods left (the congested
    city's 4,061 km against the careful greedy's 3,934). Here each day is one
    model of only the requests filled that day, each of which must stay
    filled (so filled priority is exactly kept and needs no proof), with each
    mediator's cap the weekly minutes left less their work on the other days.
    Such a model has no priority to fight over and CP-SAT settles its
    preferences and travel quickly. A day's new plan replaces the old only
    when it is lexicographically at least as good on filled priority,
    preferences and travel; the later tiers are the polish's. Returns the
    number of rounds over the days.
    """
    local = component.pairs
    request, mediator = pairs.request[local], pairs.mediator[local]
    seconds = jobs.seconds[request].astype(np.float64)
    filled = np.zeros(len(jobs.seconds), dtype=bool)
    filled[request[chosen == 1]] = True
    day = day_of[request]
    days = np.unique(day[filled[request]])
    started_left = budget.left()
    rounds = 0
    changed = True
    while changed and rounds < TRAVEL_ROUNDS:
        changed = False
        rounds += 1
        # Only a request's own pair and those that would be better for it
        # alone (preferred, or as preferred and nearer): a whole city day's
        # filled requests with all their pairs (8,000-9,000) did not improve
        # in a second, these (about 1,200) are proven in a fifth of one. A
        # next round starts from the new pairs, so moves can chain.
        held = np.full(len(jobs.seconds), -1, dtype=np.int64)
        held[request[chosen == 1]] = local[chosen == 1]
        now = held[request]
        useful = (chosen == 1) | (
            (now >= 0)
            & (
                (tiers.preferences[local] > tiers.preferences[now])
                | (
                    (tiers.preferences[local] == tiers.preferences[now])
                    & (tiers.travel[local] < tiers.travel[now])
                )
            )
        )
        for number, today in enumerate(days):
            left = allowance - (started_left - budget.left())
            if left <= LNS_MIN_S:
                return rounds
            inside = np.flatnonzero((day == today) & useful)
            outside = chosen == 1
            outside[inside] = False
            worked_s = np.zeros(len(pool))
            np.add.at(worked_s, mediator[outside], seconds[outside])
            caps = pool.minutes_left - worked_s / 60.0
            current = {int(request[k]): int(mediator[k]) for k in inside if chosen[k] == 1}
            part = _Component(np.unique(request[inside]), local[inside])
            used = _cents_used(pool, jobs, request, mediator, outside)
            built = _build(pool, jobs, pairs, tiers, part, fixed, weights, current, caps, used)
            # Every request of the day's model stays filled.
            cuts = np.flatnonzero(np.diff(request[inside])) + 1
            for group in np.split(np.arange(len(inside)), cuts):
                built.model.proto.constraints.add().bool_or.literals.extend(group.tolist())
            before = _plan_tiers(jobs, pairs, tiers, part, chosen[inside], weights)[0]
            solved = _solve_tiers(
                built,
                budget,
                left / (len(days) - number),
                num_workers=num_workers,
                seed=seed,
                log=log,
                max_memory_mb=max_memory_mb,
                tier_count=LNS_TIERS,
            )
            if solved is None:
                continue
            after = solved[0][: len(inside)]
            gained = _plan_tiers(jobs, pairs, tiers, part, after, weights)[0]
            if gained[:LNS_TIERS] > before[:LNS_TIERS]:
                chosen[inside] = after
                changed = True
    return rounds


def _mip_from_model(model: cp_model.CpModel, count: int) -> _Mip | None:
    """A `_build` model's rows over its first `count` (pair) variables, as a HiGHS MIP.

    `_build` is the one place that states the rules (one mediator a request, one job of
    each clique of overlapping jobs, time to travel, the minutes cap, fixed pairs); this
    reads them back. Rows with other variables (tier 4's fair-share excess, always
    satisfiable) are left out. None when a row is of a kind `_build` does not write.
    HiGHS through highspy rather than OR-Tools' `pywraplp`: OR-Tools 9.15's HiGHS (1.12)
    crashes the process on a hint and took 10-14 s on a city day that highspy's HiGHS
    (1.16) proves in 0.3-2.4 s.
    """
    infinity = highspy.kHighsInf
    starts: list[int] = [0]
    index: list[int] = []
    value: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for constraint in model.proto.constraints:
        coefficients: list[int] | None = None
        if constraint.has_at_most_one():
            literals, low, high = list(constraint.at_most_one.literals), -infinity, 1.0
        elif constraint.has_bool_or():
            literals, low, high = list(constraint.bool_or.literals), 1.0, infinity
        elif constraint.has_bool_and():
            literals = list(constraint.bool_and.literals)
            low, high = float(len(literals)), infinity
        elif constraint.has_linear():
            literals = list(constraint.linear.vars)
            if max(literals, default=0) >= count:
                continue
            coefficients = list(constraint.linear.coeffs)
            domain = list(constraint.linear.domain)
            if len(domain) != 2:
                return None
            low, high = float(domain[0]), float(domain[1])
        else:
            return None
        if min(literals, default=0) < 0:
            return None  # a negated literal
        index.extend(literals)
        value.extend([1.0] * len(literals) if coefficients is None else coefficients)
        starts.append(len(index))
        lower.append(low)
        upper.append(high)
    lp = highspy.HighsLp()
    lp.num_col_ = count
    lp.num_row_ = len(lower)
    lp.col_cost_ = np.zeros(count)
    lp.col_lower_ = np.zeros(count)
    lp.col_upper_ = np.ones(count)
    lp.row_lower_ = np.array(lower, dtype=np.float64)
    lp.row_upper_ = np.array(upper, dtype=np.float64)
    matrix = highspy.HighsSparseMatrix()
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = count
    matrix.num_row_ = len(lower)
    matrix.start_ = np.array(starts, dtype=np.int32)
    matrix.index_ = np.array(index, dtype=np.int32)
    matrix.value_ = np.array(value, dtype=np.float64)
    lp.a_matrix_ = matrix
    lp.integrality_ = [highspy.HighsVarType.kInteger] * count
    highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's __init__ has no hints
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", 0)
    highs.passModel(lp)
    return _Mip(highs, count)


def _mip_minimise(mip: _Mip, coefficients: IntArray, start: IntArray, seconds: float) -> IntArray:
    """The best plan found for min coefficients . x within `seconds` from `start`, else `start`.

    `start` (a feasible plan) is HiGHS's first incumbent, so a solve cut by its time
    limit still returns at least it.
    """
    every = np.arange(mip.count, dtype=np.int32)
    mip.highs.changeColsCost(mip.count, every, coefficients.astype(np.float64))
    solution = highspy.HighsSolution()
    solution.col_value = start.astype(np.float64).tolist()
    mip.highs.setSolution(solution)
    mip.highs.setOptionValue("time_limit", max(MIP_MIN_S, seconds))
    mip.highs.run()
    if mip.highs.getInfo().primal_solution_status != int(FEASIBLE_SOLUTION):
        return start
    values = np.array(mip.highs.getSolution().col_value, dtype=np.float64)
    if len(values) != mip.count:
        return start
    found = (values > 0.5).astype(np.int64)
    return found if int(coefficients @ found) < int(coefficients @ start) else start


def _hold(mip: _Mip, coefficients: IntArray, least: int) -> None:
    """Later solves keep coefficients . x at least `least`."""
    at = np.flatnonzero(coefficients).astype(np.int32)
    mip.highs.addRow(
        float(least), highspy.kHighsInf, len(at), at, coefficients[at].astype(np.float64)
    )


def _travel_mip_pass(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    tiers: PairTiers,
    component: _Component,
    chosen: IntArray,
    fixed: dict[int, int],
    weights: Weights,
    day_of: IntArray,
    deadline: float,
    nearest: int | None = None,
) -> int:
    """Each day's filled requests as a MIP: preferences, then travel; in place.

    For a component solved whole whose preferences or travel tier is not proven, over
    all the filled requests' pairs: its last tiers get what the first solve leaves (on
    the congested city's 4,490-pair component, preferences 3,200 where 7,600 are possible
    with the same requests filled, and 1,369 km where 1,258 are with preferences free).
    For a day-split component, after its LNS, over each request's own pair, those better
    for it alone (as in `_travel_pass`) and its `nearest` nearest: a city day's 8,000-9,000
    pairs did not improve in 3 s, these (about 2,000) are mostly proven in 0.3-2.4 s.
    Per day, with every filled request kept filled and each mediator's cap the weekly
    minutes left less their work on the other days, these models are nearly assignment
    problems: HiGHS proves them where CP-SAT did not in 3 s. A first solve maximises the
    preferences tier, a second minimises travel with it held, each from the current plan.
    A day's plan is taken only when (preferences, travel) is lexicographically better, so
    filled priority is kept exactly. Wall clock only: HiGHS has no deterministic time.
    Returns the number of days improved.
    """
    local = component.pairs
    request, mediator = pairs.request[local], pairs.mediator[local]
    seconds = jobs.seconds[request].astype(np.float64)
    filled = np.zeros(len(jobs.seconds), dtype=bool)
    filled[request[chosen == 1]] = True
    day = day_of[request]
    days = np.unique(day[filled[request]])
    rank = np.zeros(len(local), dtype=np.int64)
    if nearest is not None:
        # Each pair's rank by distance among its request's pairs (local is grouped by request).
        order = np.lexsort((pairs.distance_km[local], request))
        first = np.r_[0, np.flatnonzero(np.diff(request[order])) + 1]
        rank[order] = np.arange(len(local)) - np.repeat(first, np.diff(np.r_[first, len(local)]))
    improved = 0
    changed, rounds = True, 0
    while changed and rounds < (1 if nearest is None else MIP_SPLIT_ROUNDS):
        # A next round offers the pairs better than the new ones, so moves can chain.
        changed, rounds = False, rounds + 1
        useful = filled[request]
        if nearest is not None:
            held = np.full(len(jobs.seconds), -1, dtype=np.int64)
            held[request[chosen == 1]] = local[chosen == 1]
            now = held[request]
            preference, travel = tiers.preferences[local], tiers.travel[local]
            better = (preference > tiers.preferences[now]) | (
                (preference == tiers.preferences[now]) & (travel < tiers.travel[now])
            )
            useful &= (chosen == 1) | better | (rank < nearest)
        for number, today in enumerate(days):
            share = (deadline - time.perf_counter()) / (len(days) - number)
            if share <= MIP_MIN_S:
                return improved
            on_day = day == today
            worked_s = np.zeros(len(pool))
            outside = (chosen == 1) & ~on_day
            np.add.at(worked_s, mediator[outside], seconds[outside])
            caps = pool.minutes_left - worked_s / 60.0
            used = _cents_used(pool, jobs, request, mediator, outside)
            inside = np.flatnonzero(on_day & useful)
            current = {int(request[k]): int(mediator[k]) for k in inside if chosen[k] == 1}
            part = _Component(np.unique(request[inside]), local[inside])
            built = _build(pool, jobs, pairs, tiers, part, fixed, weights, current, caps, used)
            count = len(inside)
            # Every request of the day's model stays filled.
            cuts = np.flatnonzero(np.diff(request[inside])) + 1
            for group in np.split(np.arange(count), cuts):
                built.model.proto.constraints.add().bool_or.literals.extend(group.tolist())
            mip = _mip_from_model(built.model, count)
            if mip is None:
                return improved
            preference, travel = tiers.preferences[local[inside]], tiers.travel[local[inside]]
            start = chosen[inside].copy()
            best = start
            if int(preference @ start) < built.tiers[1].trivial_bound:
                best = _mip_minimise(mip, -preference, start, share / 2)
            # Travel, with the preferences tier held where the first solve left it.
            _hold(mip, preference, int(preference @ best))
            best = _mip_minimise(
                mip,
                travel,
                best,
                max(MIP_MIN_S, deadline - time.perf_counter()) / (len(days) - number),
            )
            kept = int(best.sum()) == len(part.requests) and np.array_equal(
                np.unique(request[inside][best == 1]), part.requests
            )
            gained = (int(preference @ best), -int(travel @ best))
            if kept and gained > (int(preference @ start), -int(travel @ start)):
                chosen[inside] = best
                improved += 1
                changed = True
    return improved


def _refill(
    problem: Problem,
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    local: IntArray,
    chosen: IntArray,
    fixed: dict[int, int],
    budget: _Budget,
    seconds: float,
) -> None:
    """`_insert` on a component's plan (`chosen` over its pairs `local`), in place.

    A component's mediators hold none of the other components' jobs, so the
    component's plan alone is a plan to insert into; `_insert` only adds
    filled priority, so the plan stays at least as good on the first tier.
    """
    plan = {
        int(pairs.request[local[k]]): int(pairs.mediator[local[k]])
        for k in np.flatnonzero(chosen == 1)
    }
    deadline = None if budget.deterministic else time.perf_counter() + seconds
    filled = _insert(problem, pool, jobs, pairs, plan, fixed, deadline, local)
    if filled == plan:
        return
    position = {(int(pairs.request[q]), int(pairs.mediator[q])): k for k, q in enumerate(local)}
    chosen[:] = 0
    for r, m in filled.items():
        chosen[position[(r, m)]] = 1


def _count(
    counters: dict[str, float],
    stage: str,
    chosen: IntArray,
    before: IntArray,
    priority_of: IntArray,
    started: float,
) -> None:
    """What a stage of `_solve_by_day` gained in filled priority, and its wall seconds."""
    gained = int(priority_of[chosen == 1].sum()) - int(priority_of[before == 1].sum())
    counters[f"{stage}_priority"] = counters.get(f"{stage}_priority", 0) + gained
    counters[f"{stage}_seconds"] = round(
        counters.get(f"{stage}_seconds", 0.0) + time.perf_counter() - started, 2
    )


def _best_pair(built: _Built, count: int) -> int:
    """A one-request component: the best pair in tier order, no solver needed."""
    keys = []
    for tier in reversed(built.tiers):
        column = np.zeros(count, dtype=np.int64)
        inside = tier.variables < count
        column[tier.variables[inside]] = tier.coefficients[inside]
        keys.append(-column)
    return int(np.lexsort(keys)[0])


def optimize(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    num_workers: int = 8,
    seed: int = 0,
    pool: Pool | None = None,
    weights: Weights = Weights(),
    max_pairs: int | None = 200_000,
    deterministic: bool = False,
    max_memory_mb: int | None = DEFAULT_MAX_MEMORY_MB,
    log: bool = False,
    day_split_pairs: int | None = DAY_SPLIT_PAIRS,
) -> Solution:
    """Plan all requests of the problem at once; see the module docstring for the model.

    `objective` and `bound` are those of the first tier, filled priority;
    `stats` has each tier's value, bound and status (`travel` in tenths of
    a km). With `deterministic`, the time limit is CP-SAT's deterministic
    time rather than seconds, so one worker and one seed give the same plan
    on any machine, however loaded, even when the limit cuts the search.

    When the problem has more than `max_pairs` feasible pairs, each request
    keeps only its k best mediators (k as large as fits); the solver's bound
    then holds for that smaller model only, so the reported
    `filled_priority_bound` falls back to the plain bound "every request
    with a candidate filled" (`stats["pruned_to"]` says k).

    `stats["component_bound_<r>"]`: the solver's proven bound on the filled
    priority of the component whose smallest request index is r, for each
    component solved whole that the cut left whole and whose bound is below
    its requests' total priority (`matching.bounds.by_component` sums them
    with other bounds per component; split components prove none).
    """
    clock = time.perf_counter()
    limit = time_limit_s if time_limit_s is not None else problem.time_limit_s
    budget = _Budget(limit if limit is not None else DEFAULT_TIME_LIMIT_S, deterministic, clock)
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
                problem,
                pool,
                {},
                "INFEASIBLE",
                time.perf_counter() - clock,
                objective=None,
                stats={"reason": f"fixed pair {request_id}-{mediator_id}: {why}"},
            )
        fixed[r] = m

    tiers = pair_tiers(problem, pool, pairs, weights)
    # Requests and mediators that lost a pair to the cut below: a component
    # touching one is only part of the problem's, so its bound proves nothing.
    cut_request = np.zeros(len(problem.requests), dtype=bool)
    cut_mediator = np.zeros(len(pool), dtype=bool)
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
    hint = _insert(
        problem,
        pool,
        jobs,
        pairs,
        hint,
        fixed,
        None if deterministic else time.perf_counter() + budget.total * INSERT_SHARE,
    )
    if max_pairs is not None and len(pairs) > max_pairs:
        hinted = np.full(len(problem.requests), -1, dtype=np.int64)
        for r, m in hint.items():
            hinted[r] = m
        for r, m in fixed.items():
            hinted[r] = m
        must_keep = hinted[pairs.request] == pairs.mediator
        per_request = pairs.count_per_request()
        per_mediator = np.bincount(pairs.mediator, minlength=len(pool))
        pairs, tiers, pruned_to = _keep_best_pairs(pairs, tiers, must_keep, max_pairs)
        cut_request = pairs.count_per_request() < per_request
        cut_mediator = np.bincount(pairs.mediator, minlength=len(pool)) < per_mediator
    components = connected_components(pairs, len(pool))
    prepared = time.perf_counter()

    holder: dict[int, int] = {}
    totals = [0] * len(TIERS)
    bounds = [0.0] * len(TIERS)
    statuses: list[set[str]] = [set() for _ in TIERS]
    infeasible = False
    cliques = travel_pairs = 0
    pairs_left = sum(len(c.pairs) for c in components)
    solves_left = sum(len(c.requests) > 1 for c in components)
    day_of = np.array([r.start.date().toordinal() for r in problem.requests], dtype=np.int64)
    tags = sorted({r.language for r in problem.requests})
    language_of = np.array([tags.index(r.language) for r in problem.requests], dtype=np.int64)
    split_by_day = exchanges = mip_days = 0
    counters: dict[str, float] = {}
    component_bounds: dict[str, int] = {}
    for component in components:
        local = component.pairs
        request, mediator = pairs.request[local], pairs.mediator[local]
        by_day = (
            day_split_pairs is not None
            and len(local) > day_split_pairs
            and len(np.unique(day_of[component.requests])) > 1
        )
        if by_day:
            allowance = max(0.05, budget.left()) * len(local) / max(1, pairs_left)
            by_days = _solve_by_day(
                problem,
                pool,
                jobs,
                pairs,
                tiers,
                component,
                fixed,
                weights,
                hint,
                day_of,
                language_of,
                budget,
                allowance,
                num_workers=num_workers,
                seed=seed,
                log=log,
                max_memory_mb=max_memory_mb,
                counters=counters,
            )
            if by_days is None:
                infeasible = True
                break
            chosen, results, day_cliques, day_travel, day_exchanges = by_days
            exchanges += day_exchanges
            cliques += day_cliques
            travel_pairs += day_travel
            split_by_day += 1
        else:
            built = _build(pool, jobs, pairs, tiers, component, fixed, weights, hint)
            cliques += built.cliques
            travel_pairs += built.travel_pairs
        if by_day:
            pass
        elif len(component.requests) == 1:
            chosen = np.zeros(len(built.hint), dtype=np.int64)
            forced = [
                k for k in range(len(local)) if fixed.get(int(request[k])) == int(mediator[k])
            ]
            chosen[forced[0] if forced else _best_pair(built, len(local))] = 1
            results = [
                _TierResult(t.value(chosen), float(t.value(chosen)), "OPTIMAL") for t in built.tiers
            ]
        else:
            allowance = max(
                max(0.05, budget.left()) * len(local) / max(1, pairs_left),
                min(MIN_COMPONENT_S, budget.left() / 2),
                min(EQUAL_COMPONENT_MAX_S, budget.left() / max(1, solves_left))
                if built.tiers[0].value(built.hint) < built.tiers[0].trivial_bound
                else 0.0,
            )
            workers = num_workers
            if len(local) > LARGE_COMPONENT_PAIRS:
                workers = min(num_workers, LARGE_COMPONENT_WORKERS)
            solved = _solve_tiers(
                built,
                budget,
                allowance,
                num_workers=workers,
                seed=seed,
                log=log,
                max_memory_mb=max_memory_mb,
            )
            if solved is None:
                infeasible = True
                break
            chosen, results = solved
            travel_tier = TIERS.index("travel")
            if results[travel_tier].status != "OPTIMAL" and not budget.deterministic:
                mip_started = time.perf_counter()
                improved_days = _travel_mip_pass(
                    pool,
                    jobs,
                    pairs,
                    tiers,
                    component,
                    chosen[: len(local)],
                    fixed,
                    weights,
                    day_of,
                    time.perf_counter() + min(MIP_MAX_S, max(0.0, budget.left()) / 4),
                )
                counters["travel_mip_seconds"] = round(
                    counters.get("travel_mip_seconds", 0.0) + time.perf_counter() - mip_started, 2
                )
                if improved_days:
                    mip_days += improved_days
                    results = _after_exchange(
                        jobs, pairs, tiers, component, chosen[: len(local)], weights, results
                    )
            if results[travel_tier].status != "OPTIMAL":
                changed = _exchange(
                    problem,
                    pool,
                    jobs,
                    pairs,
                    tiers,
                    local,
                    chosen[: len(local)],
                    fixed,
                    day_of,
                    None
                    if budget.deterministic
                    else time.perf_counter() + max(EXCHANGE_TAIL_S, budget.left()),
                )
                if changed:
                    exchanges += changed
                    results = _after_exchange(
                        jobs, pairs, tiers, component, chosen[: len(local)], weights, results
                    )
        whole = not (cut_request[component.requests].any() or cut_mediator[mediator].any())
        trivial = int(jobs.priority[component.requests].sum())
        if not by_day and whole and results[0].bound < trivial:
            first = int(component.requests[0])
            component_bounds[f"component_bound_{first}"] = math.floor(results[0].bound + 1e-9)
        pairs_left -= len(local)
        solves_left -= len(component.requests) > 1
        for k in np.flatnonzero(chosen[: len(local)]):
            holder[int(request[k])] = int(mediator[k])
        for number, result in enumerate(results):
            totals[number] += result.value
            bounds[number] += result.bound
            statuses[number].add(result.status)

    elapsed = time.perf_counter() - clock
    if infeasible:
        return plan_solution(
            problem,
            pool,
            {},
            "INFEASIBLE",
            elapsed,
            objective=None,
            stats={"reason": "the fixed pairs cannot all be kept together"},
        )
    tier_status = ["OPTIMAL" if s <= {"OPTIMAL"} else "FEASIBLE" for s in statuses]
    filled_bound = math.floor(bounds[0] + 1e-9)
    largest = components[-1] if components else None
    stats: dict[str, float | int | str] = {
        "pairs": all_pairs,
        "model_pairs": len(pairs),
        "pruned_to": pruned_to,
        "model_filled_priority_bound": filled_bound,
        "plain_filled_priority_bound": plain_bound,
        "components": len(components),
        "solver_calls": budget.solves,
        "largest_component_requests": 0 if largest is None else len(largest.requests),
        "largest_component_pairs": 0 if largest is None else len(largest.pairs),
        "cliques": cliques,
        "travel_pairs": travel_pairs,
        "components_split_by_day": split_by_day,
        "exchanges": exchanges,
        "travel_mip_days": mip_days,
        "prepare_seconds": round(prepared - clock, 3),
        "hint_filled_priority": int(sum(problem.requests[r].priority for r in hint)),
    }
    stats.update(counters)
    stats.update(component_bounds)
    for number, name in enumerate(TIERS):
        stats[f"{name}_value"] = totals[number]
        stats[f"{name}_bound"] = bounds[number]
        stats[f"{name}_status"] = tier_status[number]
    return plan_solution(
        problem,
        pool,
        holder,
        "OPTIMAL" if set(tier_status) == {"OPTIMAL"} else "FEASIBLE",
        elapsed,
        objective=float(totals[0]),
        bound=bounds[0],
        filled_priority_bound=plain_bound if pruned_to else filled_bound,
        stats=stats,
    )
