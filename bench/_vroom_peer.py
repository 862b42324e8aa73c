"""VROOM (pyvroom) as a peer: one vehicle routing run per day.

Per day: a vehicle per mediator with a feasible pair that day, starting and
ending at home, its time window from the first to the last hour of
availability that day, a break for each gap in the availability and for
each busy block (merged where they overlap), and a capacity of the minutes
its weekly cap leaves after the days already planned. A job per request of
the day, fixed to its start time (a time window of width 0), with its
duration as service, its minutes as delivery and its priority.

Skills: each request is its own skill, and a mediator has the skills of the
requests whose every pair rule it passes (language and level, availability,
busy blocks, travel radius, qualification, required gender, the cap,
excluded mediators: `candidates.feasible_pairs`). That is the language,
level, qualification, gender and reach skills of a plain encoding and more,
so VROOM never proposes a pair the rules forbid.

Travel: a duration matrix over the distinct places (homes and job places)
at car speed, great-circle km x 1.3; a vehicle's `speed_factor` is its
mode's speed against the car's. Phone and video jobs sit at a place with no
travel to or from anywhere, which lets VROOM pretend a mediator travels
through a phone call in no time; travel to a busy block's place is not
modelled either (a break has no place). The plan is therefore made
feasible afterwards (bench_peers.make_week_feasible), and `check` verifies it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import vroom

from matching.candidates import IntArray, Pairs
from matching.feasibility import great_circle_km_array
from matching.model import ROAD_FACTOR, TRAVEL_SPEED_KMH, Problem
from matching.rank import Pool

CAR_KMH = TRAVEL_SPEED_KMH["car"]


def _merged(blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def plan_week(
    problem: Problem,
    pool: Pool,
    pairs: Pairs,
    *,
    exploration_level: int = 5,
    threads: int = 2,
    seconds_per_day: float | None = None,
) -> tuple[dict[int, int], float]:
    """Request index -> mediator index, one VROOM run per day in order; and seconds.

    `seconds_per_day`: the week's budget is this times the days. VROOM's timeout
    bounds its local search, not its first solutions: a region day at exploration
    level 5 took 176 s with 60 s allowed, at level 2 67-104 s. So each day is given
    what the budget has left over the days left (at least a second), and a day that
    ran over shortens the next ones' search instead of the week running on.
    """
    started = time.perf_counter()
    requests = problem.requests
    by_day: dict[datetime, list[int]] = defaultdict(list)
    for r, request in enumerate(requests):
        if pairs.offsets[r + 1] > pairs.offsets[r]:
            midnight = request.start.replace(hour=0, minute=0, second=0, microsecond=0)
            by_day[midnight].append(r)
    used_minutes = np.zeros(len(pool), dtype=np.float64)
    holder: dict[int, int] = {}
    budget = None if seconds_per_day is None else seconds_per_day * len(by_day)
    for number, midnight in enumerate(sorted(by_day)):
        day = by_day[midnight]
        allowed = (
            None
            if budget is None
            else max(1.0, (budget - (time.perf_counter() - started)) / (len(by_day) - number))
        )
        holder.update(
            _plan_day(
                problem,
                pool,
                pairs,
                day,
                midnight,
                used_minutes,
                exploration_level,
                threads,
                allowed,
            )
        )
        for r in day:
            if r in holder:
                used_minutes[holder[r]] += requests[r].minutes
    return holder, time.perf_counter() - started


def _plan_day(
    problem: Problem,
    pool: Pool,
    pairs: Pairs,
    day: list[int],
    midnight: datetime,
    used_minutes: np.ndarray,  # type: ignore[type-arg]
    exploration_level: int,
    threads: int,
    seconds_per_day: float | None,
) -> dict[int, int]:
    requests = problem.requests
    day_end = midnight + timedelta(days=1)

    def seconds(moment: datetime) -> int:
        return max(0, min(86_400, round((moment - midnight).total_seconds())))

    skills: dict[int, set[int]] = defaultdict(set)
    for r in day:
        for m in pairs.mediator[pairs.offsets[r] : pairs.offsets[r + 1]]:
            skills[int(m)].add(r)
    vehicles = sorted(skills)
    # Places: vehicle homes, then distinct job places, then "anywhere" for remote jobs.
    coordinates: list[tuple[float, float]] = []
    index_of: dict[tuple[float, float], int] = {}

    def place(lat: float, lon: float) -> int:
        key = (lat, lon)
        if key not in index_of:
            index_of[key] = len(coordinates)
            coordinates.append(key)
        return index_of[key]

    home = {m: place(float(pool.home_lat[m]), float(pool.home_lon[m])) for m in vehicles}
    job_place = {}
    for r in day:
        location = requests[r].location
        if requests[r].in_person and location is not None:
            job_place[r] = place(location.lat, location.lon)
    anywhere = len(coordinates)
    lat = np.array([c[0] for c in coordinates], dtype=np.float64)
    lon = np.array([c[1] for c in coordinates], dtype=np.float64)
    km = great_circle_km_array(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    km = np.nan_to_num(km, nan=0.0)  # a mediator without a home: no travel counted
    durations = np.zeros((anywhere + 1, anywhere + 1), dtype=np.uint32)
    durations[:anywhere, :anywhere] = np.ceil(km * ROAD_FACTOR / CAR_KMH * 3600.0)

    problem_input = vroom.Input()
    problem_input.set_durations_matrix(profile="car", matrix_input=durations)
    break_id = 1
    for m in vehicles:
        mediator = pool.mediators[m]
        slots = sorted(
            (seconds(s.start), seconds(s.end))
            for s in mediator.availability
            if s.end > midnight and s.start < day_end
        )
        if not slots:
            continue
        window = (slots[0][0], slots[-1][1])
        blocked = [(a[1], b[0]) for a, b in zip(slots, slots[1:], strict=False) if b[0] > a[1]]
        blocked += [
            (seconds(b.start), seconds(b.end))
            for b in mediator.busy
            if b.end > midnight and b.start < day_end
        ]
        breaks = []
        for start, end in _merged(blocked):
            start, end = max(start, window[0]), min(end, window[1])
            if end > start:
                breaks.append(
                    vroom.Break(break_id, [vroom.TimeWindow(start, start)], service=end - start)
                )
                break_id += 1
        cap = mediator.max_minutes
        capacity = (
            10**6
            if cap is None
            else max(0, int(cap - mediator.committed_minutes - used_minutes[m]))
        )
        problem_input.add_vehicle(
            vroom.Vehicle(
                m + 1,
                start=home[m],
                end=home[m],
                capacity=[capacity],
                skills=skills[m],
                time_window=vroom.TimeWindow(*window),
                breaks=breaks,
                speed_factor=float(pool.speed_kmh[m]) / CAR_KMH,
            )
        )
    for r in day:
        request = requests[r]
        start = seconds(request.start)
        problem_input.add_job(
            vroom.Job(
                r + 1,
                location=job_place.get(r, anywhere),
                default_service=round(request.minutes * 60),
                delivery=vroom.Amount([int(np.ceil(request.minutes))]),
                skills={r},
                priority=min(100, request.priority),
                time_windows=[vroom.TimeWindow(start, start)],
            )
        )
    timeout = None if seconds_per_day is None else timedelta(seconds=seconds_per_day)
    solution = problem_input.solve(
        exploration_level=exploration_level, nb_threads=threads, timeout=timeout
    )
    routes = solution.routes
    jobs = routes[routes["type"] == "job"]
    chosen: dict[int, int] = {}
    for vehicle, job in zip(jobs["vehicle_id"].tolist(), jobs["id"].tolist(), strict=True):
        chosen[int(job) - 1] = int(vehicle) - 1
    return chosen


__all__ = ["plan_week", "IntArray"]
