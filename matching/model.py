"""The matching engine's data: plain frozen dataclasses, no framework.

The field names follow the problem format in SPEC.md ("The matching problem
format"). A few fields are extensions the service needs and the JSON format
does not carry (`committed_minutes`, `load_minutes`, `excluded_mediators`, `not_for_client`,
`annual_left_cents`, `monthly_limit_cents`, `monthly_counted_cents`, `Mediator.clearance`,
`Request.paid`, `Request.expected_allowance_cents`, `Problem.previous`); their defaults
leave the SPEC's meaning unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Level = Literal["basic", "fluent", "native"]
Mode = Literal["in_person", "phone", "video"]
TravelMode = Literal["car", "transit", "bike", "foot"]
GenderStrength = Literal["preferred", "required"]

LEVEL_RANK: dict[str, int] = {"basic": 0, "fluent": 1, "native": 2}
MODES: frozenset[str] = frozenset({"in_person", "phone", "video"})
TRAVEL_SPEED_KMH: dict[str, float] = {"car": 40.0, "transit": 20.0, "bike": 15.0, "foot": 5.0}
ROAD_FACTOR = 1.3
"""Great-circle distance times this is the distance actually travelled."""
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open time interval [start, end) with timezone-aware ends."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60.0


@dataclass(frozen=True, slots=True)
class Busy:
    """A block a mediator is already taken (an absence, another job).

    With a location it takes part in travel between in-person jobs; without
    one it only blocks its time. `label` names the place for reasons
    ("at the job centre").
    """

    start: datetime
    end: datetime
    location: Location | None = None
    label: str | None = None


CLEARANCE_ITEMS: tuple[str, ...] = (
    "training",
    "confidentiality_pledge",
    "police_certificate",
    "listed_until",
)
"""The gates before a mediator's first job (SPEC "Clearance"), in the order they are checked."""


@dataclass(frozen=True, slots=True)
class Clearance:
    """A mediator's clearance: the date of each gate, None where it is missing.

    `listed_until` is the last day the mediator is listed (inclusive); a job
    on a later day, in the job's own time zone, is past it.
    """

    training: date | None = None
    confidentiality_pledge: date | None = None
    police_certificate: date | None = None
    listed_until: date | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """The items without a date, in the order of CLEARANCE_ITEMS."""
        return tuple(item for item in CLEARANCE_ITEMS if getattr(self, item) is None)


@dataclass(frozen=True, slots=True)
class GenderPreference:
    value: str
    strength: GenderStrength = "preferred"


@dataclass(frozen=True, slots=True)
class Mediator:
    id: str
    languages: Mapping[str, str]
    """Language tag (lower case) to level: `basic`, `fluent` or `native`."""
    home: Location | None = None
    travel_mode: str = "car"
    max_travel_km: float | None = None
    max_minutes: int | None = None
    qualifications: frozenset[str] = frozenset()
    gender: str | None = None
    availability: tuple[Interval, ...] = ()
    busy: tuple[Busy, ...] = ()
    committed_minutes: int = 0
    """Minutes already worked or assigned in the cap period; count toward max_minutes."""
    load_minutes: int = 0
    """Recent work, used only to spread work fairly."""
    annual_left_cents: Mapping[int, int] = field(default_factory=dict)
    """Per calendar year, in the jobs' own time zone: the cents left under the mediator's
    annual limit (the limit less jobs paid and jobs held at what they are expected to
    pay; 0 or less: reached). A year not listed has no limit, e.g. the coordinator let
    them go beyond it that year (extension)."""
    monthly_limit_cents: int | None = None
    """The mediator's own monthly allowance limit in cents; None: they have none
    (extension; a Bürgergeld recipient keeps only so much a month)."""
    monthly_counted_cents: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """Per calendar month (year, month), in the jobs' own time zone: the cents already
    counted against the monthly limit (jobs paid, and jobs held at what they are
    expected to pay); a month not listed counts nothing yet (extension)."""
    clearance: Clearance | None = None
    """None: the problem does not track clearance (the SPEC's JSON format); else checked."""

    def __post_init__(self) -> None:
        # Language tags compare case-insensitively: keep them lower case.
        if any(tag != tag.lower() for tag in self.languages):
            lowered = {tag.lower(): level for tag, level in self.languages.items()}
            object.__setattr__(self, "languages", lowered)

    def level(self, language: str) -> str | None:
        return self.languages.get(language.lower())


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    language: str
    start: datetime
    end: datetime
    mode: str = "in_person"
    min_level: str = "fluent"
    location: Location | None = None
    qualification: str | None = None
    gender: GenderPreference | None = None
    priority: int = 1
    client_ref: str | None = None
    preferred_mediators: tuple[str, ...] = ()
    excluded_mediators: tuple[str, ...] = ()
    """An organisation's list of mediators never to offer (extension)."""
    not_for_client: tuple[str, ...] = ()
    """Mediators marked "not again for this client" for the request's client reference
    (extension)."""
    paid: bool = True
    """The job pays its mediator an allowance (extension); an unpaid one may go to a
    mediator at the annual or monthly limit."""
    expected_allowance_cents: int = 0
    """What the job is expected to pay its mediator, in cents, whoever takes it
    (extension): a paid job goes only to a mediator whose monthly and annual limits have
    that much left in the job's month and year, and a plan gives a mediator no more paid
    jobs in a month or year than what is left there."""
    label: str | None = None
    """A place name for reasons ("the job centre"); optional."""

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60.0

    @property
    def in_person(self) -> bool:
        return self.mode == "in_person"


@dataclass(frozen=True, slots=True)
class Problem:
    mediators: tuple[Mediator, ...]
    requests: tuple[Request, ...]
    fixed: tuple[tuple[str, str], ...] = ()
    """(request id, mediator id) pairs that must be kept."""
    time_limit_s: float | None = None
    previous: Mapping[str, str] = field(default_factory=dict)
    """request id -> mediator id of an earlier proposal, kept when it costs nothing."""


@dataclass(frozen=True, slots=True)
class Assignment:
    request: str
    mediator: str


@dataclass(frozen=True, slots=True)
class Solution:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[str, ...]
    status: str
    objective: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    filled_priority: int = 0
    filled_priority_bound: int | None = None
    """Proven upper bound on filled priority (from the solver's bound)."""
    stats: Mapping[str, float | int | str] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound, 0 when proven optimal."""
        if self.objective is None or self.bound is None:
            return None
        if self.bound == 0:
            return 0.0 if self.objective == 0 else None
        return abs(self.bound - self.objective) / abs(self.bound)

    def as_dict(self) -> dict[str, str]:
        return {a.request: a.mediator for a in self.assignments}
