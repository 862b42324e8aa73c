"""The allowance calculator: rules and one job's facts in, euros out.

Pure: no database, no settings, no web. Amounts are `Decimal` from start to
end and rounded once, to the cent, when the total is known (half up, as a
cashier rounds); never `float`. The rules come from `config/allowance.toml`
(or a preset in `config/allowance_presets/`), read by `load_rules`.

How a job is paid, in the order the code works it out:
1. Paid minutes: the worked minutes (actual end - actual start), plus waiting
   minutes when the rules pay waiting, plus travel minutes (capped) when the
   rules count travel as working time.
2. Work euros: a first block (e.g. "25 EUR up to 2 h") covers its minutes;
   the minutes beyond it are paid per started unit ("per started half
   hour") or pro rata; the work euros are at least the minimum.
3. Travel euros: km times the rate per km (capped), or a flat sum, plus a
   ticket's cost where tickets are refunded.
4. A late cancellation (the job was called off under N hours before its start)
   pays the booked minutes up to a cap, and travel when the rules say so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from locales import STAFF_LOCALES

CENT = Decimal("0.01")
ZERO = Decimal(0)

Outcome = Literal["done", "client_no_show", "cancelled_on_site", "cancelled_late"]


class RulesError(ValueError):
    """An allowance file that cannot be right (read when the service starts)."""


@dataclass(frozen=True)
class WorkRules:
    #: Euros per unit of `unit_minutes`.
    rate: Decimal
    unit_minutes: int
    #: "started": every started unit is paid whole; "exact": minutes pro rata.
    rounding: Literal["started", "exact"] = "started"
    #: A first block paid as a whole (0 minutes: none), before the rate applies.
    first_block_minutes: int = 0
    first_block_amount: Decimal = ZERO
    #: The least a paid job brings, travel not counted.
    minimum: Decimal = ZERO
    #: Whether reported waiting minutes are working time.
    waiting_paid: bool = True


@dataclass(frozen=True)
class TravelRules:
    per_km: Decimal = ZERO
    #: A flat sum per job with travel (in person), instead of or on top of km.
    flat: Decimal = ZERO
    #: The most the km part pays per job (None: no cap).
    km_amount_cap: Decimal | None = None
    #: Whether travel time counts as working time, and its cap per job in minutes.
    time_paid: bool = False
    time_cap_minutes: int | None = None
    #: Whether a public transport ticket is refunded.
    tickets_refunded: bool = True


@dataclass(frozen=True)
class CancellationRules:
    #: A job called off less than this many hours before its start is paid as below.
    within_hours: int = 24
    #: The booked minutes paid, at most (0: the work part pays nothing).
    work_minutes_cap: int = 0
    pays_travel: bool = False


@dataclass(frozen=True)
class Rules:
    """One pool's allowance rules (one TOML file)."""

    #: As the file writes it (the API's `rules`); a proper name is shown as written.
    name: str
    work: WorkRules
    travel: TravelRules
    cancellation: CancellationRules
    #: The yearly limit of a mediator unless set on the mediator: the Ehrenamtspauschale
    #: (§ 3 Nr. 26a EStG), 960 EUR since 2026; for a year after every `limits_until` entry.
    annual_limit: Decimal = Decimal(960)
    #: (last year, limit) pairs, earliest first: the law changes the figure now and then
    #: (840 EUR until 2025), and a year is measured against its own figure, so a statement
    #: of December 2025 shows 840 EUR while offers in 2026 go up to 960 EUR.
    limits_until: tuple[tuple[int, Decimal], ...] = ()
    #: The share of the limit at which the coordinator is warned.
    warn_share: Decimal = Decimal("0.8")
    #: The monthly limit the mediator form suggests (250 EUR free under SGB II § 11b for
    #: a mediator on Bürgergeld); None: no suggestion. A mediator has one only when set.
    monthly_limit_suggested: Decimal | None = None
    #: The share of a funding source's budget (spent + committed) that warns the coordinator.
    budget_warn_share: Decimal = Decimal("0.8")
    #: The name in each page language (`names = { de = "...", en = "..." }`), where it is
    #: not a proper name; pairs, so the rules stay hashable.
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, locale: str) -> str:
        """The name a page in `locale` shows: its own entry in `names`, else `name`."""
        return dict(self.names).get(locale, self.name)

    def annual_limit_in(self, year: int) -> Decimal:
        """The default yearly limit of `year`: the entry of the first listed year not
        before it (`until = { 2025 = "840" }` covers 2025 and the years before), else
        `annual_limit`."""
        for last_year, limit in self.limits_until:
            if year <= last_year:
                return limit
        return self.annual_limit


