"""Ranking the feasible mediators for one request, fast.

`Pool` indexes a list of mediators once into numpy arrays (home, travel
speed and radius, levels per language, availability and busy blocks per
language's speakers) so that one request is checked against all of them
with a few vectorised operations and no per-request model building. The
vectorised checks mirror the rule functions in feasibility.py; the tests
compare the two on random instances.

Exclusions are reported only for mediators who speak the request's
language, with every reason that applies to each; the others are
summarised as a count. They are built in bulk from the arrays of the
vectorised check (which rules fail, distances, the first busy block in the
way), not by calling the rule functions per mediator: a reason whose params
depend on the request only is made once and shared, the others get params
from gathered values by the same helpers the rules use, and the `Exclusion`
objects are filled through their slots. The result equals, reason by reason,
what `feasibility.exclusions` says of each speaker (tested). Reasons are
codes and params; putting them into words is the caller's business.
"""

from __future__ import annotations

import copy
import gc
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import repeat
from operator import itemgetter
from types import MemberDescriptorType
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from matching.feasibility import (
    DISTANCE_TOLERANCE_KM,
    TIME_TOLERANCE_S,
    Exclusion,
    ParamValue,
    busy_params,
    clearance_params,
    great_circle_km,
    great_circle_km_array,
    level_params,
    rule_annual_limit,
    rule_availability,
    rule_excluded,
    rule_gender,
    rule_minutes_cap,
    rule_monthly_limit,
    rule_not_for_this_client,
    rule_qualification,
    too_late_params,
    travel_conflict_array,
    travel_minutes,
    travel_radius_params,
    travel_speed_kmh,
)
from matching.model import LEVEL_RANK, ROAD_FACTOR, Busy, Location, Mediator, Request

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WEIGHT_CONTINUITY = 40.0
WEIGHT_GENDER = 10.0
WEIGHT_LEVEL = 10.0
WEIGHT_TRAVEL = 20.0
WEIGHT_LOAD = 20.0
TRAVEL_SCALE_KM = 30.0
"""Travel of this distance or more earns no travel points."""
LOAD_SCALE_MINUTES = 40 * 60.0
"""Recent work of this many minutes or more earns no load points."""
SAME_PARAMS_FOR_ALL = frozenset(
    {
        "availability",
        "qualification",
        "gender",
        "excluded",
        "not_for_this_client",
    }
)
"""Exclusions whose params depend on the request only, made once per ranking."""
LEVEL_NAMES: dict[int, str] = {rank: name for name, rank in LEVEL_RANK.items()}


@dataclass(frozen=True, slots=True)
class Candidate:
    mediator_id: str
    score: float
    parts: dict[str, float]
    """Score contributions (continuity, gender, level, travel, load); they sum to score."""
    travel_km: float
    travel_minutes: float


@dataclass(frozen=True, slots=True)
class _Blocks:
    """Time blocks (availability or busy) of one language's speakers, flat."""

    start: FloatArray
    end: FloatArray
    owner: IntArray
    """Position of the owner within the language's speaker array."""
    lat: FloatArray
    lon: FloatArray


@dataclass(frozen=True, slots=True)
class _Speakers:
    index: IntArray
    """Pool indices of the mediators speaking the language."""
    level: IntArray
    availability: _Blocks
    busy: _Blocks
    busy_items: tuple[Busy, ...] = ()
    """The `Busy` of each entry of `busy`, for reasons."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The vectorised check of one request against a language's speakers."""

    speakers: IntArray
    """Pool indices of mediators who speak the language."""
    feasible: BoolArray
    """Per speaker: every rule passes."""
    failing: dict[str, BoolArray]
    """Per rule code, per speaker: the rule fails."""
    distance_km: FloatArray
    """Per speaker: great-circle distance home to job (0 without travel)."""
    busy_clash: BoolArray | None = None
    """Per busy block of the speakers (`_Speakers.busy`): it is in the job's way."""


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


