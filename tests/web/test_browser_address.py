"""A caseworker files in-person requests at an address, in Chromium: by the address search
(against the local stand-in of Nominatim) and by a click on the map with no geocoder.

Screenshots `14-address-*.png` (see tests/web/test_browser.py for where they go).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

import locales
from dispatch.web.maps import area_map
from matching.feasibility import great_circle_km
from matching.model import Location
from tests.geocoder_stand_in import FakeNominatim
from tests.web import test_browser as base
from tests.web.test_browser import Server, fill_request, new_page, running_server, shoot, sign_in

pytestmark = pytest.mark.browser
#: The same Chromium fixture as the other browser tests (found by its name).
browser = base.browser

CASEWORKER = "peters@jobcenter.example"
DE = locales.translator("de")
#: A common small phone, narrower than the PHONE of the other tests.
PHONE_360: ViewportSize = {"width": 360, "height": 640}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _nominatim_server: FakeNominatim
) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("browser-address"),
        geocoder_url=_nominatim_server.base_url,
        geocoder_timeout_seconds=2.0,
    ) as running:
        yield running


def at_an_address(page: Page, address: str, *, home_visit: bool = False) -> None:
    fill_request(page, language="Tigrinya (ti)", place=DE.gettext("Other address (enter below)"))
    page.get_by_label(DE.gettext("Street and house number, town")).fill(address)
    if home_visit:
        page.get_by_label(DE.gettext("Home visit (at the client's home)")).check()


def filed_request_page(page: Page) -> None:
    """From the list after filing to the new request's own page."""
    expect(page).to_have_url(re.compile(r"/requests\?filed=\d+"))
    filed = re.search(r"filed=(\d+)", page.url)
    assert filed is not None
    page.goto(f"/requests/{filed[1]}")


def test_a_home_visit_by_address_is_searched_confirmed_and_shown(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    _nominatim_server.reset()
    _nominatim_server.add(
        "Lindenstraße 3", lat=51.7601, lon=8.0499, road="Lindenstraße", house_number="3"
    )
    page = new_page(browser, server)
    sign_in(page, CASEWORKER)
    at_an_address(page, "Lindenstraße 3, Beckum", home_visit=True)
    page.get_by_role("button", name=DE.gettext("Send request")).click()

    expect(page.locator("#address-match")).to_contain_text("Gefunden: Lindenstraße 3, 59269 Beckum")
    expect(page.get_by_label(DE.gettext("Street and house number, town"))).to_have_value(
        "Lindenstraße 3, Beckum"
    )
    shoot(page, "14-address-01-match")
    page.get_by_role("button", name=DE.gettext("Yes, this address – send request")).click()

    filed_request_page(page)
    expect(page.locator("dl.facts")).to_contain_text("Hausbesuch")
    expect(page.locator("#home-visit-address")).to_have_text("Lindenstraße 3, 59269 Beckum")
    expect(page.locator("img.area-map-small")).to_be_visible()
    shoot(page, "14-address-02-request")


def test_an_unknown_address_offers_the_map_and_a_click_sets_the_point(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    _nominatim_server.reset()
    page = new_page(browser, server)
    sign_in(page, CASEWORKER)
    at_an_address(page, "Am Nirgendwo 7, Beckum")
    page.get_by_role("button", name=DE.gettext("Send request")).click()
    expect(page.locator("#address-error")).to_contain_text("Keine Adresse passt.")
    expect(page.locator("#map-details")).to_have_attribute("open", "")
    shoot(page, "14-address-03-not-found")


def test_without_a_geocoder_a_click_on_the_map_sets_the_point(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    server.settings.geocoder_url = None
    try:
        page = new_page(browser, server)
        sign_in(page, CASEWORKER)
        at_an_address(page, "Lindenstraße 3, Beckum")
        expect(page.get_by_role("button", name=DE.gettext("Search address"))).to_have_count(0)
        shape = area_map(server.settings)
        x, y = shape.to_pixel(51.7601, 8.0499)
        page.locator("input.area-map-picture:visible").click(position={"x": x, "y": y})

        expect(page.locator("#point-set")).to_be_visible()
        shoot(page, "14-address-04-map-point")
        page.get_by_role("button", name=DE.gettext("Send request")).click()

        filed_request_page(page)
        expect(page.locator("dl.facts")).to_contain_text("Lindenstraße 3, Beckum")
        expect(page.locator("img.area-map-small")).to_have_attribute(
            "src", re.compile(r"mark=51\.76\d*,8\.0[45]\d*")
        )
    finally:
        server.settings.geocoder_url = _nominatim_server.base_url


def test_the_map_fits_a_phone_and_a_click_on_it_sets_the_point_without_javascript(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    """At 480 px the map ran 150 px past a 360 px phone's edge. Whatever size it is shown
    at, a click must land where it shows, with no script to translate it."""
    server.settings.geocoder_url = None
    try:
        page = new_page(browser, server, PHONE_360, javascript=False)
        sign_in(page, CASEWORKER)
        at_an_address(page, "Lindenstraße 3, Beckum")
        picture = page.locator("input.area-map-picture:visible")
        expect(picture).to_have_count(1)
        box = picture.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_360["width"], box
        assert PHONE_360["width"] / 2 <= box["height"] <= PHONE_360["height"] / 2, box
        size = int(picture.get_attribute("width") or 0)
        assert box["width"] <= size + 2  # drawn at its own size (and a border): not scaled
        x, y = replace(area_map(server.settings), size=size).to_pixel(51.7601, 8.0499)
        picture.click(position={"x": x, "y": y})

        expect(page.locator("#point-set")).to_be_visible()
        shoot(page, "14-address-05-map-point-phone")
        page.get_by_role("button", name=DE.gettext("Send request")).click()
        filed_request_page(page)
        shown = page.locator("img.area-map-small").get_attribute("src") or ""
        mark = re.search(r"mark=([\d.]+),([\d.]+)", shown)
        assert mark is not None
        set_at = Location(float(mark[1]), float(mark[2]))
        assert great_circle_km(set_at, Location(51.7601, 8.0499)) < 0.3, set_at
    finally:
        server.settings.geocoder_url = _nominatim_server.base_url
