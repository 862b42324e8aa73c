"""The coordinator's workplace for places, organisations, staff and the audit log, in Chromium.

A coordinator adds a place (address search against a local stand-in of Nominatim)
and an organisation, invites a caseworker, who sets a password from the emailed
link, files a request and makes an API token for her software on her account page;
a forgotten password comes back by a link from the login page; the audit log shows
who did it. Screenshots: `staff-*.png` (see
tests/web/test_browser.py for where they go).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from dispatch.mediators.models import Mediator
from dispatch.outbox.models import Message
from tests.geocoder_stand_in import FakeNominatim
from tests.web import test_browser as base
from tests.web.test_browser import Server, fill_request, new_page, running_server, shoot, sign_in

pytestmark = pytest.mark.browser
#: The same Chromium fixture as the other browser tests (found by its name).
browser = base.browser

COORDINATOR = "koordination@beckum.example"
NEW_PASSWORD = "sonnenblume-am-markt"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, _nominatim_server: FakeNominatim
) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("browser-staff"),
        geocoder_url=_nominatim_server.base_url,
        geocoder_timeout_seconds=2.0,
    ) as running:
        yield running


def newest_link(server: Server, email: str, kind: str) -> str:
    """The sign-in link of the newest message of `kind` to `email`, as a path."""
    with Session(server.engine) as session:
        message = session.exec(
            select(Message)
            .where(Message.recipient == email, Message.kind == kind)
            .order_by(col(Message.id).desc())
        ).first()
    assert message is not None, f"no {kind} to {email} in the outbox"
    match = re.search(re.escape(server.url) + r"(/login/link/[\w-]+)", message.body)
    assert match, message.body
    return match[1]


def messages_to(server: Server, email: str, kind: str) -> list[Message]:
    with Session(server.engine) as session:
        return list(
            session.exec(select(Message).where(Message.recipient == email, Message.kind == kind))
        )


def first_mediator(server: Server) -> str:
    with Session(server.engine) as session:
        return (
            session.exec(
                select(Mediator.name)
                .where(col(Mediator.active).is_(True))
                .order_by(col(Mediator.name))
            ).first()
            or ""
        )


def add_place(page: Page) -> None:
    page.goto("/dashboard/places")
    page.get_by_role("link", name="Ort hinzufügen").click()
    page.get_by_label("Name").fill("Familienzentrum Nord")
    page.get_by_label("Straße, Hausnummer, Ort").fill("Nordstraße 34, Beckum")
    page.get_by_role("button", name="Adresse suchen").click()
    expect(
        page.get_by_role("radio", name=re.compile("Nordstraße 34, 59269 Beckum"))
    ).to_be_checked()
    shoot(page, "staff-01-place-search")
    page.get_by_role("button", name="Ort speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Der Ort ist gespeichert.")
    expect(page.get_by_role("link", name="Familienzentrum Nord")).to_be_visible()
    shoot(page, "staff-02-places")


def add_organisation(page: Page, mediator: str) -> None:
    page.goto("/dashboard/organisations/new")
    page.get_by_label("Name").fill("Caritas Beckum")
    page.get_by_role("radio", name="gemeinnützig").check()
    page.get_by_label("Eilige Angebote bleiben offen (Minuten)").fill("20")
    page.get_by_role("radio", name=f"{mediator}: Bevorzugt").check()
    shoot(page, "staff-03-organisation")
    page.get_by_role("button", name="Organisation speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Die Organisation ist gespeichert.")
    expect(page.get_by_role("row", name=re.compile("Caritas Beckum"))).to_contain_text(
        "gemeinnützig"
    )


def test_coordinator_sets_up_a_place_an_organisation_and_a_caseworker_who_files(
    browser: Browser, server: Server, _nominatim_server: FakeNominatim
) -> None:
    _nominatim_server.reset()
    _nominatim_server.add(
        "Nordstraße 34", lat=51.7601, lon=8.0412, road="Nordstraße", house_number="34"
    )
    coordinator = new_page(browser, server)
    sign_in(coordinator, COORDINATOR)
    add_place(coordinator)
    add_organisation(coordinator, first_mediator(server))

    coordinator.get_by_role("link", name="Mitarbeitende").click()
    coordinator.get_by_label("Name", exact=True).fill("Clara Caritas")
    coordinator.get_by_label("E-Mail-Adresse").fill("clara@caritas.example")
    coordinator.get_by_label("Organisation", exact=True).select_option(label="Caritas Beckum")
    coordinator.get_by_role("radio", name="Sachbearbeiter/in").check()
    coordinator.get_by_role("button", name="Einladung schicken").click()
    expect(coordinator.get_by_role("status")).to_contain_text("clara@caritas.example")
    expect(coordinator.get_by_role("row", name=re.compile("Clara Caritas"))).to_contain_text(
        "eingeladen"
    )
    shoot(coordinator, "staff-04-staff")

    caseworker = new_page(browser, server)
    caseworker.goto(newest_link(server, "clara@caritas.example", "staff_invitation"))
    expect(caseworker.get_by_role("heading", name="Willkommen bei Sprachpool")).to_be_visible()
    caseworker.get_by_role("button", name="Passwort speichern und anmelden").click()
    expect(caseworker.locator("#password-error")).to_contain_text("Bitte wählen Sie ein Passwort.")
    caseworker.get_by_label("Ihr Passwort (mindestens 10 Zeichen)").fill(NEW_PASSWORD)
    shoot(caseworker, "staff-05-set-password")
    caseworker.get_by_role("button", name="Passwort speichern und anmelden").click()
    expect(caseworker).to_have_url(re.compile(r"/requests$"))
    fill_request(caseworker, language="Arabisch", place="Familienzentrum Nord")
    caseworker.get_by_role("button", name="Anfrage senden").click()
    expect(caseworker).to_have_url(re.compile(r"/requests\?filed=\d+"))

    # Invited through the web, she makes the API token for her organisation's software.
    caseworker.get_by_role("link", name="Mein Konto").click()
    expect(caseworker.get_by_role("heading", name="Mein Konto")).to_be_visible()
    caseworker.get_by_role("button", name="Neuen Token erstellen").click()
    token = caseworker.get_by_label("Neuer API-Token").input_value()
    shoot(caseworker, "staff-08-account-token")
    software = caseworker.request.get(
        "/api/v1/places", headers={"Authorization": f"Bearer {token}"}
    )
    assert software.status == 200

    used = new_page(browser, server)  # the link a second time: a friendly page, nothing changes
    used.goto(newest_link(server, "clara@caritas.example", "staff_invitation"))
    expect(used.get_by_role("heading", name="Dieser Link gilt nicht mehr")).to_be_visible()

    coordinator.get_by_role("link", name="Protokoll").click()
    coordinator.get_by_label("Person").select_option(label="Clara Caritas (clara@caritas.example)")
    coordinator.get_by_role("button", name="Anzeigen").click()
    log = coordinator.get_by_role("table")
    expect(log).to_contain_text("gestellt")
    expect(log).to_contain_text("Passwort festgelegt")
    expect(log).to_contain_text("Clara Caritas")
    shoot(coordinator, "staff-06-audit")

    caseworker.goto("/dashboard/staff")  # a caseworker on a coordinator's address
    expect(caseworker.get_by_role("heading", name="Kein Zugriff")).to_be_visible()

    # Clara leaves: her request goes to a colleague, then her name and address go.
    coordinator.get_by_role("link", name="Mitarbeitende").click()
    coordinator.get_by_label("Name", exact=True).fill("Cem Caritas")
    coordinator.get_by_label("E-Mail-Adresse").fill("cem@caritas.example")
    coordinator.get_by_label("Organisation", exact=True).select_option(label="Caritas Beckum")
    coordinator.get_by_role("radio", name="Sachbearbeiter/in").check()
    coordinator.get_by_role("button", name="Einladung schicken").click()
    clara = coordinator.get_by_role("row", name=re.compile("Clara Caritas"))
    expect(clara).to_contain_text("1 offene Anfrage")
    clara.get_by_label("Offene Anfragen gehen an").select_option(label="Cem Caritas")
    shoot(coordinator, "staff-09-hand-over")
    clara.get_by_role("button", name=re.compile("Deaktivieren")).click()
    expect(coordinator.get_by_role("status")).to_contain_text("ist deaktiviert")
    [handed] = messages_to(server, "cem@caritas.example", "requests_handed_over_caseworker")
    assert "1 offene Anfrage von Clara Caritas" in handed.body
    coordinator.once("dialog", lambda dialog: dialog.accept())
    coordinator.get_by_role("row", name=re.compile("Clara Caritas")).get_by_role(
        "button", name=re.compile("Daten löschen")
    ).click()
    expect(coordinator.get_by_role("status")).to_contain_text("sind aus Sprachpool")
    expect(coordinator.get_by_role("row", name=re.compile("Clara Caritas"))).to_have_count(0)
    shoot(coordinator, "staff-10-erased")


def test_a_forgotten_password_comes_back_by_a_link(browser: Browser, server: Server) -> None:
    page = new_page(browser, server)
    page.goto("/login")
    page.get_by_role("link", name="Passwort vergessen? Anmeldelink anfordern").click()
    page.get_by_label("E-Mail-Adresse").fill("peters@jobcenter.example")
    page.get_by_role("button", name="Anmeldelink schicken").click()
    expect(page.get_by_role("status")).to_contain_text("Falls es zu dieser Adresse ein Konto gibt")
    shoot(page, "staff-07-forgot-password")
    other = new_page(browser, server)  # an unknown address gets the very same answer
    other.goto("/login/forgot")
    other.get_by_label("E-Mail-Adresse").fill("niemand@jobcenter.example")
    other.get_by_role("button", name="Anmeldelink schicken").click()
    expect(other.get_by_role("status")).to_have_text(page.get_by_role("status").inner_text())

    page.goto(newest_link(server, "peters@jobcenter.example", "signin_link"))
    page.get_by_label("Neues Passwort (freiwillig, mindestens 10 Zeichen)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Jetzt anmelden").click()
    expect(page).to_have_url(re.compile(r"/requests$"))
    page.get_by_role("button", name=re.compile("Abmelden")).click()
    sign_in(page, "peters@jobcenter.example", password=NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/requests$"))
