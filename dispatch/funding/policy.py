"""The pool's funding policy (``config/funding.toml``): what it serves, the notice, who pays.

German lay pools are paid from programmes that cover only some kinds of
appointment (SPEC "How German pools run"): the policy names the categories
the pool serves and those it refuses (each with the next step a caseworker
can take instead), the minimum notice in working days (the state's public
holidays do not count) and the funding sources with their yearly budgets,
plus the rules that charge a request to a source. Everything here is pure:
the file is read once per path, the rules are functions of their inputs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from config.settings import Settings
from locales import N_

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "funding.toml"


class Category(StrEnum):
    """Einsatzbereich of a request (SPEC); the policy says which ones the pool serves."""

    authority = "authority"
    job_centre = "job_centre"
    school_parents = "school_parents"
    kita = "kita"
    counselling = "counselling"
    housing = "housing"
    work = "work"
    health = "health"
    legal = "legal"
    other = "other"


class NextStep(StrEnum):
    """Where a caseworker turns when the lay pool may not take a job."""

    professional_interpreter = "professional_interpreter"
    phone_service = "phone_service"


class OrganisationType(StrEnum):
    public = "public"
    non_profit = "non_profit"


#: What the pages and the API call the categories (msgids).
CATEGORY_NAMES: dict[Category, str] = {
    Category.authority: N_("Authority, public office"),
    Category.job_centre: N_("Job centre"),
    Category.school_parents: N_("School: parent meeting"),
    Category.kita: N_("Kita (day care)"),
    Category.counselling: N_("Counselling"),
    Category.housing: N_("Housing"),
    Category.work: N_("Work, training"),
    Category.health: N_("Health (doctor, therapy)"),
    Category.legal: N_("Legal (lawyer, police, court)"),
    Category.other: N_("Other"),
}

#: The next steps, as a caseworker reads them (msgids).
NEXT_STEP_TEXT: dict[NextStep, str] = {
    NextStep.professional_interpreter: N_(
        "Please book a professional interpreter; the requesting office pays for it."
    ),
    NextStep.phone_service: N_("Please use a telephone or video interpreting service."),
}


class PolicyError(ValueError):
    """The funding policy file is wrong; the service refuses to start with it."""


@dataclass(frozen=True)
class RefusedCategory:
    category: Category
    next_step: NextStep
    #: Shown as written: a name, phone number or web address of the next step.
    contact: str = ""


@dataclass(frozen=True)
class FundingSource:
    key: str
    #: A proper name (a programme, a budget line), shown as written.
    name: str
    yearly_budget: Decimal


@dataclass(frozen=True)
class FundingRule:
    """Charge a request to `source` when its category and organisation type match.

    An empty condition matches everything.
    """

    source: str
    categories: frozenset[Category] = frozenset()
    organisation_types: frozenset[OrganisationType] = frozenset()

    def matches(self, category: Category, organisation_type: OrganisationType | None) -> bool:
        if self.categories and category not in self.categories:
            return False
        return not self.organisation_types or organisation_type in self.organisation_types


@dataclass(frozen=True)
class FundingPolicy:
    holiday_state: str
    min_notice_working_days: int
    served: frozenset[Category]
    refused: Mapping[Category, RefusedCategory]
    sources: Mapping[str, FundingSource]
    rules: tuple[FundingRule, ...]

    def is_served(self, category: Category) -> bool:
        return category in self.served

    def source_for(
        self, category: Category, organisation_type: OrganisationType | None
    ) -> FundingSource:
        """The source that pays a request: the first rule that matches (the last matches all)."""
        for rule in self.rules:
            if rule.matches(category, organisation_type):
                return self.sources[rule.source]
        raise PolicyError("no funding rule matches; the last rule must have no conditions")

    def holidays_in(self, years: range) -> holidays.HolidayBase:
        return _state_holidays(self.holiday_state, years.start, years.stop)

    def working_days_between(self, filed: date, job_day: date) -> int:
        """Working days after the filing day up to and including the job's day.

        Filed on Monday for next Monday: Tuesday to Friday and Monday, 5.
        Weekends and the state's public holidays do not count.
        """
        if job_day <= filed:
            return 0
        days_off = self.holidays_in(range(filed.year, job_day.year + 1))
        count = 0
        day = filed + timedelta(days=1)
        while day <= job_day:
            if day.weekday() < 5 and day not in days_off:
                count += 1
            day += timedelta(days=1)
        return count

    def notice_too_short(self, *, now: datetime, start: datetime, tz: ZoneInfo) -> bool:
        """The job starts fewer working days ahead than the policy asks for (dates in the town)."""
        notice = self.working_days_between(now.astimezone(tz).date(), start.astimezone(tz).date())
        return notice < self.min_notice_working_days


@cache
def _state_holidays(state: str, first_year: int, last_year_exclusive: int) -> holidays.HolidayBase:
    return holidays.country_holidays(
        "DE", subdiv=state, years=range(first_year, last_year_exclusive)
    )


def _decimal(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PolicyError(f"{where}: {value!r} is not an amount in euros") from exc
    if not amount.is_finite() or amount < 0:
        raise PolicyError(f"{where}: {value!r} is not an amount in euros")
    return amount


def _category(value: Any, where: str) -> Category:
    try:
        return Category(value)
    except ValueError as exc:
        known = ", ".join(Category)
        raise PolicyError(f"{where}: unknown category {value!r} (known: {known})") from exc


def parse_policy(data: Mapping[str, Any]) -> FundingPolicy:
    """Check and read a policy's data; every mistake is a PolicyError naming its place."""
    try:
        state = str(data.get("holiday_state", "NW"))
        if state not in holidays.country_holidays("DE").subdivisions:
            raise PolicyError(f"holiday_state: {state!r} is not a German state code")
        notice = data.get("min_notice_working_days", 0)
        if not isinstance(notice, int) or not 0 <= notice <= 60:
            raise PolicyError("min_notice_working_days: a whole number from 0 to 60")
        served = frozenset(_category(c, "served") for c in data.get("served", []))
        refused: dict[Category, RefusedCategory] = {}
        for key, entry in dict(data.get("refused", {})).items():
            category = _category(key, "refused")
            try:
                next_step = NextStep(entry["next_step"])
            except (KeyError, ValueError) as exc:
                steps = ", ".join(NextStep)
                raise PolicyError(f"refused.{key}.next_step: one of {steps}") from exc
            refused[category] = RefusedCategory(
                category, next_step, str(entry.get("contact", "")).strip()
            )
        both = served & refused.keys()
        if both:
            raise PolicyError(f"served and refused at once: {', '.join(sorted(both))}")
        missing = set(Category) - served - refused.keys()
        if missing:
            raise PolicyError(f"neither served nor refused: {', '.join(sorted(missing))}")
        sources = {
            key: FundingSource(
                key,
                str(entry.get("name") or key),
                _decimal(entry.get("yearly_budget", 0), f"sources.{key}.yearly_budget"),
            )
            for key, entry in dict(data.get("sources", {})).items()
        }
        if not sources:
            raise PolicyError("sources: at least one funding source")
        rules = []
        for number, entry in enumerate(data.get("rules", []), start=1):
            source = entry.get("source")
            if source not in sources:
                raise PolicyError(f"rules[{number}].source: {source!r} is not in sources")
            types = entry.get("organisation_types", [])
            try:
                organisation_types = frozenset(OrganisationType(t) for t in types)
            except ValueError as exc:
                raise PolicyError(f"rules[{number}].organisation_types: {types!r}") from exc
            rules.append(
                FundingRule(
                    source,
                    frozenset(
                        _category(c, f"rules[{number}]") for c in entry.get("categories", [])
                    ),
                    organisation_types,
                )
            )
        if not rules or rules[-1].categories or rules[-1].organisation_types:
            raise PolicyError("rules: the last rule must have no conditions (it catches the rest)")
    except (AttributeError, TypeError) as exc:
        raise PolicyError(f"the funding policy is not shaped as documented: {exc}") from exc
    return FundingPolicy(state, notice, served, refused, sources, tuple(rules))


def policy_of(settings: Settings) -> FundingPolicy:
    """The deployment's policy: FUNDING_POLICY_PATH, else config/funding.toml."""
    return load_policy(settings.funding_policy_path or DEFAULT_PATH)


@cache
def load_policy(path: Path = DEFAULT_PATH) -> FundingPolicy:
    """The policy in `path` (read once per path)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    return parse_policy(data)
