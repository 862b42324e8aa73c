"""Whose allowance limits a pool snapshot hands the engine (`LimitsReached.tracked`)."""

from __future__ import annotations

from dispatch.planning.limits import LimitsReached

LIMITS = LimitsReached(
    annual_left={1: {2026: 100}, 2: {2026: 5_000, 2027: 50}, 3: {}, 5: {2026: 0}},
    monthly_limits={4: 25_000},
)


def test_a_monthly_limit_is_always_handed_on() -> None:
    assert 4 in LIMITS.tracked(0)
    assert 4 in LIMITS.tracked(1_000_000)


def test_an_annual_limit_is_handed_on_only_when_the_jobs_could_reach_it_in_some_year() -> None:
    # Mediator 2 has 5,000 left this year but 50 next year: a 60-cent job could reach it.
    assert LIMITS.tracked(101) == {1, 2, 4, 5}
    assert LIMITS.tracked(60) == {2, 4, 5}
    assert LIMITS.tracked(50) == {4, 5}  # 50 left holds a 50-cent job
    assert LIMITS.tracked(1) == {4, 5}  # 0 left: reached, whatever the job pays


def test_an_unpaid_job_hands_on_only_the_reached_and_the_monthly_ones() -> None:
    assert LIMITS.tracked(0) == {4, 5}


def test_unknown_amounts_hand_on_everyone_with_a_limit_and_nobody_without() -> None:
    assert LIMITS.tracked(None) == {1, 2, 4, 5}
    assert 3 not in LIMITS.tracked(None)  # a year let go beyond: no limit
