"""Reading problem.json and reading/writing solution.json (SPEC.md format).

Unknown fields are ignored. Bad input raises `ProblemFormatError` (a
ValueError) whose message names the record and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from matching.model import (
    LEVEL_RANK,
    MODES,
    TRAVEL_SPEED_KMH,
    Assignment,
    Busy,
    GenderPreference,
    Interval,
    Location,
    Mediator,
    Problem,
    Request,
    Solution,
)


class ProblemFormatError(ValueError):
    """The problem or solution JSON does not follow the SPEC format."""


class _Record:
    """Typed access to one JSON object, with errors that say where."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ProblemFormatError(f"{where}: expected an object")
        self.data = data
        self.where = where

    def fail(self, field: str, problem: str) -> ProblemFormatError:
        return ProblemFormatError(f"{self.where}: field '{field}' {problem}")

    def has(self, field: str) -> bool:
        return self.data.get(field) is not None

    def text(self, field: str) -> str:
        value = self.data.get(field)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            raise self.fail(field, "is missing or not a string")
        return str(value)

    def optional_text(self, field: str) -> str | None:
        return self.text(field) if self.has(field) else None

    def number(self, field: str, *, minimum: float | None = None) -> float:
        value = self.data.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, "is missing or not a number")
        if minimum is not None and value < minimum:
            raise self.fail(field, f"must be at least {minimum:g}")
        return float(value)

    def integer(self, field: str, *, minimum: int = 0) -> int:
        value = self.number(field, minimum=minimum)
        if value != int(value):
            raise self.fail(field, "must be a whole number")
        return int(value)

    def moment(self, field: str) -> datetime:
        value = self.data.get(field)
        if not isinstance(value, str):
            raise self.fail(field, "is missing or not an ISO 8601 timestamp")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(field, f"is not an ISO 8601 timestamp: {value!r}") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise self.fail(field, f"has no UTC offset: {value!r}")
        return parsed

    def span(self) -> tuple[datetime, datetime]:
        start, end = self.moment("start"), self.moment("end")
        if end <= start:
            raise self.fail("end", "must be after start")
        return start, end

    def items(self, field: str) -> list[Any]:
        value = self.data.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(field, "must be a list")
        return value

    def location(self, field: str) -> Location | None:
        if not self.has(field):
            return None
        place = _Record(self.data[field], f"{self.where}: {field}")
        lat, lon = place.number("lat"), place.number("lon")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise self.fail(field, f"has lat/lon out of range ({lat}, {lon})")
        return Location(lat, lon)

    def choice(
        self, field: str, allowed: Mapping[str, object] | frozenset[str], default: str
    ) -> str:
        if not self.has(field):
            return default
        value = self.text(field)
        if value not in allowed:
            raise self.fail(field, f"must be one of {sorted(allowed)}, not {value!r}")
        return value


def _mediator(data: Any, index: int) -> Mediator:
    record = _Record(data, f"mediator #{index}")
    mediator_id = record.text("id")
    record.where = f"mediator {mediator_id!r}"
    languages_raw = record.data.get("languages")
    if not isinstance(languages_raw, Mapping):
        raise record.fail("languages", "is missing or not an object of tag to level")
    languages: dict[str, str] = {}
    for tag, level in languages_raw.items():
        if level not in LEVEL_RANK:
            raise record.fail(f"languages.{tag}", f"has unknown level {level!r}")
        languages[str(tag).lower()] = str(level)
    availability = []
    for i, item in enumerate(record.items("availability")):
        start, end = _Record(item, f"{record.where}: availability[{i}]").span()
        availability.append(Interval(start, end))
    busy = []
    for i, item in enumerate(record.items("busy")):
        block = _Record(item, f"{record.where}: busy[{i}]")
        start, end = block.span()
        busy.append(Busy(start, end, block.location("location"), block.optional_text("label")))
    qualifications = record.items("qualifications")
    if not all(isinstance(q, str) for q in qualifications):
        raise record.fail("qualifications", "must be a list of strings")
    return Mediator(
        id=mediator_id,
        languages=languages,
        home=record.location("home"),
        travel_mode=record.choice("travel_mode", TRAVEL_SPEED_KMH, "car"),
        max_travel_km=record.number("max_travel_km", minimum=0)
        if record.has("max_travel_km")
        else None,
        max_minutes=record.integer("max_minutes") if record.has("max_minutes") else None,
        qualifications=frozenset(qualifications),
        gender=record.optional_text("gender"),
        availability=tuple(sorted(availability, key=lambda slot: slot.start)),
        busy=tuple(sorted(busy, key=lambda block: block.start)),
        committed_minutes=record.integer("committed_minutes")
        if record.has("committed_minutes")
        else 0,
        load_minutes=record.integer("load_minutes") if record.has("load_minutes") else 0,
    )


def _request(data: Any, index: int) -> Request:
    record = _Record(data, f"request #{index}")
    request_id = record.text("id")
    record.where = f"request {request_id!r}"
    start, end = record.span()
    gender = None
    if record.has("gender"):
        wish = _Record(record.data["gender"], f"{record.where}: gender")
        gender = GenderPreference(
            wish.text("value"),
            "required"
            if wish.choice("strength", frozenset({"preferred", "required"}), "preferred")
            == "required"
            else "preferred",
        )
    return Request(
        id=request_id,
        language=record.text("language").lower(),
        start=start,
        end=end,
        mode=record.choice("mode", MODES, "in_person"),
        min_level=record.choice("min_level", LEVEL_RANK, "fluent"),
        location=record.location("location"),
        qualification=record.optional_text("qualification"),
        gender=gender,
        priority=record.integer("priority") if record.has("priority") else 1,
        client_ref=record.optional_text("client_ref"),
        preferred_mediators=tuple(str(m) for m in record.items("preferred_mediators")),
        excluded_mediators=tuple(str(m) for m in record.items("excluded_mediators")),
        not_for_client=tuple(str(m) for m in record.items("not_for_client")),
        label=record.optional_text("label"),
    )


