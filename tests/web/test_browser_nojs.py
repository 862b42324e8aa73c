"""The pages with JavaScript off, in Chromium: a mediator on a basic phone or a data-saving
browser, a caseworker whose office blocks scripts. Everything a person must do is a form
that posts; scripts only enhance (see dispatch/web/static/)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

import locales
from dispatch.deadlines import runner as deadlines
from dispatch.mediators.models import Mediator
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from tests.geocoder_stand_in import FakeNominatim
from tests.web import test_browser as base
from tests.web import test_browser_address as address_tests
from tests.web.test_browser import PHONE, Server, file_broadcast, new_page, offer_sms
from tests.web.test_browser_jobs import newest_link

pytestmark = pytest.mark.browser
#: The same Chromium fixture as the other browser tests (found by its name), and the
#: server of the address tests: with the stand-in geocoder, so a typed address is found.
browser = base.browser
server = address_tests.server

CASEWORKER = "peters@jobcenter.example"
DE = locales.translator("de")


def basic_phone(browser: Browser, server: Server) -> Page:
    return new_page(browser, server, PHONE, javascript=False)


def offer_links(server: Server, request_id: int) -> list[tuple[str, locales.Translator]]:
    """Each asked mediator's offer link (as their SMS has it) and their language."""
    return [(link, locales.translator(locale)) for _, link, locale in offer_sms(server, request_id)]


def status_of(server: Server, request_id: int) -> RequestStatus:
    with unit_of_work(server.engine) as session:
        row = session.get(Request, request_id)
        assert row is not None
        return row.status


def client_ref_of(server: Server, request_id: int) -> str | None:
    with unit_of_work(server.engine) as session:
        row = session.get(Request, request_id)
        assert row is not None
        return row.client_ref


