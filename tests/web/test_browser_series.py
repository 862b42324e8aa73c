"""A series in a real browser (issue 14, item 2): the caseworker files a weekly series of 5
and cancels it from the third appointment on; the mediator who held the fourth is told."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Dialog, expect
from sqlmodel import col, select

from dispatch.offers import flows as offer_flows
from dispatch.offers.models import Offer
from dispatch.outbox.models import Message
from dispatch.requests.models import Request
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.web import test_browser as browser_fixtures
from tests.web.test_browser import PHONE, Server, fill_request, new_page, shoot, sign_in

pytestmark = pytest.mark.browser

server = browser_fixtures.server
browser = browser_fixtures.browser


def occurrences(server: Server) -> list[Request]:
    with unit_of_work(server.engine) as session:
        return list(
            session.exec(
                select(Request)
                .where(col(Request.series_id).is_not(None))
                .order_by(col(Request.start))
            )
        )


def assign_someone_offered(server: Server, *, offered_for: int, to: int) -> int:
    """The coordinator gives occurrence `to` to a mediator offered `offered_for`."""
    with unit_of_work(server.engine) as session:
        mediator_id = session.exec(
            select(Offer.mediator_id).where(Offer.request_id == offered_for)
        ).first()
        assert mediator_id is not None, "someone was asked for the first appointment"
        coordinator = session.exec(
            select(User).where(User.email == "koordination@beckum.example")
        ).one()
        offer_flows.assign_directly(
            session,
            request_id=to,
            mediator_id=mediator_id,
            actor=coordinator,
            now=server.clock.now(),
            settings=server.settings,
        )
        return int(mediator_id)


def test_file_a_weekly_series_and_cancel_from_the_third_on(
    browser: Browser, server: Server
) -> None:
    page = new_page(browser, server)
    questions: list[str] = []

    def answer_yes(dialog: Dialog) -> None:  # "Really cancel ...?"
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer_yes)
    sign_in(page, "peters@jobcenter.example")
    fill_request(page, language="Arabisch (ar)")  # Tuesday 1 December, 09:00-10:30, by phone
    page.get_by_label("Wiederholen").select_option(label="jede Woche")
    page.get_by_label("bis (letzter Tag)").fill("2027-12-29")
    page.get_by_role("button", name="Anfrage senden").click()
    # More than 26: refused beside the field, what was typed kept.
    expect(page.locator("#until-error")).to_contain_text("höchstens 26 Termine")
    expect(page.get_by_label("bis (letzter Tag)")).to_have_value("2027-12-29")
    assert occurrences(server) == []
    shoot(page, "14-series-too-many")
    page.get_by_label("bis (letzter Tag)").fill("2026-12-29")
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.get_by_role("status")).to_contain_text("Die Serie ist angelegt: 5 Termine.")
    rows = page.locator("#series tbody tr")
    expect(rows).to_have_count(5)
    expect(
        page.get_by_role("heading", name="Serie: jede Woche bis Dienstag, 29. Dezember 2026")
    ).to_be_visible()
    filed = occurrences(server)
    assert [r.start.astimezone(server.settings.tz).day for r in filed] == [1, 8, 15, 22, 29]
    mediator_id = assign_someone_offered(server, offered_for=filed[0].id, to=filed[3].id)
    page.reload()
    shoot(page, "14-series-filed")
    # On a phone every row's buttons are on the screen, not beyond a table scrolled sideways.
    phone = new_page(browser, server, PHONE)
    sign_in(phone, "peters@jobcenter.example")
    phone.goto(page.url)
    for button in phone.locator("#series tbody tr button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert phone.locator("#series tbody tr button").count() == 10
    phone.close()

    rows.nth(2).get_by_role("button", name="Alle ab diesem Tag stornieren").click()
    expect(page.get_by_role("status")).to_contain_text("3 Termine der Serie sind storniert")
    expect(page.locator("#series tbody tr .status-cancelled")).to_have_count(3)
    # Asked once, in the dialog; the yes said there (sure=yes) is not asked again on a page.
    assert questions == ["Wirklich alle Termine der Serie ab Di 15.12. stornieren?"]
    expect(rows.nth(0).get_by_role("button", name="Diesen stornieren")).to_be_visible()
    expect(rows.nth(2).get_by_role("button")).to_have_count(0)
    shoot(page, "14-series-cancelled-from-third")
    assert [r.status for r in occurrences(server)][2:] == ["cancelled"] * 3
    with unit_of_work(server.engine) as session:
        told = session.exec(
            select(Message.request_id).where(
                Message.kind == "cancelled_mediator", Message.recipient_id == mediator_id
            )
        ).all()
    assert set(told) == {filed[3].id}

    # One appointment alone: "cancel this one" on the second.
    rows.nth(1).get_by_role("button", name="Diesen stornieren").click()
    expect(page).to_have_url(re.compile(r"/requests\?cancelled="))
    assert questions[1:] == [f"Anfrage Nr. {filed[1].id} wirklich stornieren?"]
    assert [r.status for r in occurrences(server)][1] == "cancelled"
