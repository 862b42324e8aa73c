"""The engine's reasons in words: the same sentences the engine used to write, now from the
catalogs, in English for the API and in German (or any page language) for people."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

import locales
import matching
from dispatch.planning import reasons
from dispatch.planning.service import summary
from matching.feasibility import (
    exclusions,
    rule_annual_limit,
    rule_availability,
    rule_busy,
    rule_clearance,
    rule_gender,
    rule_language,
    rule_level,
    rule_minutes_cap,
    rule_monthly_limit,
    rule_qualification,
    rule_travel_radius,
)
from tests.matching.matching_factories import (
    HOSPITAL,
    TOWN_HALL,
    at,
    busy,
    mediator,
    request,
)

# The factories' day is in CET (UTC+1), as Beckum in December.
BERLIN = ZoneInfo("Europe/Berlin")
EN = locales.translator("en")
DE = locales.translator("de")


def say(reason: matching.Exclusion | None, t: locales.Translator = EN) -> str:
    assert reason is not None
    return reasons.describe(reason.code, reason.params, t=t, tz=BERLIN)


def test_every_rule_of_the_engine_has_a_sentence() -> None:
    from matching.feasibility import RULE_BY_CODE

    assert set(RULE_BY_CODE) | {"too_late", "taken_back", "gave_back"} == set(reasons.SENTENCES)


def test_level_and_language_name_the_language() -> None:
    level = rule_level(request(language="prs"), mediator(languages={"prs": "basic"}))
    assert say(level) == "speaks Dari only at basic level"
    assert say(level, DE) == "spricht Dari nur auf dem Niveau „Grundkenntnisse“"
    assert say(rule_language(request(language="ti"), mediator())) == "does not speak Tigrinya"


def test_availability_in_the_towns_hours() -> None:
    late = rule_availability(request(start="15:30", end="16:30"), mediator())
    assert say(late) == "not available 15:30-16:30"
    assert say(late, DE) == "nicht verfügbar 15:30–16:30"
    # Given in another zone, still read in Beckum's hours.
    assert say(late, EN) == reasons.describe(
        "availability",
        {
            "start": at("15:30").astimezone(UTC).isoformat(),
            "end": at("16:30").astimezone(UTC).isoformat(),
        },
        t=EN,
        tz=BERLIN,
    )


def test_busy_says_where_and_how_far() -> None:
    overlap = rule_busy(request(), mediator(busy=(busy("09:30", "11:00"),)))
    assert say(overlap) == "busy 09:30-11:00"
    walker = mediator(travel_mode="foot", busy=(busy("08:00", "08:55", HOSPITAL, "the hospital"),))
    far = rule_busy(request(), walker)
    assert say(far) == "busy 08:00-08:55 at the hospital, 69 min away"
    assert say(far, DE) == "belegt 08:00–08:55 in the hospital, 69 Min. entfernt"


def test_an_absence_is_named_by_its_days_and_a_block_over_midnight_by_day_and_time() -> None:
    def busy_from(start: str, end: str, t: locales.Translator = EN) -> str:
        return reasons.describe("busy", {"start": start, "end": end, "label": ""}, t=t, tz=BERLIN)

    # An absence entered for Tuesday 1 December, midnight to midnight in Beckum.
    one_day = ("2026-12-01T00:00:00+01:00", "2026-12-02T00:00:00+01:00")
    assert busy_from(*one_day) == "away all day on Tue 1 Dec"
    assert busy_from(*one_day, DE) == "ganztägig abwesend am Di 01.12."
    # Given in UTC, still read in Beckum's days.
    assert busy_from("2026-11-30T23:00:00+00:00", "2026-12-03T23:00:00+00:00", DE) == (
        "abwesend von Di 01.12. bis Do 03.12."
    )
    assert busy_from("2026-12-01T22:00:00+01:00", "2026-12-02T06:00:00+01:00") == (
        "busy Tue 1 Dec 22:00-Wed 2 Dec 06:00"
    )


def test_travel_radius_qualification_gender_and_cap() -> None:
    radius = rule_travel_radius(request(location=HOSPITAL), mediator(max_travel_km=1))
    assert say(radius) == "lives 4.8 km away, travels at most 1 km"
    assert say(radius, DE) == "wohnt 4,8 km entfernt, fährt höchstens 1 km"
    lacking = rule_qualification(request(qualification="medical"), mediator())
    assert say(lacking) == "lacks the Medical qualification"
    assert say(lacking, DE) == "ohne Fachgebiet Medizin"
    gender = rule_gender(
        request(gender=matching.GenderPreference("f", "required")), mediator(gender="m")
    )
    assert say(gender) == "a woman is required"
    capped = rule_minutes_cap(
        request(start="09:00", end="10:30"), mediator(max_minutes=600, committed_minutes=540)
    )
    assert say(capped) == "over 600 min in the period (540 + 90)"


def test_the_monthly_limit_names_the_month() -> None:
    full = rule_monthly_limit(
        request(),
        mediator(monthly_limit_cents=250_00, monthly_counted_cents={(2026, 12): 250_00}),
    )
    assert say(full) == "allowances in December 2026 reached the mediator's monthly limit"
    assert say(full, DE) == (
        "Aufwandsentschädigungen im Dezember 2026 haben die eigene Monatsgrenze erreicht"
    )


def test_a_job_over_what_is_left_of_the_month_names_both_amounts() -> None:
    over = rule_monthly_limit(
        request(expected_allowance_cents=45_00),
        mediator(monthly_limit_cents=250_00, monthly_counted_cents={(2026, 12): 240_00}),
    )
    assert say(over) == (
        "a job expected to pay €45.00 would take December 2026 over the mediator's "
        "monthly limit (€10.00 left)"
    )
    assert say(over, DE) == (
        "ein Einsatz mit voraussichtlich 45,00\xa0€ brächte den Dezember 2026 über die "
        "eigene Monatsgrenze (noch 10,00\xa0€ frei)"
    )


def test_the_annual_limit_names_the_year() -> None:
    full = rule_annual_limit(request(), mediator(annual_left_cents={2026: 0}))
    assert say(full) == "allowances in 2026 reached the annual limit"
    assert say(full, DE) == "Aufwandsentschädigungen 2026 haben die Jahresgrenze erreicht"


def test_a_job_over_what_is_left_of_the_year_names_both_amounts() -> None:
    over = rule_annual_limit(
        request(expected_allowance_cents=45_00), mediator(annual_left_cents={2026: 30_00})
    )
    assert say(over) == (
        "a job expected to pay €45.00 would take 2026 over the annual limit (€30.00 left)"
    )
    assert say(over, DE) == (
        "ein Einsatz mit voraussichtlich 45,00\xa0€ brächte 2026 über die Jahresgrenze "
        "(noch 30,00\xa0€ frei)"
    )


def test_a_mediator_at_the_job_with_no_time_left() -> None:
    here = mediator(home=TOWN_HALL)
    [late] = exclusions(request(location=TOWN_HALL), here, now=at("09:10"))
    assert say(late) == "0 min away, the job starts in 0 min"


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert reasons.describe("no_such_code", {}, t=DE, tz=BERLIN) == "no_such_code"


@pytest.mark.parametrize(
    ("counts", "english", "german"),
    [
        ((1, 1, 1), "1 candidate, 1 excluded, 1 does not speak Arabic",
         "1 Kandidat*in, 1 ausgeschlossen, 1 spricht kein Arabisch"),
        ((2, 0, 37), "2 candidates, 0 excluded, 37 do not speak Arabic",
         "2 Kandidat*innen, 0 ausgeschlossen, 37 sprechen kein Arabisch"),
    ],
)  # fmt: skip
def test_the_summary_counts_in_words(
    counts: tuple[int, int, int], english: str, german: str
) -> None:
    candidates, excluded, others = counts
    pool = [mediator(f"c{i}") for i in range(candidates)]
    pool += [mediator(f"x{i}", availability=()) for i in range(excluded)]
    pool += [mediator(f"o{i}", languages={"uk": "native"}) for i in range(others)]
    ranking = matching.rank(request(), pool)
    assert summary(ranking, "ar", t=EN) == english
    assert summary(ranking, "ar", t=DE) == german


def test_not_cleared_names_the_missing_items_and_the_lapsed_listing() -> None:
    lapsed = matching.Clearance(listed_until=at("09:00").date().replace(day=1) - timedelta(1))
    reason = rule_clearance(request(), mediator(clearance=lapsed))
    assert say(reason) == (
        "not cleared: basic training, confidentiality pledge, police certificate missing; "
        "not cleared: listed only until 30 Nov 2026"
    )
    assert say(reason, DE) == (
        "nicht freigegeben: Grundschulung, Schweigepflichterklärung, "
        "Führungszeugnis fehlen; nicht freigegeben: nur bis 30.11.2026 gelistet"
    )
