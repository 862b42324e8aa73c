"""The Einsatzbestätigung in a real browser: the mediator reports on a phone, the caseworker
confirms with the e-mailed link and sees their list, the coordinator approves; screenshots."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import col, select

import locales
from dispatch.deadlines import runner as deadlines
from dispatch.jobs.models import JobReport
from dispatch.outbox.models import Message
from dispatch.storage import unit_of_work
from tests.web import test_browser as browser_fixtures
from tests.web.test_browser import PHONE, Server, fill_request, new_page, shoot, sign_in

pytestmark = pytest.mark.browser

server = browser_fixtures.server
browser = browser_fixtures.browser


def newest_link(server: Server, kind: str, pattern: str) -> tuple[str, str]:
    """The link in the newest message of `kind`, and the recipient's language."""
    with unit_of_work(server.engine) as session:
        message = session.exec(
            select(Message).where(Message.kind == kind).order_by(col(Message.id).desc())
        ).first()
        assert message is not None, f"a {kind} message was sent"
        found = re.search(pattern, message.body)
        assert found is not None, message.body
        return found[0], message.locale


def test_report_confirm_approve_in_the_browser(browser: Browser, server: Server) -> None:
    caseworker = new_page(browser, server)
    sign_in(caseworker, "peters@jobcenter.example")
    fill_request(caseworker, language="Arabisch (ar)")  # Tuesday 09:00-10:30, by phone
    caseworker.get_by_label("Einsatzbereich").select_option("school_parents")
    caseworker.get_by_role("button", name="Anfrage senden").click()
    expect(caseworker.get_by_role("status")).to_contain_text("ist gespeichert")

    # The mediator accepts on a phone, then reports after the job.
    offer, locale = newest_link(server, "offer", r"https?://\S+/o/[A-Za-z0-9_\-]+")
    their = locales.translator(locale)
    phone = new_page(browser, server, PHONE)
    phone.goto(offer)
    # A phone job: "I will take it", not "I will come" (issue 14).
    phone.get_by_role("button", name=their.gettext("Accept – I will take it")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Your job"))).to_be_visible()
    server.clock.advance(timedelta(days=1, hours=3))  # Tuesday 11:00: the job is over
    while deadlines.run_due(server.engine, clock=server.clock, settings=server.settings):
        pass
    report_link, locale = newest_link(server, "completion_request", r"https?://\S+/o/[\w\-]+")
    their = locales.translator(locale)
    phone.goto(report_link)
    phone.get_by_label(their.gettext("End")).fill("10:40")
    phone.get_by_label(their.gettext("Travel in km (there and back)")).fill("0")
    phone.get_by_label(their.gettext("Waiting time in minutes")).fill("-5")
    phone.get_by_role("button", name=their.gettext("Report")).click()
    expect(phone.get_by_role("alert").first).to_contain_text(
        their.gettext("Please enter whole minutes from 0 to 600.")
    )
    shoot(phone, "20-mediator-report-error-phone")
    phone.get_by_label(their.gettext("Waiting time in minutes")).fill("10")
    phone.get_by_label(their.gettext("Or: ticket in euros (bus, train)")).fill("3,40")
    shoot(phone, "20-mediator-report-phone")
    phone.get_by_role("button", name=their.gettext("Report")).click()
    expect(phone.get_by_role("heading", name=their.gettext("Thank you!"))).to_be_visible()

    # The caseworker (signed in again: a day has passed): the list of jobs to confirm,
    # then the one-click link from the e-mail.
    sign_in(caseworker, "peters@jobcenter.example")
    caseworker.goto("/confirmations")
    expect(caseworker.get_by_role("heading", name="Zu bestätigende Einsätze")).to_be_visible()
    expect(caseworker.locator("article.card")).to_contain_text("10:40")
    shoot(caseworker, "21-caseworker-confirmations")
    confirm_link, _ = newest_link(server, "job_confirmation_caseworker", r"https?://\S+/c/[\w\-]+")
    caseworker.goto(confirm_link)
    shoot(caseworker, "22-caseworker-confirm-link")
    caseworker.get_by_role("button", name="Bestätigen: stimmt so").click()
    expect(caseworker.get_by_role("status")).to_contain_text("Der Einsatz ist bestätigt")
    caseworker.goto(confirm_link)  # a second click changes nothing
    expect(caseworker.get_by_role("heading", name="Dieser Link gilt nicht mehr")).to_be_visible()

    # The coordinator approves the ticked jobs.
    coordinator = new_page(browser, server)
    sign_in(coordinator, "koordination@beckum.example")
    coordinator.goto("/dashboard/job-reports")
    row = coordinator.locator("tbody tr", has_text="bestätigt")
    expect(row).to_have_count(1)
    row.get_by_role("checkbox").check()
    shoot(coordinator, "23-coordinator-approvals")
    coordinator.get_by_role("button", name="Ausgewählte Einsätze freigeben").click()
    expect(coordinator.get_by_role("status")).to_contain_text("1 Einsatz entschieden.")
    coordinator.goto("/dashboard/job-reports?show=done")
    expect(coordinator.locator("tbody tr")).to_contain_text("freigegeben")
    shoot(coordinator, "24-coordinator-approved")
    with unit_of_work(server.engine) as session:
        approved = session.exec(select(JobReport)).one()
        assert approved.state == "approved" and approved.waiting_minutes == 10
