"""Changing requests and finding them again, in a real browser as a caseworker (issue 14):
a new time keeps the mediator, who is told; a new language releases them and asks others; a
video link shows only on the accepted mediator's page; search, the request page after the
job, and the mediator's "not again for this client". Screenshots `14-requests-*`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

import locales
from dispatch.deadlines import runner as deadlines
from dispatch.offers.models import Assignment, Offer
from dispatch.outbox.models import Message
from dispatch.requests.models import ClientExclusion
from dispatch.storage import unit_of_work
from tests.web import test_browser as browser_fixtures
from tests.web.test_browser import PHONE, Server, fill_request, new_page, shoot, sign_in

pytestmark = pytest.mark.browser

server = browser_fixtures.server
browser = browser_fixtures.browser

CASEWORKER = "peters@jobcenter.example"
LINK = r"https?://\S+/o/[A-Za-z0-9_\-]+"


def file_on_the_form(
    page: Page, *, start: str, language: str = "Arabisch (ar)", **extra: str
) -> int:
    """Tuesday 1 December at `start`, by phone (or as `extra` says), sent; the request's id."""
    fill_request(page, language=language)
    page.get_by_label("Beginn").fill(start)
    if "client_ref" in extra:
        page.get_by_label("Aktenzeichen / Kundennummer").fill(extra["client_ref"])
    if extra.get("video"):
        page.get_by_role("radio", name="Video").check()
        page.get_by_label("Wer ruft wen an (Telefon und Video)").select_option("mediator_calls")
        page.get_by_label("Unsere Telefonnummer oder der Video-Link").fill(extra["video"])
    if extra.get("broadcast"):
        page.get_by_label("Dringend: alle passenden Personen gleichzeitig anfragen").check()
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.get_by_role("status")).to_contain_text("ist gespeichert")
    filed = re.search(r"filed=(\d+)", page.url)
    assert filed is not None
    return int(filed[1])


def offer_links(server: Server, request_id: int) -> list[tuple[int, str, str]]:
    """(mediator, link, their language) of every offer SMS for the request, oldest first."""
    with unit_of_work(server.engine) as session:
        found = []
        for message in session.exec(
            select(Message)
            .where(Message.kind == "offer", Message.channel == "sms")
            .where(Message.request_id == request_id)
            .order_by(col(Message.id))
        ):
            link = re.search(LINK, message.body)
            assert link is not None and message.recipient_id is not None
            found.append((message.recipient_id, link[0], message.locale))
        return found


def accept(browser: Browser, server: Server, link: str, locale: str, remote: bool) -> Page:
    their = locales.translator(locale)
    phone = new_page(browser, server, PHONE)
    phone.goto(link)
    name = "Accept – I will take it" if remote else "Accept – I will come"
    phone.get_by_role("button", name=their.gettext(name)).click()
    expect(phone.get_by_role("heading", name=their.gettext("Your job"))).to_be_visible()
    return phone


def holder_of(server: Server, request_id: int) -> int | None:
    with unit_of_work(server.engine) as session:
        live = session.exec(
            select(Assignment).where(
                Assignment.request_id == request_id, col(Assignment.cancelled_at).is_(None)
            )
        ).first()
        return live.mediator_id if live else None


def messages_to(server: Server, mediator_id: int, kind: str) -> list[Message]:
    with unit_of_work(server.engine) as session:
        return list(
            session.exec(
                select(Message).where(Message.kind == kind, Message.recipient_id == mediator_id)
            )
        )


def edit(page: Page, request_id: int) -> None:
    page.goto(f"/requests/{request_id}")
    page.get_by_role("link", name="Ändern").click()
    expect(page).to_have_url(re.compile(rf"/requests/{request_id}/edit$"))


def test_a_new_time_keeps_the_mediator_who_is_told(browser: Browser, server: Server) -> None:
    caseworker = new_page(browser, server)
    sign_in(caseworker, CASEWORKER)
    request_id = file_on_the_form(caseworker, start="09:00", client_ref="JC-2026-0417")
    mediator_id, link, locale = offer_links(server, request_id)[0]
    accept(browser, server, link, locale, remote=True)
    assert holder_of(server, request_id) == mediator_id

    edit(caseworker, request_id)
    caseworker.get_by_label("Beginn").fill("09:30")
    shoot(caseworker, "14-requests-change-time")
    caseworker.get_by_role("button", name="Änderungen speichern").click()

    expect(caseworker.get_by_role("status")).to_contain_text("behält den Termin")
    expect(caseworker.locator(".history")).to_contain_text("geändert: Zeit")
    shoot(caseworker, "14-requests-changed-kept")
    assert holder_of(server, request_id) == mediator_id
    told = messages_to(server, mediator_id, "request_changed_mediator")
    assert told, "the mediator got a message about the change"
    assert all("09:30" in m.body for m in told if m.channel == "sms")