class Pool:
    """An index of mediators built once, queried per request."""

    def __init__(self, mediators: Sequence[Mediator]) -> None:
        self.mediators: tuple[Mediator, ...] = tuple(mediators)
        self.index: dict[str, int] = {m.id: i for i, m in enumerate(self.mediators)}
        self.ids: list[str] = [m.id for m in self.mediators]
        count = len(self.mediators)
        order = sorted(range(count), key=lambda i: self.mediators[i].id)
        self.id_rank: IntArray = np.empty(count, dtype=np.int64)
        self.id_rank[order] = np.arange(count)
        nan = float("nan")
        self.home_lat: FloatArray = np.array(
            [m.home.lat if m.home else nan for m in self.mediators], dtype=np.float64
        )
        self.home_lon: FloatArray = np.array(
            [m.home.lon if m.home else nan for m in self.mediators], dtype=np.float64
        )
        self.speed_kmh: FloatArray = np.array(
            [travel_speed_kmh(m.travel_mode) for m in self.mediators], dtype=np.float64
        )
        self.max_travel_km: FloatArray = np.array(
            [np.inf if m.max_travel_km is None else m.max_travel_km for m in self.mediators],
            dtype=np.float64,
        )
        self._busy_overlap_params: dict[str, list[dict[str, ParamValue] | None]] = {}
        """Per language, per busy block of its speakers: the params when it overlaps a job."""
        self._travel_limits: list[float] = [
            np.inf if m.max_travel_km is None else m.max_travel_km for m in self.mediators
        ]
        """As given (25 stays an int), for params."""
        self.minutes_left: FloatArray = np.array(
            [
                np.inf if m.max_minutes is None else m.max_minutes - m.committed_minutes
                for m in self.mediators
            ],
            dtype=np.float64,
        )
        self.load_minutes: FloatArray = np.array(
            [m.load_minutes + m.committed_minutes for m in self.mediators], dtype=np.float64
        )
        self.genders: list[str | None] = [m.gender for m in self.mediators]
        self.monthly_limited: dict[int, Mediator] = {
            i: m for i, m in enumerate(self.mediators) if m.monthly_limit_cents is not None
        }
        """By pool position, only those with their own monthly limit (few have one)."""
        self._monthly_left: dict[tuple[int, int], FloatArray] = {}
        self.annual_limited: dict[int, Mediator] = {
            i: m for i, m in enumerate(self.mediators) if m.annual_left_cents
        }
        """By pool position, only those whose annual limit is tracked (the service gives it
        to those near it)."""
        self._annual_left: dict[int, FloatArray] = {}
        self.tracks_clearance = any(m.clearance is not None for m in self.mediators)
        """False for problems without clearance data: the check is skipped."""
        self.clearance_missing: BoolArray = np.array(
            [m.clearance is not None and bool(m.clearance.missing) for m in self.mediators],
            dtype=bool,
        )
        self.listed_until_day: FloatArray = np.array(
            [
                m.clearance.listed_until.toordinal()
                if m.clearance is not None and m.clearance.listed_until is not None
                else np.inf
                for m in self.mediators
            ],
            dtype=np.float64,
        )
        """The last listed day as a proleptic ordinal; inf where untracked or missing."""
        self._qualification_masks: dict[str, BoolArray] = {}
        self._speakers: dict[str, _Speakers] = {}
        self._speaker_lists: dict[str, list[int]] = {}
        for i, mediator in enumerate(self.mediators):
            for tag in mediator.languages:
                self._speaker_lists.setdefault(tag.lower(), []).append(i)
        self._prepared: Pool | None = None
        """For a pool made by `booked`: the pool whose availability it shares."""

    def booked(self, changes: Mapping[int, Mediator]) -> Pool:
        """This pool with some mediators' bookings changed, without indexing it again.

        `changes` maps positions in this pool to the mediator there with other
        `busy`, `committed_minutes`, `load_minutes`, `annual_left_cents`,
        `monthly_limit_cents` or `monthly_counted_cents`; in
        everything else (id, languages, home, availability, ...) they must equal
        the one they replace. The result ranks exactly as `Pool` of the changed
        list would (tested), but shares every array that only depends on what
        stays: a caller keeps one pool of a day's mediators with nothing booked
        and books the few with jobs, absences or recent work per ranking,
        instead of building every speaker's availability arrays each time.
        """
        prepared = self._prepared or self
        pool = copy.copy(self)
        pool._prepared = prepared
        pool._speakers = {}
        pool._busy_overlap_params = {}
        if not changes:
            return pool
        mediators = list(self.mediators)
        positions = list(changes)
        for position, mediator in changes.items():
            if mediator.id != mediators[position].id:
                raise ValueError(f"booked: {mediator.id} is not at position {position}")
            mediators[position] = mediator
        pool.mediators = tuple(mediators)
        changed = [changes[position] for position in positions]
        pool.minutes_left = self.minutes_left.copy()
        pool.minutes_left[positions] = [
            np.inf if m.max_minutes is None else m.max_minutes - m.committed_minutes
            for m in changed
        ]
        pool.load_minutes = self.load_minutes.copy()
        pool.load_minutes[positions] = [m.load_minutes + m.committed_minutes for m in changed]
        pool.monthly_limited = dict(self.monthly_limited)
        pool.annual_limited = dict(self.annual_limited)
        for position, mediator in changes.items():
            if mediator.monthly_limit_cents is not None:
                pool.monthly_limited[position] = mediator
            else:
                pool.monthly_limited.pop(position, None)
            if mediator.annual_left_cents:
                pool.annual_limited[position] = mediator
            else:
                pool.annual_limited.pop(position, None)
        pool._monthly_left = {}
        pool._annual_left = {}
        return pool

    def __len__(self) -> int:
        return len(self.mediators)

    def qualification_mask(self, qualification: str) -> BoolArray:
        mask = self._qualification_masks.get(qualification)
        if mask is None:
            mask = np.array([qualification in m.qualifications for m in self.mediators], dtype=bool)
            self._qualification_masks[qualification] = mask
        return mask

    def monthly_left(self, month: tuple[int, int]) -> FloatArray:
        """Cents left under each one's monthly limit in `month` (year, month), inf for
        those without a limit: made once per month from the few who have one."""
        left = self._monthly_left.get(month)
        if left is None:
            left = np.full(len(self.mediators), np.inf, dtype=np.float64)
            for i, m in self.monthly_limited.items():
                assert m.monthly_limit_cents is not None
                left[i] = m.monthly_limit_cents - m.monthly_counted_cents.get(month, 0)
            self._monthly_left[month] = left
        return left

    def annual_left(self, year: int) -> FloatArray:
        """Cents left under each one's annual limit in `year`, inf where it is not tracked:
        made once per year from those whose limit is."""
        left = self._annual_left.get(year)
        if left is None:
            left = np.full(len(self.mediators), np.inf, dtype=np.float64)
            for i, m in self.annual_limited.items():
                left[i] = m.annual_left_cents.get(year, np.inf)
            self._annual_left[year] = left
        return left

    @property
    def limited(self) -> Mapping[int, Mediator]:
        """By pool position, those with an allowance limit in some period (for plans)."""
        if not self.annual_limited:
            return self.monthly_limited
        return {**self.annual_limited, **self.monthly_limited}

    def speakers(self, language: str) -> _Speakers:
        tag = language.lower()
        found = self._speakers.get(tag)
        if found is None:
            members = self._speaker_lists.get(tag, [])
            items = tuple(b for i in members for b in self.mediators[i].busy)
            busy = [
                (b.start, b.end, pos, b.location)
                for pos, i in enumerate(members)
                for b in self.mediators[i].busy
            ]
            if self._prepared is not None:
                # Who speaks it, how well and when they are free stay as prepared.
                shared = self._prepared.speakers(tag)
                found = _Speakers(
                    shared.index, shared.level, shared.availability, _blocks(busy), items
                )
            else:
                index = np.array(members, dtype=np.int64)
                level = np.array(
                    [LEVEL_RANK[self.mediators[i].languages[tag]] for i in members],
                    dtype=np.int64,
                )
                avail: list[tuple[datetime, datetime, int, Location | None]] = [
                    (s.start, s.end, pos, None)
                    for pos, i in enumerate(members)
                    for s in self.mediators[i].availability
                ]
                found = _Speakers(index, level, _blocks(avail), _blocks(busy), items)
            self._speakers[tag] = found
        return found

    def evaluate(
        self, request: Request, *, now: datetime | None = None, speakers: _Speakers | None = None
    ) -> Evaluation:
        """Check every rule of feasibility.PAIR_RULES for all speakers at once."""
        group = speakers or self.speakers(request.language)
        index = group.index
        start, end = _seconds(request.start), _seconds(request.end)
        failing: dict[str, BoolArray] = {}

        if self.tracks_clearance:
            day = request.start.date().toordinal()
            failing["not_cleared"] = self.clearance_missing[index] | (
                self.listed_until_day[index] < day
            )
        if request.excluded_mediators:
            banned = [self.index[m] for m in request.excluded_mediators if m in self.index]
            failing["excluded"] = np.isin(index, np.array(banned, dtype=np.int64))
        if request.not_for_client:
            marked = [self.index[m] for m in request.not_for_client if m in self.index]
            failing["not_for_this_client"] = np.isin(index, np.array(marked, dtype=np.int64))
        failing["level"] = group.level < LEVEL_RANK[request.min_level]

        covered = np.zeros(len(index), dtype=bool)
        slots = group.availability
        covered[slots.owner[(slots.start <= start) & (slots.end >= end)]] = True
        failing["availability"] = ~covered

        travels = request.in_person and request.location is not None
        distance = np.zeros(len(index), dtype=np.float64)
        if travels:
            assert request.location is not None
            lat, lon = request.location.lat, request.location.lon
            distance = great_circle_km_array(self.home_lat[index], self.home_lon[index], lat, lon)
            distance = np.nan_to_num(distance, nan=0.0)
            failing["travel_radius"] = distance > self.max_travel_km[index] + DISTANCE_TOLERANCE_KM

        clash = self._busy_clash(group, request, start, end)
        conflicted = np.zeros(len(index), dtype=bool)
        conflicted[group.busy.owner[clash]] = True
        failing["busy"] = conflicted

        if request.qualification is not None:
            failing["qualification"] = ~self.qualification_mask(request.qualification)[index]
        if request.gender is not None and request.gender.strength == "required":
            wanted = request.gender.value
            failing["gender"] = np.array([self.genders[i] != wanted for i in index], dtype=bool)
        failing["minutes_cap"] = self.minutes_left[index] + 1e-9 < request.minutes
        if request.paid and self.annual_limited:
            left = self.annual_left(request.start.year)[index]
            failing["annual_limit"] = (left <= 0) | (left < request.expected_allowance_cents)
        if request.paid and self.monthly_limited:
            left = self.monthly_left((request.start.year, request.start.month))[index]
            failing["monthly_limit"] = (left <= 0) | (left < request.expected_allowance_cents)
        if now is not None and travels:
            needed_s = distance * ROAD_FACTOR / self.speed_kmh[index] * 3600.0
            has_home = ~np.isnan(self.home_lat[index])
            failing["too_late"] = has_home & (needed_s > start - _seconds(now) + TIME_TOLERANCE_S)

        feasible = np.ones(len(index), dtype=bool)
        for mask in failing.values():
            feasible &= ~mask
        return Evaluation(index, feasible, failing, distance, clash)

    def _busy_clash(
        self, group: _Speakers, request: Request, start: float, end: float
    ) -> BoolArray:
        """Per busy block: it overlaps the job, or leaves no time to travel."""
        blocks = group.busy
        travels = request.in_person and request.location is not None
        lat = request.location.lat if travels and request.location else float("nan")
        lon = request.location.lon if travels and request.location else float("nan")
        return travel_conflict_array(
            blocks.start,
            blocks.end,
            blocks.lat,
            blocks.lon,
            start,
            end,
            lat,
            lon,
            self.speed_kmh[group.index[blocks.owner]],
        )


