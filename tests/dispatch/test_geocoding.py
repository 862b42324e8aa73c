"""The geocoding adapter: geopy's Nominatim client against a local stand-in of its API."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from config.settings import Settings
from dispatch.geocoding import (
    GeocoderUnavailable,
    NominatimGeocoder,
    PoolArea,
    geocoder_from_settings,
    pool_area,
)
from tests.geocoder_stand_in import FakeNominatim

BECKUM = PoolArea(51.7556, 8.0408, 30.0)


def geocoder(fake: FakeNominatim) -> NominatimGeocoder:
    return NominatimGeocoder(
        fake.base_url, user_agent="sprachpool-tests", area=BECKUM, timeout_seconds=0.5
    )


def test_an_address_is_found_with_its_street_and_point(fake_nominatim: FakeNominatim) -> None:
    fake_nominatim.add(
        "Weststraße 46", lat=51.75534, lon=8.03725, road="Weststraße", house_number="46"
    )

    [match] = geocoder(fake_nominatim).search("Weststraße 46, Beckum")

    assert (match.lat, match.lon) == pytest.approx((51.75534, 8.03725))
    assert match.street == "Weststraße 46"
    assert match.postcode == "59269"
    assert match.town == "Beckum"
    assert "Weststraße 46" in match.label


def test_the_search_names_the_application_and_prefers_the_pool_area(
    fake_nominatim: FakeNominatim,
) -> None:
    geocoder(fake_nominatim).search("Markt 1")

    [query] = fake_nominatim.queries
    assert query["q"] == "Markt 1"
    assert query["countrycodes"] == "de"
    assert "viewbox" in query and query.get("bounded") in (None, "0")
    assert query["addressdetails"] == "1"


def test_an_unknown_address_finds_nothing(fake_nominatim: FakeNominatim) -> None:
    assert geocoder(fake_nominatim).search("Nirgendwo 99") == []
    assert geocoder(fake_nominatim).search("   ") == []


def test_an_ambiguous_address_returns_every_match(fake_nominatim: FakeNominatim) -> None:
    fake_nominatim.add("Hauptstraße 5", lat=51.75, lon=8.04, road="Hauptstraße", house_number="5")
    fake_nominatim.add(
        "Hauptstraße 5",
        lat=51.80,
        lon=7.95,
        road="Hauptstraße",
        house_number="5",
        town="Ennigerloh",
    )

    matches = geocoder(fake_nominatim).search("Hauptstraße 5")

    assert [m.town for m in matches] == ["Beckum", "Ennigerloh"]


@pytest.mark.parametrize("behaviour", ["server_error", "slow", "garbage"])
def test_a_failing_provider_becomes_one_clear_exception(
    fake_nominatim: FakeNominatim, behaviour: str
) -> None:
    fake_nominatim.behaviour = behaviour  # type: ignore[assignment]
    with pytest.raises(GeocoderUnavailable):
        geocoder(fake_nominatim).search("Weststraße 46")


def test_the_pool_area_tells_near_from_far() -> None:
    assert BECKUM.contains(51.7556, 8.0408)
    assert BECKUM.contains(51.80, 7.95)  # Ennigerloh, 8 km
    assert not BECKUM.contains(52.52, 13.40)  # Berlin


def test_without_a_url_there_is_no_geocoder() -> None:
    assert geocoder_from_settings(Settings(secret_key=SecretStr("x" * 40))) is None


def test_settings_build_the_geocoder_and_the_area(fake_nominatim: FakeNominatim) -> None:
    settings = Settings(
        secret_key=SecretStr("x" * 40), geocoder_url=fake_nominatim.base_url, pool_radius_km=12
    )
    fake_nominatim.add("Markt 1", lat=51.7557, lon=8.0410, road="Markt", house_number="1")

    built = geocoder_from_settings(settings)

    assert built is not None
    assert [m.street for m in built.search("Markt 1")] == ["Markt 1"]
    assert pool_area(settings).radius_km == 12


@pytest.mark.parametrize("url", ["ftp://example.org", "nominatim.example.org", ""])
def test_a_malformed_url_is_refused_early(url: str) -> None:
    with pytest.raises(ValueError, match="GEOCODER_URL"):
        NominatimGeocoder(url, user_agent="x")
