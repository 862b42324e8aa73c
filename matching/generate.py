"""Seeded, realistic problem instances for tests and benchmarks.

A week (Monday to Friday) of requests in the Kreis Warendorf around Beckum:
named places per town (town hall, job centre, hospital, schools, doctors,
...), a language mix like recent demand for community interpreting in
Germany, mediators with part-time availability patterns, other commitments
and absences, and travel by car, transit, bike or on foot.

`congestion` scales the number of requests (1.0 gives the sizes of the
issue; 2.0 twice the requests for the same pool).

`preset=True` makes a *congested* week, where a good plan and a plain one
differ: demand by language as in recent asylum figures (`RECENT_DEMAND`:
Syria, Afghanistan, Turkey, Iraq, Eritrea, Somalia, Iran, and Ukrainian
refugees) against a pool recruited from an older migration mix
(`OLDER_SUPPLY`: Russian-speaking late repatriates, Turkish and Arabic
speakers, few Tigrinya, Pashto, Somali or Kurdish speakers). Mediators
there work fewer hours (`PRESET_HOURS`), and the request volume is tuned so
the status quo fills about 85-92 % of the best known bound at congestion 1.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from matching.model import (
    Busy,
    GenderPreference,
    Interval,
    Location,
    Mediator,
    Problem,
    Request,
)

CET = timezone(timedelta(hours=1))
WEEK_START = datetime(2026, 11, 30, tzinfo=CET)
"""A Monday."""

LANGUAGE_DEMAND: dict[str, float] = {
    "ar": 22,
    "uk": 18,
    "tr": 9,
    "ru": 8,
    "prs": 6,
    "fa": 6,
    "kmr": 5,
    "ps": 4,
    "ti": 4,
    "ro": 4,
    "ckb": 3,
    "so": 3,
    "bg": 3,
    "sq": 3,
    "pl": 2,
}
RECENT_DEMAND: dict[str, float] = {
    # first asylum applications 2023-2024 by nationality, as languages, plus
    # the Ukrainian refugees' need (Ukrainian and Russian)
    "ar": 26,
    "prs": 12,
    "ps": 6,
    "tr": 11,
    "kmr": 10,
    "ckb": 2,
    "ti": 6,
    "so": 4,
    "fa": 5,
    "uk": 12,
    "ru": 6,
}
OLDER_SUPPLY: dict[str, float] = {
    # who became a language mediator in the last decades: Russian-speaking late
    # repatriates, Turkish guest workers' children, Arabic and Persian speakers
    "ru": 20,
    "tr": 20,
    "ar": 22,
    "uk": 9,
    "fa": 8,
    "prs": 6,
    "kmr": 3,
    "ps": 2,
    "ti": 1.5,
    "so": 1.5,
    "ckb": 1,
    "pl": 4,
    "bg": 2,
}
SCARCE = ("ti", "ps", "so", "kmr")
"""Languages the older mix under-supplies (tested)."""
PLENTIFUL = ("ru", "tr")
SECOND_LANGUAGE: dict[str, list[str]] = {
    "ar": ["kmr", "tr", "ckb"],
    "uk": ["ru", "pl"],
    "ru": ["uk", "bg"],
    "tr": ["kmr", "ar"],
    "prs": ["fa", "ps"],
    "fa": ["prs", "ps"],
    "ps": ["prs", "fa"],
    "kmr": ["tr", "ar", "ckb"],
    "ckb": ["ar", "kmr", "fa"],
    "ti": ["ar", "am"],
    "so": ["ar"],
    "ro": ["bg"],
    "bg": ["ru", "ro", "tr"],
    "sq": ["sr"],
    "pl": ["uk", "ru"],
}

TOWNS: list[tuple[str, float, float, float]] = [
    # name, lat, lon, weight (population share)
    ("Beckum", 51.7553, 8.0403, 3.7),
    ("Ahlen", 51.7633, 7.8912, 5.2),
    ("Oelde", 51.8254, 8.1446, 2.9),
    ("Warendorf", 51.9539, 7.9933, 3.7),
    ("Ennigerloh", 51.8381, 8.0316, 2.0),
    ("Sendenhorst", 51.8431, 7.8285, 1.3),
    ("Drensteinfurt", 51.7952, 7.7388, 1.6),
    ("Telgte", 51.9830, 7.7858, 2.0),
    ("Sassenberg", 51.9906, 8.0442, 1.4),
    ("Everswinkel", 51.9255, 7.8484, 1.0),
]

PLACE_KINDS: list[tuple[str, str | None, float]] = [
    # label, qualification usually needed, share of in-person requests
    ("town hall", "authority", 0.12),
    ("job centre", "authority", 0.16),
    ("immigration office", "authority", 0.08),
    ("youth welfare office", "psychosocial", 0.07),
    ("hospital", "medical", 0.12),
    ("doctor's practice", "medical", 0.15),
    ("primary school", "school", 0.10),
    ("secondary school", "school", 0.08),
    ("counselling centre", "psychosocial", 0.06),
    ("kindergarten", "school", 0.06),
]


@dataclass(frozen=True, slots=True)
class Size:
    mediators: int
    requests: int
    towns: int
    spread_km: float
    """Typical distance of homes and places from their town's centre."""