def _blocks(rows: Sequence[tuple[datetime, datetime, int, Location | None]]) -> _Blocks:
    nan = float("nan")
    return _Blocks(
        start=np.array([_seconds(r[0]) for r in rows], dtype=np.float64),
        end=np.array([_seconds(r[1]) for r in rows], dtype=np.float64),
        owner=np.array([r[2] for r in rows], dtype=np.int64),
        lat=np.array([getattr(r[3], "lat", nan) for r in rows], dtype=np.float64),
        lon=np.array([getattr(r[3], "lon", nan) for r in rows], dtype=np.float64),
    )


def score_parts(
    pool: Pool, request: Request, index: IntArray, distance_km: FloatArray, levels: IntArray
) -> dict[str, FloatArray]:
    """The weighted score contributions of feasible mediators, per part."""
    count = len(index)
    preferred = set(request.preferred_mediators)
    continuity = (
        np.array([pool.mediators[i].id in preferred for i in index], dtype=np.float64)
        if preferred
        else np.zeros(count)
    )
    gender = np.zeros(count)
    if request.gender is not None and request.gender.strength == "preferred":
        wanted = request.gender.value
        gender = np.array([pool.genders[i] == wanted for i in index], dtype=np.float64)
    travel = (
        1.0 - np.minimum(distance_km / TRAVEL_SCALE_KM, 1.0)
        if request.in_person
        else np.ones(count)
    )
    load = 1.0 - np.minimum(pool.load_minutes[index] / LOAD_SCALE_MINUTES, 1.0)
    return {
        "continuity": WEIGHT_CONTINUITY * continuity,
        "gender": WEIGHT_GENDER * gender,
        "level": WEIGHT_LEVEL * levels.astype(np.float64) / 2.0,
        "travel": WEIGHT_TRAVEL * travel,
        "load": WEIGHT_LOAD * load,
    }