def _pairs(items: list[Any], where: str) -> list[tuple[str, str]]:
    pairs = []
    for i, item in enumerate(items):
        pair = _Record(item, f"{where}[{i}]")
        pairs.append((pair.text("request"), pair.text("mediator")))
    return pairs


def problem_from_dict(data: Any) -> Problem:
    top = _Record(data, "problem")
    mediators = tuple(_mediator(item, i) for i, item in enumerate(top.items("mediators")))
    requests = tuple(_request(item, i) for i, item in enumerate(top.items("requests")))
    for kind, ids in (
        ("mediator", [m.id for m in mediators]),
        ("request", [r.id for r in requests]),
    ):
        seen: set[str] = set()
        for record_id in ids:
            if record_id in seen:
                raise ProblemFormatError(f"{kind} {record_id!r}: duplicate id")
            seen.add(record_id)
    mediator_ids = {m.id for m in mediators}
    request_ids = {r.id for r in requests}
    fixed = _pairs(top.items("fixed"), "fixed")
    previous_raw = top.data.get("previous") or []
    previous = (
        _pairs(previous_raw, "previous")
        if isinstance(previous_raw, list)
        else [(str(r), str(m)) for r, m in dict(previous_raw).items()]
    )
    for request_id, mediator_id in fixed:
        if request_id not in request_ids:
            raise ProblemFormatError(f"fixed: unknown request {request_id!r}")
        if mediator_id not in mediator_ids:
            raise ProblemFormatError(f"fixed: unknown mediator {mediator_id!r}")
    return Problem(
        mediators=mediators,
        requests=requests,
        fixed=tuple(fixed),
        time_limit_s=top.number("time_limit_s", minimum=0) if top.has("time_limit_s") else None,
        previous=dict(previous),
    )


def _read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ProblemFormatError(f"{path}: not valid JSON ({error})") from None


def load_problem(path: str | Path) -> Problem:
    return problem_from_dict(_read_json(path))


def _location_dict(location: Location | None) -> dict[str, float] | None:
    return None if location is None else {"lat": location.lat, "lon": location.lon}


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    def mediator(m: Mediator) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": m.id,
            "languages": dict(m.languages),
            "home": _location_dict(m.home),
            "travel_mode": m.travel_mode,
            "max_travel_km": m.max_travel_km,
            "max_minutes": m.max_minutes,
            "qualifications": sorted(m.qualifications),
            "gender": m.gender,
            "availability": [
                {"start": s.start.isoformat(), "end": s.end.isoformat()} for s in m.availability
            ],
            "busy": [
                {
                    "start": b.start.isoformat(),
                    "end": b.end.isoformat(),
                    "location": _location_dict(b.location),
                    "label": b.label,
                }
                for b in m.busy
            ],
        }
        if m.committed_minutes:
            data["committed_minutes"] = m.committed_minutes
        if m.load_minutes:
            data["load_minutes"] = m.load_minutes
        return {k: v for k, v in data.items() if v is not None}

    def request(r: Request) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": r.id,
            "language": r.language,
            "min_level": r.min_level,
            "start": r.start.isoformat(),
            "end": r.end.isoformat(),
            "mode": r.mode,
            "location": _location_dict(r.location),
            "qualification": r.qualification,
            "gender": None
            if r.gender is None
            else {"value": r.gender.value, "strength": r.gender.strength},
            "priority": r.priority,
            "client_ref": r.client_ref,
            "preferred_mediators": list(r.preferred_mediators) or None,
            "excluded_mediators": list(r.excluded_mediators) or None,
            "not_for_client": list(r.not_for_client) or None,
            "label": r.label,
        }
        return {k: v for k, v in data.items() if v is not None}

    data: dict[str, Any] = {
        "mediators": [mediator(m) for m in problem.mediators],
        "requests": [request(r) for r in problem.requests],
        "fixed": [{"request": r, "mediator": m} for r, m in problem.fixed],
    }
    if problem.time_limit_s is not None:
        data["time_limit_s"] = problem.time_limit_s
    if problem.previous:
        data["previous"] = [{"request": r, "mediator": m} for r, m in problem.previous.items()]
    return data


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    return {
        "assignments": [
            {"request": a.request, "mediator": a.mediator} for a in solution.assignments
        ],
        "unassigned": list(solution.unassigned),
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "solve_seconds": round(solution.solve_seconds, 3),
        "filled_priority": solution.filled_priority,
        "filled_priority_bound": solution.filled_priority_bound,
        "stats": dict(solution.stats),
    }


def solution_from_dict(data: Any) -> Solution:
    top = _Record(data, "solution")
    assignments = tuple(
        Assignment(r, m) for r, m in _pairs(top.items("assignments"), "assignments")
    )
    unassigned = top.items("unassigned")

    def optional_number(field: str) -> float | None:
        return top.number(field) if top.has(field) else None

    return Solution(
        assignments=assignments,
        unassigned=tuple(str(r) for r in unassigned),
        status=top.optional_text("status") or "UNKNOWN",
        objective=optional_number("objective"),
        bound=optional_number("bound"),
        solve_seconds=optional_number("solve_seconds") or 0.0,
    )


def load_solution(path: str | Path) -> Solution:
    return solution_from_dict(_read_json(path))
