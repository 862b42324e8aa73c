"""Ranking one request: order, score parts, reasons, and the vectorised pool."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from matching.feasibility import Exclusion, pair_feasible
from matching.generate import generate
from matching.model import GenderPreference
from matching.rank import Pool, rank
from tests.matching.matching_factories import (
    HOSPITAL,
    JOB_CENTRE,
    at,
    busy,
    mediator,
    request,
    slot,
)


def test_candidates_best_first_with_visible_parts() -> None:
    near = mediator("m1", home=JOB_CENTRE)
    far = mediator("m2", home=HOSPITAL)
    ranking = rank(request(), [far, near])
    assert [c.mediator_id for c in ranking.candidates] == ["m1", "m2"]
    best = ranking.candidates[0]
    assert set(best.parts) == {"continuity", "gender", "level", "travel", "load"}
    assert abs(sum(best.parts.values()) - best.score) < 1e-9
    assert best.travel_minutes > 0


def test_preferred_mediator_for_the_client_ranks_first() -> None:
    near = mediator("m1", home=JOB_CENTRE)
    usual = mediator("m2", home=HOSPITAL)
    ranking = rank(request(preferred_mediators=("m2",)), [near, usual])
    assert ranking.candidates[0].mediator_id == "m2"
    assert ranking.candidates[0].parts["continuity"] > 0


def test_preferred_gender_raises_the_score() -> None:
    ranking = rank(
        request(gender=GenderPreference("f", "preferred")),
        [mediator("m1", gender="m"), mediator("m2", gender="f")],
    )
    assert [c.mediator_id for c in ranking.candidates] == ["m2", "m1"]


def test_less_recent_work_ranks_higher() -> None:
    ranking = rank(request(), [mediator("m1", load_minutes=600), mediator("m2")])
    assert [c.mediator_id for c in ranking.candidates] == ["m2", "m1"]


def test_equal_scores_are_ordered_by_id() -> None:
    ranking = rank(request(), [mediator("m3"), mediator("m1"), mediator("m2")])
    assert [c.mediator_id for c in ranking.candidates] == ["m1", "m2", "m3"]


def test_excluded_speakers_get_every_reason_and_others_a_count() -> None:
    pool = [
        mediator("m1", languages={"ar": "basic"}, max_travel_km=0.1),
        mediator("m2", languages={"uk": "native"}),
        mediator("m3"),
    ]
    ranking = rank(request(location=HOSPITAL), pool)
    assert [c.mediator_id for c in ranking.candidates] == ["m3"]
    assert [(e.mediator_id, e.code) for e in ranking.excluded] == [
        ("m1", "level"),
        ("m1", "travel_radius"),
    ]
    assert ranking.excluded_codes == {"m1": ["level", "travel_radius"]}
    assert ranking.not_speaking == 1


def test_busy_reason_names_the_place_and_the_travel() -> None:
    walker = mediator(
        travel_mode="foot", busy=(busy("08:00", "08:45", HOSPITAL, "at the hospital"),)
    )
    ranking = rank(request(), [walker])
    assert ranking.candidates == []
    [reason] = ranking.excluded
    assert reason.code == "busy" and reason.params["label"] == "at the hospital"
    assert "T08:00" in str(reason.params["start"]) and "T08:45" in str(reason.params["end"])
    assert float(reason.params["travel_minutes"]) > 15


def test_with_a_clock_a_mediator_who_cannot_arrive_in_time_is_excluded() -> None:
    walker = mediator("m1", travel_mode="foot", home=HOSPITAL)
    driver = mediator("m2", travel_mode="car", home=HOSPITAL)
    ranking = rank(request(), [walker, driver], now=at("09:00") - timedelta(minutes=20))
    assert [c.mediator_id for c in ranking.candidates] == ["m2"]
    assert ranking.excluded_codes == {"m1": ["too_late"]}


def monthly_pool() -> Pool:
    """Limit 250 EUR each: 240 counted in December, 100 counted, and no limit at all;
    free on 1 December and on 1 January."""
    free = (slot("08:00", "16:00"), slot("08:00", "16:00", day=31))
    counted = {"m1": 240_00, "m2": 100_00}
    return Pool(
        [
            mediator(
                "m1",
                availability=free,
                monthly_limit_cents=250_00,
                monthly_counted_cents={(2026, 12): counted["m1"]},
            ),
            mediator(
                "m2",
                availability=free,
                monthly_limit_cents=250_00,
                monthly_counted_cents={(2026, 12): counted["m2"]},
            ),
            mediator("m3", availability=free),
        ]
    )


def test_ranking_leaves_out_whom_a_paid_job_would_take_over_their_monthly_limit() -> None:
    ranking = rank(request(expected_allowance_cents=45_00), monthly_pool())
    assert sorted(c.mediator_id for c in ranking.candidates) == ["m2", "m3"]
    assert ranking.excluded == [
        Exclusion(
            "m1", "monthly_limit", {"month": "2026-12", "left_cents": 10_00, "job_cents": 45_00}
        )
    ]


def test_ranking_offers_a_job_that_fits_what_is_left_of_the_month() -> None:
    pool = monthly_pool()
    for job in (
        request(expected_allowance_cents=10_00),
        request(expected_allowance_cents=45_00, paid=False),
        request(expected_allowance_cents=45_00, day=31),  # January counts nothing yet
    ):
        assert sorted(c.mediator_id for c in rank(job, pool).candidates) == ["m1", "m2", "m3"]
        assert rank(job, pool).excluded == []


def annual_pool() -> Pool:
    """30 EUR left of 2026 under the annual limit, 300 left, and not tracked (the
    coordinator let them go beyond it); free on 1 December and on 1 January."""
    free = (slot("08:00", "16:00"), slot("08:00", "16:00", day=31))
    return Pool(
        [
            mediator("m1", availability=free, annual_left_cents={2026: 30_00, 2027: 960_00}),
            mediator("m2", availability=free, annual_left_cents={2026: 300_00}),
            mediator("m3", availability=free),
        ]
    )


def test_ranking_leaves_out_whom_a_paid_job_would_take_over_their_annual_limit() -> None:
    ranking = rank(request(expected_allowance_cents=45_00), annual_pool())
    assert sorted(c.mediator_id for c in ranking.candidates) == ["m2", "m3"]
    assert ranking.excluded == [
        Exclusion("m1", "annual_limit", {"year": 2026, "left_cents": 30_00, "job_cents": 45_00})
    ]


def test_ranking_offers_a_job_that_fits_what_is_left_of_the_year() -> None:
    pool = annual_pool()
    for job in (
        request(expected_allowance_cents=30_00),
        request(expected_allowance_cents=45_00, paid=False),
        request(expected_allowance_cents=45_00, day=31),  # 2027 has its own limit
    ):
        assert sorted(c.mediator_id for c in rank(job, pool).candidates) == ["m1", "m2", "m3"]
        assert rank(job, pool).excluded == []


def test_vectorised_pool_agrees_with_the_rule_functions() -> None:
    problem = generate("town", seed=3)
    pool = Pool(problem.mediators)
    for req in problem.requests[:150]:
        ranked = {c.mediator_id for c in rank(req, pool).candidates}
        expected = {m.id for m in problem.mediators if pair_feasible(req, m)}
        assert ranked == expected, req.id


def test_candidates_carry_plain_python_values() -> None:
    problem = generate("town", seed=5)
    pool = Pool(problem.mediators)
    for req in problem.requests[:40]:
        for c in rank(req, pool).candidates:
            assert type(c.mediator_id) is str
            assert type(c.score) is float and type(c.travel_km) is float
            assert type(c.travel_minutes) is float
            assert all(type(v) is float for v in c.parts.values())
            assert abs(sum(c.parts.values()) - c.score) < 1e-9


def test_a_kept_pool_with_some_mediators_booked_ranks_as_a_pool_built_afresh() -> None:
    problem = generate("town", seed=7)
    idle = [
        replace(
            m,
            busy=(),
            committed_minutes=0,
            load_minutes=0,
            annual_left_cents={},
            monthly_limit_cents=None,
            monthly_counted_cents={},
        )
        for m in problem.mediators
    ]
    # Some at their annual or monthly limit too, so every booking column is exercised.
    month = (problem.requests[0].start.year, problem.requests[0].start.month)
    actual = [
        replace(m, annual_left_cents={month[0]: 30_00 * (k % 3)})
        if k % 7 == 0
        else replace(
            m, monthly_limit_cents=250_00, monthly_counted_cents={month: 200_00 + 1_000 * (k % 3)}
        )
        if k % 5 == 0
        else m
        for k, m in enumerate(problem.mediators)
    ]
    changes = {k: m for k, m in enumerate(actual) if m != idle[k]}
    assert changes and len(changes) < len(actual)
    prepared = Pool(idle)
    rank(problem.requests[0], prepared)  # the prepared pool has indexed a language already
    booked, fresh = prepared.booked(changes), Pool(actual)
    now = problem.requests[0].start - timedelta(hours=2)
    for k, req in enumerate(problem.requests[:120]):
        req = replace(req, paid=True, expected_allowance_cents=25_00 + 5_00 * (k % 6))
        got, want = rank(req, booked, now=now), rank(req, fresh, now=now)
        assert got.candidates == want.candidates, req.id
        assert got.excluded == want.excluded, req.id
    # The prepared pool itself is untouched.
    assert prepared.mediators == tuple(idle)
    assert (
        rank(problem.requests[0], prepared).candidates == rank(problem.requests[0], idle).candidates
    )


def test_booking_a_mediator_at_someone_elses_place_is_refused() -> None:
    pool = Pool([mediator("m1"), mediator("m2")])
    with pytest.raises(ValueError):
        pool.booked({0: mediator("m2")})