class Ranking:
    """Feasible candidates best first, and why the other speakers are out."""

    def __init__(
        self,
        request: Request,
        pool: Pool,
        evaluation: Evaluation,
        candidates: list[Candidate],
        now: datetime | None,
    ) -> None:
        self.request = request
        self.candidates = candidates
        self.not_speaking = len(pool) - len(evaluation.speakers)
        self._pool = pool
        self._evaluation = evaluation
        self._now = now

    @cached_property
    def excluded_codes(self) -> dict[str, list[str]]:
        """Mediator id -> codes of the rules that exclude them (speakers only)."""
        evaluation = self._evaluation
        positions = np.flatnonzero(~evaluation.feasible)
        if len(positions) == 0:
            return {}
        codes = list(evaluation.failing)
        bits = np.zeros(len(positions), dtype=np.int64)
        for bit, code in enumerate(codes):
            bits |= evaluation.failing[code][positions].astype(np.int64) << bit
        combos = {
            combo: tuple(code for bit, code in enumerate(codes) if combo >> bit & 1)
            for combo in np.unique(bits).tolist()
        }
        ids = self._pool.ids
        return {
            ids[i]: list(combos[combo])
            for i, combo in zip(evaluation.speakers[positions].tolist(), bits.tolist(), strict=True)
        }

    @cached_property
    def excluded(self) -> list[Exclusion]:
        """Every reason for every speaker of the language who is excluded, by id.

        Sorted by mediator id; each one's reasons equal what
        `feasibility.exclusions` says, in the order of their `excluded_codes`.
        Reasons with the same params within one ranking (the request-only
        ones, a level, a minutes cap) share one params dict: read params, do
        not change them.
        """
        with _collector_paused():
            return _Exclusions(self.request, self._pool, self._evaluation, self._now).build()


