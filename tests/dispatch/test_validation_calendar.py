"""Dates and times at the ends of the calendar get a 422 naming the field, never a 500.

The API accepts days from 1900-01-01 to 2199-12-31 (dispatch.validation);
values outside, such as year 1 or 9999 with an extreme offset, used to
overflow in storage, time-zone conversion or the statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Staff, mediator_payload, request_payload

FIRST_MOMENT = "0001-01-01T00:00:00+14:00"
LAST_MOMENT = "9999-12-31T23:59:59-12:00"
FIRST_DAY = "0001-01-01"
LAST_DAY = "9999-12-31"
RANGE_WORDS = "must be between 1900-01-01 and 2199-12-31"

#: Just inside and just outside the accepted calendar, with the widest offsets.
EDGE_MOMENTS = [
    FIRST_MOMENT,
    LAST_MOMENT,
    "0001-01-01T00:00:00-12:00",
    "9999-12-31T23:59:59+14:00",
    "1899-12-31T23:59:59-12:00",
    "1900-01-01T00:00:00+14:00",
    "1900-01-01T00:00:00-12:00",
    "2199-12-31T23:59:59-12:00",
    "2199-12-31T23:59:59+14:00",
    "2200-01-01T00:00:00+14:00",
]
EDGE_DAYS = [FIRST_DAY, LAST_DAY, "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01"]


@dataclass(frozen=True)
class Target:
    """One place in the API where a date or time goes in."""

    name: str
    role: str
    kind: str  # "moment" or "day"
    field: str
    send: Callable[[TestClient, dict[str, str], str], Any]


def _post(path: str, body: Callable[[str], dict[str, Any]]) -> Callable[..., Any]:
    return lambda client, headers, value: client.post(path, json=body(value), headers=headers)


def _patch_mediator(body: Callable[[str], dict[str, Any]]) -> Callable[..., Any]:
    def send(client: TestClient, headers: dict[str, str], value: str) -> Any:
        pool = client.get("/api/v1/mediators", params={"limit": 1}, headers=headers).json()
        if pool["items"]:
            mediator_id = pool["items"][0]["id"]
        else:
            created = client.post("/api/v1/mediators", json=mediator_payload(), headers=headers)
            mediator_id = created.json()["id"]
        return client.patch(f"/api/v1/mediators/{mediator_id}", json=body(value), headers=headers)

    return send


def _get(path: str, name: str) -> Callable[..., Any]:
    return lambda client, headers, value: client.get(path, params={name: value}, headers=headers)


def _absence(
    start: str = "2026-12-01T09:00:00+01:00", end: str = "2026-12-02T09:00:00+01:00"
) -> list[dict[str, str]]:
    return [{"start": start, "end": end}]


TARGETS = [
    Target(
        "request start",
        "caseworker",
        "moment",
        "start",
        _post("/api/v1/requests", lambda v: request_payload(start=v)),
    ),
    Target(
        "request end",
        "caseworker",
        "moment",
        "end",
        _post("/api/v1/requests", lambda v: request_payload(end=v)),
    ),
    Target(
        "new mediator's consent",
        "coordinator",
        "moment",
        "consent_at",
        _post("/api/v1/mediators", lambda v: mediator_payload(consent_at=v)),
    ),
    Target(
        "new mediator's absence start",
        "coordinator",
        "moment",
        "absences.0.start",
        _post("/api/v1/mediators", lambda v: mediator_payload(absences=_absence(start=v))),
    ),
    Target(
        "new mediator's absence end",
        "coordinator",
        "moment",
        "absences.0.end",
        _post("/api/v1/mediators", lambda v: mediator_payload(absences=_absence(end=v))),
    ),
    Target(
        "changed consent",
        "coordinator",
        "moment",
        "consent_at",
        _patch_mediator(lambda v: {"consent_at": v}),
    ),
    Target(
        "changed absence end",
        "coordinator",
        "moment",
        "absences.0.end",
        _patch_mediator(lambda v: {"absences": _absence(end=v)}),
    ),
    Target(
        "optimize from",
        "coordinator",
        "moment",
        "from",
        _post("/api/v1/optimize", lambda v: {"from": v, "to": "2026-12-07T00:00:00+01:00"}),
    ),
    Target(
        "optimize to",
        "coordinator",
        "moment",
        "to",
        _post("/api/v1/optimize", lambda v: {"from": "2026-12-01T00:00:00+01:00", "to": v}),
    ),
    Target("request list from", "caseworker", "moment", "from", _get("/api/v1/requests", "from")),
    Target("request list to", "coordinator", "moment", "to", _get("/api/v1/requests", "to")),
    Target("stats from", "coordinator", "day", "from", _get("/api/v1/stats", "from")),
    Target("stats to", "coordinator", "day", "to", _get("/api/v1/stats", "to")),
    Target(
        "export from",
        "coordinator",
        "day",
        "from",
        _get("/api/v1/export/assignments.csv", "from"),
    ),
    Target("export to", "coordinator", "day", "to", _get("/api/v1/export/assignments.csv", "to")),
]


def _staff(request: pytest.FixtureRequest, role: str) -> Staff:
    staff: Staff = request.getfixturevalue(role)
    return staff


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_the_ends_of_the_calendar_are_refused_with_the_field_named(
    client: TestClient, request: pytest.FixtureRequest, target: Target
) -> None:
    staff = _staff(request, target.role)
    for value in (FIRST_MOMENT, LAST_MOMENT) if target.kind == "moment" else (FIRST_DAY, LAST_DAY):
        response = target.send(client, staff.headers, value)
        assert response.status_code == 422, (value, response.text)
        body = response.json()
        assert {"field": target.field, "message": RANGE_WORDS} in body["errors"], body
        assert f"{target.field}: {RANGE_WORDS}" in body["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "1700000000"}, "from"),
        ({"from": "2026-12-01T00:00:00+01:00"}, "from"),
        ({"to": "20261201"}, "to"),
    ],
)
def test_a_day_is_written_as_year_month_day(
    client: TestClient, coordinator: Staff, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/stats", params=params, headers=coordinator.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": field, "message": "must be a day as YYYY-MM-DD, e.g. 2026-12-01"}
    ]


def test_a_unix_time_in_a_query_is_not_taken_for_a_moment(
    client: TestClient, caseworker: Staff
) -> None:
    response = client.get(
        "/api/v1/requests", params={"from": "1764576000"}, headers=caseworker.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "from"


def test_the_first_and_last_accepted_moments_are_stored_and_read_back(
    client: TestClient, coordinator: Staff, caseworker: Staff
) -> None:
    """The ends of the calendar survive storage, local time, matching and a round trip."""
    created = client.post(
        "/api/v1/mediators",
        json=mediator_payload(
            consent_at="1900-01-01T00:00:00+00:00",
            absences=_absence(start="2199-12-30T00:00:00+14:00", end="2199-12-31T23:59:59Z"),
        ),
        headers=coordinator.headers,
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/mediators/{created.json()['id']}"
    body = client.get(path, headers=coordinator.headers).json()
    # Given out in Beckum's time, where the last instant is already in 2200 ...
    assert body["consent_at"] == "1900-01-01T01:00:00+01:00"
    assert body["absences"][0]["end"] == "2200-01-01T00:59:59+01:00"
    # ... and accepted back as it was given out.
    again = client.patch(
        path,
        json={"consent_at": body["consent_at"], "absences": body["absences"]},
        headers=coordinator.headers,
    )
    assert again.status_code == 200, again.text
    assert again.json()["absences"] == body["absences"]
    filed = client.post(
        "/api/v1/requests", json=request_payload(language="ar"), headers=caseworker.headers
    )
    assert filed.status_code == 201, filed.text
    listed = client.get(
        "/api/v1/requests",
        params={"from": "1900-01-01T00:00:00Z", "to": "2199-12-31T23:59:59-00:00"},
        headers=coordinator.headers,
    )
    assert listed.status_code == 200 and listed.json()["total"] == 1
    for path in ("/api/v1/stats", "/api/v1/export/assignments.csv"):
        for params in (
            {"from": "1900-01-01", "to": "1900-12-31"},
            {"from": "2199-01-01", "to": "2199-12-31"},
        ):
            response = client.get(path, params=params, headers=coordinator.headers)
            assert response.status_code == 200, (path, params, response.text)


def outside_calendar(value: str) -> bool:
    """Whether the API must refuse the value: a day outside, or an instant outside in UTC."""
    if len(value) == 10:
        return not 1900 <= int(value[:4]) <= 2199
    moment = datetime.fromisoformat(value)
    return not datetime(1900, 1, 1, tzinfo=UTC) <= moment < datetime(2200, 1, 1, tzinfo=UTC)


offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.one_of(
    st.sampled_from(EDGE_MOMENTS),
    st.builds(
        lambda moment, offset: moment.replace(tzinfo=offset).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        offsets,
    ),
)
days = st.one_of(st.sampled_from(EDGE_DAYS), st.dates().map(lambda day: day.isoformat()))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), target=st.sampled_from(TARGETS))
def test_no_date_or_time_anywhere_gives_a_server_error(
    client: TestClient, coordinator: Staff, caseworker: Staff, data: st.DataObject, target: Target
) -> None:
    value = data.draw(moments if target.kind == "moment" else days, label=target.name)
    staff = coordinator if target.role == "coordinator" else caseworker
    response = target.send(client, staff.headers, value)
    assert response.status_code < 500, (target.name, value, response.text)
    if outside_calendar(value):
        assert response.status_code == 422, (target.name, value, response.text)
        assert target.field in [error["field"] for error in response.json()["errors"]]