@dataclass(frozen=True)
class JobFacts:
    """What a job was, as the Einsatzbestätigung reports it (or as booked, when cancelled)."""

    outcome: Outcome
    #: Actual end - actual start; for a late cancellation, the booked duration.
    minutes: int
    waiting_minutes: int = 0
    #: Travel time there and back, when known.
    travel_minutes: int = 0
    km: Decimal = ZERO
    ticket_cost: Decimal = ZERO
    #: False for phone and video jobs: no travel is paid.
    in_person: bool = True


@dataclass(frozen=True)
class Allowance:
    """One job's allowance; `work` and `travel` unrounded, `total` rounded once."""

    paid_minutes: int
    work: Decimal
    travel: Decimal
    total: Decimal


def _units(minutes: int, rules: WorkRules) -> Decimal:
    exact = Decimal(minutes) / Decimal(rules.unit_minutes)
    if rules.rounding == "started":
        return exact.to_integral_value(rounding=ROUND_CEILING)
    return exact


def work_amount(minutes: int, rules: WorkRules) -> Decimal:
    """Euros for `minutes` of paid time, unrounded."""
    if minutes <= 0:
        return ZERO
    amount = ZERO
    rest = minutes
    if rules.first_block_minutes > 0:
        amount = rules.first_block_amount
        rest = max(0, minutes - rules.first_block_minutes)
    amount += _units(rest, rules) * rules.rate
    return max(amount, rules.minimum)


def travel_amount(facts: JobFacts, rules: TravelRules) -> Decimal:
    """Euros for the way there and back (km, flat sum, ticket), unrounded."""
    if not facts.in_person:
        return ZERO
    by_km = facts.km * rules.per_km
    if rules.km_amount_cap is not None:
        by_km = min(by_km, rules.km_amount_cap)
    ticket = facts.ticket_cost if rules.tickets_refunded else ZERO
    return by_km + rules.flat + ticket


def paid_travel_minutes(facts: JobFacts, rules: TravelRules) -> int:
    if not rules.time_paid or not facts.in_person:
        return 0
    if rules.time_cap_minutes is None:
        return facts.travel_minutes
    return min(facts.travel_minutes, rules.time_cap_minutes)


def allowance(facts: JobFacts, rules: Rules) -> Allowance:
    """The euros one job brings its mediator under `rules`."""
    if facts.minutes < 0 or facts.waiting_minutes < 0 or facts.travel_minutes < 0:
        raise ValueError("minutes cannot be negative")
    if facts.km < 0 or facts.ticket_cost < 0:
        raise ValueError("km and ticket cost cannot be negative")
    travel_minutes = paid_travel_minutes(facts, rules.travel)
    if facts.outcome == "cancelled_late":
        booked = min(facts.minutes, rules.cancellation.work_minutes_cap)
        pays_travel = rules.cancellation.pays_travel
        paid = booked + (travel_minutes if pays_travel else 0)
        work = work_amount(paid, rules.work)
        travel = travel_amount(facts, rules.travel) if pays_travel else ZERO
    else:
        waiting = facts.waiting_minutes if rules.work.waiting_paid else 0
        paid = facts.minutes + waiting + travel_minutes
        work = work_amount(paid, rules.work)
        travel = travel_amount(facts, rules.travel)
    total = (work + travel).quantize(CENT, rounding=ROUND_HALF_UP)
    return Allowance(paid_minutes=paid, work=work, travel=travel, total=total)


def expected_allowance(*, minutes: int, in_person: bool, rules: Rules) -> Decimal:
    """What a job booked for `minutes` is expected to pay whoever takes it: the work part
    for the booked time (first block, units, minimum) and, in person, the flat travel
    sum. Travel time, km, tickets and waiting depend on the mediator and the day and are
    left out, so the estimate is at most what the job will pay when done as booked."""
    return allowance(JobFacts(outcome="done", minutes=minutes, in_person=in_person), rules).total


def cents(amount: Decimal) -> int:
    """Euros as whole cents (amounts are rounded to the cent already)."""
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


# --- reading a rules file -----------------------------------------------------------------


def _money(table: dict[str, Any], key: str, default: Decimal = ZERO) -> Decimal:
    """Euros are written as strings ("7.50") in the file, so no float ever holds them."""
    value = table.get(key)
    if value is None:
        return default
    if not isinstance(value, str | int):
        raise RulesError(f'{key}: write euros as a string, e.g. "7.50" (got {value!r})')
    amount = Decimal(str(value))
    if amount < 0:
        raise RulesError(f"{key} cannot be negative")
    return amount