# --- exclusions in bulk ---------------------------------------------------------

Params = Mapping[str, ParamValue] | Sequence[Mapping[str, ParamValue]]
"""One params dict for every mediator of a code, or one each."""
Built = tuple[Params, BoolArray | None]
"""Params, and which of the code's mediators keep the reason (None: all)."""

_SAME_FOR_ALL_RULES: dict[str, Callable[[Request, Mediator], Exclusion | None]] = {
    "excluded": rule_excluded,
    "not_for_this_client": rule_not_for_this_client,
    "availability": rule_availability,
    "qualification": rule_qualification,
    "gender": rule_gender,
}
assert set(_SAME_FOR_ALL_RULES) == SAME_PARAMS_FOR_ALL
_ROUNDING_NOISE = 1e-9
"""Relative distance to a rounding edge below which a value is recomputed by the scalar code."""


def _near_edge(values: FloatArray, scale: float, edge: float) -> BoolArray:
    """Where values * scale is within float noise of a whole number plus `edge`.

    The vectorised haversine may differ from `great_circle_km` in the last
    bit; that only shows in a param where a value sits on a rounding edge
    (a tie for round() and .1f at edge 0.5, a whole number for ceil/floor at
    edge 0), so exactly those values are recomputed with the scalar code.
    """
    scaled = values * scale - edge
    gap = np.abs(scaled - np.round(scaled))
    near: BoolArray = gap <= _ROUNDING_NOISE * np.maximum(1.0, np.abs(scaled))
    return near


