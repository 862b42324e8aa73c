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
    size: int
    offer_minutes: int


@dataclass(frozen=True)
class Policy:
    bands: tuple[WaveBand, ...]
    latest_offer_before_start_minutes: int
    broadcast_offer_minutes: int
    reminder_hours: tuple[int, ...]
    reconfirm_deadline_hours: int
    max_request_hours: int
    max_lead_days: int

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
    )