def test_a_mediator_without_javascript_declines_accepts_gives_back_pauses_and_reports(
    browser: Browser, server: Server
) -> None:
    given_back = file_broadcast(server, language="ar", day=1, hour=9)
    (first, first_t), (second, second_t), *_ = offer_links(server, given_back)

    phone = basic_phone(browser, server)
    phone.goto(first)
    phone.get_by_label(first_t.gettext("Decline (reason, optional)")).fill("Arzttermin")
    phone.get_by_role("button", name=first_t.gettext("Decline"), exact=True).click()
    expect(phone.get_by_role("heading", name=first_t.gettext("Declined"))).to_be_visible()

    phone = basic_phone(browser, server)
    phone.goto(second)
    phone.get_by_role("button", name=second_t.gettext("Accept – I will take it")).click()
    expect(phone.get_by_role("heading", name=second_t.gettext("Your job"))).to_be_visible()
    assert status_of(server, given_back) == RequestStatus.assigned
    phone.get_by_role("button", name=second_t.gettext("Give the job back")).click()
    expect(
        phone.get_by_role("heading", name=second_t.gettext("Give the job back?"))
    ).to_be_visible()
    assert status_of(server, given_back) == RequestStatus.assigned  # asked once more first
    phone.get_by_role("button", name=second_t.gettext("Yes, give the job back")).click()
    expect(phone.get_by_role("heading", name=second_t.gettext("Job given back"))).to_be_visible()
    assert status_of(server, given_back) != RequestStatus.assigned

    reported = file_broadcast(server, language="ar", day=1, hour=14)
    link, their = offer_links(server, reported)[0]
    phone = basic_phone(browser, server)
    phone.goto(link)
    phone.get_by_role("button", name=their.gettext("Accept – I will take it")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Your job"))).to_be_visible()

    phone.get_by_role("button", name=their.gettext("My jobs · Pause")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Your next jobs"))).to_be_visible()
    expect(phone.locator("article.job")).to_have_count(1)
    phone.get_by_role("button", name=their.gettext("Pause"), exact=True).click()
    expect(phone.get_by_role("status")).to_have_text(
        their.gettext("You are paused. You get no new offers until you resume.")
    )
    phone.get_by_role("button", name=their.gettext("Get offers again")).click()
    expect(phone.get_by_role("status")).to_have_text(
        their.gettext("Welcome back! You get offers again.")
    )

    server.clock.advance(timedelta(days=1, hours=8))  # Tuesday 16:00: the job is over
    while deadlines.run_due(server.engine, clock=server.clock, settings=server.settings):
        pass
    report, locale = newest_link(server, "completion_request", r"https?://\S+/o/[\w\-]+")
    their = locales.translator(locale)
    phone = basic_phone(browser, server)
    phone.goto(report)
    phone.get_by_label(their.gettext("Start")).fill("14:00")
    phone.get_by_label(their.gettext("End")).fill("15:10")
    phone.get_by_label(their.gettext("Waiting time in minutes")).fill("5")
    phone.get_by_label(their.gettext("Travel in km (there and back)")).fill("0")
    phone.get_by_role("button", name=their.gettext("Report")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Thank you!"))).to_be_visible()


def test_a_caseworker_without_javascript_signs_in_files_at_an_address_edits_cancels_signs_out(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    _nominatim_server.reset()
    _nominatim_server.add(
        "Lindenstraße 3", lat=51.7601, lon=8.0499, road="Lindenstraße", house_number="3"
    )
    page = new_page(browser, server, javascript=False)
    base.sign_in(page, CASEWORKER)
    expect(page).to_have_url(re.compile(r"/requests$"))

    page.goto("/requests/new")
    # The name as typed: a data-saving browser may show no list to pick from.
    page.get_by_label(DE.gettext("Language"), exact=True).fill("Tigrinya")
    page.get_by_label(DE.gettext("Date")).fill("2026-12-03")
    page.get_by_label(DE.gettext("Start")).fill("09:00")
    page.get_by_role("radio", name=DE.gettext("in person")).check()
    # No script hides what the other kinds of appointment need: the fields stay, unused.
    expect(page.get_by_label(DE.gettext("Our phone number or the video link"))).to_be_visible()
    page.get_by_label(DE.gettext("Place (in person only)")).select_option(
        label=DE.gettext("Other address (enter below)")
    )
    page.get_by_label(DE.gettext("Street and house number, town")).fill("Lindenstraße 3, Beckum")
    page.get_by_role("button", name=DE.gettext("Send request")).click()
    page.get_by_role("button", name=DE.gettext("Yes, this address – send request")).click()
    expect(page).to_have_url(re.compile(r"/requests\?filed=\d+"))
    filed = re.search(r"filed=(\d+)", page.url)
    assert filed is not None
    request_id = int(filed[1])

    page.goto(f"/requests/{request_id}")
    page.get_by_role("link", name=DE.gettext("Change"), exact=True).click()
    page.get_by_label(DE.gettext("Start")).fill("10:00")
    page.get_by_role("button", name=DE.gettext("Save changes")).click()
    expect(page.get_by_role("status")).to_contain_text(DE.gettext("The request is changed."))
    expect(page.locator("h1")).to_contain_text("10:00")

    page.get_by_role("button", name=DE.gettext("Cancel request")).click()
    expect(page.locator("#question")).to_have_text(
        DE.gettext("Really cancel request no. %(n)s?", n=request_id)
    )
    assert status_of(server, request_id) != RequestStatus.cancelled  # asked first
    page.get_by_role("button", name=DE.gettext("Yes, cancel the request")).click()
    expect(page).to_have_url(re.compile(rf"/requests\?cancelled={request_id}$"))
    assert status_of(server, request_id) == RequestStatus.cancelled

    page.get_by_role("button", name=re.compile(DE.gettext("Sign out"))).click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/requests")
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_caseworker_without_javascript_is_asked_before_a_reference_is_erased(
    browser: Browser, server: Server
) -> None:
    """GDPR erasure cannot be undone: with scripts blocked, a page asks the question first."""
    reference = "JC-2026-0999"
    request_id = file_broadcast(server, language="ar", day=2, hour=11, client_ref=reference)
    page = new_page(browser, server, javascript=False)
    base.sign_in(page, CASEWORKER)
    page.goto(f"/requests/{request_id}")
    erase = page.get_by_role("button", name=DE.gettext("Erase this reference everywhere (GDPR)"))

    erase.click()

    expect(page.get_by_role("heading", name=DE.gettext("Are you sure?"))).to_be_visible()
    expect(page.locator("#question")).to_have_text(
        DE.gettext(
            "Erase the reference %(ref)s from every request of the organisation, its series and "
            "e-mails? This cannot be undone.",
            ref=reference,
        )
    )
    assert client_ref_of(server, request_id) == reference  # asked, nothing erased yet
    page.get_by_role("link", name=DE.gettext("No, go back")).click()
    expect(page).to_have_url(re.compile(rf"/requests/{request_id}$"))
    assert client_ref_of(server, request_id) == reference
    erase.click()
    page.get_by_role("button", name=DE.gettext("Yes, erase the reference everywhere")).click()
    expect(page).to_have_url(re.compile(rf"/requests/{request_id}\?done=client_erased$"))
    expect(page.get_by_role("status")).to_contain_text(
        DE.gettext(
            "The reference is erased from every request of the organisation, from its series "
            "and from the e-mails about them."
        )
    )
    assert client_ref_of(server, request_id) is None


def test_a_coordinator_without_javascript_pauses_a_mediator_and_offers_their_job_to_others(
    browser: Browser, server: Server
) -> None:
    """Pausing someone who holds a job to come asks first, in a page with plain forms."""
    request_id = file_broadcast(server, language="ar", day=3, hour=10)
    (mediator_id, link, locale), *_ = offer_sms(server, request_id)
    their = locales.translator(locale)
    phone = basic_phone(browser, server)
    phone.goto(link)
    phone.get_by_role("button", name=their.gettext("Accept – I will take it")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Your job"))).to_be_visible()
    page = new_page(browser, server, javascript=False)
    base.sign_in(page, "koordination@beckum.example")
    page.goto(f"/dashboard/pool/{mediator_id}")
    with unit_of_work(server.engine) as session:
        mediator = session.get(Mediator, mediator_id)
        assert mediator is not None
        name = mediator.name

    page.get_by_role("button", name=DE.gettext("Pause"), exact=True).click()

    expect(
        page.get_by_role("heading", name=DE.gettext("Pause %(name)s?", name=name))
    ).to_be_visible()
    expect(page.locator("#held-jobs tbody tr")).to_have_count(1)
    assert status_of(server, request_id) == RequestStatus.assigned  # asked, nothing changed
    base.shoot(page, "30-pool-pause-with-jobs")
    page.get_by_role("link", name=DE.gettext("Don't pause")).click()
    expect(page).to_have_url(re.compile(rf"/dashboard/pool/{mediator_id}$"))
    page.get_by_role("button", name=DE.gettext("Pause"), exact=True).click()
    offer = DE.ngettext(
        "Pause and offer this job to others", "Pause and offer these %(num)s jobs to others", 1
    )
    page.get_by_role("button", name=offer).click()

    expect(page).to_have_url(re.compile(rf"/dashboard/pool/{mediator_id}$"))
    expect(page.get_by_role("button", name=DE.gettext("Resume"))).to_be_visible()
    assert status_of(server, request_id) != RequestStatus.assigned
    # Back in the pool, for the tests after this one.
    page.get_by_role("button", name=DE.gettext("Resume")).click()
    expect(page.get_by_role("button", name=DE.gettext("Pause"), exact=True)).to_be_visible()