def _minutes_near_edge(minutes: FloatArray) -> BoolArray:
    """Travel minutes appear as ceil(m) and round(m, 1)."""
    return _near_edge(minutes, 1.0, 0.0) | _near_edge(minutes, 10.0, 0.5)


_pause_lock = threading.Lock()
_pauses = 0
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the exclusions are built.

    The build makes thousands of small objects without reference cycles, so
    a collection during it can free nothing; yet each one it sets off walks
    the young objects, and every few dozen a full one walks the whole heap
    (with a 10,000-mediator pool, ~100 ms: that was the p99). Paused and
    resumed as it was, counted across threads; the allocations still count
    toward the next collection, which runs once afterwards instead of many
    times during.
    """
    global _pauses, _collector_was_enabled
    with _pause_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_enabled:
                gc.enable()


def _take(items: Sequence[T], at: list[int]) -> list[T]:
    """[items[k] for k in at], in C."""
    if len(at) < 2:
        return [items[k] for k in at]
    return list(itemgetter(*at)(items))


def _slot_setters() -> tuple[Callable[[Exclusion, Any], None], ...] | None:
    """The slot descriptors' setters of Exclusion, which skip its frozen __init__."""
    names = ("mediator_id", "code", "params")
    members = [vars(Exclusion).get(name) for name in names]
    if not all(isinstance(member, MemberDescriptorType) for member in members):
        return None
    return tuple(member.__set__ for member in members)  # type: ignore[union-attr]


_SETTERS = _slot_setters()


def _fill(ids: list[str], code: str, params: Params) -> list[Exclusion]:
    """Exclusion objects in bulk, equal to Exclusion(id, code, params) each."""
    params_column: Iterable[Mapping[str, ParamValue]] = (
        repeat(params) if isinstance(params, Mapping) else params
    )
    if _SETTERS is None:
        return list(map(Exclusion, ids, repeat(code), params_column))
    set_id, set_code, set_params = _SETTERS
    made: list[Exclusion] = list(map(object.__new__, repeat(Exclusion, len(ids))))
    deque(map(set_id, made, ids), maxlen=0)
    deque(map(set_code, made, repeat(code)), maxlen=0)
    deque(map(set_params, made, params_column), maxlen=0)
    return made


