"""Loaders for the policy data files that live beside this module."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Language:
    """A served language; its names come from CLDR, `names` overrides them per locale."""

    tag: str
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Qualification:
    """A qualification tag; `name` is its English text, translated by the catalogs."""

    tag: str
    name: str


@dataclass(frozen=True)
class WaveBand:
    lead_under_hours: float
    #: The most offers a wave of this band sends...
    size: int
    offer_minutes: int
    #: ...and the fewest, however likely the first ones are to accept.
    min_size: int = 1


@dataclass(frozen=True)
class Policy:
    bands: tuple[WaveBand, ...]
    latest_offer_before_start_minutes: int
    broadcast_offer_minutes: int
    reminder_hours: tuple[int, ...]
    reconfirm_deadline_hours: int
    max_request_hours: int
    max_lead_days: int
    #: Local times "HH:MM": no offers go out and no offer's time runs down in between.
    quiet_start: str = "21:00"
    quiet_end: str = "07:00"
    #: A job starting within this many hours after the quiet hours cannot wait for them.
    quiet_urgent_hours: float = 4.0
    #: A reminder due in the quiet hours waits for their end if that leaves this many
    #: minutes before the start.
    reminder_quiet_lead_minutes: int = 30
    #: A wave is as large as it takes for someone to accept before it ends with this chance.
    target_chance: float = 0.55
    #: Beta priors (successes, failures) for a newcomer: answers at all, and says yes.
    prior_answers: tuple[float, float] = (2.0, 2.0)
    prior_yes: tuple[float, float] = (2.0, 2.0)
    #: A newcomer's typical time to answer (waking minutes), worth this many answers.
    prior_answer_minutes: float = 30.0
    prior_answer_weight: float = 2.0
    #: A later occurrence of a series is first offered this many days before its start
    #: (at once when it starts sooner), so a long series does not flood the pool today.
    series_first_wave_days: int = 14
    #: Scarce people: other open requests starting within this many hours of the job count...
    scarce_window_hours: float = 48.0
    #: ...and a mediator they lean on this much (1: the only candidate of one, 0.5: one of
    #: two) is asked only after the others who can serve the job...
    scarce_at: float = 0.5
    #: ...unless the job starts within this many hours (then nobody is held back).
    scarce_off_under_hours: float = 4.0
    #: ...and at most this many other requests are weighed, those nearest in time (each
    #: costs a ranking in the wave's transaction, so intake stays cheap on a busy week).
    scarce_max_others: int = 8
    #: When it cannot be filled: the caseworker is warned this many hours before the start
    #: at the latest (nobody yet)...
    warn_hours: float = 48.0
    #: ...or as soon as the chance that someone accepts by then falls below this...
    warn_below_chance: float = 0.2
    #: ...with this next step ("phone_service" or "professional_interpreter") and contact.
    unfilled_next_step: str = "phone_service"
    unfilled_contact: str = ""

    def merged(self, overrides: dict[str, Any] | None) -> Policy:
        """The policy with an organisation's or a request's overrides applied."""
        if not overrides:
            return self
        values = {**self.__dict__}
        for key, value in overrides.items():
            if key == "bands":
                values["bands"] = tuple(WaveBand(**band) for band in value)
            elif key in values:
                values[key] = value
        return Policy(**values)


def _load(name: str) -> dict[str, Any]:
    with (HERE / name).open("rb") as handle:
        return tomllib.load(handle)


@lru_cache
def languages() -> dict[str, Language]:
    """Configured languages by lower-case tag, in file order."""
    return {
        entry["tag"].lower(): Language(entry["tag"], dict(entry.get("names", {})))
        for entry in _load("languages.toml")["languages"]
    }


@lru_cache
def qualifications() -> dict[str, Qualification]:
    return {
        entry["tag"]: Qualification(entry["tag"], entry["name"])
        for entry in _load("languages.toml")["qualifications"]
    }


@lru_cache
def default_policy() -> Policy:
    data = _load("policy.toml")
    return Policy(
        bands=tuple(WaveBand(**band) for band in data["waves"]["bands"]),
        latest_offer_before_start_minutes=data["waves"]["latest_offer_before_start_minutes"],
        broadcast_offer_minutes=data["waves"]["broadcast_offer_minutes"],
        reminder_hours=tuple(data["reminders"]["before_start_hours"]),
        reconfirm_deadline_hours=data["reminders"]["reconfirm_deadline_hours"],
        max_request_hours=data["limits"]["max_request_hours"],
        max_lead_days=data["limits"]["max_lead_days"],
        quiet_start=data["quiet_hours"]["start"],
        quiet_end=data["quiet_hours"]["end"],
        quiet_urgent_hours=data["quiet_hours"]["urgent_within_hours"],
        reminder_quiet_lead_minutes=data["reminders"]["quiet_hours_lead_minutes"],
        target_chance=data["estimate"]["target_chance"],
        prior_answers=tuple(data["estimate"]["prior_answers"]),
        prior_yes=tuple(data["estimate"]["prior_yes"]),
        prior_answer_minutes=data["estimate"]["prior_answer_minutes"],
        prior_answer_weight=data["estimate"]["prior_answer_weight"],
        series_first_wave_days=data["series"]["first_wave_days_before_start"],
        scarce_window_hours=data["scarcity"]["window_hours"],
        scarce_at=data["scarcity"]["protect_at"],
        scarce_off_under_hours=data["scarcity"]["off_under_hours"],
        scarce_max_others=data["scarcity"]["max_others"],
        warn_hours=data["unfilled"]["warn_hours_before_start"],
        warn_below_chance=data["unfilled"]["warn_below_chance"],
        unfilled_next_step=data["unfilled"]["next_step"],
        unfilled_contact=data["unfilled"]["contact"],
    )
