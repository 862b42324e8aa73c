"""Whom the engine leaves out of paid jobs for their allowance limits: a plain value that
the allowances find (`dispatch.allowances.service.limit_reached`) and the planning's pool
snapshot reads, kept apart from both so neither imports the other for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LimitsReached:
    """Who reached their annual limit this year (and was not let go beyond it), and per
    mediator with their own monthly limit the months (year, month) whose allowances
    reached it."""

    annual: frozenset[int] = frozenset()
    monthly: Mapping[int, frozenset[tuple[int, int]]] = field(default_factory=dict)

    def __contains__(self, mediator_id: object) -> bool:
        """Whether the mediator is at either limit (for some month)."""
        return mediator_id in self.annual or mediator_id in self.monthly


#: Nobody at a limit.
NO_LIMITS = LimitsReached()