class _Exclusions:
    """Builds `Ranking.excluded` from the arrays of one evaluation.

    Rows are the excluded speakers sorted by mediator id; per failing rule
    (in the evaluation's order) the params are shared or made from values
    gathered with numpy, then the reasons are interleaved row by row, so the
    list reads mediator by mediator as the rules fail.
    """

    def __init__(
        self, request: Request, pool: Pool, evaluation: Evaluation, now: datetime | None
    ) -> None:
        self.request = request
        self.pool = pool
        self.evaluation = evaluation
        self.now = now
        self.group = pool.speakers(request.language)
        out = np.flatnonzero(~evaluation.feasible)
        self.rows: IntArray = out[np.argsort(pool.id_rank[evaluation.speakers[out]])]
        """Speaker positions of the excluded, by mediator id."""
        self.pool_index: IntArray = evaluation.speakers[self.rows]

    def build(self) -> list[Exclusion]:
        if len(self.rows) == 0:
            return []
        ids = _take(self.pool.ids, self.pool_index.tolist())
        codes = list(self.evaluation.failing)
        kept = np.stack([self.evaluation.failing[code][self.rows] for code in codes], axis=1)
        made: list[Exclusion] = []
        for column, code in enumerate(codes):
            sub = np.flatnonzero(kept[:, column])
            if len(sub) == 0:
                continue
            params, keep = self._reasons(code, sub)
            if keep is not None:
                kept[sub[~keep], column] = False
                sub = sub[keep]
            made += _fill(_take(ids, sub.tolist()), code, params)
        # made holds code by code, each in row order; read it row by row instead.
        counts = kept.sum(axis=0)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        within = np.cumsum(kept, axis=0) - 1
        rows, columns = np.nonzero(kept)
        return _take(made, (starts[columns] + within[rows, columns]).tolist())

    def _reasons(self, code: str, sub: IntArray) -> Built:
        if code in _SAME_FOR_ALL_RULES:
            return self._same_for_all(_SAME_FOR_ALL_RULES[code], sub)
        build: Callable[[IntArray], Built] = getattr(self, f"_{code}")
        return build(sub)

    def _mediators(self, sub: IntArray) -> list[Mediator]:
        mediators = self.pool.mediators
        return [mediators[i] for i in self.pool_index[sub].tolist()]

    def _same_for_all(
        self, rule: Callable[[Request, Mediator], Exclusion | None], sub: IntArray
    ) -> Built:
        """One params dict for all: the rule's own, asked of the first mediator it excludes."""
        for i in self.pool_index[sub].tolist():
            reason = rule(self.request, self.pool.mediators[i])
            if reason is not None:
                return reason.params, None
        return {}, np.zeros(len(sub), dtype=bool)

    def _not_cleared(self, sub: IntArray) -> Built:
        """The rule's own params per mediator: few are excluded this way."""
        request = self.request
        params = [clearance_params(request, mediator) or {} for mediator in self._mediators(sub)]
        return params, None

    def _level(self, sub: IntArray) -> Built:
        request = self.request
        levels = self.group.level[self.rows[sub]].tolist()
        shared = {
            level: level_params(request.language, LEVEL_NAMES[level], request.min_level)
            for level in set(levels)
        }
        return [shared[level] for level in levels], None

    def _travel_radius(self, sub: IntArray) -> Built:
        request, pool = self.request, self.pool
        assert request.location is not None
        index = self.pool_index[sub]
        # Without a home or a limit the rule has nothing to say (the array check agrees).
        usable = ~np.isnan(pool.home_lat[index]) & np.isfinite(pool.max_travel_km[index])
        keep: BoolArray | None = None
        if not usable.all():
            keep, sub, index = usable, sub[usable], index[usable]
        distance = self.evaluation.distance_km[self.rows[sub]]
        edge = _near_edge(distance, 10.0, 0.5) | _near_edge(distance, 100.0, 0.5)
        if edge.any():
            distance = distance.copy()
            for k in np.flatnonzero(edge).tolist():
                home = pool.mediators[index[k]].home
                assert home is not None
                distance[k] = great_circle_km(home, request.location)
        params = travel_radius_params(distance.tolist(), _take(pool._travel_limits, index.tolist()))
        return params, keep

    def _busy(self, sub: IntArray) -> Built:
        request, group = self.request, self.group
        blocks = group.busy
        positions = self.rows[sub]
        clash = self.evaluation.busy_clash
        if clash is None:
            clash = self.pool._busy_clash(
                group, request, _seconds(request.start), _seconds(request.end)
            )
        # The first block in each mediator's way, in the order of Mediator.busy.
        found = np.flatnonzero(clash)
        owners = blocks.owner[found]
        first = np.ones(len(found), dtype=bool)
        first[1:] = owners[1:] != owners[:-1]
        block_of = np.full(len(group.index), -1, dtype=np.int64)
        block_of[owners[first]] = found[first]
        block = block_of[positions]
        overlap = (blocks.start[block] < _seconds(request.end)) & (
            _seconds(request.start) < blocks.end[block]
        )
        minutes = np.zeros(len(sub), dtype=np.float64)
        block_list = block.tolist()
        items = [group.busy_items[b] for b in block_list]
        travel = np.flatnonzero(~overlap)
        if len(travel) and request.in_person and request.location is not None:
            location = request.location
            lat, lon = location.lat, location.lon
            where = block[travel]
            km = great_circle_km_array(lat, lon, blocks.lat[where], blocks.lon[where])
            speed = self.pool.speed_kmh[self.pool_index[sub[travel]]]
            minutes[travel] = km * ROAD_FACTOR / speed * 60.0
            for k in travel[_minutes_near_edge(minutes[travel])].tolist():
                busy_location = items[k].location
                if busy_location is not None:
                    mode = self.pool.mediators[self.pool_index[sub[k]]].travel_mode
                    minutes[k] = travel_minutes(great_circle_km(location, busy_location), mode)
        # An overlapping block's params depend on the block alone: made once per
        # pool, each exclusion then gets its own copy.
        overlapping = self.pool._busy_overlap_params.setdefault(
            request.language.lower(), [None] * len(group.busy_items)
        )
        params: list[Mapping[str, ParamValue]] = []
        for b, item, m in zip(block_list, items, minutes.tolist(), strict=True):
            if m > 0:
                params.append(busy_params(item.start, item.end, item.label, m))
            else:
                cached = overlapping[b]
                if cached is None:
                    cached = overlapping[b] = busy_params(item.start, item.end, item.label, 0.0)
                params.append(dict(cached))
        return params, None

    def _minutes_cap(self, sub: IntArray) -> Built:
        """The rule itself, once per distinct (max_minutes, committed_minutes)."""
        request = self.request
        mediators = self._mediators(sub)
        templates: dict[tuple[int | None, int], Exclusion | None] = {}
        reasons: list[Exclusion | None] = []
        for mediator in mediators:
            key = (mediator.max_minutes, mediator.committed_minutes)
            if key not in templates:
                templates[key] = rule_minutes_cap(request, mediator)
            reasons.append(templates[key])
        keep = None
        if any(r is None for r in reasons):
            keep = np.array([r is not None for r in reasons], dtype=bool)
        return [r.params for r in reasons if r is not None], keep

    def _monthly_limit(self, sub: IntArray) -> Built:
        """The rule itself per mediator: few have a monthly limit."""
        return self._rule_per_mediator(rule_monthly_limit, sub)

    def _annual_limit(self, sub: IntArray) -> Built:
        """The rule itself per mediator: few are near their annual limit."""
        return self._rule_per_mediator(rule_annual_limit, sub)

    def _rule_per_mediator(
        self, rule: Callable[[Request, Mediator], Exclusion | None], sub: IntArray
    ) -> Built:
        request = self.request
        params = []
        for mediator in self._mediators(sub):
            reason = rule(request, mediator)
            assert reason is not None
            params.append(reason.params)
        return params, None

    def _too_late(self, sub: IntArray) -> Built:
        request, now = self.request, self.now
        assert now is not None and request.location is not None
        mediators = self._mediators(sub)
        distance = self.evaluation.distance_km[self.rows[sub]]
        minutes = distance * ROAD_FACTOR / self.pool.speed_kmh[self.pool_index[sub]] * 60.0
        for k in np.flatnonzero(_minutes_near_edge(minutes)).tolist():
            home = mediators[k].home
            if home is not None:
                km = great_circle_km(home, request.location)
                minutes[k] = travel_minutes(km, mediators[k].travel_mode)
        left = (request.start - now).total_seconds() / 60.0
        return [too_late_params(m, left) for m in minutes.tolist()], None


