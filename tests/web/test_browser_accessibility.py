"""The main pages of each role pass axe-core's WCAG 2.0 and 2.1 A and AA rules in Chromium.

Public bodies in Germany must make their pages accessible (BITV 2.0, which asks for
WCAG 2.1 AA), and mediators read their pages on phones, some with a screen reader or
large text. axe-core checks what a machine can: names of fields and buttons, contrast,
the page's language, table headers, boxes a keyboard cannot reach. It cannot judge the
rest (whether a label says the right thing), so this test is a floor, not a certificate.
Its best-practice rules (heading order, landmarks) are not WCAG criteria and run only
where named: heading order on the statistics and the funders' report, whose charts
stand among sections and tables (a screen reader's list of headings is their outline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

import locales
from dispatch.offers.models import Assignment
from dispatch.storage import unit_of_work
from dispatch.web.links import issue_mediator_link
from tests.web import test_browser
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Server,
    file_broadcast,
    new_page,
    offer_link,
    sign_in,
)
from tests.web.test_browser_allowances import october_jobs

pytestmark = pytest.mark.browser

server = test_browser.server
browser = test_browser.browser

#: axe-core's tags for the success criteria of WCAG 2.1 levels A and AA (BITV 2.0's bar).
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Best-practice rules some pages are held to as well, by path.
ALSO_CHECKED = {
    "/dashboard/stats": ("heading-order",),
    "/dashboard/reports/funders": ("heading-order",),
}


def axe_violations(page: Page, route: str, also: Sequence[str] = ()) -> list[str]:
    """Each element of the page on screen that breaks a WCAG 2.1 A/AA rule (or one of
    the rules `also` named), as "route (width): rule id at target", on a desktop and on
    a phone: on a phone, wide tables scroll in their boxes, which a keyboard must reach
    too."""
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": WCAG_21_AA},
        # A rule enabled by name runs besides the tags' (axe-core's ruleShouldRun).
        "rules": {rule: {"enabled": True} for rule in also},
        "resultTypes": ["violations"],
    }
    found: list[str] = []
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        results = Axe().run(page, options=options)
        found += [
            f"{route} ({viewport['width']} px): {violation['id']} at "
            + " ".join(map(str, node["target"]))
            for violation in results.response["violations"]
            for node in violation["nodes"]
        ]
    return found


def test_the_main_pages_of_each_role_break_no_wcag_21_aa_rule(
    browser: Browser, server: Server
) -> None:
    """Staff pages on a desktop and a phone, the mediator's on a phone, right to left.
    (On a phone, the boxes that wide tables scroll in could not be reached by keyboard:
    scrollable-region-focusable on the funders' report, statistics and a request.)"""
    october_jobs(server)  # the allowances of the first mediator
    request_id = file_broadcast(server, language="ar", day=5, hour=10)
    found: list[str] = []

    mediator = new_page(browser, server, PHONE)
    mediator.goto(offer_link(server, request_id, "ar"))
    found += axe_violations(mediator, "/o/{token}")
    arabic = locales.translator("ar")
    mediator.get_by_role("button", name=arabic.gettext("Accept – I will take it")).click()
    expect(mediator.get_by_role("heading", name=arabic.gettext("Your job"))).to_be_visible()
    found += axe_violations(mediator, "/o/{token} accepted")
    with unit_of_work(server.engine) as session:
        assignment = session.exec(
            select(Assignment).where(Assignment.request_id == request_id)
        ).one()
        mediator_id = assignment.mediator_id
        own_page = issue_mediator_link(session, mediator_id=mediator_id, now=server.clock.now())
    mediator.goto(own_page)
    found += axe_violations(mediator, "/m/{token}")

    anyone = new_page(browser, server)
    anyone.goto("/login")
    found += axe_violations(anyone, "/login")

    caseworker = new_page(browser, server)
    sign_in(caseworker, "peters@jobcenter.example")
    for address in ("/requests/new", "/requests", f"/requests/{request_id}"):
        caseworker.goto(address)
        found += axe_violations(caseworker, address)

    coordinator = new_page(browser, server)
    sign_in(coordinator, "koordination@beckum.example")
    for address in (
        "/dashboard",
        f"/dashboard/requests/{request_id}",
        "/dashboard/pool",
        f"/dashboard/pool/{mediator_id}",
        "/dashboard/stats?from=2026-10-01&to=2026-12-31",
        "/dashboard/staff",
        "/dashboard/allowances?month=2026-10",
        "/dashboard/reports/funders?from=2026-10-01&to=2026-10-31",
        "/dashboard/audit",
    ):
        coordinator.goto(address)
        found += axe_violations(coordinator, address, ALSO_CHECKED.get(address.split("?")[0], ()))

    assert found == [], "\n".join(found)