def _minutes(table: dict[str, Any], key: str, default: int | None) -> int | None:
    value = table.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RulesError(f"{key}: a whole number of minutes, 0 or more (got {value!r})")
    return value


def _limits_until(table: dict[str, Any]) -> tuple[tuple[int, Decimal], ...]:
    """`until = { 2020 = "720", 2025 = "840" }`: each year's figure, up to that year."""
    until = table.get("until", {})
    if not isinstance(until, dict):
        raise RulesError('annual_limit.until: a table of years, e.g. until = { 2025 = "840" }')
    pairs = []
    for year, _ in until.items():
        if not (str(year).isdigit() and 1900 <= int(year) <= 2199):
            raise RulesError(f"annual_limit.until: {year!r} is not a year from 1900 to 2199")
        try:
            pairs.append((int(year), _money(until, year)))
        except RulesError as error:
            raise RulesError(f"annual_limit.until.{error}") from None
    return tuple(sorted(pairs))


def _suggested_monthly_limit(table: dict[str, Any]) -> Decimal | None:
    if not isinstance(table, dict):
        raise RulesError('monthly_limit: a table, e.g. suggested = "250"')
    if table.get("suggested") is None:
        return None
    try:
        return _money(table, "suggested")
    except RulesError as error:
        raise RulesError(f"monthly_limit.{error}") from None


def rules_from_dict(data: dict[str, Any]) -> Rules:
    """Rules from a parsed TOML file; every wrong value is a `RulesError` naming its key."""
    work = data.get("work", {})
    travel = data.get("travel", {})
    cancel = data.get("cancellation", {})
    limit = data.get("annual_limit", {})
    unit = _minutes(work, "unit_minutes", None)
    if not unit:
        raise RulesError("work.unit_minutes: the length of one paid unit, at least 1")
    rounding = work.get("rounding", "started")
    if rounding not in ("started", "exact"):
        raise RulesError('work.rounding: "started" or "exact"')
    km_cap = travel.get("km_amount_cap")
    warn_share = Decimal(str(limit.get("warn_share", "0.8")))
    if not ZERO < warn_share <= 1:
        raise RulesError("annual_limit.warn_share: a share between 0 and 1")
    budget_share = Decimal(str(data.get("budgets", {}).get("warn_share", "0.8")))
    if not ZERO < budget_share <= 1:
        raise RulesError("budgets.warn_share: a share between 0 and 1")
    names = data.get("names", {})
    if not isinstance(names, dict) or not all(
        locale in STAFF_LOCALES and isinstance(text, str) and text.strip()
        for locale, text in names.items()
    ):
        raise RulesError(f"names: a name per page language ({', '.join(STAFF_LOCALES)})")
    return Rules(
        name=str(data.get("name", "")),
        names=tuple(sorted((locale, text.strip()) for locale, text in names.items())),
        work=WorkRules(
            rate=_money(work, "rate"),
            unit_minutes=unit,
            rounding=rounding,
            first_block_minutes=_minutes(work, "first_block_minutes", 0) or 0,
            first_block_amount=_money(work, "first_block_amount"),
            minimum=_money(work, "minimum"),
            waiting_paid=bool(work.get("waiting_paid", True)),
        ),
        travel=TravelRules(
            per_km=_money(travel, "per_km"),
            flat=_money(travel, "flat"),
            km_amount_cap=None if km_cap is None else _money(travel, "km_amount_cap"),
            time_paid=bool(travel.get("time_paid", False)),
            time_cap_minutes=_minutes(travel, "time_cap_minutes", None),
            tickets_refunded=bool(travel.get("tickets_refunded", True)),
        ),
        cancellation=CancellationRules(
            within_hours=_minutes(cancel, "within_hours", 24) or 0,
            work_minutes_cap=_minutes(cancel, "work_minutes_cap", 0) or 0,
            pays_travel=bool(cancel.get("pays_travel", False)),
        ),
        annual_limit=_money(limit, "default", Decimal(960)),
        limits_until=_limits_until(limit),
        monthly_limit_suggested=_suggested_monthly_limit(data.get("monthly_limit", {})),
        warn_share=warn_share,
        budget_warn_share=budget_share,
    )


def load_rules(path: Path) -> Rules:
    """Read and check one allowance file."""
    with path.open("rb") as handle:
        return rules_from_dict(tomllib.load(handle))
