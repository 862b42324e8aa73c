"""Feasibility rules, one named function each, and the solution checker.

Every rule answers one question about one (request, mediator) pair and
returns None when the pair passes, or an `Exclusion`: a `code` and the
`params` that say why (times as ISO 8601, distances in km, minutes), for the
caller to put into words in its reader's language. The engine has no texts
of its own: `message` is a technical line for logs and the command line.
The optimiser, the ranking and `check` all go through these rules (the
ranking has a vectorised twin in rank.py that is tested against them).

Readings of SPEC.md "The matching problem format" used here: intervals are
half-open; one availability interval must cover the whole job; travel is
needed only between in-person jobs and located busy blocks, and since
great-circle travel obeys the triangle inequality, checking every such pair
is the same as checking consecutive ones (a phone job in between changes
nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from matching.model import (
    EARTH_RADIUS_KM,
    LEVEL_RANK,
    ROAD_FACTOR,
    TRAVEL_SPEED_KMH,
    Location,
    Mediator,
    Problem,
    Request,
    Solution,
)

DISTANCE_TOLERANCE_KM = 1e-6
"""Slack for float noise, so the scalar and the vectorised checks agree."""
TIME_TOLERANCE_S = 1e-3

ParamValue = str | float | int


def describe(code: str, params: Mapping[str, ParamValue]) -> str:
    """A technical one-line description, ``availability(start=..., end=...)``: for logs
    and the command line, not for people (they read `code` and `params` in their words)."""
    if not params:
        return code
    return f"{code}(" + ", ".join(f"{key}={value}" for key, value in params.items()) + ")"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why one mediator cannot take one request: a rule's code and its values."""

    mediator_id: str
    code: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return describe(self.code, self.params)


@dataclass(frozen=True, slots=True)
class Job:
    """A block of a mediator's time: an assigned request or a busy block.

    `location` is set only where travel matters (in-person jobs, located
    busy blocks).
    """

    start: datetime
    end: datetime
    location: Location | None = None
    label: str | None = None
    request_id: str | None = None


def great_circle_km(a: Location, b: Location) -> float:
    """Haversine distance on a sphere of radius 6371 km."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def great_circle_km_array(
    lat1: npt.NDArray[np.float64] | float,
    lon1: npt.NDArray[np.float64] | float,
    lat2: npt.NDArray[np.float64] | float,
    lon2: npt.NDArray[np.float64] | float,
) -> npt.NDArray[np.float64]:
    """The same haversine as `great_circle_km`, on arrays of degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def travel_conflict_array(
    start_a: npt.NDArray[np.float64] | float,
    end_a: npt.NDArray[np.float64] | float,
    lat_a: npt.NDArray[np.float64] | float,
    lon_a: npt.NDArray[np.float64] | float,
    start_b: npt.NDArray[np.float64] | float,
    end_b: npt.NDArray[np.float64] | float,
    lat_b: npt.NDArray[np.float64] | float,
    lon_b: npt.NDArray[np.float64] | float,
    speed_kmh: npt.NDArray[np.float64] | float,
) -> npt.NDArray[np.bool_]:
    """`travel_conflict` on arrays: times in epoch seconds, lat NaN where no travel."""
    overlap = (np.asarray(start_a) < end_b) & (np.asarray(start_b) < end_a)
    km = great_circle_km_array(lat_a, lon_a, lat_b, lon_b)
    needed_s = km * ROAD_FACTOR / speed_kmh * 3600.0
    gap_s = np.maximum(np.asarray(start_b) - end_a, np.asarray(start_a) - end_b)
    result: npt.NDArray[np.bool_] = overlap | (needed_s > gap_s + TIME_TOLERANCE_S)
    return result


def travel_speed_kmh(travel_mode: str) -> float:
    return TRAVEL_SPEED_KMH.get(travel_mode, TRAVEL_SPEED_KMH["car"])


def travel_minutes(distance_km: float, travel_mode: str) -> float:
    """Travel time: great-circle distance x 1.3 at the mode's speed."""
    return distance_km * ROAD_FACTOR / travel_speed_kmh(travel_mode) * 60.0


def request_job(request: Request) -> Job:
    location = request.location if request.in_person else None
    return Job(request.start, request.end, location, request.label, request.id)


def travel_conflict(first: Job, second: Job, travel_mode: str) -> bool:
    """True when one mediator cannot do both jobs.

    They overlap (half-open), or both need travel and the later one starts
    before the earlier one ends plus the travel time between them.
    """
    return _conflict_minutes(first, second, travel_mode) is not None


