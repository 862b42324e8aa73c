"""The ranking's bulk exclusions say exactly what the rule functions say.

`Ranking.excluded` is built from the vectorised check's arrays, not by
calling the rules per mediator; these tests compare it, reason by reason
(code, message, params, order), with `feasibility.exclusions` for every
speaker of the language on generated instances varied to hit every rule.
"""

from __future__ import annotations

import gc
import importlib
import math
import random
import threading
from dataclasses import FrozenInstanceError, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from matching.feasibility import Exclusion, exclusions
from matching.generate import generate
from matching.model import CLEARANCE_ITEMS, Clearance, GenderPreference, Mediator, Request
from matching.rank import Pool, feasible_ids, rank
from tests.matching.matching_factories import HOSPITAL, TOWN_HALL, at, busy, mediator, request

rank_module = importlib.import_module("matching.rank")  # `matching.rank` is also the function

CODE_ORDER = (
    "not_cleared",
    "excluded",
    "not_for_this_client",
    "level",
    "availability",
    "travel_radius",
    "busy",
    "qualification",
    "gender",
    "minutes_cap",
    "annual_limit",
    "monthly_limit",
    "too_late",
)
"""The order of one mediator's reasons in `Ranking.excluded` (the vectorised check's)."""


def varied(
    size: str, seed: int, requests: int
) -> tuple[list[Mediator], list[tuple[Request, datetime | None]]]:
    """A generated instance with every rule in play: caps already used, mediators
    without a home or a radius, excluded lists, required genders, qualifications,
    native level, upper-case tags, in-person jobs without a place, a clock, and
    clearance missing an item or listed until a day within the instance."""
    problem = generate(size, seed=seed, request_count=requests)
    rng = random.Random(f"reasons-{size}-{seed}")
    days = sorted({r.start.date() for r in problem.requests})
    cleared = Clearance(days[0], days[0], days[0], days[-1])
    # A month of the instance's jobs, and one before it (which must change nothing).
    months = {(days[0].year, days[0].month), (days[-1].year, days[-1].month)}
    earlier = (days[0].year - 1, 12)
    # What each month counts against a limit of 250 EUR: nothing, some, nearly all, all.
    counted_choices: list[dict[tuple[int, int], int]] = [
        {},
        dict.fromkeys(months, 15000),
        dict.fromkeys(months, 23000),
        dict.fromkeys(months, 25000),
        {earlier: 250_00},
    ]
    # What each year has left under the annual limit: none, little, some; another year's.
    years = {days[0].year, days[-1].year}
    annual_choices: list[dict[int, int]] = [
        dict.fromkeys(years, 0),
        dict.fromkeys(years, 30_00),
        dict.fromkeys(years, 300_00),
        {days[0].year - 1: 0},
    ]

    def clearance() -> Clearance:
        draw = rng.random()
        if draw < 0.9:
            return cleared
        if draw < 0.95:
            return replace(cleared, listed_until=rng.choice(days))
        return replace(cleared, **{rng.choice(CLEARANCE_ITEMS): None})

    mediators = [
        replace(
            m,
            committed_minutes=rng.choice([0, 0, 0, 300, 550, 885]),
            annual_left_cents=rng.choice(annual_choices) if rng.random() < 0.1 else {},
            monthly_limit_cents=250_00 if rng.random() < 0.15 else None,
            monthly_counted_cents=rng.choice(counted_choices),
            clearance=clearance(),
            home=None if rng.random() < 0.03 else m.home,
            max_travel_km=None
            if rng.random() < 0.1
            else (
                int(m.max_travel_km) if m.max_travel_km and rng.random() < 0.2 else m.max_travel_km
            ),
        )
        for m in problem.mediators
    ]
    ids = [m.id for m in mediators]
    cases: list[tuple[Request, datetime | None]] = []
    for r in problem.requests:
        changes: dict[str, Any] = {}
        if rng.random() < 0.3:
            changes["excluded_mediators"] = (*rng.sample(ids, 8), "nobody")
        if rng.random() < 0.3:
            changes["not_for_client"] = (*rng.sample(ids, 5), "nobody")
        if rng.random() < 0.2:
            changes["gender"] = GenderPreference(rng.choice("fm"), "required")
        if rng.random() < 0.2:
            changes["min_level"] = rng.choice(["native", "basic"])
        if rng.random() < 0.2:
            changes["qualification"] = rng.choice(
                ["medical", "school", "authority", "psychosocial"]
            )
        if rng.random() < 0.1:
            changes["language"] = r.language.upper()
        if r.in_person and rng.random() < 0.05:
            changes["location"] = None
        if rng.random() < 0.1:
            changes["paid"] = False
        changes["expected_allowance_cents"] = rng.choice([0, 15_00, 20_00, 45_00, 100_00])
        now = None
        if rng.random() < 0.6:
            now = r.start - timedelta(
                minutes=rng.choice([0, 5, 12, 25, 45, 90]), seconds=rng.randrange(60)
            )
        cases.append((replace(r, **changes), now))
    return mediators, cases


