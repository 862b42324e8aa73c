"""Two greedy planners: the baselines the optimiser is measured against.

- `status_quo`: what a coordinator phoning down a list does: requests in the
  order they came, each to the first mediator on the list who can take it.
- `careful_greedy`: two passes, the better kept (filled priority, then
  continuity matches, then less travel): higher priority first, among equal
  priority the request with the fewest candidates first; and the request
  with the fewest candidates first, then higher priority. Each request goes
  to a preferred mediator (continuity) if one can still take it, else to
  the nearest who can. It also gives the optimiser its starting hint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from matching.candidates import IntArray, Jobs, Pairs, feasible_pairs, problem_jobs
from matching.feasibility import LimitPeriod, cents_left, travel_conflict_array
from matching.model import Assignment, Problem, Solution
from matching.rank import Pool


class Planner:
    """A partial plan: which mediator holds which request, kept conflict-free."""

    def __init__(self, problem: Problem, pool: Pool, jobs: Jobs) -> None:
        self.problem = problem
        self.pool = pool
        self.jobs = jobs
        self.holder: dict[int, int] = {}
        self._jobs_of: dict[int, list[int]] = {}
        self._seconds_of: dict[int, int] = {}
        self._limited = pool.limited
        self._cents_in: dict[tuple[int, LimitPeriod], int] = {}
        """(mediator, period) -> the cents their paid jobs there count, for those with a limit."""

    def fits(self, request: int, mediator: int) -> bool:
        """The request adds no overlap, travel, minutes-cap or allowance-limit conflict to
        the mediator."""
        taken = self._jobs_of.get(mediator)
        if not taken:
            return True  # the pair rules already checked the job alone against the limits
        jobs = self.jobs
        seconds = self._seconds_of[mediator] + int(jobs.seconds[request])
        if seconds > self.pool.minutes_left[mediator] * 60.0 + 1e-6:
            return False
        if not self._cents_fit(request, mediator):
            return False
        index = np.array(taken, dtype=np.int64)
        clash = travel_conflict_array(
            jobs.start[index],
            jobs.end[index],
            jobs.lat[index],
            jobs.lon[index],
            jobs.start[request],
            jobs.end[request],
            jobs.lat[request],
            jobs.lon[request],
            self.pool.speed_kmh[mediator],
        )
        return not bool(clash.any())

    def _cents_fit(self, request: int, mediator: int) -> bool:
        """The job's cents fit what is left of the mediator's limits in its periods."""
        cents = int(self.jobs.cents[request])
        limited = self._limited.get(mediator)
        if not cents or limited is None:
            return True
        for period in self.jobs.periods[request]:
            left = cents_left(limited, period)
            if left is not None and self._cents_in.get((mediator, period), 0) + cents > left:
                return False
        return True

    def _count_cents(self, request: int, mediator: int, sign: int) -> None:
        cents = int(self.jobs.cents[request])
        if cents and mediator in self._limited:
            for period in self.jobs.periods[request]:
                key = (mediator, period)
                self._cents_in[key] = self._cents_in.get(key, 0) + sign * cents

    def jobs_of(self, mediator: int) -> list[int]:
        """The requests the mediator holds now."""
        return list(self._jobs_of.get(mediator, ()))

    def assign(self, request: int, mediator: int) -> None:
        self.holder[request] = mediator
        self._jobs_of.setdefault(mediator, []).append(request)
        self._seconds_of[mediator] = self._seconds_of.get(mediator, 0) + int(
            self.jobs.seconds[request]
        )
        self._count_cents(request, mediator, 1)

    def unassign(self, request: int) -> None:
        mediator = self.holder.pop(request)
        self._jobs_of[mediator].remove(request)
        self._seconds_of[mediator] -= int(self.jobs.seconds[request])
        self._count_cents(request, mediator, -1)

    def assign_fixed(self, pairs: Pairs) -> None:
        """Fixed pairs first, where they are feasible at all."""
        request_index = {r.id: i for i, r in enumerate(self.problem.requests)}
        for request_id, mediator_id in self.problem.fixed:
            r, m = request_index[request_id], self.pool.index[mediator_id]
            lo, hi = pairs.offsets[r], pairs.offsets[r + 1]
            if r not in self.holder and m in pairs.mediator[lo:hi] and self.fits(r, m):
                self.assign(r, m)

    def solution(self, status: str, seconds: float = 0.0) -> Solution:
        return plan_solution(self.problem, self.pool, self.holder, status, seconds)


def plan_solution(
    problem: Problem,
    pool: Pool,
    holder: Mapping[int, int],
    status: str,
    seconds: float = 0.0,
    *,
    objective: float | None = None,
    bound: float | None = None,
    filled_priority_bound: int | None = None,
    stats: Mapping[str, float | int | str] | None = None,
) -> Solution:
    """A Solution from request index -> mediator pool index."""
    assignments = tuple(
        Assignment(problem.requests[r].id, pool.mediators[m].id) for r, m in sorted(holder.items())
    )
    unassigned = tuple(r.id for i, r in enumerate(problem.requests) if i not in holder)
    filled = sum(problem.requests[r].priority for r in holder)
    return Solution(
        assignments=assignments,
        unassigned=unassigned,
        status=status,
        objective=float(filled) if objective is None else objective,
        bound=bound,
        solve_seconds=seconds,
        filled_priority=filled,
        filled_priority_bound=filled_priority_bound,
        stats=dict(stats or {}),
    )


def _run(
    problem: Problem,
    pool: Pool | None,
    pairs: Pairs | None,
    order: Callable[[Pairs, Jobs], Sequence[int]],
    choices: Callable[[Pairs, int], IntArray],
) -> Planner:
    pool = pool or Pool(problem.mediators)
    pairs = pairs if pairs is not None else feasible_pairs(problem, pool)
    planner = Planner(problem, pool, problem_jobs(problem))
    planner.assign_fixed(pairs)
    for r in order(pairs, planner.jobs):
        if r in planner.holder:
            continue
        for m in choices(pairs, r):
            if planner.fits(r, int(m)):
                planner.assign(r, int(m))
                break
    return planner


def status_quo_plan(
    problem: Problem, pool: Pool | None = None, pairs: Pairs | None = None
) -> Planner:
    def in_order(_pairs: Pairs, jobs: Jobs) -> Sequence[int]:
        return range(len(jobs.start))

    def first_on_list(pairs: Pairs, r: int) -> IntArray:
        mediators: IntArray = pairs.mediator[pairs.offsets[r] : pairs.offsets[r + 1]]
        return mediators  # already in pool (list) order

    return _run(problem, pool, pairs, in_order, first_on_list)


def careful_plan(problem: Problem, pool: Pool | None = None, pairs: Pairs | None = None) -> Planner:
    pool = pool or Pool(problem.mediators)
    preferred = [
        {pool.index[m] for m in r.preferred_mediators if m in pool.index} for r in problem.requests
    ]

    def priority_then_hardest(pairs: Pairs, jobs: Jobs) -> Sequence[int]:
        counts = pairs.count_per_request()
        order: IntArray = np.lexsort((jobs.start, counts, -jobs.priority))
        return [int(r) for r in order]

    def hardest_then_priority(pairs: Pairs, jobs: Jobs) -> Sequence[int]:
        counts = pairs.count_per_request()
        order: IntArray = np.lexsort((jobs.start, -jobs.priority, counts))
        return [int(r) for r in order]

    def preferred_then_nearest(pairs: Pairs, r: int) -> IntArray:
        lo, hi = pairs.offsets[r], pairs.offsets[r + 1]
        mediators = pairs.mediator[lo:hi]
        wanted = preferred[r]
        if not wanted:
            nearest: IntArray = mediators[np.argsort(pairs.distance_km[lo:hi], kind="stable")]
            return nearest
        not_preferred = np.array([int(m) not in wanted for m in mediators], dtype=np.int64)
        order: IntArray = mediators[np.lexsort((pairs.distance_km[lo:hi], not_preferred))]
        return order

    pairs = pairs if pairs is not None else feasible_pairs(problem, pool)

    def quality(planner: Planner) -> tuple[int, int, float]:
        holder = planner.holder
        travel = 0.0
        for r, m in holder.items():  # pairs of a request are sorted by mediator
            lo = int(pairs.offsets[r])
            at = lo + int(np.searchsorted(pairs.mediator[lo : pairs.offsets[r + 1]], m))
            travel += float(pairs.distance_km[at])
        return (
            sum(problem.requests[r].priority for r in holder),
            sum(m in preferred[r] for r, m in holder.items()),
            -travel,
        )

    return max(
        (
            _run(problem, pool, pairs, order, preferred_then_nearest)
            for order in (priority_then_hardest, hardest_then_priority)
        ),
        key=quality,
    )


def status_quo(problem: Problem, pool: Pool | None = None) -> Solution:
    """Requests in order, each to the first feasible mediator in list order."""
    return status_quo_plan(problem, pool).solution("FEASIBLE")


def careful_greedy(problem: Problem, pool: Pool | None = None) -> Solution:
    """Higher priority and fewest candidates first, each to a preferred, else the nearest."""
    return careful_plan(problem, pool).solution("FEASIBLE")