def _conflict_minutes(first: Job, second: Job, travel_mode: str) -> float | None:
    """None when compatible; else the travel minutes between them (0 for overlap)."""
    if first.start < second.end and second.start < first.end:
        return 0.0
    if first.location is None or second.location is None:
        return None
    earlier, later = (first, second) if first.start <= second.start else (second, first)
    minutes = travel_minutes(great_circle_km(first.location, second.location), travel_mode)
    gap_s = later.start.timestamp() - earlier.end.timestamp()
    if minutes * 60.0 > gap_s + TIME_TOLERANCE_S:
        return minutes
    return None


# --- reason params, shared by the rules and the ranking's bulk exclusions -----
# rank.py calls these with values gathered in bulk, so each reason's params are
# made in one place. (Reasons whose params depend on the request alone, or on
# few values, rank.py gets from the rules themselves, once per distinct case.)

Params = dict[str, ParamValue]


def level_params(language: str, level: str, min_level: str) -> Params:
    return {"language": language, "level": level, "min_level": min_level}


def busy_params(start: datetime, end: datetime, label: str | None, travel_minutes: float) -> Params:
    """A busy block in the way; travel_minutes 0 when it overlaps the job (then left out)."""
    params: Params = {"start": start.isoformat(), "end": end.isoformat(), "label": label or ""}
    if travel_minutes > 0:
        params["travel_minutes"] = round(travel_minutes, 1)
    return params


def travel_radius_params(
    distances_km: Sequence[float], max_travel_kms: Sequence[float]
) -> list[Params]:
    """Params for many mediators at once (the ranking's hot path)."""
    return [
        {"distance_km": round(km, 2), "max_travel_km": limit}
        for km, limit in zip(distances_km, max_travel_kms, strict=True)
    ]


def too_late_params(travel_minutes: float, minutes_left: float) -> Params:
    return {"travel_minutes": round(travel_minutes, 1), "minutes_left": round(minutes_left, 1)}


# --- the rules, in the order a coordinator reads them -----------------------


def clearance_params(request: Request, mediator: Mediator) -> Params | None:
    """What keeps the mediator from being cleared for this job; None when cleared.

    `missing`: the items without a date, comma-separated (CLEARANCE_ITEMS order);
    `expired`: "listed_until" when the job's day is after it, with `listed_until`
    the date (ISO). A problem without clearance data (None) checks nothing.
    """
    clearance = mediator.clearance
    if clearance is None:
        return None
    params: Params = {}
    if missing := clearance.missing:
        params["missing"] = ",".join(missing)
    until = clearance.listed_until
    if until is not None and request.start.date() > until:
        params["expired"] = "listed_until"
        params["listed_until"] = until.isoformat()
    return params or None


def rule_clearance(request: Request, mediator: Mediator) -> Exclusion | None:
    """The mediator is cleared: training, pledge, police certificate, still listed on the day."""
    params = clearance_params(request, mediator)
    return None if params is None else Exclusion(mediator.id, "not_cleared", params)


def rule_excluded(request: Request, mediator: Mediator) -> Exclusion | None:
    """The requesting organisation asked never to be offered this mediator."""
    if mediator.id in request.excluded_mediators:
        return Exclusion(mediator.id, "excluded")
    return None


def rule_not_for_this_client(request: Request, mediator: Mediator) -> Exclusion | None:
    """After a job, the caseworker or the mediator marked "not again for this client"
    (a conflict of interest, e.g. they know the client's family)."""
    if mediator.id in request.not_for_client:
        return Exclusion(mediator.id, "not_for_this_client")
    return None


def rule_language(request: Request, mediator: Mediator) -> Exclusion | None:
    """The mediator speaks the request's language at all."""
    if mediator.level(request.language) is None:
        return Exclusion(mediator.id, "language", {"language": request.language})
    return None


def rule_level(request: Request, mediator: Mediator) -> Exclusion | None:
    """The mediator's level is at least the request's `min_level`."""
    level = mediator.level(request.language)
    if level is None or LEVEL_RANK[level] >= LEVEL_RANK[request.min_level]:
        return None
    return Exclusion(mediator.id, "level", level_params(request.language, level, request.min_level))