@dataclass(frozen=True, slots=True)
class Mix:
    """Who asks for which language, who offers it, and how many hours mediators give."""

    demand: dict[str, float]
    supply: dict[str, float]
    availability_weights: tuple[float, float, float, float, float]
    """Shares of the patterns full, mornings, afternoons, some days, split."""
    some_days: tuple[int, int] = (2, 3)
    """How many days a "some days" mediator works."""
    max_minutes: tuple[int | None, ...] = (None, None, 600, 900, 1200, 1500)
    priorities: tuple[float, float, float] = (0.6, 0.3, 0.1)
    """Shares of priority 1, 2 and 3 requests."""


SIZES: dict[str, Size] = {
    "town": Size(80, 300, 1, 2.0),
    "city": Size(600, 3000, 1, 5.0),
    "region": Size(3000, 15000, len(TOWNS), 2.5),
}

BASE_MIX = Mix(LANGUAGE_DEMAND, LANGUAGE_DEMAND, (2, 2, 1.5, 3, 1.5))
PRESET_MIX = Mix(
    RECENT_DEMAND,
    OLDER_SUPPLY,
    (0.5, 2, 1, 6, 1),
    (1, 2),
    (None, 240, 360, 480, 600),
    (0.45, 0.3, 0.25),
)
"""Part-time pools: fewer full weeks than the base generator."""

TRAVEL_MODES: list[tuple[str, float, float]] = [
    # mode, share, typical max travel km
    ("car", 0.45, 25.0),
    ("transit", 0.25, 15.0),
    ("bike", 0.2, 7.0),
    ("foot", 0.1, 2.5),
]


@dataclass(frozen=True, slots=True)
class Place:
    label: str
    qualification: str | None
    location: Location


def _offset(rng: random.Random, lat: float, lon: float, spread_km: float) -> Location:
    distance = abs(rng.gauss(0, spread_km))
    angle = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(angle) / 111.2
    dlon = distance * math.sin(angle) / (111.2 * math.cos(math.radians(lat)))
    return Location(round(lat + dlat, 5), round(lon + dlon, 5))


def _places(rng: random.Random, size: Size) -> tuple[list[Place], list[float]]:
    places: list[Place] = []
    weights: list[float] = []
    for name, lat, lon, town_weight in TOWNS[: size.towns]:
        for label, qualification, share in PLACE_KINDS:
            copies = 1 if label in ("town hall", "job centre", "hospital") else 2
            if size.requests >= 3000 and size.towns == 1:
                copies *= 3
            for copy in range(copies):
                where = f"the {label}" + (f" {copy + 1}" if copies > 1 else "")
                if size.towns > 1:
                    where += f" in {name}"
                places.append(
                    Place(where, qualification, _offset(rng, lat, lon, size.spread_km * 0.6))
                )
                weights.append(town_weight * share / copies)
    return places, weights