def feasible_ids(
    request: Request, pool: Pool | Sequence[Mediator], *, now: datetime | None = None
) -> list[str]:
    """The ids `rank` lists as candidates for `request`, in pool order, without their scores.

    For a caller who counts whom a request could have rather than ranking
    them (dispatch weighs the candidates of up to eight other open requests
    on every filing): the same rules decide, and the scoring, the sort and
    the candidates' records are skipped.
    """
    if not isinstance(pool, Pool):
        pool = Pool(pool)
    evaluation = pool.evaluate(request, now=now)
    return _take(pool.ids, evaluation.speakers[np.flatnonzero(evaluation.feasible)].tolist())


def rank(
    request: Request,
    pool: Pool | Sequence[Mediator],
    *,
    now: datetime | None = None,
    limit: int | None = None,
) -> Ranking:
    """All feasible mediators for one request, best score first, ties by id."""
    if not isinstance(pool, Pool):
        pool = Pool(pool)
    evaluation = pool.evaluate(request, now=now)
    positions = np.flatnonzero(evaluation.feasible)
    index = evaluation.speakers[positions]
    distance = evaluation.distance_km[positions]
    group = pool.speakers(request.language)
    parts = score_parts(pool, request, index, distance, group.level[positions])
    score = sum(parts.values(), np.zeros(len(index)))
    order = np.lexsort((pool.id_rank[index], -score))
    if limit is not None:
        order = order[:limit]
    speed = pool.speed_kmh[index]
    minutes = distance * ROAD_FACTOR / speed * 60.0
    names = list(parts)
    part_rows = zip(*(parts[name][order].tolist() for name in names), strict=True)
    candidates = list(
        map(
            Candidate,
            _take(pool.ids, index[order].tolist()),
            score[order].tolist(),
            [dict(zip(names, row, strict=True)) for row in part_rows],
            distance[order].tolist(),
            minutes[order].tolist(),
        )
    )
    return Ranking(request, pool, evaluation, candidates, now)
