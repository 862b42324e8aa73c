"""The coordinator runs the pool in Chromium, in German, without a shell: adds a mediator
with two languages and an absence, edits the phone, uploads a CSV (preview, then import),
clears and un-clears a mediator and sees the candidates change, and erases a mediator.

Screenshots go where tests/web/test_browser.py puts them (`--screenshots-to` refreshes
docs/screenshots)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from dispatch.mediators.models import Mediator
from dispatch.requests import service as requests_service
from dispatch.requests.models import Mode
from dispatch.requests.schemas import RequestCreate
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.conftest import NOW
from tests.web.test_browser import (  # noqa: F401  (the module's fixtures: browser, server)
    Server,
    browser,
    new_page,
    server,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.browser

CSV = (
    "name,phone,languages,availability,trained_on,pledge_signed_on,"
    "police_certificate_seen_on,listed_until\n"
    "Meron Kidane,+4915112349001,ti:native; de:fluent,Di 08:00-18:00,"
    "2026-09-01,2026-09-01,2026-09-10,2027-09-01\n"
    "Hawi Abebe,+4915112349002,am:native,,2026-09-01,2026-09-01,,\n"
)

BAD_CSV = (
    "name,phone,languages\n"
    "Yared Tekle,+4915112349003,ti:native\n"
    "Kaputte Nummer,0151 nope,ti:native\n"
    "Ohne Stufe,+4915112349005,ti\n"
)


def tigrinya_request(app: Server) -> int:
    """A Tigrinya phone appointment on Tuesday 10:00, filed without dispatch (it stays open)."""
    start = NOW.replace(hour=10, minute=0) + timedelta(days=1)
    with unit_of_work(app.engine) as session:
        actor = session.exec(select(User).where(User.email == "peters@jobcenter.example")).one()
        created, _ = requests_service.create_request(
            session,
            data=RequestCreate(
                language="ti", start=start, end=start + timedelta(hours=1), mode=Mode.phone
            ),
            actor=actor,
            now=app.clock.now(),
        )
        return int(created.id)


def candidate_names(page: Page) -> list[str]:
    return page.locator(
        "#candidates ~ .table-wrap table tbody tr td:nth-child(2)"
    ).all_inner_texts()


def save_form(page: Page) -> None:
    page.get_by_role("button", name="Speichern", exact=True).click()


def test_a_coordinator_runs_the_pool_on_the_web(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = new_page(browser, server)
    sign_in(page, "koordination@beckum.example")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Wartet auf Freigabe")).to_be_visible()
    shoot(page, "20-dashboard-clearance")

    # Add a mediator with two languages; a wrong phone first: the error is beside the field.
    page.goto("/dashboard/pool")
    page.get_by_role("link", name="Sprachmittler*in hinzufügen").click()
    page.get_by_label("Name", exact=True).fill("Selam Tesfaye")
    page.get_by_label("Telefon").fill("0151 kaputt")
    page.locator("#lang-0").select_option("ti")
    page.locator("#level-0").select_option("native")
    page.locator("#lang-1").select_option("am")
    page.locator("#level-1").select_option("fluent")
    page.get_by_label("Breite (lat)").fill("51,7561")
    page.get_by_label("Länge (lon)").fill("8,0452")
    page.locator("#weekday-0").select_option("1")
    page.locator("#start-0").fill("08:00")
    page.locator("#end-0").fill("18:00")
    for field, day in (
        ("#trained_on", "2026-09-12"),
        ("#pledge_signed_on", "2026-09-12"),
        ("#police_certificate_seen_on", "2026-09-20"),
        ("#listed_until", "2027-09-30"),
    ):
        page.locator(field).fill(day)
    save_form(page)
    expect(page.locator("#phone-error")).to_contain_text("internationalen Format")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Selam Tesfaye")
    expect(page.locator("#lang-1")).to_have_value("am")
    shoot(page, "21-pool-add-errors")
    page.get_by_label("Telefon").fill("+49 151 1234 8001")
    save_form(page)
    expect(page.get_by_role("status")).to_have_text("Die Sprachmittler*in ist hinzugefügt.")
    expect(page.get_by_role("heading", name="Selam Tesfaye")).to_be_visible()
    mediator_url = page.url.split("?")[0]

    # An absence: holiday 12-26 December.
    page.get_by_label("Erster Tag abwesend").fill("2026-12-12")
    page.get_by_label("Letzter Tag abwesend").fill("2026-12-26")
    page.get_by_role("button", name="Abwesenheit eintragen").click()
    expect(page.get_by_text("12.12.2026 – 26.12.2026")).to_be_visible()
    shoot(page, "22-pool-mediator")

    # Correct the phone number.
    page.get_by_role("link", name="Bearbeiten").click()
    page.get_by_label("Telefon").fill("+49 151 1234 8002")
    shoot(page, "28-pool-edit-phone")
    save_form(page)
    expect(page.get_by_role("status")).to_have_text("Die Änderungen sind gespeichert.")
    expect(page.get_by_role("link", name="+4915112348002")).to_be_visible()

    # Clearance: the candidates change when the listing is taken away and given back.
    request_id = tigrinya_request(server)
    page.goto(f"/dashboard/requests/{request_id}")
    expect(page.locator("#candidates ~ .table-wrap")).to_contain_text("Selam Tesfaye")
    page.goto(f"{mediator_url}/edit")
    page.locator("#listed_until").fill("")
    save_form(page)
    expect(page.get_by_text("nicht freigegeben", exact=True)).to_be_visible()
    page.goto(f"/dashboard/requests/{request_id}")
    assert "Selam Tesfaye" not in candidate_names(page)
    reasons = page.locator("details.card tr", has_text="Selam Tesfaye")
    expect(reasons).to_contain_text("nicht freigegeben: Listung-bis-Datum fehlt")
    shoot(page, "23-candidates-not-cleared")
    page.goto(f"{mediator_url}/edit")
    page.locator("#listed_until").fill("2027-09-30")
    save_form(page)
    page.goto(f"/dashboard/requests/{request_id}")
    expect(page.locator("#candidates ~ .table-wrap")).to_contain_text("Selam Tesfaye")

    # Upload a CSV: a preview first, nothing written; then the import.
    csv_file = tmp_path / "pool.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.goto("/dashboard/pool")
    page.get_by_role("link", name="CSV hochladen").click()
    page.get_by_label("CSV-Datei").set_input_files(str(csv_file))
    page.get_by_role("button", name="Vorschau zeigen").click()
    expect(
        page.get_by_role("heading", name="Vorschau: noch ist nichts gespeichert")
    ).to_be_visible()
    expect(page.get_by_text("2 werden hinzugefügt, 0 aktualisiert")).to_be_visible()
    shoot(page, "24-pool-csv-preview")
    with unit_of_work(server.engine) as session:  # nothing written by the preview
        assert session.exec(select(Mediator).where(Mediator.name == "Meron Kidane")).all() == []
    page.get_by_role("button", name="Jetzt importieren").click()
    expect(page.get_by_role("status")).to_contain_text("2 hinzugefügt, 0 aktualisiert")
    page.goto("/dashboard/pool?clearance=waiting")
    expect(page.get_by_role("link", name="Hawi Abebe")).to_be_visible()
    shoot(page, "25-pool-waiting-for-clearance")

    # A file with a bad row: nothing of it is imported, and the row and column are named.
    csv_file.write_text(BAD_CSV, encoding="utf-8")
    page.goto("/dashboard/pool/import")
    page.get_by_label("CSV-Datei").set_input_files(str(csv_file))
    page.get_by_role("button", name="Vorschau zeigen").click()
    refused = page.get_by_role("alert")
    expect(refused).to_contain_text("Nichts wurde importiert.")
    expect(refused).to_contain_text("Zeile 3, Spalte phone: Bitte im internationalen Format")
    expect(refused).to_contain_text("Zeile 4, Spalte languages: „ti“ braucht eine Stufe")
    expect(page.get_by_role("button", name="Jetzt importieren")).to_have_count(0)
    shoot(page, "29-pool-csv-bad-rows")
    with unit_of_work(server.engine) as session:
        assert session.exec(select(Mediator).where(Mediator.name == "Yared Tekle")).all() == []

    # Erase: a confirmation that says what goes and what happens to the jobs, then done.
    page.goto(mediator_url)
    page.get_by_role("link", name="Löschen").click()
    expect(page.get_by_role("heading", name="Selam Tesfaye löschen?")).to_be_visible()
    expect(page.get_by_text("Das lässt sich nicht rückgängig machen.")).to_be_visible()
    shoot(page, "26-pool-erase-confirm")
    page.get_by_role("button", name="Endgültig löschen").click()
    expect(page.get_by_role("status")).to_contain_text("ist gelöscht")
    page.goto("/dashboard/pool?q=Selam")
    expect(page.get_by_text("Niemand passt zu diesem Filter.")).to_be_visible()

    # The printable day plan.
    page.goto("/dashboard/dayplan?from=2026-12-01&days=1")
    expect(page.get_by_role("heading", name="Tagesplan")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    shoot(page, "27-day-plan-print")
