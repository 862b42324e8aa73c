"""Whom the engine leaves out of paid jobs for their allowance limits: a plain value that
the allowances find (`dispatch.allowances.service.limit_reached`) and the planning's pool
snapshot reads, kept apart from both so neither imports the other for it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from dispatch.allowances.calculator import Rules, cents, expected_allowance


@dataclass(frozen=True)
class LimitsReached:
    """Each mediator's annual limit as what is left of it per year, and each mediator's
    own monthly limit with what each month from the current one on counts against it
    (approved jobs, and held ones at what they are expected to pay)."""

    #: Mediator id -> year -> cents left under the annual limit (the limit less approved
    #: jobs and held ones at their estimate; 0 or less: reached). A year the coordinator
    #: let the mediator go beyond is not listed: no limit that year.
    annual_left: Mapping[int, Mapping[int, int]] = field(default_factory=dict)
    #: Request id -> (mediator id, year, cents) of each held job counted in `annual_left`.
    annual_held: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    #: Mediator id -> their own monthly limit in cents (only those who have one).
    monthly_limits: Mapping[int, int] = field(default_factory=dict)
    #: Mediator id -> (year, month) -> cents counted against that limit.
    monthly_counted: Mapping[int, Mapping[tuple[int, int], int]] = field(default_factory=dict)
    #: Request id -> (mediator id, (year, month), cents) of each held job counted above at
    #: its expected allowance: a request placed again does not count against itself.
    held: Mapping[int, tuple[int, tuple[int, int], int]] = field(default_factory=dict)
    #: The allowance rules the amounts come from: they estimate what a job will pay.
    rules: Rules | None = None

    @property
    def annual(self) -> frozenset[int]:
        """Who reached their annual limit in some year (and was not let go beyond it)."""
        return frozenset(
            mediator_id
            for mediator_id, years in self.annual_left.items()
            if any(left <= 0 for left in years.values())
        )

    def tracked(self, most_cents: int | None) -> frozenset[int]:
        """Whose limits the engine must know for jobs that together pay at most
        `most_cents` (None: unknown): a monthly limit always, the annual one when so much
        could reach it in some year.

        A pool snapshot asks once (not per mediator: every mediator has an annual
        limit, and intake takes several snapshots per request), answered from the
        mediators ordered by their least year left.
        """
        least, ids = self._by_least_left
        reach = len(ids) if most_cents is None else bisect_left(least, max(most_cents, 1))
        return self._monthly_ids.union(ids[:reach])

    @cached_property
    def _monthly_ids(self) -> frozenset[int]:
        return frozenset(self.monthly_limits)

    @cached_property
    def _by_least_left(self) -> tuple[list[int], list[int]]:
        """The least left of any year per mediator with a year listed, ascending, with
        their ids in the same order."""
        pairs = sorted(
            (min(years.values()), mediator_id)
            for mediator_id, years in self.annual_left.items()
            if years
        )
        return [least for least, _ in pairs], [mediator_id for _, mediator_id in pairs]

    def counted_without(
        self, mediator_id: int, request_ids: frozenset[int]
    ) -> Mapping[tuple[int, int], int]:
        """What the mediator's months count, less the held jobs of `request_ids`."""
        counted = self.monthly_counted.get(mediator_id, {})
        mine = [
            (month, amount)
            for request_id in request_ids
            if (job := self.held.get(request_id)) is not None and job[0] == mediator_id
            for _, month, amount in (job,)
        ]
        if not mine:
            return counted
        less = dict(counted)
        for month, amount in mine:
            less[month] = less.get(month, 0) - amount
        return less

    def annual_left_without(
        self, mediator_id: int, request_ids: frozenset[int]
    ) -> Mapping[int, int]:
        """What is left of the mediator's years, the held jobs of `request_ids` given back."""
        left = self.annual_left.get(mediator_id, {})
        mine = [
            (year, amount)
            for request_id in request_ids
            if (job := self.annual_held.get(request_id)) is not None and job[0] == mediator_id
            for _, year, amount in (job,)
        ]
        if not mine:
            return left
        more = dict(left)
        for year, amount in mine:
            if year in more:
                more[year] += amount
        return more

    def expected_cents(self, *, minutes: int, in_person: bool) -> int:
        """What a job is expected to pay, in cents, for the limits' headroom (0 without
        rules or limits: the figure would change nothing)."""
        if self.rules is None or not (self.monthly_limits or self.annual_left):
            return 0
        return cents(expected_allowance(minutes=minutes, in_person=in_person, rules=self.rules))


#: Nobody at a limit.
NO_LIMITS = LimitsReached()