def rule_availability(request: Request, mediator: Mediator) -> Exclusion | None:
    """One availability interval covers the whole job (8-12 and 12-16 are not joined)."""
    for slot in mediator.availability:
        if slot.start <= request.start and request.end <= slot.end:
            return None
    return Exclusion(
        mediator.id,
        "availability",
        {"start": request.start.isoformat(), "end": request.end.isoformat()},
    )


def rule_busy(request: Request, mediator: Mediator) -> Exclusion | None:
    """No busy block overlaps the job or leaves too little time to travel."""
    job = request_job(request)
    for block in mediator.busy:
        other = Job(block.start, block.end, block.location, block.label)
        minutes = _conflict_minutes(job, other, mediator.travel_mode)
        if minutes is None:
            continue
        return Exclusion(
            mediator.id, "busy", busy_params(block.start, block.end, block.label, minutes)
        )
    return None


def rule_travel_radius(request: Request, mediator: Mediator) -> Exclusion | None:
    """An in-person job lies within the mediator's maximum travel distance."""
    if (
        not request.in_person
        or request.location is None
        or mediator.home is None
        or mediator.max_travel_km is None
    ):
        return None
    distance = great_circle_km(mediator.home, request.location)
    if distance <= mediator.max_travel_km + DISTANCE_TOLERANCE_KM:
        return None
    [params] = travel_radius_params([distance], [mediator.max_travel_km])
    return Exclusion(mediator.id, "travel_radius", params)


def rule_qualification(request: Request, mediator: Mediator) -> Exclusion | None:
    """The mediator holds the request's qualification tag."""
    if request.qualification is None or request.qualification in mediator.qualifications:
        return None
    return Exclusion(mediator.id, "qualification", {"qualification": request.qualification})


def rule_gender(request: Request, mediator: Mediator) -> Exclusion | None:
    """A required gender is met (a preferred one only changes the score)."""
    wish = request.gender
    if wish is None or wish.strength != "required" or mediator.gender == wish.value:
        return None
    return Exclusion(mediator.id, "gender", {"gender": wish.value})


def rule_minutes_cap(
    request: Request, mediator: Mediator, already_minutes: float = 0.0
) -> Exclusion | None:
    """The job fits under max_minutes with what the mediator already has."""
    if mediator.max_minutes is None:
        return None
    used = mediator.committed_minutes + already_minutes
    if used + request.minutes <= mediator.max_minutes + 1e-9:
        return None
    return Exclusion(
        mediator.id,
        "minutes_cap",
        {"max_minutes": mediator.max_minutes, "used": used, "job_minutes": request.minutes},
    )


LimitPeriod = tuple[str, int, int]
"""A period an allowance limit counts in, named by the limit's exclusion code:
("monthly_limit", year, month) or ("annual_limit", year, 0)."""


def limit_periods(request: Request) -> tuple[LimitPeriod, ...]:
    """The periods a paid job's expected allowance counts in: the month and the year of
    its start, in its own time zone; none for an unpaid job."""
    if not request.paid:
        return ()
    year, month = request.start.year, request.start.month
    return (("monthly_limit", year, month), ("annual_limit", year, 0))


def cents_left(mediator: Mediator, period: LimitPeriod) -> int | None:
    """What is left of the mediator's limit in the period, in cents; None: no limit there."""
    code, year, month = period
    if code == "monthly_limit":
        if mediator.monthly_limit_cents is None:
            return None
        return mediator.monthly_limit_cents - mediator.monthly_counted_cents.get((year, month), 0)
    return mediator.annual_left_cents.get(year)


def limit_params(period: LimitPeriod, left: int, job_cents: int) -> Params:
    """The month ("2026-12") or the year (2026), what is left (never below 0) and what the
    job (or a plan's jobs together) would add, in cents."""
    code, year, month = period
    named: Params = {"month": month_key(year, month)} if code == "monthly_limit" else {"year": year}
    return {**named, "left_cents": max(0, left), "job_cents": job_cents}


def _headroom(request: Request, mediator: Mediator, period: LimitPeriod) -> Exclusion | None:
    """The paid job fits what is left of the limit in the period: not when the limit is
    reached there, nor when the job's expected allowance is more than what is left."""
    left = cents_left(mediator, period)
    if left is None or (left > 0 and request.expected_allowance_cents <= left):
        return None
    return Exclusion(
        mediator.id, period[0], limit_params(period, left, request.expected_allowance_cents)
    )


