"""Points the API takes (a place, a mediator's home, a request's location) are refused at
(0, 0), the "no point" of a broken client or geocoder, and farther than
POINT_MAX_DISTANCE_KM (300 km by default) from the pool's centre, each with a 422
naming the field. Points already stored are still read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.mediators.models import Mediator
from dispatch.storage import unit_of_work
from tests.conftest import Staff, mediator_payload, request_payload

#: Berlin, 375 km from Beckum: a typo for a pool in Beckum, or a pool with a wider reach.
BERLIN: dict[str, object] = {"lat": 52.52, "lon": 13.40}
#: Cologne, 110 km away: outside the pool's area (30 km), within its reach.
COLOGNE: dict[str, object] = {"lat": 50.94, "lon": 6.96}
NULL_ISLAND: dict[str, object] = {"lat": 0, "lon": 0}
NULL_ISLAND_WORDS = "is latitude 0, longitude 0 (in the Gulf of Guinea)"
TOO_FAR_WORDS = "This point lies 375 km from the pool's centre; points more than 300 km away"


def place_body(**point: object) -> dict[str, object]:
    return {"name": "Jobcenter Beckum", "address": "Hühlstraße 8", **point}


def in_person(location: dict[str, object]) -> dict[str, object]:
    return request_payload(mode="in_person", location=location)


#: Where a point goes in: (who, path, body for a point, the field an error names).
TARGETS: list[tuple[str, str, Callable[[dict[str, object]], dict[str, object]], str]] = [
    ("coordinator", "/api/v1/places", lambda p: place_body(**p), "lon"),
    ("coordinator", "/api/v1/mediators", lambda p: mediator_payload(home=p), "home"),
    ("caseworker", "/api/v1/requests", in_person, "location"),
]


TARGET_NAMES = ["place", "mediator's home", "request's location"]


def _staff(request: pytest.FixtureRequest, role: str) -> Staff:
    staff: Staff = request.getfixturevalue(role)
    return staff


@pytest.mark.parametrize(("role", "path", "body", "field"), TARGETS, ids=TARGET_NAMES)
def test_latitude_0_longitude_0_is_refused_beside_the_field(
    client: TestClient,
    request: pytest.FixtureRequest,
    role: str,
    path: str,
    body: Callable[[dict[str, object]], dict[str, object]],
    field: str,
) -> None:
    response = client.post(path, json=body(NULL_ISLAND), headers=_staff(request, role).headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field and error["message"].startswith(NULL_ISLAND_WORDS)


@pytest.mark.parametrize(("role", "path", "body", "field"), TARGETS, ids=TARGET_NAMES)
def test_a_point_hundreds_of_km_away_is_refused_naming_the_distance(
    client: TestClient,
    request: pytest.FixtureRequest,
    role: str,
    path: str,
    body: Callable[[dict[str, object]], dict[str, object]],
    field: str,
) -> None:
    headers = _staff(request, role).headers
    response = client.post(path, json=body(BERLIN), headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == ("lat" if field == "lon" else field)
    assert error["message"].startswith(TOO_FAR_WORDS), error
    assert response.json()["detail"] == error["message"]
    # A point outside the pool's area but within its reach is fine.
    assert client.post(path, json=body(COLOGNE), headers=headers).status_code == 201


def test_changes_to_a_point_are_checked_too(
    client: TestClient, coordinator: Staff, caseworker: Staff, place_id: int
) -> None:
    moved = client.patch(f"/api/v1/places/{place_id}", json={"lon": 13.4, "lat": 52.52},
                         headers=coordinator.headers)  # fmt: skip
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "lat"
    half = client.patch(f"/api/v1/places/{place_id}", json={"lon": 0.5},
                        headers=coordinator.headers)  # fmt: skip
    assert half.status_code == 422, half.text  # 51.76, 0.5: in the North Sea off Essex
    mediator = client.post(
        "/api/v1/mediators", json=mediator_payload(), headers=coordinator.headers
    )
    home = client.patch(f"/api/v1/mediators/{mediator.json()['id']}",
                        json={"home": NULL_ISLAND}, headers=coordinator.headers)  # fmt: skip
    assert home.status_code == 422 and home.json()["errors"][0]["field"] == "home"
    filed = client.post("/api/v1/requests", json=in_person(COLOGNE), headers=caseworker.headers)
    assert filed.status_code == 201, filed.text
    path = f"/api/v1/requests/{filed.json()['id']}"
    for point, words in ((NULL_ISLAND, NULL_ISLAND_WORDS), (BERLIN, TOO_FAR_WORDS)):
        changed = client.patch(path, json={"location": point}, headers=caseworker.headers)
        assert changed.status_code == 422, changed.text
        [error] = changed.json()["errors"]
        assert error["field"] == "location" and error["message"].startswith(words)


def test_a_series_far_away_is_refused(client: TestClient, caseworker: Staff) -> None:
    body: dict[str, Any] = {**in_person(BERLIN), "interval_weeks": 1, "until": "2026-12-22"}
    response = client.post("/api/v1/series", json=body, headers=caseworker.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "location"


def test_the_reach_is_a_setting(
    settings: Settings, engine: Engine, clock: ManualClock, coordinator: Staff
) -> None:
    wide = settings.model_copy(update={"point_max_distance_km": 500.0})
    app = create_app(wide, engine=engine, clock=clock, run_migrations=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/api/v1/mediators", json=mediator_payload(home=BERLIN), headers=coordinator.headers
        )
    assert response.status_code == 201, response.text


def test_a_reach_smaller_than_the_pools_area_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="POINT_MAX_DISTANCE_KM must be at least"):
        Settings(pool_radius_km=40, point_max_distance_km=20, _env_file=None)  # type: ignore[call-arg]


def test_a_point_stored_before_the_check_is_still_read(
    client: TestClient, coordinator: Staff, engine: Engine
) -> None:
    """Only what comes in is checked: an old (0, 0) home shows, to be corrected."""
    created = client.post("/api/v1/mediators", json=mediator_payload(), headers=coordinator.headers)
    mediator_id = created.json()["id"]
    with unit_of_work(engine) as session:
        mediator = session.get(Mediator, mediator_id)
        assert mediator is not None
        mediator.home_lat, mediator.home_lon = 0.0, 0.0
    read = client.get(f"/api/v1/mediators/{mediator_id}", headers=coordinator.headers)
    assert read.status_code == 200 and read.json()["home"] == {"lat": 0.0, "lon": 0.0}