def test_a_new_language_releases_the_mediator_and_asks_others(
    browser: Browser, server: Server
) -> None:
    caseworker = new_page(browser, server)
    sign_in(caseworker, CASEWORKER)
    request_id = file_on_the_form(caseworker, start="13:00")
    mediator_id, link, locale = offer_links(server, request_id)[0]
    accept(browser, server, link, locale, remote=True)

    edit(caseworker, request_id)
    ukrainian = f"{locales.language_name('uk', 'de')} (uk)"
    caseworker.get_by_label("Sprache", exact=True).fill(ukrainian)
    caseworker.get_by_role("button", name="Änderungen speichern").click()

    expect(caseworker.get_by_role("status")).to_contain_text("für den geänderten Termin")
    shoot(caseworker, "14-requests-changed-reoffered")
    assert holder_of(server, request_id) is None
    asked_again = [m for m, _, _ in offer_links(server, request_id) if m != mediator_id]
    assert asked_again, "Ukrainian speakers are asked now"
    with unit_of_work(server.engine) as session:
        assert all(
            session.exec(select(Offer.status).where(Offer.mediator_id == m)).first()
            for m in asked_again
        )


def test_the_video_link_shows_on_the_accepted_mediators_page_only(
    browser: Browser, server: Server
) -> None:
    video = "https://meet.example.org/sprachpool-4711"
    caseworker = new_page(browser, server)
    sign_in(caseworker, CASEWORKER)
    request_id = file_on_the_form(caseworker, start="16:00", video=video, broadcast="1")
    asked = offer_links(server, request_id)
    assert len(asked) >= 2, "two mediators are asked at once"
    (first_id, first_link, first_locale), (_, other_link, other_locale) = asked[:2]

    other = new_page(browser, server, PHONE)
    other.goto(other_link)
    expect(other.locator("body")).not_to_contain_text(video)  # a pending offer: no link

    holder = accept(browser, server, first_link, first_locale, remote=True)
    expect(holder.locator("#connection a")).to_have_attribute("href", video)
    shoot(holder, "14-requests-video-accepted-phone")
    other.goto(other_link)
    expect(other.get_by_role("heading")).to_have_text(
        locales.translator(other_locale).gettext("Already taken")
    )
    expect(other.locator("body")).not_to_contain_text(video)
    shoot(other, "14-requests-video-other-offer-phone")
    assert holder_of(server, request_id) == first_id


def test_search_and_the_request_page_after_the_job(browser: Browser, server: Server) -> None:
    """Runs after the tests above (same server): their JC-2026-0417 job is over by now."""
    caseworker = new_page(browser, server)
    sign_in(caseworker, CASEWORKER)
    caseworker.goto("/requests?show=all")
    caseworker.get_by_label("Aktenzeichen / Kundennummer").fill("0417")
    caseworker.get_by_role("button", name="Suchen").click()
    rows = caseworker.locator("#request-list tbody tr")
    expect(rows).to_have_count(1)
    request_id = int(rows.first.get_attribute("id").removeprefix("request-"))  # type: ignore[union-attr]
    shoot(caseworker, "14-requests-search")
    caseworker.goto("/requests?from=2026-13-01")
    expect(caseworker.locator("#from-error")).to_contain_text("gültiges Datum")

    server.clock.advance(timedelta(days=1, hours=4))  # Tuesday 12:00: the job is over
    while deadlines.run_due(server.engine, clock=server.clock, settings=server.settings):
        pass
    report_link = None
    with unit_of_work(server.engine) as session:
        message = session.exec(
            select(Message)
            .where(Message.kind == "completion_request", Message.request_id == request_id)
            .order_by(col(Message.id).desc())
        ).first()
        assert message is not None
        found = re.search(LINK, message.body)
        assert found is not None
        report_link, locale = found[0], message.locale
    their = locales.translator(locale)
    phone = new_page(browser, server, PHONE)
    phone.goto(report_link)
    phone.get_by_role("button", name=their.gettext("Not again for this client")).click()
    expect(phone.locator("#not-for-client")).to_contain_text(
        their.gettext("Noted: you will not be asked for this client again.")
    )
    shoot(phone, "14-requests-mediator-not-again-phone")

    sign_in(caseworker, CASEWORKER)  # a day has passed
    caseworker.goto(f"/requests/{request_id}")
    section = caseworker.locator("#after-the-job")
    expect(section).to_contain_text("Vermerkt: nicht mehr für diese Person.")
    expect(section.get_by_role("button", name="Nichterscheinen vermerken")).to_be_visible()
    shoot(caseworker, "14-requests-after-the-job")
    with unit_of_work(server.engine) as session:
        assert session.exec(select(ClientExclusion.marked_by)).all() == ["mediator"]
