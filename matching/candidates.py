"""Every feasible (request, mediator) pair of a problem, as flat arrays.

The optimiser and the greedy baselines share this: one vectorised
`Pool.evaluate` per request gives the pairs that pass every pair rule
(language, level, availability, busy blocks, radius, qualification,
gender, minutes cap, excluded); conflicts between two requests of one
mediator come on top and are handled by whoever builds a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.feasibility import LimitPeriod, limit_periods
from matching.model import Problem
from matching.rank import Pool

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Jobs:
    """Per request of the problem, in problem order."""

    start: FloatArray
    """Epoch seconds."""
    end: FloatArray
    lat: FloatArray
    """NaN where the job needs no travel (phone, video, no location)."""
    lon: FloatArray
    seconds: IntArray
    priority: IntArray
    cents: IntArray
    """What a paid job is expected to pay (0 for an unpaid one), against allowance limits."""
    periods: tuple[tuple[LimitPeriod, ...], ...]
    """The periods (month, year) each job's cents count in (`limit_periods`)."""


@dataclass(frozen=True, slots=True)
class Pairs:
    """Feasible pairs sorted by request, then by mediator pool index."""

    request: IntArray
    mediator: IntArray
    distance_km: FloatArray
    level: IntArray
    offsets: IntArray
    """Pairs of request r are offsets[r]:offsets[r + 1]."""

    def __len__(self) -> int:
        return len(self.request)

    def count_per_request(self) -> IntArray:
        counts: IntArray = np.diff(self.offsets)
        return counts


def problem_jobs(problem: Problem) -> Jobs:
    nan = float("nan")
    requests = problem.requests
    travels = [r.in_person and r.location is not None for r in requests]
    return Jobs(
        start=np.array([r.start.timestamp() for r in requests], dtype=np.float64),
        end=np.array([r.end.timestamp() for r in requests], dtype=np.float64),
        lat=np.array(
            [
                r.location.lat if t and r.location else nan
                for r, t in zip(requests, travels, strict=True)
            ],
            dtype=np.float64,
        ),
        lon=np.array(
            [
                r.location.lon if t and r.location else nan
                for r, t in zip(requests, travels, strict=True)
            ],
            dtype=np.float64,
        ),
        seconds=np.array(
            [round((r.end - r.start).total_seconds()) for r in requests], dtype=np.int64
        ),
        priority=np.array([r.priority for r in requests], dtype=np.int64),
        cents=np.array(
            [r.expected_allowance_cents if r.paid else 0 for r in requests], dtype=np.int64
        ),
        periods=tuple(limit_periods(r) for r in requests),
    )


def feasible_pairs(problem: Problem, pool: Pool) -> Pairs:
    requests_part: list[IntArray] = []
    mediators_part: list[IntArray] = []
    distance_part: list[FloatArray] = []
    level_part: list[IntArray] = []
    offsets = np.zeros(len(problem.requests) + 1, dtype=np.int64)
    for r, request in enumerate(problem.requests):
        group = pool.speakers(request.language)
        evaluation = pool.evaluate(request, speakers=group)
        positions = np.flatnonzero(evaluation.feasible)
        requests_part.append(np.full(len(positions), r, dtype=np.int64))
        mediators_part.append(evaluation.speakers[positions])
        distance_part.append(evaluation.distance_km[positions])
        level_part.append(group.level[positions])
        offsets[r + 1] = offsets[r] + len(positions)

    def join_int(parts: list[IntArray]) -> IntArray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return Pairs(
        request=join_int(requests_part),
        mediator=join_int(mediators_part),
        distance_km=np.concatenate(distance_part) if distance_part else np.zeros(0),
        level=join_int(level_part),
        offsets=offsets,
    )