def _pick(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _at(day: int, hour: float) -> datetime:
    return WEEK_START + timedelta(days=day, minutes=round(hour * 60))


def _availability(rng: random.Random, mix: Mix) -> tuple[Interval, ...]:
    pattern = rng.choices(
        ["full", "mornings", "afternoons", "some_days", "split"], list(mix.availability_weights)
    )[0]
    days = list(range(5))
    if pattern == "some_days":
        days = sorted(rng.sample(days, rng.randint(*mix.some_days)))
    slots: list[Interval] = []
    for day in days:
        if pattern in ("full", "some_days"):
            slots.append(
                Interval(_at(day, rng.choice([7.5, 8, 8.5])), _at(day, rng.choice([15, 16, 17])))
            )
        elif pattern == "mornings":
            slots.append(Interval(_at(day, 8), _at(day, rng.choice([12, 12.5, 13]))))
        elif pattern == "afternoons":
            slots.append(Interval(_at(day, rng.choice([12, 13])), _at(day, 18)))
        else:
            slots.append(Interval(_at(day, 8), _at(day, 12)))
            slots.append(Interval(_at(day, 14), _at(day, 17)))
    return tuple(slots)


def _mediator(
    rng: random.Random, index: int, size: Size, places: list[Place], mix: Mix
) -> Mediator:
    town = rng.choices(TOWNS[: size.towns], weights=[t[3] for t in TOWNS[: size.towns]])[0]
    home = _offset(rng, town[1], town[2], size.spread_km)
    main = _pick(rng, mix.supply)
    languages = {main: "native" if rng.random() < 0.7 else "fluent", "de": "fluent"}
    if rng.random() < 0.35:
        second = rng.choice(SECOND_LANGUAGE[main])
        languages.setdefault(second, rng.choice(["fluent", "basic"]))
    mode, _, reach = rng.choices(TRAVEL_MODES, weights=[t[1] for t in TRAVEL_MODES])[0]
    qualifications = frozenset(
        q
        for q, share in (
            ("medical", 0.35),
            ("school", 0.35),
            ("authority", 0.45),
            ("psychosocial", 0.2),
        )
        if rng.random() < share
    )
    busy: list[Busy] = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        day, hour = rng.randrange(5), rng.choice([8, 9, 10, 11, 13, 14, 15])
        if rng.random() < 0.6:
            place = rng.choice(places)
            busy.append(
                Busy(
                    _at(day, hour),
                    _at(day, hour + rng.choice([1, 1.5, 2])),
                    place.location,
                    f"at {place.label}",
                )
            )
        else:
            busy.append(Busy(_at(day, hour), _at(day, hour + rng.choice([2, 4])), None, "absent"))
    busy.sort(key=lambda b: b.start)
    return Mediator(
        id=f"m{index + 1}",
        languages=languages,
        home=home,
        travel_mode=mode,
        max_travel_km=round(reach * rng.uniform(0.7, 1.4), 1),
        max_minutes=rng.choice(list(mix.max_minutes)),
        qualifications=qualifications,
        gender=rng.choices(["f", "m"], [0.55, 0.45])[0],
        availability=_availability(rng, mix),
        busy=tuple(busy),
        load_minutes=rng.choice([0, 0, 60, 120, 240, 480]),
    )


def generate(
    size: str = "town",
    *,
    seed: int = 0,
    congestion: float = 1.0,
    mediator_count: int | None = None,
    request_count: int | None = None,
    preset: bool = False,
) -> Problem:
    """A seeded instance: `town`, `city` or `region` (see SIZES), counts overridable.

    With `preset`, the congested week of the module docstring (same sizes,
    recent demand against an older supply, part-time pools).
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}, choose from {sorted(SIZES)}")
    shape = SIZES[size]
    shape = Size(
        mediator_count or shape.mediators,
        request_count or shape.requests,
        shape.towns,
        shape.spread_km,
    )
    mix = PRESET_MIX if preset else BASE_MIX
    rng = random.Random(f"{size}-{seed}" + ("-congested" if preset else ""))
    places, place_weights = _places(rng, shape)
    mediators = [_mediator(rng, i, shape, places, mix) for i in range(shape.mediators)]
    speakers: dict[str, list[str]] = {}
    for mediator in mediators:
        for tag in mediator.languages:
            speakers.setdefault(tag, []).append(mediator.id)
    clients: dict[str, tuple[str, str | None]] = {}
    requests: list[Request] = []
    for index in range(max(1, round(shape.requests * congestion))):
        language = _pick(rng, mix.demand)
        day = rng.randrange(5)
        hour = rng.choice([h / 4 for h in range(8 * 4, 16 * 4)])
        minutes = rng.choices([30, 45, 60, 90, 120], [2, 2, 4, 2, 1])[0]
        mode = rng.choices(["in_person", "phone", "video"], [0.7, 0.2, 0.1])[0]
        place = rng.choices(places, weights=place_weights)[0]
        qualification = place.qualification if rng.random() < 0.4 else None
        client_ref = None
        preferred: tuple[str, ...] = ()
        if rng.random() < 0.3:
            client_ref = f"c{rng.randrange(max(1, shape.requests // 6))}"
            known = clients.get(client_ref)
            if known is not None and known[0] == language and known[1] is not None:
                preferred = (known[1],)
            elif known is None:
                clients[client_ref] = (language, rng.choice(speakers.get(language, [""])) or None)
        gender = None
        if rng.random() < 0.12:
            gender = GenderPreference(
                rng.choice(["f", "m"]), "required" if rng.random() < 0.3 else "preferred"
            )
        requests.append(
            Request(
                id=f"r{index + 1}",
                language=language,
                start=_at(day, hour),
                end=_at(day, hour + minutes / 60),
                mode=mode,
                min_level=rng.choices(["fluent", "native", "basic"], [0.85, 0.05, 0.1])[0],
                location=place.location if mode == "in_person" else None,
                qualification=qualification,
                gender=gender,
                priority=rng.choices([1, 2, 3], list(mix.priorities))[0],
                client_ref=client_ref,
                preferred_mediators=preferred,
                label=place.label if mode == "in_person" else None,
            )
        )
    return Problem(mediators=tuple(mediators), requests=tuple(requests))
