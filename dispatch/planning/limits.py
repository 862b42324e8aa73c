"""Whom the engine leaves out of paid jobs for their allowance limits: a plain value that
the allowances find (`dispatch.allowances.service.limit_reached`) and the planning's pool
snapshot reads, kept apart from both so neither imports the other for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatch.allowances.calculator import Rules, cents, expected_allowance


@dataclass(frozen=True)
class LimitsReached:
    """Who reached their annual limit this year (and was not let go beyond it), and each
    mediator's own monthly limit with what each month from the current one on counts
    against it (approved jobs, and held ones at what they are expected to pay)."""

    annual: frozenset[int] = frozenset()
    #: Mediator id -> their own monthly limit in cents (only those who have one).
    monthly_limits: Mapping[int, int] = field(default_factory=dict)
    #: Mediator id -> (year, month) -> cents counted against that limit.
    monthly_counted: Mapping[int, Mapping[tuple[int, int], int]] = field(default_factory=dict)
    #: Request id -> (mediator id, (year, month), cents) of each held job counted above at
    #: its expected allowance: a request placed again does not count against itself.
    held: Mapping[int, tuple[int, tuple[int, int], int]] = field(default_factory=dict)
    #: The allowance rules the amounts come from: they estimate what a job will pay.
    rules: Rules | None = None

    def __contains__(self, mediator_id: object) -> bool:
        """Whether the engine must know of the mediator's limits (annual or monthly)."""
        return mediator_id in self.annual or mediator_id in self.monthly_limits

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

    def expected_cents(self, *, minutes: int, in_person: bool) -> int:
        """What a job is expected to pay, in cents, for the monthly limits' headroom (0
        when nobody has a monthly limit: the figure would change nothing)."""
        if self.rules is None or not self.monthly_limits:
            return 0
        return cents(expected_allowance(minutes=minutes, in_person=in_person, rules=self.rules))


#: Nobody at a limit.
NO_LIMITS = LimitsReached()
