"""Feasibility rules one by one: each has a case where it alone decides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from matching.feasibility import (
    Job,
    check,
    exclusions,
    great_circle_km,
    rule_annual_limit,
    rule_availability,
    rule_busy,
    rule_clearance,
    rule_excluded,
    rule_gender,
    rule_language,
    rule_level,
    rule_minutes_cap,
    rule_monthly_limit,
    rule_not_for_this_client,
    rule_qualification,
    rule_travel_radius,
    travel_conflict,
    travel_minutes,
)
from matching.model import (
    Assignment,
    Clearance,
    GenderPreference,
    Location,
    Mediator,
    Problem,
    Request,
    Solution,
)
from tests.matching.matching_factories import (
    HOSPITAL,
    JOB_CENTRE,
    TOWN_HALL,
    at,
    busy,
    mediator,
    request,
    slot,
)


def codes(req: Request, med: Mediator) -> list[str]:
    return [e.code for e in exclusions(req, med)]


def test_a_mediator_meeting_every_rule_is_feasible() -> None:
    assert exclusions(request(), mediator()) == []


CLEARED = Clearance(
    training=at("09:00").date(),
    confidentiality_pledge=at("09:00").date(),
    police_certificate=at("09:00").date(),
    listed_until=at("09:00").date(),
)


def test_a_cleared_mediator_listed_until_the_job_day_fits() -> None:
    assert rule_clearance(request(), mediator(clearance=CLEARED)) is None
    assert exclusions(request(), mediator(clearance=CLEARED)) == []


def test_clearance_not_tracked_checks_nothing() -> None:
    assert rule_clearance(request(), mediator(clearance=None)) is None


def test_a_missing_clearance_item_excludes_and_is_named() -> None:
    no_pledge = Clearance(training=CLEARED.training, listed_until=CLEARED.listed_until)
    reason = rule_clearance(request(), mediator(clearance=no_pledge))
    assert reason is not None and reason.code == "not_cleared"
    assert reason.params == {"missing": "confidentiality_pledge,police_certificate"}


def test_a_job_after_listed_until_excludes_with_the_date() -> None:
    reason = rule_clearance(request(day=1), mediator(clearance=CLEARED))
    assert reason is not None and reason.code == "not_cleared"
    assert reason.params == {"expired": "listed_until", "listed_until": "2026-12-01"}


def test_basic_level_excluded_when_fluent_needed() -> None:
    reason = rule_level(request(language="prs"), mediator(languages={"prs": "basic"}))
    assert reason is not None
    assert (reason.code, reason.params) == (
        "level",
        {"language": "prs", "level": "basic", "min_level": "fluent"},
    )
    assert codes(request(language="prs"), mediator(languages={"prs": "basic"})) == ["level"]


def test_basic_level_enough_when_basic_asked() -> None:
    assert rule_level(request(min_level="basic"), mediator(languages={"ar": "basic"})) is None


def test_fluent_is_not_enough_for_native() -> None:
    assert codes(request(min_level="native"), mediator(languages={"ar": "fluent"})) == ["level"]


def test_other_language_excluded() -> None:
    reason = rule_language(request(language="ti"), mediator())
    assert reason is not None and reason.params == {"language": "ti"}
    assert codes(request(language="ti"), mediator()) == ["language"]


def test_language_tags_compare_case_insensitively() -> None:
    assert rule_language(request(language="AR"), mediator()) is None


def test_job_outside_availability_excluded() -> None:
    late = request(start="15:30", end="16:30")
    reason = rule_availability(late, mediator())
    assert reason is not None
    assert reason.params == {"start": late.start.isoformat(), "end": late.end.isoformat()}
    assert "T15:30" in str(reason.params["start"]) and "T16:30" in str(reason.params["end"])
    assert codes(late, mediator()) == ["availability"]


def test_availability_ending_when_the_job_ends_covers_it() -> None:
    assert rule_availability(request(start="15:00", end="16:00"), mediator()) is None


def test_adjacent_availability_intervals_are_not_joined() -> None:
    split = mediator(availability=(slot("08:00", "12:00"), slot("12:00", "16:00")))
    assert codes(request(start="11:30", end="12:30"), split) == ["availability"]


def test_overlapping_busy_block_excludes() -> None:
    block = busy("09:30", "11:00", None, "absent")
    reason = rule_busy(request(), mediator(busy=(block,)))
    assert reason is not None
    assert reason.params == {
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "label": "absent",
    }  # no travel_minutes: it overlaps the job


def test_busy_block_ending_at_the_start_fits() -> None:
    assert rule_busy(request(), mediator(busy=(busy("08:00", "09:00", TOWN_HALL),))) is None


def test_located_busy_block_too_far_to_travel_excludes() -> None:
    # Hospital to town hall is ~4.3 km; on foot that takes about an hour.
    walker = mediator(
        travel_mode="foot", busy=(busy("08:00", "08:45", HOSPITAL, "at the hospital"),)
    )
    reason = rule_busy(request(), walker)
    assert reason is not None
    assert reason.code == "busy"
    assert reason.params["label"] == "at the hospital"
    assert "T08:00" in str(reason.params["start"]) and "T08:45" in str(reason.params["end"])
    assert float(reason.params["travel_minutes"]) > 15  # more than the gap before the job
    assert codes(request(), walker) == ["busy"]


def test_located_busy_block_with_time_to_travel_fits() -> None:
    driver = mediator(travel_mode="car", busy=(busy("08:00", "08:45", HOSPITAL),))
    assert rule_busy(request(), driver) is None


def test_busy_block_without_location_only_blocks_its_time() -> None:
    walker = mediator(travel_mode="foot", busy=(busy("08:00", "09:00"),))
    assert rule_busy(request(), walker) is None


def test_phone_job_needs_no_travel_after_a_located_block() -> None:
    walker = mediator(travel_mode="foot", busy=(busy("08:00", "09:00", HOSPITAL),))
    assert rule_busy(request(mode="phone", location=None), walker) is None


def test_job_beyond_travel_radius_excluded() -> None:
    near = mediator(max_travel_km=0.5)
    reason = rule_travel_radius(request(location=HOSPITAL), near)
    assert reason is not None and reason.params["max_travel_km"] == 0.5
    assert float(reason.params["distance_km"]) > 0.5
    assert codes(request(location=HOSPITAL), near) == ["travel_radius"]


def test_job_within_travel_radius_fits() -> None:
    assert rule_travel_radius(request(location=TOWN_HALL), mediator(max_travel_km=1.0)) is None


def test_phone_job_ignores_travel_radius() -> None:
    far = request(mode="phone", location=HOSPITAL)
    assert rule_travel_radius(far, mediator(max_travel_km=0.5)) is None


def test_missing_qualification_excludes() -> None:
    reason = rule_qualification(request(qualification="medical"), mediator())
    assert reason is not None and reason.params == {"qualification": "medical"}
    assert (
        rule_qualification(
            request(qualification="medical"), mediator(qualifications=frozenset({"medical"}))
        )
        is None
    )


def test_required_gender_excludes_and_preferred_does_not() -> None:
    required = request(gender=GenderPreference("f", "required"))
    preferred = request(gender=GenderPreference("f", "preferred"))
    assert codes(required, mediator(gender="m")) == ["gender"]
    assert rule_gender(required, mediator(gender="f")) is None
    assert rule_gender(preferred, mediator(gender="m")) is None


def test_job_over_the_minutes_cap_excluded_with_the_sum() -> None:
    capped = mediator(max_minutes=600, committed_minutes=540)
    reason = rule_minutes_cap(request(start="09:00", end="10:30"), capped)
    assert reason is not None
    assert reason.params == {"max_minutes": 600, "used": 540, "job_minutes": 90}
    assert codes(request(start="09:00", end="10:30"), capped) == ["minutes_cap"]


def test_mediator_at_the_annual_limit_gets_no_paid_job() -> None:
    at_limit = mediator(annual_left_cents={2026: 0})
    assert codes(request(), at_limit) == ["annual_limit"]
    reason = rule_annual_limit(request(), at_limit)
    assert reason is not None
    assert reason.params == {"year": 2026, "left_cents": 0, "job_cents": 0}
    assert rule_annual_limit(request(paid=False), at_limit) is None
    assert rule_annual_limit(request(), mediator()) is None


def test_paid_job_over_what_is_left_of_the_year_is_not_offered() -> None:
    # 30 EUR left of the year: a job expected to pay 45 would go over the annual limit.
    nearly_full = mediator(annual_left_cents={2026: 30_00})
    job = request(start="09:00", end="12:00", expected_allowance_cents=45_00)
    assert codes(job, nearly_full) == ["annual_limit"]
    reason = rule_annual_limit(job, nearly_full)
    assert reason is not None
    assert reason.params == {"year": 2026, "left_cents": 30_00, "job_cents": 45_00}
    assert rule_annual_limit(replace(job, paid=False), nearly_full) is None


def test_paid_job_that_fits_what_is_left_of_the_year_is_offered() -> None:
    nearly_full = mediator(annual_left_cents={2026: 30_00})
    assert rule_annual_limit(request(expected_allowance_cents=30_00), nearly_full) is None
    assert rule_annual_limit(request(expected_allowance_cents=30_01), nearly_full) is not None


def test_a_job_in_the_next_year_counts_against_that_years_limit() -> None:
    # 1 January 2027: this year's limit is reached, the next year's is not (or not tracked:
    # the coordinator let the mediator go beyond it).
    new_year = request(day=31, expected_allowance_cents=45_00)
    assert rule_annual_limit(new_year, mediator(annual_left_cents={2026: 0})) is None
    assert rule_annual_limit(new_year, mediator(annual_left_cents={2026: 0, 2027: 960_00})) is None
    assert rule_annual_limit(new_year, mediator(annual_left_cents={2027: 40_00})) is not None


def limited(counted: dict[tuple[int, int], int], limit: int = 250_00) -> Mediator:
    """A mediator with their own monthly limit (cents) and what each month counts already."""
    return mediator(monthly_limit_cents=limit, monthly_counted_cents=counted)


def test_mediator_at_the_monthly_limit_gets_no_paid_job_in_that_month_only() -> None:
    december_full = limited({(2026, 12): 250_00})
    assert codes(request(), december_full) == ["monthly_limit"]
    reason = rule_monthly_limit(request(), december_full)
    assert reason is not None
    assert reason.params == {"month": "2026-12", "left_cents": 0, "job_cents": 0}
    # January is another month; an unpaid job pays nothing; no limit, no reason.
    assert rule_monthly_limit(request(day=31), december_full) is None
    assert rule_monthly_limit(request(paid=False), december_full) is None
    assert rule_monthly_limit(request(), mediator()) is None


def test_paid_job_over_what_is_left_of_the_month_is_not_offered() -> None:
    # Limit 250, 240 counted in December: a job expected to pay 45 would take it to 285.
    nearly_full = limited({(2026, 12): 240_00})
    job = request(start="09:00", end="12:00", expected_allowance_cents=45_00)
    assert codes(job, nearly_full) == ["monthly_limit"]
    reason = rule_monthly_limit(job, nearly_full)
    assert reason is not None
    assert reason.params == {"month": "2026-12", "left_cents": 10_00, "job_cents": 45_00}
    # The same job in a month with nothing counted, or unpaid, is offered.
    assert rule_monthly_limit(replace(job, paid=False), nearly_full) is None
    assert rule_monthly_limit(job, limited({(2026, 11): 240_00})) is None


def test_paid_job_that_fits_what_is_left_of_the_month_is_offered() -> None:
    nearly_full = limited({(2026, 12): 240_00})
    assert rule_monthly_limit(request(expected_allowance_cents=10_00), nearly_full) is None
    assert rule_monthly_limit(request(expected_allowance_cents=7_50), nearly_full) is None
    assert rule_monthly_limit(request(expected_allowance_cents=10_01), nearly_full) is not None


def test_the_month_is_the_one_of_the_job_start_in_its_own_zone() -> None:
    # 1 January 00:30 in the town is still December in UTC: the town's month counts.
    new_year = request(start="00:30", end="01:30", day=31)
    assert new_year.start.astimezone(UTC).month == 12
    december_full = limited({(2026, 12): 250_00})
    assert rule_monthly_limit(new_year, december_full) is None
    january_full = limited({(2027, 1): 250_00})
    assert rule_monthly_limit(new_year, january_full) is not None


def test_job_exactly_filling_the_cap_fits() -> None:
    assert rule_minutes_cap(request(), mediator(max_minutes=600, committed_minutes=540)) is None


def test_organisation_excluded_mediator_is_never_offered() -> None:
    reason = rule_excluded(request(excluded_mediators=("m1",)), mediator())
    assert reason is not None and reason.code == "excluded"


def test_mediator_marked_not_for_this_client_is_left_out() -> None:
    reason = rule_not_for_this_client(request(not_for_client=("m1",)), mediator())
    assert reason is not None and reason.code == "not_for_this_client"
    assert codes(request(not_for_client=("m1",)), mediator()) == ["not_for_this_client"]


def test_mediator_marked_for_another_client_is_not_left_out() -> None:
    assert rule_not_for_this_client(request(not_for_client=("m2",)), mediator()) is None


def test_great_circle_distance_uses_earth_radius_6371() -> None:
    one_degree = great_circle_km(Location(0.0, 0.0), Location(1.0, 0.0))
    assert abs(one_degree - 111.195) < 0.001


def test_travel_time_is_distance_times_1_3_at_mode_speed() -> None:
    assert travel_minutes(10.0, "car") == 10 * 1.3 / 40 * 60
    assert travel_minutes(10.0, "foot") == 10 * 1.3 / 5 * 60
    assert travel_minutes(10.0, "transit") == 10 * 1.3 / 20 * 60
    assert travel_minutes(10.0, "bike") == 10 * 1.3 / 15 * 60


def test_back_to_back_jobs_at_one_place_fit() -> None:
    first = Job(at("09:00"), at("10:00"), TOWN_HALL)
    second = Job(at("10:00"), at("11:00"), TOWN_HALL)
    assert not travel_conflict(first, second, "foot")


def test_back_to_back_jobs_at_different_places_conflict() -> None:
    first = Job(at("09:00"), at("10:00"), TOWN_HALL)
    second = Job(at("10:00"), at("11:00"), JOB_CENTRE)
    assert travel_conflict(first, second, "car")
    assert travel_conflict(second, first, "car")


def test_overlapping_phone_jobs_conflict() -> None:
    assert travel_conflict(Job(at("09:00"), at("10:00")), Job(at("09:59"), at("11:00")), "car")


def test_enough_gap_lets_a_driver_but_not_a_walker_change_place() -> None:
    first = Job(at("09:00"), at("10:00"), TOWN_HALL)
    second = Job(at("10:15"), at("11:00"), HOSPITAL)  # ~4.3 km: car 8.4 min, foot 67 min
    assert not travel_conflict(first, second, "car")
    assert travel_conflict(first, second, "foot")


def _problem(
    *requests: Request, med: Mediator | None = None, fixed: tuple[tuple[str, str], ...] = ()
) -> Problem:
    return Problem(
        mediators=(med or mediator(),),
        requests=tuple(requests),
        fixed=fixed,
    )


def _solution(*pairs: tuple[str, str], unassigned: tuple[str, ...] = ()) -> Solution:
    return Solution(tuple(Assignment(r, m) for r, m in pairs), unassigned, "FEASIBLE")


def test_phone_job_in_between_does_not_shorten_the_travel_needed() -> None:
    walker = mediator(travel_mode="foot")
    problem = _problem(
        request("r1", "09:00", "10:00", location=TOWN_HALL),
        request("r2", "10:00", "10:30", mode="phone", location=None),
        request("r3", "10:30", "11:00", location=HOSPITAL),
        med=walker,
    )
    report = check(problem, _solution(("r1", "m1"), ("r2", "m1"), ("r3", "m1")))
    assert not report.feasible
    assert [v.code for v in report.violations] == ["conflict"]
    assert check(problem, _solution(("r1", "m1"), ("r2", "m1"), unassigned=("r3",))).feasible


def test_check_counts_minutes_over_the_whole_horizon_but_not_busy_blocks() -> None:
    capped = mediator(
        max_minutes=120,
        availability=(slot("08:00", "16:00"), slot("08:00", "16:00", day=1)),
        busy=(busy("12:00", "15:00"),),
    )
    problem = Problem(
        (capped,),
        (
            request("r1", "09:00", "10:00", mode="phone", location=None),
            request("r2", "09:00", "10:00", day=1, mode="phone", location=None),
            request("r3", "10:00", "11:00", mode="phone", location=None),
        ),
    )
    two_hours = check(problem, _solution(("r1", "m1"), ("r2", "m1"), unassigned=("r3",)))
    assert two_hours.feasible
    three_hours = check(problem, _solution(("r1", "m1"), ("r2", "m1"), ("r3", "m1")))
    assert [v.code for v in three_hours.violations] == ["minutes_cap"]


def test_check_rejects_two_mediators_for_one_request() -> None:
    problem = Problem((mediator("m1"), mediator("m2")), (request("r1"),))
    report = check(problem, _solution(("r1", "m1"), ("r1", "m2")))
    assert [v.code for v in report.violations] == ["two_mediators"]


def test_check_rejects_a_fixed_pair_not_kept() -> None:
    problem = _problem(request("r1"), fixed=(("r1", "m1"),))
    assert [v.code for v in check(problem, _solution(unassigned=("r1",))).violations] == ["fixed"]


def test_check_rejects_an_assignment_breaking_a_pair_rule() -> None:
    problem = _problem(request("r1", language="uk"))
    report = check(problem, _solution(("r1", "m1")))
    assert [v.code for v in report.violations] == ["language"]


def test_check_computes_figures() -> None:
    problem = _problem(request("r1", priority=3), request("r2", "11:00", "12:00"))
    report = check(problem, _solution(("r1", "m1"), unassigned=("r2",)))
    figures = report.figures
    assert (figures.filled, figures.filled_priority, figures.total_priority) == (1, 3, 4)
    home = mediator().home
    assert home is not None
    assert abs(figures.travel_km - great_circle_km(home, TOWN_HALL)) < 1e-9
    assert figures.minutes_by_mediator == {"m1": 60.0}