def rule_annual_limit(request: Request, mediator: Mediator) -> Exclusion | None:
    """A paid job goes only to a mediator whose annual limit has room for it in the job's
    year (a year the coordinator let them go beyond has no limit)."""
    if not request.paid:
        return None
    return _headroom(request, mediator, ("annual_limit", request.start.year, 0))


def rule_monthly_limit(request: Request, mediator: Mediator) -> Exclusion | None:
    """A paid job goes only to a mediator whose own monthly limit has room for it: not
    when the job's month (of its start, in its own time zone) reached the limit, nor
    when the job's expected allowance is more than what is left of it."""
    if not request.paid:
        return None
    return _headroom(request, mediator, ("monthly_limit", request.start.year, request.start.month))


def month_key(year: int, month: int) -> str:
    """A month as the reasons name it: "2026-12"."""
    return f"{year:04d}-{month:02d}"


def rule_reach_in_time(request: Request, mediator: Mediator, now: datetime) -> Exclusion | None:
    """Asked at `now`, the mediator can still get from home to an in-person job."""
    if not request.in_person or request.location is None or mediator.home is None:
        return None
    minutes = travel_minutes(great_circle_km(mediator.home, request.location), mediator.travel_mode)
    left = (request.start - now).total_seconds() / 60.0
    if minutes <= left + TIME_TOLERANCE_S / 60:
        return None
    return Exclusion(mediator.id, "too_late", too_late_params(minutes, left))


PairRule = Callable[[Request, Mediator], Exclusion | None]

PAIR_RULES: tuple[PairRule, ...] = (
    rule_clearance,
    rule_excluded,
    rule_not_for_this_client,
    rule_language,
    rule_level,
    rule_availability,
    rule_busy,
    rule_travel_radius,
    rule_qualification,
    rule_gender,
    rule_minutes_cap,
    rule_annual_limit,
    rule_monthly_limit,
)
"""Every rule about one pair alone; conflicts between jobs come on top."""

RULE_BY_CODE: dict[str, PairRule] = {
    "not_cleared": rule_clearance,
    "excluded": rule_excluded,
    "not_for_this_client": rule_not_for_this_client,
    "language": rule_language,
    "level": rule_level,
    "availability": rule_availability,
    "busy": rule_busy,
    "travel_radius": rule_travel_radius,
    "qualification": rule_qualification,
    "gender": rule_gender,
    "minutes_cap": rule_minutes_cap,
    "annual_limit": rule_annual_limit,
    "monthly_limit": rule_monthly_limit,
}


def exclusions(
    request: Request, mediator: Mediator, *, now: datetime | None = None
) -> list[Exclusion]:
    """All reasons this mediator cannot take this request (empty when feasible)."""
    found = [reason for rule in PAIR_RULES if (reason := rule(request, mediator)) is not None]
    if now is not None and (late := rule_reach_in_time(request, mediator, now)) is not None:
        found.append(late)
    return found


def pair_feasible(request: Request, mediator: Mediator) -> bool:
    return all(rule(request, mediator) is None for rule in PAIR_RULES)


# --- checking a whole solution -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken rule in a solution: the rule's code, where, and its values."""

    code: str
    request_id: str | None = None
    mediator_id: str | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return describe(self.code, self.params)


