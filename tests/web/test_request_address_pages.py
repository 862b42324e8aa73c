"""The request form's "other address": searched and confirmed, or set on the map."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.areamap import AreaMap
from dispatch.requests.models import Request
from dispatch.web.maps import MAP_PICTURES, area_map
from tests.geocoder_stand_in import FakeNominatim
from tests.web.conftest import Person
from tests.web.test_caseworker_pages import GOOD, post_form

AT_AN_ADDRESS = {**GOOD, "mode": "in_person", "place": "address"}


@pytest.fixture
def settings(geocoding_settings: Settings) -> Settings:
    return geocoding_settings


def stored(engine: Engine) -> Request:
    with Session(engine) as session:
        return session.exec(select(Request)).one()


def nothing_stored(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(Request)).first() is None


def test_one_match_in_the_area_is_confirmed_with_one_click(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    fake_nominatim: FakeNominatim,
) -> None:
    fake_nominatim.add(
        "Weststraße 46", lat=51.75534, lon=8.03725, road="Weststraße", house_number="46"
    )
    web = signed_in(case_person)

    shown = post_form(web, **AT_AN_ADDRESS, address="Weststraße 46", home_visit="1")

    assert shown.status_code == 200 and nothing_stored(engine)
    assert "Gefunden: Weststraße 46, 59269 Beckum" in shown.text
    assert "Ja, diese Adresse – Anfrage senden" in shown.text
    filed = post_form(
        web,
        **AT_AN_ADDRESS,
        address="Weststraße 46",
        home_visit="1",
        match="51.7553400;8.0372500;Weststraße 46, 59269 Beckum",
    )
    assert filed.status_code == 303, filed.text
    request = stored(engine)
    assert request.address == "Weststraße 46, 59269 Beckum" and request.home_visit
    assert (request.location_lat, request.location_lon) == pytest.approx((51.75534, 8.03725))


def test_an_ambiguous_address_offers_the_matches_to_pick(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    fake_nominatim: FakeNominatim,
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
    web = signed_in(case_person)

    shown = post_form(web, **AT_AN_ADDRESS, address="Hauptstraße 5")

    assert shown.status_code == 422 and nothing_stored(engine)
    assert "Mehrere Adressen passen." in shown.text
    assert shown.text.count('type="radio" name="match"') == 2
    # What was typed stays.
    assert 'value="Hauptstraße 5"' in shown.text


@pytest.mark.parametrize(
    ("behaviour", "address", "message"),
    [
        ("ok", "Nirgendwo 99", "Keine Adresse passt."),
        ("server_error", "Weststraße 46", "Die Adresssuche ist gerade nicht erreichbar."),
        ("slow", "Weststraße 46", "Die Adresssuche ist gerade nicht erreichbar."),
    ],
)
def test_no_match_or_no_answer_says_so_and_opens_the_map(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    fake_nominatim: FakeNominatim,
    behaviour: str,
    address: str,
    message: str,
) -> None:
    fake_nominatim.behaviour = behaviour  # type: ignore[assignment]
    web = signed_in(case_person)
    shown = post_form(web, **AT_AN_ADDRESS, address=address)
    assert shown.status_code == 422 and nothing_stored(engine)
    assert message in shown.text and 'id="address-error"' in shown.text
    assert '<details class="area-map" id="map-details" open>' in shown.text


def test_an_address_outside_the_area_is_flagged_not_offered(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    fake_nominatim: FakeNominatim,
) -> None:
    fake_nominatim.add(
        "Beckumer Straße 1", lat=52.52, lon=13.40, road="Beckumer Straße", town="Berlin"
    )
    shown = post_form(signed_in(case_person), **AT_AN_ADDRESS, address="Beckumer Straße 1")
    assert shown.status_code == 422
    assert "liegt außerhalb des Gebiets des Pools" in shown.text
    assert 'name="match"' not in shown.text


def test_without_a_geocoder_the_point_is_set_on_the_map_and_confirmed(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    settings: Settings,
) -> None:
    settings.geocoder_url = None
    web = signed_in(case_person)
    shape: AreaMap = area_map(settings)
    x, y = shape.to_pixel(51.7600, 8.0500)

    asked = post_form(web, **AT_AN_ADDRESS, address="Lindenstraße 3")
    assert asked.status_code == 422 and "Bitte setzen Sie den Punkt auf der Karte" in asked.text
    outside = post_form(
        web, **AT_AN_ADDRESS, address="Lindenstraße 3", **{"map.x": "2", "map.y": "3"}
    )
    assert outside.status_code == 422 and "Bitte klicken Sie in den Kreis" in outside.text
    point = post_form(
        web, **AT_AN_ADDRESS, address="Lindenstraße 3", **{"map.x": f"{x:.0f}", "map.y": f"{y:.0f}"}
    )
    assert point.status_code == 200 and nothing_stored(engine)
    assert "Punkt gesetzt" in point.text and "/map.svg?mark=51.76" in point.text

    lat, lon = shape.click(round(x), round(y)) or (0.0, 0.0)
    filed = post_form(
        web,
        **AT_AN_ADDRESS,
        address="Lindenstraße 3",
        lat=f"{lat}",
        lon=f"{lon}",
        located="Lindenstraße 3",
    )
    assert filed.status_code == 303, filed.text
    request = stored(engine)
    assert request.address == "Lindenstraße 3" and not request.home_visit
    assert (request.location_lat, request.location_lon) == pytest.approx((51.76, 8.05), abs=1e-3)


def test_a_click_on_the_phones_smaller_map_is_read_in_its_own_pixels(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    settings: Settings,
) -> None:
    """The same spot is at other pixels of the phone's map: read as the wide map's, it
    would set a point kilometres off."""
    settings.geocoder_url = None
    phone = next(picture for picture in MAP_PICTURES if picture.screen == "phone")
    x, y = area_map(settings, phone.size).to_pixel(51.7600, 8.0500)
    click = {f"{phone.name}.x": f"{x:.0f}", f"{phone.name}.y": f"{y:.0f}"}

    point = post_form(signed_in(case_person), **AT_AN_ADDRESS, address="Lindenstraße 3", **click)
    assert point.status_code == 200 and nothing_stored(engine)
    set_at = re.search(
        r'name="lat" value="([\d.]+)".*?name="lon" value="([\d.]+)"', point.text, re.S
    )
    assert set_at is not None
    assert (float(set_at[1]), float(set_at[2])) == pytest.approx((51.76, 8.05), abs=2e-3)


def test_a_point_set_for_another_address_is_not_taken(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    settings: Settings,
    engine: Engine,
) -> None:
    settings.geocoder_url = None
    shown = post_form(
        signed_in(case_person),
        **AT_AN_ADDRESS,
        address="Lindenstraße 30",
        lat="51.76",
        lon="8.05",
        located="Lindenstraße 3",
    )
    assert shown.status_code == 422 and nothing_stored(engine)


def test_the_map_shows_the_places_and_the_point(
    signed_in: Callable[[Person], TestClient], case_person: Person, place_id: int
) -> None:
    picture = signed_in(case_person).get("/map.svg?mark=51.76,8.05")
    assert picture.status_code == 200
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert "Jobcenter Beckum" in picture.text and 'fill="#d62828"' in picture.text


def test_the_map_is_drawn_at_the_size_asked_for_within_its_sizes(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    small = web.get("/map.svg?mark=51.76,8.05&size=280")
    assert small.status_code == 200 and 'width="280" height="280"' in small.text
    assert web.get("/map.svg?size=5000").status_code == 422


def test_the_map_is_for_signed_in_staff(web: TestClient) -> None:
    assert web.get("/map.svg").status_code in (303, 401)