def expected_exclusions(
    request: Request, mediators: list[Mediator], now: datetime | None
) -> list[Exclusion]:
    """What the scalar rules say of every speaker, by id, in the ranking's code order."""
    found: list[Exclusion] = []
    speakers = [m for m in mediators if m.level(request.language) is not None]
    for m in sorted(speakers, key=lambda m: m.id):
        found += sorted(exclusions(request, m, now=now), key=lambda e: CODE_ORDER.index(e.code))
    return found


def assert_same_reasons(
    mediators: list[Mediator], cases: list[tuple[Request, datetime | None]]
) -> set[str]:
    pool = Pool(mediators)
    seen: set[str] = set()
    for req, now in cases:
        ranking = rank(req, pool, now=now)
        expected = expected_exclusions(req, mediators, now)
        got = ranking.excluded
        assert got == expected, req.id
        # the params' value types too (25 vs 25.0)
        for mine, theirs in zip(got, expected, strict=True):
            assert type(mine) is Exclusion
            assert [type(v) for v in mine.params.values()] == [
                type(v) for v in theirs.params.values()
            ]
            assert list(mine.params) == list(theirs.params)
        codes: dict[str, list[str]] = {}
        for reason in expected:
            codes.setdefault(reason.mediator_id, []).append(reason.code)
        assert ranking.excluded_codes == codes, req.id
        seen.update(reason.code for reason in got)
    return seen


@pytest.mark.parametrize(
    ("size", "seed", "requests"), [("town", 1, 300), ("town", 7, 300), ("city", 2, 120)]
)
def test_bulk_exclusions_equal_the_rule_functions(size: str, seed: int, requests: int) -> None:
    mediators, cases = varied(size, seed, requests)
    seen = assert_same_reasons(mediators, cases)
    assert seen == set(CODE_ORDER)  # every rule was exercised


def test_values_on_rounding_edges_are_recomputed_by_the_scalar_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every distance and travel time treated as "on an edge": all come from the scalar code.
    mediators, cases = varied("town", 3, 150)
    monkeypatch.setattr(rank_module, "_ROUNDING_NOISE", 10.0)
    assert_same_reasons(mediators, cases)
    # None treated so: all from the vectorised arrays.
    monkeypatch.setattr(rank_module, "_ROUNDING_NOISE", 0.0)
    assert_same_reasons(mediators, cases)


def test_plain_constructor_fallback_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    mediators, cases = varied("town", 4, 80)
    monkeypatch.setattr(rank_module, "_SETTERS", None)
    assert_same_reasons(mediators, cases)


def test_bulk_exclusions_are_ordinary_frozen_exclusions() -> None:
    ranking = rank(
        request(), [mediator("m2", languages={"ar": "basic"}), mediator("m1", availability=())]
    )
    assert [(e.mediator_id, e.code) for e in ranking.excluded] == [
        ("m1", "availability"),
        ("m2", "level"),
    ]
    reason = ranking.excluded[0]
    assert reason == Exclusion(
        "m1",
        "availability",
        {"start": request().start.isoformat(), "end": request().end.isoformat()},
    )
    with pytest.raises(FrozenInstanceError):
        reason.code = "changed"  # type: ignore[misc]
    assert repr(reason).startswith("Exclusion(mediator_id='m1', code='availability'")


