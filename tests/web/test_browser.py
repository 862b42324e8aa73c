"""The pages in a real browser: Debian's Chromium driven by Playwright against uvicorn.

A fixture serves the app on a free local port over a temporary SQLite file,
seeded with the demo pool through the services; each test opens its own
browser context (its own cookies). Screenshots of the main pages go to the
ignored tests/artifacts/screenshots/; `pytest -m browser --screenshots-to
docs/screenshots` refreshes the ones the README links to.
"""

from __future__ import annotations

import re
import socket
import threading
import time as time_module
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import col, select

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.demo import seed_demo
from dispatch.outbox.models import Message
from dispatch.storage import make_engine, migrate, unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Role
from dispatch.web import auth
from dispatch.web.links import issue_mediator_link
from tests.conftest import NOW, screenshots_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "korrekt-pferd-batterie"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 667}


@dataclass
class Server:
    url: str
    engine: object
    clock: ManualClock


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'sprachpool.db'}"
    migrate(database)
    clock = ManualClock(NOW)
    engine = make_engine(database)
    with unit_of_work(engine) as session:
        seed_demo(session, now=clock.now())
        for email, role, organisation in (
            ("peters@jobcenter.example", Role.caseworker, "Jobcenter Kreis Warendorf"),
            (
                "koordination@beckum.example",
                Role.coordinator,
                "Stadt Beckum – Integrationsmanagement",
            ),
            ("gesperrt@jobcenter.example", Role.caseworker, "Jobcenter Kreis Warendorf"),
        ):
            org = users.get_or_create_organisation(session, name=organisation, now=clock.now())
            users.create_user(
                session,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                organisation=org,
                password=PASSWORD,
                now=clock.now(),
            )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        database_url=database,
        environment="test",
        secret_key="browser-" + "s" * 40,
        public_base_url=f"http://127.0.0.1:{port}",
        run_background_jobs=False,
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings, engine=engine, clock=clock, run_migrations=False)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        assert thread.is_alive(), "uvicorn did not start"
        time_module.sleep(0.05)
    yield Server(url=f"http://127.0.0.1:{port}", engine=engine, clock=clock)
    uv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def new_page(browser: Browser, server: Server, viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(base_url=server.url, viewport=viewport, locale="de-DE")  # type: ignore[arg-type]
    return context.new_page()


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def fill_request(page: Page, *, language: str, place: str | None = None) -> None:
    page.goto("/requests/new")
    page.get_by_label("Sprache", exact=True).fill(language)
    page.get_by_label("Datum").fill("2026-12-01")
    page.get_by_label("Beginn").fill("09:00")
    page.get_by_label("Dauer").select_option("90")
    if place:
        page.get_by_role("radio", name="vor Ort").check()
        page.get_by_label("Ort (nur bei Terminen vor Ort)").select_option(label=place)
    else:
        page.get_by_role("radio", name="Telefon").check()


def test_login_page_and_lockout_after_five_wrong_passwords(
    browser: Browser, server: Server
) -> None:
    page = new_page(browser, server)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    shoot(page, "01-login")
    for attempt in range(auth.MAX_FAILED_LOGINS):
        sign_in(page, "gesperrt@jobcenter.example", password=f"falsch-{attempt}")
    expect(page.get_by_role("alert")).to_contain_text("vorübergehend gesperrt")
    sign_in(page, "gesperrt@jobcenter.example")  # the right password does not open a locked account
    expect(page.get_by_role("alert")).to_contain_text("vorübergehend gesperrt")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_bad_input_shows_errors_beside_the_fields(browser: Browser, server: Server) -> None:
    page = new_page(browser, server)
    sign_in(page, "peters@jobcenter.example")
    fill_request(page, language="Klingonisch")
    page.get_by_label("Aktenzeichen / Kundennummer").fill("Hans Müller")
    page.get_by_role("radio", name="vor Ort").check()
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.locator("#language-error")).to_have_text(
        re.compile("Bitte eine Sprache aus der Liste wählen")
    )
    expect(page.locator("#place-error")).to_be_visible()
    expect(page.locator("#client_ref-error")).to_contain_text("bitte keine Namen")
    expect(page.get_by_label("Sprache", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_be_focused()
    shoot(page, "03-caseworker-form-errors")


def test_a_form_post_without_the_csrf_token_is_refused(browser: Browser, server: Server) -> None:
    page = new_page(browser, server)
    sign_in(page, "peters@jobcenter.example")
    fill_request(page, language="Tigrinya (ti)")
    page.locator(".request-form input[name=csrf_token]").evaluate("element => element.remove()")
    page.get_by_role("button", name="Anfrage senden").click()
    expect(page.get_by_role("heading", name="Das Formular ist abgelaufen")).to_be_visible()


def test_caseworker_files_mediator_accepts_on_a_phone_coordinator_overrides(
    browser: Browser, server: Server
) -> None:
    caseworker = new_page(browser, server)
    sign_in(caseworker, "peters@jobcenter.example")
    expect(caseworker).to_have_url(re.compile(r"/requests$"))
    shoot_form = caseworker
    fill_request(shoot_form, language="Arabisch (ar)", place="Rathaus Beckum")
    shoot(caseworker, "02-caseworker-form")
    caseworker.get_by_role("button", name="Anfrage senden").click()
    expect(caseworker.get_by_role("status")).to_contain_text("ist gespeichert")
    expect(caseworker.locator("#request-list")).to_contain_text("angefragt")
    request_id = int(re.search(r"filed=(\d+)", caseworker.url)[1])  # type: ignore[index]

    # The mediator's SMS link: read from the outbox, as the phone would receive it.
    with unit_of_work(server.engine) as session:  # type: ignore[arg-type]
        message = session.exec(
            select(Message)
            .where(
                Message.kind == "offer", Message.channel == "sms", Message.request_id == request_id
            )
            .order_by(col(Message.id))
        ).first()
        assert message is not None
        link = re.search(r"https?://\S+/o/[A-Za-z0-9_\-]+", message.body)[0]  # type: ignore[index]
        mediator_id = message.recipient_id
        own_page = issue_mediator_link(session, mediator_id=mediator_id, now=server.clock.now())  # type: ignore[arg-type]
    phone = new_page(browser, server, PHONE)
    phone.goto(link)
    shoot(phone, "08-mediator-offer-phone")
    phone.get_by_role("button", name=re.compile("Zusagen")).click()
    expect(phone.locator("body")).to_contain_text("Rathaus Beckum")
    shoot(phone, "09-mediator-accepted-phone")
    phone.goto(own_page)
    expect(phone.get_by_role("heading", name="Ihre nächsten Einsätze")).to_be_visible()
    shoot(phone, "10-mediator-own-page-phone")

    caseworker.goto("/requests")
    row = caseworker.locator("#request-list tr", has_text=f"{request_id}")
    expect(row).to_contain_text("besetzt")
    with unit_of_work(server.engine) as session:  # type: ignore[arg-type]
        from dispatch.mediators.models import Mediator

        holder = session.get(Mediator, mediator_id)
        assert holder is not None
        holder_name, holder_phone = holder.name, holder.phone
    expect(row).to_contain_text(holder_name)
    expect(row).to_contain_text(holder_phone or "")
    shoot(caseworker, "04-caseworker-list")

    coordinator = new_page(browser, server)
    sign_in(coordinator, "koordination@beckum.example")
    expect(coordinator).to_have_url(re.compile(r"/dashboard$"))
    expect(coordinator.get_by_role("heading", name=re.compile("Übersicht"))).to_be_visible()
    shoot(coordinator, "05-dashboard")
    coordinator.goto(f"/dashboard/requests/{request_id}")
    expect(coordinator.get_by_role("heading", name="Mögliche Sprachmittler*innen")).to_be_visible()
    shoot(coordinator, "06-request-detail")
    first = coordinator.locator("#candidates ~ .table-wrap tbody tr").first
    chosen = first.locator("td").nth(1).inner_text()
    first.get_by_role("button", name=re.compile("Direkt zuweisen")).click()
    expect(coordinator.get_by_role("status")).to_contain_text("Zugewiesen.")
    expect(coordinator.locator("#assignment-title + p")).to_contain_text(chosen)

    caseworker.goto("/requests")
    expect(caseworker.locator("#request-list tr", has_text=f"{request_id}")).to_contain_text(chosen)

    coordinator.goto("/dashboard/pool?language=ar")
    expect(coordinator.locator("tbody tr").first).to_be_visible()
    shoot(coordinator, "07-pool")
    coordinator.goto("/dashboard/stats?from=2026-11-01&to=2026-12-31")
    expect(coordinator.locator("figure.chart")).to_have_count(5)
    expect(coordinator.get_by_text("Besetzungsquote je Sprache")).to_be_visible()
    shoot(coordinator, "11-statistics")
    coordinator.goto("/dashboard/messages")
    shoot(coordinator, "12-messages")
