"""problem.json and solution.json exactly as SPEC.md describes them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from matching.generate import generate
from matching.model import Assignment, Location, Solution
from matching.problem_io import (
    ProblemFormatError,
    problem_from_dict,
    problem_to_dict,
    solution_from_dict,
    solution_to_dict,
)

SPEC_EXAMPLE: dict[str, Any] = {
    "mediators": [
        {
            "id": "m1",
            "languages": {"ar": "native", "de": "fluent"},
            "home": {"lat": 51.755, "lon": 8.041},
            "travel_mode": "car",
            "max_travel_km": 25,
            "max_minutes": 600,
            "qualifications": ["medical"],
            "gender": "f",
            "availability": [
                {"start": "2026-12-01T08:00:00+01:00", "end": "2026-12-01T16:00:00+01:00"}
            ],
            "busy": [
                {
                    "start": "2026-12-01T12:00:00+01:00",
                    "end": "2026-12-01T13:00:00+01:00",
                    "location": {"lat": 51.76, "lon": 8.04},
                }
            ],
        }
    ],
    "requests": [
        {
            "id": "r1",
            "language": "ar",
            "min_level": "fluent",
            "start": "2026-12-01T09:00:00+01:00",
            "end": "2026-12-01T10:00:00+01:00",
            "mode": "in_person",
            "location": {"lat": 51.7553, "lon": 8.0403},
            "qualification": "medical",
            "gender": {"value": "f", "strength": "required"},
            "priority": 3,
            "client_ref": "c17",
            "preferred_mediators": ["m3"],
            "a_field_from_the_future": True,
        }
    ],
    "fixed": [{"request": "r1", "mediator": "m1"}],
    "time_limit_s": 10,
}


def broken(change: str, value: Any, record: str = "requests") -> dict[str, Any]:
    data = copy.deepcopy(SPEC_EXAMPLE)
    data[record][0][change] = value
    return data


def test_spec_example_is_read_field_by_field() -> None:
    problem = problem_from_dict(SPEC_EXAMPLE)
    mediator, request = problem.mediators[0], problem.requests[0]
    assert mediator.languages == {"ar": "native", "de": "fluent"}
    assert mediator.home == Location(51.755, 8.041)
    assert (mediator.max_travel_km, mediator.max_minutes, mediator.gender) == (25, 600, "f")
    assert mediator.busy[0].location == Location(51.76, 8.04)
    assert request.gender is not None and request.gender.strength == "required"
    assert (request.priority, request.client_ref, request.preferred_mediators) == (
        3,
        "c17",
        ("m3",),
    )
    assert problem.fixed == (("r1", "m1"),)
    assert problem.time_limit_s == 10


def test_missing_fields_take_the_spec_defaults() -> None:
    data = {
        "mediators": [{"id": "m1", "languages": {"AR": "fluent"}}],
        "requests": [
            {
                "id": "r1",
                "language": "ar",
                "start": "2026-12-01T09:00:00+01:00",
                "end": "2026-12-01T10:00:00+01:00",
            }
        ],
    }
    problem = problem_from_dict(data)
    mediator, request = problem.mediators[0], problem.requests[0]
    assert (mediator.max_travel_km, mediator.max_minutes, mediator.travel_mode) == (
        None,
        None,
        "car",
    )
    assert mediator.languages == {"ar": "fluent"}
    assert (request.priority, request.min_level, request.mode) == (1, "fluent", "in_person")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (broken("id", None), "request #0: field 'id' is missing"),
        (broken("start", "tomorrow at nine"), "request 'r1': field 'start' is not an ISO 8601"),
        (broken("start", "2026-12-01T09:00:00"), "request 'r1': field 'start' has no UTC offset"),
        (
            broken("end", "2026-12-01T09:00:00+01:00"),
            "request 'r1': field 'end' must be after start",
        ),
        (broken("mode", "carrier pigeon"), "request 'r1': field 'mode' must be one of"),
        (broken("min_level", "expert"), "request 'r1': field 'min_level' must be one of"),
        (
            broken("languages", {"ar": "expert"}, "mediators"),
            "mediator 'm1': field 'languages.ar' has unknown level",
        ),
        (
            broken("travel_mode", "rocket", "mediators"),
            "mediator 'm1': field 'travel_mode' must be one of",
        ),
        (
            broken("home", {"lat": 91, "lon": 0}, "mediators"),
            "mediator 'm1': field 'home' has lat/lon out of range",
        ),
    ],
)
def test_bad_input_names_the_record_and_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ProblemFormatError) as raised:
        problem_from_dict(data)
    assert str(raised.value).startswith(message)


def test_duplicate_ids_and_unknown_fixed_ids_are_rejected() -> None:
    twice = copy.deepcopy(SPEC_EXAMPLE)
    twice["mediators"].append(copy.deepcopy(twice["mediators"][0]))
    with pytest.raises(ProblemFormatError, match="mediator 'm1': duplicate id"):
        problem_from_dict(twice)
    stranger = copy.deepcopy(SPEC_EXAMPLE)
    stranger["fixed"] = [{"request": "r1", "mediator": "m9"}]
    with pytest.raises(ProblemFormatError, match="fixed: unknown mediator 'm9'"):
        problem_from_dict(stranger)


def test_generated_problem_survives_a_round_trip() -> None:
    problem = generate("town", seed=1)
    assert problem_from_dict(problem_to_dict(problem)) == problem


def test_solution_round_trip() -> None:
    solution = Solution((Assignment("r1", "m1"),), ("r2",), "OPTIMAL", 5.0, 5.0, 0.25)
    again = solution_from_dict(solution_to_dict(solution))
    assert (again.assignments, again.unassigned, again.status) == (
        solution.assignments,
        solution.unassigned,
        "OPTIMAL",
    )
    assert (again.objective, again.bound) == (5.0, 5.0)