def test_every_reason_of_one_mediator_in_the_ranking_order() -> None:
    everything = mediator(
        "m1",
        languages={"ar": "basic"},
        home=HOSPITAL,
        max_travel_km=1,
        max_minutes=60,
        committed_minutes=30,
        gender="m",
        annual_left_cents={2026: 0},
        monthly_limit_cents=250_00,
        monthly_counted_cents={(2026, 12): 250_00},
        availability=(),
        busy=(busy("08:00", "08:55", HOSPITAL, "at the hospital"),),
        clearance=Clearance(listed_until=at("09:00").date() - timedelta(days=1)),
    )
    req = request(
        location=TOWN_HALL,
        qualification="medical",
        gender=GenderPreference("f", "required"),
        excluded_mediators=("m1",),
        not_for_client=("m1",),
    )
    now = at("09:00") - timedelta(minutes=3)
    ranking = rank(req, [everything], now=now)
    assert [e.code for e in ranking.excluded] == list(CODE_ORDER)
    assert ranking.excluded == expected_exclusions(req, [everything], now)
    assert ranking.excluded[0].params == {
        "missing": "training,confidentiality_pledge,police_certificate",
        "expired": "listed_until",
        "listed_until": "2026-11-30",
    }
    radius, busy_elsewhere = ranking.excluded[5].params, ranking.excluded[6].params
    assert round(float(radius["distance_km"]), 1) == 4.4 and radius["max_travel_km"] == 1
    assert busy_elsewhere["label"] == "at the hospital"
    assert math.ceil(float(busy_elsewhere["travel_minutes"])) == 9


def test_a_mediator_at_the_job_with_no_time_left() -> None:
    # Distance 0 (an edge for ceil) and a clock past the start.
    here = mediator("m1", home=TOWN_HALL, busy=(busy("09:30", "09:45"),))
    req = request(location=TOWN_HALL)
    now = at("09:10")
    ranking = rank(req, [here], now=now)
    assert ranking.excluded == expected_exclusions(req, [here], now)
    assert [(e.code, e.params) for e in ranking.excluded] == [
        ("busy", {"start": at("09:30").isoformat(), "end": at("09:45").isoformat(), "label": ""}),
        ("too_late", {"travel_minutes": 0.0, "minutes_left": -10.0}),
    ]


def test_the_collector_is_left_as_it_was() -> None:
    pool = [mediator("m1", availability=()), mediator("m2")]
    assert gc.isenabled()
    assert [e.code for e in rank(request(), pool).excluded] == ["availability"]
    assert gc.isenabled()
    gc.disable()
    try:
        assert [e.code for e in rank(request(), pool).excluded] == ["availability"]
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_enabled_again_after_builds_in_several_threads() -> None:
    mediators, cases = varied("town", 5, 60)
    pool = Pool(mediators)
    expected = {req.id: expected_exclusions(req, mediators, now) for req, now in cases}
    results: dict[str, list[Exclusion]] = {}

    def work(part: list[tuple[Request, datetime | None]]) -> None:
        for req, now in part:
            results[req.id] = rank(req, pool, now=now).excluded

    threads = [threading.Thread(target=work, args=(cases[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected
    assert gc.isenabled()


@pytest.mark.parametrize(("size", "seed", "requests"), [("town", 5, 300), ("city", 6, 120)])
def test_feasible_ids_are_the_ranking_s_candidates(size: str, seed: int, requests: int) -> None:
    mediators, cases = varied(size, seed, requests)
    pool = Pool(mediators)
    some = 0
    for req, now in cases:
        expected = sorted(c.mediator_id for c in rank(req, pool, now=now).candidates)
        assert sorted(feasible_ids(req, pool, now=now)) == expected, req.id
        some += bool(expected)
    assert some > requests // 4  # most cases have candidates, not only empty lists
