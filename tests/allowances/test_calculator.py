"""The allowance calculator and the presets of real pools, each figure worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dispatch.allowances.calculator import (
    JobFacts,
    Rules,
    RulesError,
    allowance,
    cents,
    expected_allowance,
    load_rules,
    rules_from_dict,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"


def preset(name: str) -> Rules:
    return load_rules(CONFIG / "allowance_presets" / f"{name}.toml")


def euros(text: str) -> Decimal:
    return Decimal(text)


# --- Bielefeld: 15 EUR/h per started half hour, travel time paid up to 1 h ----------------


def test_bielefeld_started_half_hours_with_travel_time() -> None:
    # 70 min worked + 10 min waiting + 40 min travel (under the 1 h cap) = 120 min
    # = 4 half hours x 7.50 = 30.00 EUR; Bielefeld pays no km.
    result = allowance(
        JobFacts("done", minutes=70, waiting_minutes=10, travel_minutes=40, km=Decimal(12)),
        preset("bielefeld"),
    )
    assert result.paid_minutes == 120
    assert result.total == euros("30.00")


def test_bielefeld_travel_time_capped_at_one_hour() -> None:
    # 45 min worked + 90 min travel, capped at 60 = 105 min = 3.5 -> 4 started
    # half hours x 7.50 = 30.00 EUR.
    result = allowance(JobFacts("done", minutes=45, travel_minutes=90), preset("bielefeld"))
    assert result.paid_minutes == 105
    assert result.total == euros("30.00")


def test_bielefeld_one_minute_into_a_half_hour_pays_it_whole() -> None:
    # 61 min = 2 half hours + 1 min -> 3 started half hours x 7.50 = 22.50 EUR.
    assert allowance(JobFacts("done", minutes=61), preset("bielefeld")).total == euros("22.50")


def test_bielefeld_late_cancellation_pays_travel_and_up_to_two_hours() -> None:
    # Booked 180 min, capped at 120, + 30 min travel time = 150 min
    # = 5 half hours x 7.50 = 37.50 EUR.
    result = allowance(
        JobFacts("cancelled_late", minutes=180, travel_minutes=30), preset("bielefeld")
    )
    assert result.total == euros("37.50")


def test_bielefeld_phone_job_pays_no_travel_time() -> None:
    # 30 min on the phone, travel minutes ignored: 1 half hour x 7.50 = 7.50 EUR.
    facts = JobFacts("done", minutes=30, travel_minutes=40, in_person=False)
    assert allowance(facts, preset("bielefeld")).total == euros("7.50")


# --- Würzburg: 20 EUR/h pro rata, 0.32 EUR/km, travel time unpaid --------------------------


def test_wuerzburg_hours_pro_rata_and_km() -> None:
    # 90 min x 20/60 = 30.00 EUR; 23.5 km x 0.32 = 7.52 EUR; travel time unpaid.
    # 30.00 + 7.52 = 37.52 EUR.
    result = allowance(
        JobFacts("done", minutes=90, travel_minutes=50, km=Decimal("23.5")), preset("wuerzburg")
    )
    assert result.paid_minutes == 90
    assert result.total == euros("37.52")


def test_wuerzburg_rounds_once_at_the_end() -> None:
    # 50 min x 20/60 = 16.6666... EUR; 10.3 km x 0.32 = 3.296 EUR;
    # sum 19.96266... -> 19.96 EUR. Rounding each part first would give
    # 16.67 + 3.30 = 19.97 EUR: one cent too much.
    result = allowance(JobFacts("done", minutes=50, km=Decimal("10.3")), preset("wuerzburg"))
    assert result.total == euros("19.96")


def test_wuerzburg_late_cancellation_pays_nothing() -> None:
    facts = JobFacts("cancelled_late", minutes=120, km=Decimal(10))
    assert allowance(facts, preset("wuerzburg")).total == euros("0.00")


# --- Miltenberg: 3.75 EUR per started quarter hour, travel is working time ---------------


def test_miltenberg_travel_counts_as_working_time() -> None:
    # 50 min worked + 35 min travel = 85 min = 5.67 -> 6 started quarter hours
    # x 3.75 = 22.50 EUR.
    result = allowance(JobFacts("done", minutes=50, travel_minutes=35), preset("miltenberg"))
    assert result.paid_minutes == 85
    assert result.total == euros("22.50")


def test_miltenberg_client_no_show_pays_the_time_there() -> None:
    # The client did not come: 20 min waited on site (reported as 0 worked + 20
    # waiting) + 30 min travel = 50 min -> 4 started quarter hours x 3.75 = 15.00 EUR.
    facts = JobFacts("client_no_show", minutes=0, waiting_minutes=20, travel_minutes=30)
    assert allowance(facts, preset("miltenberg")).total == euros("15.00")


# --- Heinsberg and Berlin: a first block, a unit of 45 minutes and a flat sum ------------


def test_heinsberg_first_two_hours_then_started_hours() -> None:
    # 150 min: 25.00 for the first 120 min, 30 min more = 1 started hour x 10.00
    # = 35.00 EUR. 90 min: inside the first block = 25.00 EUR.
    assert allowance(JobFacts("done", minutes=150), preset("heinsberg")).total == euros("35.00")
    assert allowance(JobFacts("done", minutes=90), preset("heinsberg")).total == euros("25.00")


def test_berlin_started_45_minutes_and_flat_travel() -> None:
    # 100 min = 2.22 -> 3 started 45-minute units x 25.00 = 75.00 + 10.00 flat = 85.00 EUR.
    assert allowance(JobFacts("done", minutes=100), preset("berlin")).total == euros("85.00")


# --- the default file and bad files ---------------------------------------------------------


def test_default_rules_read_and_pay_km() -> None:
    # 60 min + 20 min travel = 80 min -> 3 started half hours x 7.50 = 22.50;
    # 15 km x 0.30 = 4.50; 22.50 + 4.50 = 27.00 EUR.
    rules = load_rules(CONFIG / "allowance.toml")
    facts = JobFacts("done", minutes=60, travel_minutes=20, km=Decimal(15))
    assert allowance(facts, rules).total == euros("27.00")


@pytest.mark.parametrize(
    "name", ["default", "berlin", "bielefeld", "heinsberg", "miltenberg", "wuerzburg"]
)
def test_the_yearly_limit_is_the_laws_figure_of_each_year(name: str) -> None:
    # The Ehrenamtspauschale (§ 3 Nr. 26a EStG): 720 EUR 2013-2020, 840 EUR 2021-2025,
    # 960 EUR since 2026. A year after the last change keeps the current figure.
    rules = load_rules(CONFIG / "allowance.toml") if name == "default" else preset(name)
    assert [rules.annual_limit_in(year) for year in (2019, 2020, 2021, 2025, 2026, 2031)] == [
        Decimal(720),
        Decimal(720),
        Decimal(840),
        Decimal(840),
        Decimal(960),
        Decimal(960),
    ]


def test_without_a_history_every_year_has_the_default_limit() -> None:
    rules = rules_from_dict({"work": {"rate": "7.50", "unit_minutes": 30}})
    assert {rules.annual_limit_in(year) for year in (2020, 2026)} == {Decimal(960)}
    mine = rules_from_dict(
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"default": "500"}}
    )
    assert {mine.annual_limit_in(year) for year in (2020, 2026)} == {Decimal(500)}


def test_a_ticket_is_refunded_at_cost() -> None:
    # Würzburg: 60 min x 20/60 = 20.00 + ticket 3.40 = 23.40 EUR.
    facts = JobFacts("done", minutes=60, ticket_cost=Decimal("3.40"))
    assert allowance(facts, preset("wuerzburg")).total == euros("23.40")


def test_a_minimum_lifts_a_short_job() -> None:
    rules = rules_from_dict({"work": {"rate": "5", "unit_minutes": 30, "minimum": "12.50"}})
    # 10 min -> 1 started half hour x 5.00 = 5.00, lifted to the minimum 12.50 EUR.
    assert allowance(JobFacts("done", minutes=10), rules).total == euros("12.50")


@pytest.mark.parametrize(
    "data",
    [
        {"work": {"rate": 7.5, "unit_minutes": 30}},  # a float for euros
        {"work": {"rate": "7.50", "unit_minutes": 0}},
        {"work": {"rate": "-1", "unit_minutes": 30}},
        {"work": {"rate": "7.50", "unit_minutes": 30, "rounding": "up"}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"warn_share": "1.5"}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"until": {"2025": 840.0}}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"until": {"20x5": "840"}}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"until": {"1850": "840"}}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "annual_limit": {"until": "840"}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "names": {"fr": "Règles"}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "names": "Regeln"},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "monthly_limit": {"suggested": "-250"}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "monthly_limit": {"suggested": 250.0}},
        {"work": {"rate": "7.50", "unit_minutes": 30}, "monthly_limit": "250"},
    ],
)
def test_wrong_rules_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(RulesError):
        rules_from_dict(data)


def test_negative_facts_are_refused() -> None:
    with pytest.raises(ValueError):
        allowance(JobFacts("done", minutes=-5), preset("bielefeld"))


def test_every_preset_reads() -> None:
    for path in sorted((CONFIG / "allowance_presets").glob("*.toml")):
        assert load_rules(path).name


def test_the_suggested_monthly_limit_is_the_bürgergeld_figure_in_every_file() -> None:
    # SGB II § 11b Abs. 2 Satz 3: 250 EUR a month since 1 July 2023; the form shows it.
    files = [CONFIG / "allowance.toml", *sorted((CONFIG / "allowance_presets").glob("*.toml"))]
    for path in files:
        assert load_rules(path).monthly_limit_suggested == Decimal("250"), path.name
    # Without the table there is nothing to suggest.
    bare = rules_from_dict({"work": {"rate": "7.50", "unit_minutes": 30}})
    assert bare.monthly_limit_suggested is None


def test_the_rules_name_is_shown_in_the_page_language() -> None:
    default = load_rules(CONFIG / "allowance.toml")
    assert default.name_in("de") == "Sprachpool-Standard (nach Bielefeld)"
    assert default.name_in("en") == "Sprachpool default (after Bielefeld)"
    # A preset's name is a proper name, the same in every language.
    assert preset("wuerzburg").name_in("de") == preset("wuerzburg").name_in("en") == "Würzburg"


# --- what a job is expected to pay (the monthly limit's headroom) ---------------------------


def test_a_jobs_expected_allowance_is_its_booked_time_without_the_mediators_travel() -> None:
    # 3 h booked = 6 started half hours x 7.50 = 45.00; travel time and km are the
    # mediator's and left out, whoever takes it.
    assert expected_allowance(minutes=180, in_person=True, rules=preset("bielefeld")) == euros(
        "45.00"
    )
    # Heinsberg: 25 EUR for the first 2 h, then 10 per started hour: 2 h 10 min = 35.00.
    assert expected_allowance(minutes=130, in_person=False, rules=preset("heinsberg")) == euros(
        "35.00"
    )


def test_a_flat_travel_sum_is_expected_for_an_in_person_job_only() -> None:
    berlin = preset("berlin")
    in_person = expected_allowance(minutes=45, in_person=True, rules=berlin)
    by_phone = expected_allowance(minutes=45, in_person=False, rules=berlin)
    assert in_person - by_phone == berlin.travel.flat > 0


def test_euros_become_whole_cents() -> None:
    assert cents(euros("45.00")) == 4500
    assert cents(euros("0.30")) == 30
