"""A typed address on the API: geocoded to one point in the area, or refused with a choice."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from tests.conftest import Staff, request_payload
from tests.geocoder_stand_in import FakeNominatim


@pytest.fixture
def settings(geocoding_settings: Settings) -> Settings:
    return geocoding_settings


def in_person(**overrides: object) -> dict[str, object]:
    return request_payload(mode="in_person", **overrides)


def test_a_typed_address_is_geocoded_and_its_street_stored(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim
) -> None:
    fake_nominatim.add(
        "Weststraße 46", lat=51.75534, lon=8.03725, road="Weststraße", house_number="46"
    )

    response = client.post(
        "/api/v1/requests",
        json=in_person(address="weststraße 46 beckum", home_visit=True),
        headers=caseworker.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == {"lat": pytest.approx(51.75534), "lon": pytest.approx(8.03725)}
    assert body["address"] == "Weststraße 46, 59269 Beckum"
    assert body["home_visit"] is True and body["place"] is None


def test_an_address_nobody_knows_is_a_422_with_its_code(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim
) -> None:
    response = client.post(
        "/api/v1/requests", json=in_person(address="Nirgendwo 99"), headers=caseworker.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "address_not_found"
    assert body["errors"][0]["field"] == "address"
    assert body["candidates"] == []


def test_a_match_at_0_0_is_no_match(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim
) -> None:
    """A provider's "no point" is not taken for an address in the Gulf of Guinea."""
    fake_nominatim.add("Kaputt 1", lat=0, lon=0, road="Kaputt", house_number="1")
    response = client.post(
        "/api/v1/requests", json=in_person(address="Kaputt 1"), headers=caseworker.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "address_not_found"


def test_an_ambiguous_address_lists_the_candidates_to_send_back(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim
) -> None:
    fake_nominatim.add("Hauptstraße 5", lat=51.75, lon=8.04, road="Hauptstraße", house_number="5")
    fake_nominatim.add(
        "Hauptstraße 5",
        lat=51.80,
        lon=7.95,
        road="Hauptstraße",
        house_number="5",
        town="Ennigerloh",
    )
    response = client.post(
        "/api/v1/requests", json=in_person(address="Hauptstraße 5"), headers=caseworker.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "address_ambiguous"
    assert [c["address"] for c in body["candidates"]] == [
        "Hauptstraße 5, 59269 Beckum",
        "Hauptstraße 5, 59269 Ennigerloh",
    ]
    # The client lets a person pick and sends the point back: no second search.
    picked = body["candidates"][1]
    again = client.post(
        "/api/v1/requests",
        json=in_person(address=picked["address"], location=picked["location"]),
        headers=caseworker.headers,
    )
    assert again.status_code == 201, again.text
    assert again.json()["location"] == picked["location"]
    assert len(fake_nominatim.queries) == 1


def test_an_address_outside_the_pool_area_is_refused(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim
) -> None:
    fake_nominatim.add(
        "Beckumer Straße 1", lat=52.52, lon=13.40, road="Beckumer Straße", town="Berlin"
    )
    response = client.post(
        "/api/v1/requests", json=in_person(address="Beckumer Straße 1"), headers=caseworker.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "address_outside_area"
    assert response.json()["candidates"][0]["in_area"] is False


@pytest.mark.parametrize("behaviour", ["server_error", "slow", "garbage"])
def test_a_geocoder_that_does_not_answer_asks_for_a_place_or_a_point(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim, behaviour: str
) -> None:
    fake_nominatim.behaviour = behaviour  # type: ignore[assignment]
    response = client.post(
        "/api/v1/requests", json=in_person(address="Weststraße 46"), headers=caseworker.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "geocoder_unavailable"
    assert "place_id" in body["detail"] and "location" in body["detail"]


def test_without_a_geocoder_an_address_needs_its_point(
    client: TestClient, caseworker: Staff, settings: Settings
) -> None:
    settings.geocoder_url = None
    refused = client.post(
        "/api/v1/requests", json=in_person(address="Weststraße 46"), headers=caseworker.headers
    )
    assert refused.status_code == 422 and refused.json()["code"] == "geocoder_unavailable"
    given = client.post(
        "/api/v1/requests",
        json=in_person(address="Weststraße 46", location={"lat": 51.755, "lon": 8.037}),
        headers=caseworker.headers,
    )
    assert given.status_code == 201, given.text
    assert given.json()["address"] == "Weststraße 46"


def test_a_home_visit_is_at_an_address_not_at_a_place(
    client: TestClient, caseworker: Staff, place_id: int
) -> None:
    for body in (in_person(place_id=place_id, home_visit=True), request_payload(home_visit=True)):
        response = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
        assert response.status_code == 422, response.text
        assert "home visit" in response.json()["detail"]


def test_a_change_to_the_address_is_geocoded_too(
    client: TestClient, caseworker: Staff, fake_nominatim: FakeNominatim, place_id: int
) -> None:
    fake_nominatim.add("Markt 1", lat=51.7556, lon=8.0408, road="Markt", house_number="1")
    filed = client.post(
        "/api/v1/requests", json=in_person(place_id=place_id), headers=caseworker.headers
    ).json()

    nowhere = client.patch(
        f"/api/v1/requests/{filed['id']}",
        json={"address": "Nirgendwo 1"},
        headers=caseworker.headers,
    )
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "address_not_found"
    moved = client.patch(
        f"/api/v1/requests/{filed['id']}",
        json={"address": "Markt 1", "home_visit": True},
        headers=caseworker.headers,
    )

    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["place"] is None and body["home_visit"] is True
    assert body["address"] == "Markt 1, 59269 Beckum"
    assert body["location"] == {"lat": pytest.approx(51.7556), "lon": pytest.approx(8.0408)}