@dataclass(frozen=True, slots=True)
class Figures:
    requests: int
    filled: int
    total_priority: int
    filled_priority: int
    travel_km: float
    """Sum of great-circle home-to-job distances of assigned in-person jobs."""
    minutes_by_mediator: Mapping[str, float]
    fairness_spread_minutes: float
    """Most minus fewest assigned minutes among mediators who got any work."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    feasible: bool
    violations: tuple[Violation, ...]
    warnings: tuple[str, ...]
    figures: Figures


def assigned_travel_km(request: Request, mediator: Mediator) -> float:
    if not request.in_person or request.location is None or mediator.home is None:
        return 0.0
    return great_circle_km(mediator.home, request.location)


def mediator_conflicts(mediator: Mediator, requests: Sequence[Request]) -> list[tuple[Job, Job]]:
    """Pairs among a mediator's assigned jobs and busy blocks that cannot both be done.

    Pairs of two busy blocks are the mediator's own affair and are skipped.
    """
    jobs = [request_job(r) for r in requests]
    jobs += [Job(b.start, b.end, b.location, b.label) for b in mediator.busy]
    jobs.sort(key=lambda job: job.start)
    clashes: list[tuple[Job, Job]] = []
    for i, first in enumerate(jobs):
        for second in jobs[i + 1 :]:
            if first.request_id is None and second.request_id is None:
                continue
            if travel_conflict(first, second, mediator.travel_mode):
                clashes.append((first, second))
    return clashes


def limit_violations(mediator: Mediator, requests: Sequence[Request]) -> list[Violation]:
    """A mediator's paid jobs together over what is left of a limit in a month or a year
    (each job alone is the pair rules' business): the limit's code, the period, what is
    left and the jobs' cents together."""
    jobs_in: dict[LimitPeriod, list[int]] = {}
    for request in requests:
        for period in limit_periods(request):
            jobs_in.setdefault(period, []).append(request.expected_allowance_cents)
    found = []
    for period, amounts in jobs_in.items():
        left = cents_left(mediator, period)
        if len(amounts) > 1 and left is not None and sum(amounts) > left:
            found.append(
                Violation(period[0], None, mediator.id, limit_params(period, left, sum(amounts)))
            )
    return found


def check(problem: Problem, solution: Solution) -> CheckReport:
    """Verify every rule of the SPEC on a whole solution and compute its figures."""
    requests = {r.id: r for r in problem.requests}
    mediators = {m.id: m for m in problem.mediators}
    violations: list[Violation] = []
    warnings: list[str] = []
    holder: dict[str, str] = {}
    jobs_of: dict[str, list[Request]] = {}

    for pair in solution.assignments:
        request, mediator = requests.get(pair.request), mediators.get(pair.mediator)
        if request is None or mediator is None:
            what = "request" if request is None else "mediator"
            violations.append(
                Violation("unknown_id", pair.request, pair.mediator, {"unknown": what})
            )
            continue
        if pair.request in holder:
            violations.append(
                Violation(
                    "two_mediators",
                    pair.request,
                    pair.mediator,
                    {"first": holder[pair.request], "second": pair.mediator},
                )
            )
            continue
        holder[pair.request] = pair.mediator
        jobs_of.setdefault(mediator.id, []).append(request)
        for rule in PAIR_RULES:
            if rule is rule_minutes_cap:
                continue  # checked below over all the mediator's jobs
            reason = rule(request, mediator)
            if reason is not None:
                violations.append(Violation(reason.code, request.id, mediator.id, reason.params))

    for request_id, mediator_id in problem.fixed:
        if holder.get(request_id) != mediator_id:
            violations.append(Violation("fixed", request_id, mediator_id))

    minutes_by_mediator: dict[str, float] = {}
    for mediator_id, assigned in jobs_of.items():
        mediator = mediators[mediator_id]
        for first, second in mediator_conflicts(mediator, assigned):
            violations.append(
                Violation(
                    "conflict",
                    first.request_id or second.request_id,
                    mediator_id,
                    {
                        "first_start": first.start.isoformat(),
                        "first_end": first.end.isoformat(),
                        "second_start": second.start.isoformat(),
                        "second_end": second.end.isoformat(),
                    },
                )
            )
        minutes = sum(r.minutes for r in assigned)
        minutes_by_mediator[mediator_id] = minutes
        if (
            mediator.max_minutes is not None
            and mediator.committed_minutes + minutes > mediator.max_minutes + 1e-9
        ):
            violations.append(
                Violation(
                    "minutes_cap",
                    None,
                    mediator_id,
                    {
                        "max_minutes": mediator.max_minutes,
                        "used": mediator.committed_minutes,
                        "job_minutes": minutes,
                    },
                )
            )

        violations += limit_violations(mediator, assigned)

    listed = set(holder) | set(solution.unassigned)
    missing = [r.id for r in problem.requests if r.id not in listed]
    if missing:
        warnings.append(f"{len(missing)} requests neither assigned nor listed unassigned")
    both = set(holder) & set(solution.unassigned)
    if both:
        warnings.append(f"{len(both)} requests both assigned and listed unassigned")

    figures = Figures(
        requests=len(requests),
        filled=len(holder),
        total_priority=sum(r.priority for r in problem.requests),
        filled_priority=sum(requests[r].priority for r in holder),
        travel_km=sum(assigned_travel_km(requests[r], mediators[m]) for r, m in holder.items()),
        minutes_by_mediator=minutes_by_mediator,
        fairness_spread_minutes=(
            max(minutes_by_mediator.values()) - min(minutes_by_mediator.values())
            if minutes_by_mediator
            else 0.0
        ),
    )
    return CheckReport(not violations, tuple(violations), tuple(warnings), figures)
