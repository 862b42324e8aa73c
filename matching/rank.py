"""Ranking the feasible mediators for one request, fast.

`Pool` indexes a list of mediators once into numpy arrays (home, travel
speed and radius, levels per language, availability and busy blocks per
language's speakers) so that one request is checked against all of them
with a few vectorised operations and no per-request model building. The
vectorised checks mirror the rule functions in feasibility.py; the tests
compare the two on random instances.

Exclusions are reported only for mediators who speak the request's
language, with every reason that applies to each, built lazily (the
messages cost more than the check); the others are summarised as a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np
import numpy.typing as npt

from matching.feasibility import (
    DISTANCE_TOLERANCE_KM,
    TIME_TOLERANCE_S,
    RULE_BY_CODE,
    Exclusion,
    great_circle_km_array,
    language_name,
    rule_reach_in_time,
    travel_conflict_array,
    travel_speed_kmh,
)
from matching.model import LEVEL_RANK, ROAD_FACTOR, Location, Mediator, Request

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
SAME_MESSAGE_FOR_ALL = frozenset({"availability", "qualification", "gender", "excluded"})
"""Exclusions whose message depends on the request only, built once per ranking."""


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


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


class Pool:
    """An index of mediators built once, queried per request."""

    def __init__(self, mediators: Sequence[Mediator]) -> None:
        self.mediators: tuple[Mediator, ...] = tuple(mediators)
        self.index: dict[str, int] = {m.id: i for i, m in enumerate(self.mediators)}
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
        self._qualification_masks: dict[str, BoolArray] = {}
        self._speakers: dict[str, _Speakers] = {}
        self._speaker_lists: dict[str, list[int]] = {}
        for i, mediator in enumerate(self.mediators):
            for tag in mediator.languages:
                self._speaker_lists.setdefault(tag.lower(), []).append(i)

    def __len__(self) -> int:
        return len(self.mediators)

    def qualification_mask(self, qualification: str) -> BoolArray:
        mask = self._qualification_masks.get(qualification)
        if mask is None:
            mask = np.array([qualification in m.qualifications for m in self.mediators], dtype=bool)
            self._qualification_masks[qualification] = mask
        return mask

    def speakers(self, language: str) -> _Speakers:
        tag = language.lower()
        found = self._speakers.get(tag)
        if found is None:
            members = self._speaker_lists.get(tag, [])
            index = np.array(members, dtype=np.int64)
            level = np.array(
                [LEVEL_RANK[self.mediators[i].languages[tag]] for i in members], dtype=np.int64
            )
            avail: list[tuple[datetime, datetime, int, Location | None]] = [
                (s.start, s.end, pos, None)
                for pos, i in enumerate(members)
                for s in self.mediators[i].availability
            ]
            busy = [(b.start, b.end, pos, b.location) for pos, i in enumerate(members)
                    for b in self.mediators[i].busy]
            found = _Speakers(index, level, _blocks(avail), _blocks(busy))
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

        if request.excluded_mediators:
            banned = [self.index[m] for m in request.excluded_mediators if m in self.index]
            failing["excluded"] = np.isin(index, np.array(banned, dtype=np.int64))
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

        failing["busy"] = self._busy_conflicts(group, request, start, end)

        if request.qualification is not None:
            failing["qualification"] = ~self.qualification_mask(request.qualification)[index]
        if request.gender is not None and request.gender.strength == "required":
            wanted = request.gender.value
            failing["gender"] = np.array([self.genders[i] != wanted for i in index], dtype=bool)
        failing["minutes_cap"] = self.minutes_left[index] + 1e-9 < request.minutes
        if now is not None and travels:
            needed_s = distance * ROAD_FACTOR / self.speed_kmh[index] * 3600.0
            has_home = ~np.isnan(self.home_lat[index])
            failing["too_late"] = has_home & (needed_s > start - _seconds(now) + TIME_TOLERANCE_S)

        feasible = np.ones(len(index), dtype=bool)
        for mask in failing.values():
            feasible &= ~mask
        return Evaluation(index, feasible, failing, distance)

    def _busy_conflicts(
        self, group: _Speakers, request: Request, start: float, end: float
    ) -> BoolArray:
        """Per speaker: a busy block overlaps, or leaves no time to travel."""
        blocks = group.busy
        travels = request.in_person and request.location is not None
        lat = request.location.lat if travels and request.location else float("nan")
        lon = request.location.lon if travels and request.location else float("nan")
        clash = travel_conflict_array(
            blocks.start, blocks.end, blocks.lat, blocks.lon, start, end, lat, lon,
            self.speed_kmh[group.index[blocks.owner]],
        )
        conflicted = np.zeros(len(group.index), dtype=bool)
        conflicted[blocks.owner[clash]] = True
        return conflicted


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
    continuity = np.array(
        [pool.mediators[i].id in preferred for i in index], dtype=np.float64
    ) if preferred else np.zeros(count)
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
        codes: dict[str, list[str]] = {}
        for position in np.flatnonzero(~evaluation.feasible):
            mediator_id = self._pool.mediators[evaluation.speakers[position]].id
            codes[mediator_id] = [
                code for code, mask in evaluation.failing.items() if mask[position]
            ]
        return codes

    @cached_property
    def excluded(self) -> list[Exclusion]:
        """Every reason for every speaker of the language who is excluded, by id."""
        found: list[Exclusion] = []
        same_for_all: dict[str, Exclusion] = {}
        for mediator_id, codes in sorted(self.excluded_codes.items()):
            mediator = self._pool.mediators[self._pool.index[mediator_id]]
            for code in codes:  # only the rules the vectorised check saw failing
                if code in SAME_MESSAGE_FOR_ALL and code in same_for_all:
                    shared = same_for_all[code]
                    found.append(Exclusion(mediator_id, code, shared.message, shared.params))
                    continue
                if code == "too_late" and self._now is not None:
                    reason = rule_reach_in_time(self.request, mediator, self._now)
                else:
                    reason = RULE_BY_CODE[code](self.request, mediator)
                if reason is not None:
                    found.append(reason)
                    same_for_all.setdefault(code, reason)
        return found

    @property
    def summary(self) -> str:
        name = language_name(self.request.language)
        return (
            f"{len(self.candidates)} candidates, {len(self.excluded_codes)} excluded, "
            f"{self.not_speaking} do not speak {name}"
        )


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
    columns = [parts[name] for name in names]
    candidates = [
        Candidate(
            mediator_id=pool.mediators[index[k]].id,
            score=float(score[k]),
            parts={name: float(column[k]) for name, column in zip(names, columns)},
            travel_km=float(distance[k]),
            travel_minutes=float(minutes[k]),
        )
        for k in order
    ]
    return Ranking(request, pool, evaluation, candidates, now)
