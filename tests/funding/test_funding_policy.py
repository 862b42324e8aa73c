"""The funding policy file and its pure rules: categories, working days, who pays."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.funding.policy import (
    Category,
    NextStep,
    OrganisationType,
    PolicyError,
    load_policy,
    parse_policy,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_default_policy_is_an_nrw_lay_pool() -> None:
    policy = load_policy()
    assert policy.min_notice_working_days == 5
    assert policy.holiday_state == "NW"
    assert not policy.is_served(Category.legal) and not policy.is_served(Category.health)
    assert policy.refused[Category.legal].next_step == NextStep.professional_interpreter
    assert policy.refused[Category.health].next_step == NextStep.phone_service
    assert policy.is_served(Category.school_parents)
    assert policy.sources["state_programme"].yearly_budget == Decimal("50000.00")


def test_working_days_skip_weekends() -> None:
    policy = load_policy()
    monday = date(2026, 11, 30)
    assert policy.working_days_between(monday, date(2026, 12, 4)) == 4  # Tue-Fri
    assert policy.working_days_between(monday, date(2026, 12, 7)) == 5  # and next Monday
    assert policy.working_days_between(monday, monday) == 0


def test_working_days_skip_the_states_public_holidays() -> None:
    policy = load_policy()
    # Mon 21 Dec 2026 to Mon 28 Dec: Tue 22, Wed 23, Thu 24, (Fri 25 and Sat 26 are
    # Christmas, Sun 27), Mon 28 = 4 working days.
    assert policy.working_days_between(date(2026, 12, 21), date(2026, 12, 28)) == 4
    # Corpus Christi (Thu 4 June 2026) is a holiday in NRW but not in Berlin.
    nrw = policy.working_days_between(date(2026, 6, 2), date(2026, 6, 5))
    berlin = parse_policy({**_raw(), "holiday_state": "BE"})
    assert nrw == 2  # Wed, Fri
    assert berlin.working_days_between(date(2026, 6, 2), date(2026, 6, 5)) == 3


def test_notice_is_counted_in_the_towns_dates() -> None:
    policy = load_policy()
    now = datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert policy.notice_too_short(
        now=now, start=datetime(2026, 12, 4, 9, tzinfo=BERLIN), tz=BERLIN
    )
    assert not policy.notice_too_short(
        now=now, start=datetime(2026, 12, 7, 9, tzinfo=BERLIN), tz=BERLIN
    )
    # 00:30 in Berlin on Monday 7 December is still Sunday 23:30 UTC: the town's date counts.
    late = datetime(2026, 12, 6, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert not policy.notice_too_short(now=now, start=late, tz=BERLIN)


def test_the_first_matching_rule_pays() -> None:
    policy = load_policy()
    assert policy.source_for(Category.job_centre, OrganisationType.public).key == "requester_pays"
    assert policy.source_for(Category.housing, OrganisationType.non_profit).key == "municipal"
    assert policy.source_for(Category.housing, OrganisationType.public).key == "state_programme"
    assert policy.source_for(Category.housing, None).key == "state_programme"
    assert policy.source_for(Category.kita, None).key == "state_programme"


def _raw() -> dict[str, Any]:
    import tomllib

    with (Path(__file__).resolve().parents[2] / "config" / "funding.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"holiday_state": "XX"}, "holiday_state"),
        ({"min_notice_working_days": -1}, "min_notice_working_days"),
        ({"served": ["authority", "space_travel"]}, "unknown category"),
        ({"served": ["legal"]}, "served and refused"),
        ({"served": []}, "neither served nor refused"),
        (
            {"refused": {"legal": {"next_step": "pray"}, "health": {"next_step": "phone_service"}}},
            "next_step",
        ),
        ({"sources": {}}, "at least one funding source"),
        ({"sources": {"x": {"name": "X", "yearly_budget": "lots"}}}, "yearly_budget"),
        ({"sources": {"x": {"name": "X", "yearly_budget": "-5"}}}, "yearly_budget"),
        ({"rules": [{"source": "nowhere"}]}, "not in sources"),
        ({"rules": [{"categories": ["kita"], "source": "municipal"}]}, "last rule"),
        (
            {"rules": [{"organisation_types": ["church"], "source": "municipal"}]},
            "organisation_types",
        ),
    ],
)
def test_a_wrong_policy_is_refused_with_its_place(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(PolicyError, match=complaint):
        parse_policy({**_raw(), **change})


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="missing"):
        load_policy(tmp_path / "missing.toml")
