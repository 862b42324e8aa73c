"""Scarce people: how much the other open requests lean on each mediator.

A mediator who is the only candidate of another open request carries all
of that request's hope; one of two candidates half of it. Dispatch asks
the others first where they can serve, so the scarce stay free for the
request that has nobody else. Numbers only: the caller decides what is
scarce (its policy) and words nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def scarcity(candidate_sets: Iterable[Collection[K]]) -> dict[K, float]:
    """Per mediator, the sum over the requests they are a candidate of: 1 / its candidates.

    The only candidate of one request scores 1.0, one of two 0.5, the only
    candidate of two requests 2.0. A request without candidates leans on
    nobody; a mediator no request needs is absent (score 0).
    """
    lean: dict[K, float] = {}
    for candidates in candidate_sets:
        people = set(candidates)
        if not people:
            continue
        share = 1.0 / len(people)
        for person in people:
            lean[person] = lean.get(person, 0.0) + share
    return lean
