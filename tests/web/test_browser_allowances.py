"""The allowance pages in a real browser: the budget cards, the month statement, paying it,
the statement to sign, and the funders' report, with screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import col, select

import locales
from dispatch.mediators.models import Mediator
from dispatch.requests.models import Mode
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.allowances.factories import done_job
from tests.conftest import Staff
from tests.web import test_browser
from tests.web.test_browser import Server, new_page, shoot, sign_in

pytestmark = pytest.mark.browser

server = test_browser.server
browser = test_browser.browser


def october_jobs(server: Server) -> str:
    """Two approved October jobs of one demo mediator; returns the mediator's name."""
    with unit_of_work(server.engine) as session:
        caseworker = session.exec(
            select(User).where(User.email == "peters@jobcenter.example")
        ).one()
        mediator = session.exec(select(Mediator).order_by(col(Mediator.id))).first()
        assert mediator is not None
        filed_by = Staff(caseworker.id, caseworker.organisation_id, "")
        mediator_id, name = mediator.id, mediator.name
    # 70 min by phone: 3 started half hours x 7.50 = 22.50 EUR; 45 min: 2 = 15.00 EUR.
    done_job(
        server.engine,
        caseworker=filed_by,
        mediator_id=mediator_id,
        start="2026-10-14T09:00:00+02:00",
        end="2026-10-14T10:10:00+02:00",
        mode=Mode.phone,
        funding_source="municipal",
    )
    done_job(
        server.engine,
        caseworker=filed_by,
        mediator_id=mediator_id,
        start="2026-10-28T14:00:00+01:00",
        end="2026-10-28T14:45:00+01:00",
        mode=Mode.phone,
        language="fa",
        funding_source="municipal",
    )
    return name


def test_coordinator_pays_october_prints_a_statement_and_reads_the_report(
    browser: Browser, server: Server
) -> None:
    name = october_jobs(server)
    t = locales.translator("de")
    page = new_page(browser, server)
    sign_in(page, "koordination@beckum.example")
    page.goto("/dashboard")
    expect(page.locator("#budget-municipal")).to_contain_text("Kommunaler Haushalt")
    shoot(page, "15-budgets-de")

    page.get_by_role("link", name=t.gettext("Allowances"), exact=True).click()
    expect(page.locator("#month")).to_have_value("2026-10")
    row = page.locator("#statement tbody tr", has_text=name)
    # 22,50 € + 15,00 € = 37,50 €.
    expect(row).to_contain_text("37,50\xa0€")
    shoot(page, "15-allowances-de")

    row.get_by_role("link", name=t.gettext("Statement to sign")).click()
    expect(page.locator("h1")).to_have_text(
        t.gettext("Allowance statement (Aufwandsentschädigung)")
    )
    expect(page.locator("#lines tfoot")).to_contain_text("37,50\xa0€")
    shoot(page, "15-statement-to-sign-de")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    page.emulate_media(media="screen")

    page.goto("/dashboard/allowances?month=2026-10")
    page.get_by_role(
        "button", name=t.gettext("Mark %(amount)s as paid", amount="37,50\xa0€")
    ).click()
    expect(page.get_by_role("status")).to_contain_text("als ausgezahlt markiert")
    expect(page.get_by_role("button", name="als ausgezahlt markieren")).to_have_count(0)

    page.goto("/dashboard/allowances?month=2026-12")  # not over yet (not begun)
    expect(page.locator("#month-error")).to_contain_text("noch nicht vorbei")

    page.get_by_role("link", name=t.gettext("Funders' report")).click()
    page.locator("#from").fill("2026-10-01")
    page.locator("#to").fill("2026-10-31")
    page.get_by_role("button", name=t.gettext("Show")).click()
    expect(page.locator("#t-language")).to_contain_text("Arabisch")
    # 2 jobs, 37,50 €: 18,75 € a job.
    expect(page.locator(".tiles")).to_contain_text("18,75\xa0€")
    shoot(page, "15-funders-report-de")
