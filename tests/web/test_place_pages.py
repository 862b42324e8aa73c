"""The coordinator's place pages: add by address search, the fallback point, edit, deactivate."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.outbox.models import Message
from dispatch.places.models import Place
from dispatch.web.maps import area_map
from tests.conftest import Staff, request_payload
from tests.geocoder_stand_in import FakeNominatim
from tests.web.conftest import Person, csrf_of


@pytest.fixture
def settings(geocoding_settings: Settings) -> Settings:
    """The app asks the local stand-in of Nominatim, and gives up on it quickly."""
    return geocoding_settings


def places_in(engine: Engine) -> list[Place]:
    with Session(engine) as session:
        return list(session.exec(select(Place).order_by(Place.id)))  # type: ignore[arg-type]


def post_form(web: TestClient, path: str, **values: str) -> tuple[int, str]:
    page = web.get(path)
    response = web.post(path, data={"csrf_token": csrf_of(page), **values})
    return response.status_code, response.text


def test_coordinator_finds_the_address_picks_the_match_and_saves(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    fake_nominatim: FakeNominatim,
    engine: Engine,
) -> None:
    fake_nominatim.add(
        "Weststraße 46", lat=51.75534, lon=8.03725, road="Weststraße", house_number="46"
    )
    web = signed_in(coord_person)

    status, text = post_form(
        web,
        "/dashboard/places/new",
        name="Rathaus Beckum",
        address="Weststraße 46",
        action="search",
    )
    assert status == 200
    assert "Weststraße 46, 59269 Beckum, Deutschland" in text
    assert 'value="Rathaus Beckum"' in text  # what was typed stays
    match = "51.7553400;8.0372500;Weststraße 46, 59269 Beckum"
    assert f'value="{match}" checked' in text

    status, _ = post_form(
        web,
        "/dashboard/places/new",
        name="Rathaus Beckum",
        address="Weststraße 46",
        contact_hint="Bürgerbüro",
        match=match,
        action="save",
    )
    assert status == 303
    [place] = places_in(engine)
    assert (place.name, place.address, place.contact_hint) == (
        "Rathaus Beckum",
        "Weststraße 46, 59269 Beckum",
        "Bürgerbüro",
    )
    assert (place.lat, place.lon) == pytest.approx((51.75534, 8.03725))
    listing = web.get("/dashboard/places")
    assert "Rathaus Beckum" in listing.text and "Bürgerbüro" in listing.text


def test_a_match_far_away_is_flagged_and_not_preselected(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    fake_nominatim: FakeNominatim,
) -> None:
    fake_nominatim.add(
        "Beckumer Straße 1", lat=52.52, lon=13.40, road="Beckumer Straße", town="Berlin"
    )
    status, text = post_form(
        signed_in(coord_person),
        "/dashboard/places/new",
        name="Irgendwo",
        address="Beckumer Straße 1",
        action="search",
    )
    assert status == 200
    assert "außerhalb des Gebiets des Pools" in text
    assert "checked" not in text


@pytest.mark.parametrize("behaviour", ["server_error", "slow"])
def test_when_the_geocoder_fails_the_point_is_given_by_hand(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    fake_nominatim: FakeNominatim,
    engine: Engine,
    behaviour: str,
) -> None:
    fake_nominatim.behaviour = behaviour  # type: ignore[assignment]
    web = signed_in(coord_person)
    status, text = post_form(
        web, "/dashboard/places/new", name="Jobcenter", address="Hühlstraße 8", action="search"
    )
    assert status == 200
    assert "Die Adresssuche ist gerade nicht erreichbar" in text
    status, _ = post_form(
        web,
        "/dashboard/places/new",
        name="Jobcenter",
        address="Hühlstraße 8",
        lat="51,7571",
        lon="8.0458",
        action="save",
    )
    assert status == 303
    [place] = places_in(engine)
    assert (place.address, place.lat, place.lon) == ("Hühlstraße 8", 51.7571, 8.0458)


def test_without_a_geocoder_the_form_asks_for_the_point(
    signed_in: Callable[[Person], TestClient], coord_person: Person, settings: Settings
) -> None:
    settings.geocoder_url = None
    page = signed_in(coord_person).get("/dashboard/places/new")
    assert "Keine Adresssuche eingerichtet" in page.text
    assert 'value="search"' not in page.text


def test_bad_input_is_shown_beside_the_fields_and_kept(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    status, text = post_form(
        web, "/dashboard/places/new", name="", address="Markt 1", lat="91", lon="acht"
    )
    assert status == 422
    assert 'id="name-error"' in text and "Bitte geben Sie dem Ort einen Namen" in text
    assert 'id="lat-error"' in text and "höchstens 90" in text
    assert 'id="lon-error"' in text
    assert 'value="Markt 1"' in text and 'value="acht"' in text
    assert places_in(engine) == []

    web.get("/lang/en")
    status, text = post_form(web, "/dashboard/places/new", name="Rathaus", lat="", lon="")
    assert status == 422
    assert "Please pick a match of the address search, or give the latitude" in text


def test_a_taken_name_is_refused_beside_the_name(
    signed_in: Callable[[Person], TestClient], coord_person: Person, place: Place
) -> None:
    status, text = post_form(
        signed_in(coord_person),
        "/dashboard/places/new",
        name=place.name,
        lat="51.7",
        lon="8.0",
        action="save",
    )
    assert status == 409
    assert 'id="name-error"' in text and "Dieser Name ist schon vergeben" in text


def test_edit_then_deactivate_and_bring_back(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    place: Place,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    path = f"/dashboard/places/{place.id}"
    status, _ = post_form(
        web,
        path,
        name="Rathaus Beckum (Neubau)",
        address="Weststraße 46",
        contact_hint="Empfang",
        lat="51.7553",
        lon="8.0403",
        action="save",
    )
    assert status == 303
    page = web.get(path)
    status = web.post(
        f"{path}/active", data={"csrf_token": csrf_of(page), "active": "false"}
    ).status_code
    assert status == 303
    [saved] = places_in(engine)
    assert (saved.name, saved.contact_hint, saved.active) == (
        "Rathaus Beckum (Neubau)",
        "Empfang",
        False,
    )
    assert "Rathaus Beckum (Neubau)" not in web.get("/dashboard/places").text
    assert "Rathaus Beckum (Neubau)" in web.get("/dashboard/places?show=all").text
    assert "Rathaus Beckum (Neubau)" not in web.get("/requests/new").text
    web.post(f"{path}/active", data={"csrf_token": csrf_of(page), "active": "true"})
    assert places_in(engine)[0].active


def test_a_caseworker_may_not_open_the_place_pages(
    signed_in: Callable[[Person], TestClient], case_person: Person, place: Place
) -> None:
    web = signed_in(case_person)
    assert web.get("/dashboard/places").status_code == 403
    assert web.get(f"/dashboard/places/{place.id}").status_code == 403
    page = web.get("/requests/new")
    response = web.post(
        "/dashboard/places/new",
        data={"csrf_token": csrf_of(page), "name": "X", "lat": "51", "lon": "8"},
    )
    assert response.status_code == 403
    assert "Keine Berechtigung" in response.text or "Kein Zugriff" in response.text


def test_a_click_on_the_map_sets_the_point_to_save(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    engine: Engine,
    settings: Settings,
) -> None:
    settings.geocoder_url = None
    web = signed_in(coord_person)
    x, y = area_map(settings).to_pixel(51.7601, 8.0499)
    clicks = {"map.x": f"{x:.0f}", "map.y": f"{y:.0f}"}

    outside = post_form(web, "/dashboard/places/new", name="Nord", **{"map.x": "1", "map.y": "2"})
    assert outside[0] == 422 and "Bitte klicken Sie in den Kreis" in outside[1]
    status, text = post_form(web, "/dashboard/places/new", name="Nord", address="Nord 1", **clicks)
    assert status == 200 and places_in(engine) == []
    assert "/map.svg?mark=51.76" in text
    lat = re.search(r'name="lat"[^>]*value="([0-9.]+)"', text)
    lon = re.search(r'name="lon"[^>]*value="([0-9.]+)"', text)
    assert lat and lon
    saved = post_form(
        web, "/dashboard/places/new", name="Nord", address="Nord 1", lat=lat[1], lon=lon[1]
    )
    assert saved[0] == 303
    [place] = places_in(engine)
    assert (place.lat, place.lon) == pytest.approx((51.7601, 8.0499), abs=2e-3)


def test_a_point_at_0_0_or_hundreds_of_km_away_is_refused_beside_it(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    status, text = post_form(
        web, "/dashboard/places/new", name="Nirgendwo", lat="0", lon="0", action="save"
    )
    assert status == 422 and 'id="lon-error"' in text
    assert "Breite 0, Länge 0 liegt im Golf von Guinea" in text
    status, text = post_form(
        web, "/dashboard/places/new", name="Vertauscht", lat="8.0458", lon="51.7571", action="save"
    )
    assert status == 422 and 'id="lat-error"' in text
    assert "Dieser Punkt liegt 6275 km vom Mittelpunkt des Pool-Gebiets entfernt" in text
    assert 'value="Vertauscht"' in text
    assert places_in(engine) == []


def test_saving_the_page_with_a_new_contact_tells_the_holder_of_a_job_there_that_alone(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    place: Place,
    add_mediator: Callable[..., int],
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    engine: Engine,
) -> None:
    holder = add_mediator(message_locale="de")
    filed = client.post(
        "/api/v1/requests",
        json=request_payload(language="ar", mode="in_person", place_id=place.id),
        headers=caseworker.headers,
    )
    assert filed.status_code == 201, filed.text
    assigned = client.post(
        f"/api/v1/requests/{filed.json()['id']}/assign",
        json={"mediator_id": holder},
        headers=coordinator.headers,
    )
    assert assigned.status_code in (200, 201), assigned.text
    web = signed_in(coord_person)
    unchanged = {
        "name": place.name,
        "address": place.address or "",
        "lat": str(place.lat),
        "lon": str(place.lon),
        "action": "save",
    }

    post_form(web, f"/dashboard/places/{place.id}", **unchanged, contact_hint="Bürgerbüro")
    post_form(web, f"/dashboard/places/{place.id}", **unchanged, contact_hint="Empfang, Raum 3")

    with Session(engine) as session:
        told = list(
            session.exec(
                select(Message).where(
                    Message.kind == "request_changed_mediator", Message.channel == "email"
                )
            )
        )
    assert [m.recipient_id for m in told] == [holder]
    assert "die Koordination hat den Einsatz geändert" in told[0].body  # not the caseworker
    assert "Geändert: Ansprechperson\n" in told[0].body
    assert "Ansprechperson: Empfang, Raum 3" in told[0].body
