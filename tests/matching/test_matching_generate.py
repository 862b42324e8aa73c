"""The congested presets: sizes, the demand/supply mismatch, and real congestion."""

from __future__ import annotations

from collections import Counter

import pytest

from matching.feasibility import check
from matching.generate import PLENTIFUL, SCARCE, SIZES, generate
from matching.greedy import careful_greedy, status_quo
from matching.rank import Pool


@pytest.mark.parametrize("size", ["town", "city"])
def test_preset_has_the_sizes_of_the_issue(size: str) -> None:
    problem = generate(size, seed=1, preset=True)
    assert len(problem.mediators) == SIZES[size].mediators
    assert len(problem.requests) == SIZES[size].requests
    doubled = generate(size, seed=1, preset=True, congestion=2.0)
    assert len(doubled.requests) == 2 * SIZES[size].requests


def test_preset_supply_does_not_match_demand() -> None:
    """Scarce languages have far fewer native/main speakers per request than plentiful ones."""
    problem = generate("city", seed=1, preset=True)
    demand = Counter(r.language for r in problem.requests)
    supply = Counter(
        tag for m in problem.mediators for tag, level in m.languages.items() if tag != "de"
    )
    per_request = {tag: supply[tag] / demand[tag] for tag in (*SCARCE, *PLENTIFUL)}
    assert max(per_request[tag] for tag in SCARCE) < min(per_request[tag] for tag in PLENTIFUL)
    assert all(per_request[tag] < 0.2 for tag in SCARCE)


def test_preset_is_seeded_and_differs_from_the_plain_week() -> None:
    assert generate("town", seed=3, preset=True) == generate("town", seed=3, preset=True)
    assert generate("town", seed=3, preset=True) != generate("town", seed=3)


@pytest.mark.parametrize("seed", [1, 2])
def test_preset_town_is_congested(seed: int) -> None:
    """A plain plan leaves priority on the table that a careful one fills."""
    problem = generate("town", seed=seed, preset=True)
    pool = Pool(problem.mediators)
    plain = status_quo(problem, pool)
    careful = careful_greedy(problem, pool)
    total = sum(r.priority for r in problem.requests)
    assert check(problem, plain).feasible and check(problem, careful).feasible
    assert plain.filled_priority < 0.95 * total
    assert careful.filled_priority > plain.filled_priority
