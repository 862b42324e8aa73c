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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select

import locales
from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.demo import seed_demo
from dispatch.mediators.models import Mediator
from dispatch.offers import flows as offer_flows
from dispatch.outbox.models import Message
from dispatch.places.models import Place
from dispatch.requests import service as requests_service
from dispatch.requests.models import Mode
from dispatch.requests.schemas import RequestCreate
from dispatch.series import flows as series_flows
from dispatch.series.schemas import SeriesCreate
from dispatch.storage import make_engine, migrate, unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Organisation, Role, User
from dispatch.web import auth
from dispatch.web.links import issue_mediator_link, issue_sign_in_link
from tests.catalog_texts import foreign_on_page
from tests.conftest import NOW, OPEN_FUNDING_POLICY, screenshots_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "korrekt-pferd-batterie"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 375, "height": 667}

#: Names of the staff whose e-mail part would read as a German word.
PERSON_NAMES = {"koordination@beckum.example": "Clara Brandt"}


@dataclass
class Server:
    url: str
    engine: Engine
    clock: ManualClock
    app: FastAPI
    settings: Settings


@contextmanager
def running_server(directory: Path, **settings_overrides: Any) -> Iterator[Server]:
    """The app on a free local port over a new SQLite file with the demo pool and three staff."""
    database = f"sqlite:///{directory / 'sprachpool.db'}"
    migrate(database)
    clock = ManualClock(NOW)
    engine = make_engine(database)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        database_url=database,
        environment="test",
        secret_key=SecretStr("browser-" + "s" * 40),
        public_base_url=f"http://127.0.0.1:{port}",
        run_background_jobs=False,
        funding_policy_path=OPEN_FUNDING_POLICY,
        _env_file=None,  # type: ignore[call-arg]
        **settings_overrides,
    )
    with unit_of_work(engine) as session:
        seed_demo(session, now=clock.now(), settings=settings)
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
                # A person's name, not a word of the catalogs ("Koordination" is one), so
                # the language walk does not take the name for an untranslated text.
                name=PERSON_NAMES.get(email, email.split("@")[0].title()),
                role=role,
                organisation=org,
                password=PASSWORD,
                now=clock.now(),
            )
    app = create_app(settings, engine=engine, clock=clock, run_migrations=False)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not uv.started:
        assert thread.is_alive(), "uvicorn did not start"
        time_module.sleep(0.05)
    try:
        yield Server(
            url=f"http://127.0.0.1:{port}", engine=engine, clock=clock, app=app, settings=settings
        )
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def new_page(
    browser: Browser,
    server: Server,
    viewport: ViewportSize = DESKTOP,
    locale: str = "de-DE",
    *,
    javascript: bool = True,
) -> Page:
    """A browser tab; `locale` is the device's language (its Accept-Language); `javascript`
    off is a basic phone, a data-saving browser or an office that blocks scripts."""
    context = browser.new_context(
        base_url=server.url, viewport=viewport, locale=locale, java_script_enabled=javascript
    )
    return context.new_page()


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, password: str = PASSWORD, lang: str = "de") -> None:
    """Sign in on the page in `lang` (German, the default, unless the switch was used)."""
    t = locales.translator(lang)
    page.goto("/login")
    page.get_by_label(t.gettext("Email address")).fill(email)
    page.get_by_label(t.gettext("Password")).fill(password)
    page.get_by_role("button", name=t.gettext("Sign in")).click()


def fill_request(page: Page, *, language: str, place: str | None = None, lang: str = "de") -> None:
    t = locales.translator(lang)
    page.goto("/requests/new")
    page.get_by_label(t.gettext("Language"), exact=True).fill(language)
    page.get_by_label(t.gettext("Date")).fill("2026-12-01")
    page.get_by_label(t.gettext("Start")).fill("09:00")
    page.get_by_label(t.gettext("Duration")).select_option("90")
    if place:
        page.get_by_role("radio", name=t.gettext("in person")).check()
        page.get_by_label(t.gettext("Place (in person only)")).select_option(label=place)
    else:
        page.get_by_role("radio", name=t.gettext("Phone")).check()


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
    filed = re.search(r"filed=(\d+)", caseworker.url)
    assert filed is not None
    request_id = int(filed[1])

    # The mediator's SMS link: read from the outbox, as the phone would receive it.
    with unit_of_work(server.engine) as session:
        message = session.exec(
            select(Message)
            .where(
                Message.kind == "offer", Message.channel == "sms", Message.request_id == request_id
            )
            .order_by(col(Message.id))
        ).first()
        assert message is not None
        found = re.search(r"https?://\S+/o/[A-Za-z0-9_\-]+", message.body)
        mediator_id = message.recipient_id
        assert found is not None and mediator_id is not None
        link = found[0]
        own_page = issue_mediator_link(session, mediator_id=mediator_id, now=server.clock.now())
        their = locales.translator(message.locale)  # the mediator reads their own language
    phone = new_page(browser, server, PHONE)
    phone.goto(link)
    shoot(phone, "08-mediator-offer-phone")
    phone.get_by_role("button", name=their.gettext("Accept – I will come")).click()
    expect(phone.locator("body")).to_contain_text("Rathaus Beckum")
    shoot(phone, "09-mediator-accepted-phone")
    phone.goto(own_page)
    expect(phone.get_by_role("heading", name=their.gettext("Your next jobs"))).to_be_visible()
    shoot(phone, "10-mediator-own-page-phone")

    caseworker.goto("/requests")
    row = caseworker.locator("#request-list tr", has_text=f"{request_id}")
    expect(row).to_contain_text("besetzt")
    with unit_of_work(server.engine) as session:
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


# --- every page in one language, and the Arabic offer page ---------------------------------

#: GET addresses of the pages that are not pages a person reads: redirects and files.
NOT_PAGES = {
    "/",
    "/lang/{code}",
    "/dashboard/export/assignments.{kind}",
    "/dashboard/pool/export.{kind}",
    "/dashboard/pool/import-file.{kind}",
    "/dashboard/allowances/export.{kind}",
    "/dashboard/reports/funders.csv",
    "/o/{token}/calendar.ics",
    "/map.svg",
}
OTHER = {"de": "en", "en": "de"}


def file_broadcast(
    server: Server, *, language: str, day: int, hour: int, client_ref: str | None = None
) -> int:
    """A request for everyone who can take it (so every speaker has an offer to open)."""
    start = NOW.replace(hour=hour, minute=0) + timedelta(days=day)
    with unit_of_work(server.engine) as session:
        actor = session.exec(select(User).where(User.email == "peters@jobcenter.example")).one()
        created, _ = requests_service.create_request(
            session,
            data=RequestCreate(
                language=language,
                start=start,
                end=start + timedelta(hours=1),
                mode=Mode.phone,
                broadcast=True,
                client_ref=client_ref,
            ),
            actor=actor,
            now=server.clock.now(),
        )
        offer_flows.dispatch_new_request(
            session, created, now=server.clock.now(), settings=server.settings
        )
        return int(created.id)


def file_weekly_series(server: Server, *, language: str) -> int:
    """A weekly series of three by phone from Wednesday 10:00; the first occurrence's id."""
    start = NOW.replace(hour=10, minute=0) + timedelta(days=2)
    with unit_of_work(server.engine) as session:
        actor = session.exec(select(User).where(User.email == "peters@jobcenter.example")).one()
        _series, filed, _replayed = series_flows.file_series(
            session,
            data=SeriesCreate(
                language=language,
                start=start,
                end=start + timedelta(hours=1),
                mode=Mode.phone,
                interval_weeks=1,
                until=(start + timedelta(weeks=2)).date(),
            ),
            actor=actor,
            now=server.clock.now(),
            settings=server.settings,
        )
        return int(filed[0].id)


def offer_sms(server: Server, request_id: int) -> list[tuple[int, str, str]]:
    """Each offer SMS of a request as sent: the mediator, the link in it, their language."""
    with unit_of_work(server.engine) as session:
        sent = session.exec(
            select(Message)
            .where(Message.kind == "offer", Message.channel == "sms")
            .where(Message.request_id == request_id)
            .order_by(col(Message.id))
        ).all()
        found = []
        for message in sent:
            link = re.search(r"/o/[A-Za-z0-9_\-]+", message.body)
            assert link is not None and message.recipient_id is not None, message.body
            found.append((message.recipient_id, link[0], message.locale))
        assert found, "someone was asked"
        return found


def offer_link(server: Server, request_id: int, locale: str) -> str:
    """The offer link of the first mediator asked, who reads `locale`."""
    mediator_id, link, _ = offer_sms(server, request_id)[0]
    with unit_of_work(server.engine) as session:
        mediator = session.get(Mediator, mediator_id)
        assert mediator is not None
        mediator.message_locale = locale
        session.add(mediator)
    return link


def own_page_link(server: Server, locale: str) -> tuple[int, str]:
    """A mediator's personal page; the mediator reads `locale`."""
    with unit_of_work(server.engine) as session:
        mediator = session.exec(select(Mediator).order_by(col(Mediator.id))).first()
        assert mediator is not None and mediator.id is not None
        mediator.message_locale = locale
        session.add(mediator)
        return mediator.id, issue_mediator_link(
            session, mediator_id=mediator.id, now=server.clock.now()
        )


def page_routes(app: FastAPI) -> set[str]:
    """The addresses of every page: GET routes outside the API's schema (routers included)."""
    found: set[str] = set()
    pending: list[object] = list(app.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            pending += included.routes
        elif isinstance(route, APIRoute) and not route.include_in_schema:
            found |= {route.path} if "GET" in (route.methods or set()) else set()
    assert {"/dashboard", "/o/{token}", "/m/{token}"} <= found, found
    return found - NOT_PAGES


def phone_overflow(page: Page) -> int:
    """How far the page on screen would scroll sideways on a phone, in CSS pixels."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        return int(page.evaluate("document.documentElement.scrollWidth")) - PHONE["width"]
    finally:
        if size is not None:
            page.set_viewport_size(size)


def test_every_page_in_german_shows_no_english_and_in_english_no_german(
    browser: Browser, server: Server
) -> None:
    """Every page in each staff language, and each of them also fits a phone: a wide table
    scrolls in its box, a form's fields shrink (fourteen pages scrolled sideways, the staff
    list by 1,000 px)."""
    request_id = file_broadcast(server, language="ar", day=2, hour=10)
    series_request_id = file_weekly_series(server, language="uk")
    with unit_of_work(server.engine) as session:
        newcomer = users.create_user(
            session,
            email="neu@jobcenter.example",
            name="Neu",
            role=Role.caseworker,
            organisation=users.get_or_create_organisation(
                session, name="Jobcenter Kreis Warendorf", now=server.clock.now()
            ),
            now=server.clock.now(),
        )
        sign_in_link = issue_sign_in_link(session, user=newcomer, now=server.clock.now())
        place_id = session.exec(select(Place.id)).first()
        organisation_id = session.exec(select(Organisation.id)).first()
    problems: list[tuple[str, str, str, str]] = []
    too_wide: list[tuple[str, str, int]] = []
    for lang in ("de", "en"):
        t = locales.translator(lang)
        seen: set[str] = set()
        page = new_page(browser, server)

        def check(
            route: str, *, page: Page = page, lang: str = lang, seen: set[str] = seen
        ) -> None:
            """The page on screen, as `route`: in `lang` and nothing of the other language."""
            expect(page.locator("html")).to_have_attribute("lang", lang)
            overflow = phone_overflow(page)
            if overflow > 0:
                too_wide.append((lang, route, overflow))
            problems.extend(
                (lang, route, text, foreign)
                for text, foreign in foreign_on_page(page.content(), lang, OTHER[lang])
            )
            seen.add(route)

        if lang == "en":
            page.goto("/lang/en?next=/login")
        page.goto("/login")
        check("/login")
        sign_in(page, "gesperrt@jobcenter.example", password="falsch", lang=lang)  # wrong
        check("/login")
        page.goto(sign_in_link)
        check("/login/link/{token}")
        page.goto("/login/forgot")
        check("/login/forgot")
        sign_in(page, "koordination@beckum.example", lang=lang)
        for address, route in (
            ("/requests", "/requests"),
            ("/requests?show=past", "/requests"),
            ("/requests?show=all&q=JC&language=ar&page=1", "/requests"),
            (
                "/requests?q=M%C3%BCller&status=lost&from=2026-13-01&caseworker=x&page=0",
                "/requests",
            ),
            ("/requests/new", "/requests/new"),
            ("/dashboard", "/dashboard"),
            (f"/dashboard/requests/{request_id}", "/dashboard/requests/{request_id}"),
            (f"/requests/{request_id}", "/requests/{request_id}"),
            (f"/requests/{request_id}/edit", "/requests/{request_id}/edit"),
            (f"/requests/{series_request_id}", "/requests/{request_id}"),  # with its series
            ("/dashboard/pool", "/dashboard/pool"),
            ("/dashboard/pool?state=paused", "/dashboard/pool"),
            ("/dashboard/plan?from=2026-12-01&days=3", "/dashboard/plan"),
            ("/dashboard/stats?from=2026-11-01&to=2026-12-31", "/dashboard/stats"),
            ("/dashboard/messages", "/dashboard/messages"),
            ("/dashboard/allowances?month=2026-10", "/dashboard/allowances"),
            (
                "/dashboard/allowances/2026-10/mediators/99999",  # nothing that month
                "/dashboard/allowances/{month}/mediators/{mediator_id}",
            ),
            ("/dashboard/reports/funders", "/dashboard/reports/funders"),
            ("/dashboard/requests/99999", "/dashboard/requests/{request_id}"),  # not found
            ("/dashboard/places?show=all", "/dashboard/places"),
            ("/dashboard/places/new", "/dashboard/places/new"),
            (f"/dashboard/places/{place_id}", "/dashboard/places/{place_id}"),
            ("/dashboard/organisations", "/dashboard/organisations"),
            ("/dashboard/organisations/new", "/dashboard/organisations/new"),
            (
                f"/dashboard/organisations/{organisation_id}",
                "/dashboard/organisations/{organisation_id}",
            ),
            ("/dashboard/staff", "/dashboard/staff"),
            ("/account", "/account"),
            ("/dashboard/audit", "/dashboard/audit"),
            ("/dashboard/audit?entity_id=abc&from=2026-12-05&to=2026-12-01", "/dashboard/audit"),
            ("/dashboard/job-reports", "/dashboard/job-reports"),
            ("/dashboard/job-reports?show=done", "/dashboard/job-reports"),
            ("/confirmations", "/confirmations"),
            ("/c/answered?state=disputed", "/c/answered"),
            ("/c/no-such-link", "/c/{token}"),  # not found
        ):
            page.goto(address)
            check(route)
        page.goto("/dashboard/places/new")  # a place without a name or a point
        page.get_by_role("button", name=t.gettext("Save place")).click()
        check("/dashboard/places/new")
        page.goto(f"/dashboard/requests/{request_id}")  # another funding source, no reason
        page.get_by_role("button", name=t.gettext("Change the funding source")).click()
        expect(page.locator("#reason-error")).to_be_visible()
        check("/dashboard/requests/{request_id}")
        page.goto("/account")  # a new token, shown once, and one revoked
        page.get_by_role("button", name=t.gettext("Create a new token")).click()
        expect(page.get_by_label(t.gettext("New API token"))).to_have_value(re.compile("^sp_"))
        check("/account")
        page.get_by_role("button", name=t.gettext("Revoke")).first.click()
        check("/account")
        page.goto("/dashboard/staff")  # an invitation with a wrong address
        page.get_by_label(t.gettext("Email address")).fill("kein-at")
        page.get_by_role("button", name=t.gettext("Send invitation")).click()
        check("/dashboard/staff")
        fill_request(page, language="Klingonisch", lang=lang)  # the form with its errors
        page.get_by_label(t.gettext("Repeat")).select_option("1")  # a series without its end
        page.get_by_role("button", name=t.gettext("Send request")).click()
        check("/requests/new")
        mediator_id, own_page = own_page_link(server, lang)
        page.goto(f"/dashboard/pool/{mediator_id}")
        page.locator("#start-0").fill("14:00")
        page.locator("#end-0").fill("10:00")
        page.get_by_role("button", name=t.gettext("Save availability")).click()  # a wrong row
        check("/dashboard/pool/{mediator_id}")
        for address, route in (
            (f"/dashboard/pool/{mediator_id}/edit", "/dashboard/pool/{mediator_id}/edit"),
            (f"/dashboard/pool/{mediator_id}/erase", "/dashboard/pool/{mediator_id}/erase"),
            ("/dashboard/pool/new", "/dashboard/pool/new"),
            ("/dashboard/pool/import", "/dashboard/pool/import"),
            ("/dashboard/dayplan?from=2026-12-01&days=2", "/dashboard/dayplan"),
        ):
            page.goto(address)
            check(route)
        page.goto("/dashboard/pool/new")
        page.get_by_role("button", name=t.gettext("Save"), exact=True).click()  # with errors
        check("/dashboard/pool/new")
        page.goto(own_page)
        check("/m/{token}")
        page.goto(offer_link(server, request_id, lang))
        check("/o/{token}")
        caseworker = new_page(browser, server)
        if lang == "en":
            caseworker.goto("/lang/en?next=/login")
        sign_in(caseworker, "peters@jobcenter.example", lang=lang)
        caseworker.goto("/dashboard")  # not for caseworkers
        check("/dashboard", page=caseworker)
        shoot(page, f"14-offer-{lang}")
        assert page_routes(server.app) - seen == set(), f"pages not walked in {lang}"
    assert problems == []
    assert too_wide == []


def test_the_offer_page_speaks_arabic_right_to_left_to_an_arabic_speaker(
    browser: Browser, server: Server
) -> None:
    link = offer_link(server, file_broadcast(server, language="ar", day=3, hour=11), "ar")
    arabic = locales.translator("ar")
    phone = new_page(browser, server, PHONE)
    phone.goto(link)
    expect(phone.locator("html")).to_have_attribute("lang", "ar")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    assert phone.evaluate("getComputedStyle(document.body).direction") == "rtl"
    expect(
        phone.get_by_role("heading", name=arabic.gettext("Can you take this job?"))
    ).to_be_visible()
    # A phone job: the button does not say "I will come" (issue 14).
    accept = phone.get_by_role("button", name=arabic.gettext("Accept – I will take it"))
    expect(accept).to_be_visible()
    assert foreign_on_page(phone.content(), "ar", "de") == []
    assert foreign_on_page(phone.content(), "ar", "en") == []
    shoot(phone, "13-offer-arabic-phone")
    accept.click()
    expect(phone.get_by_role("heading", name=arabic.gettext("Your job"))).to_be_visible()
    assert foreign_on_page(phone.content(), "ar", "de") == []
    shoot(phone, "13-offer-arabic-accepted-phone")


@pytest.mark.parametrize(("locale", "hour"), [("ar", 13), ("fa", 14), ("de", 15)])
def test_a_mediators_pages_fit_the_phone_in_either_direction(
    browser: Browser, server: Server, locale: str, hour: int
) -> None:
    """No sideways scrolling on a phone, right to left as left to right; the skip link is out
    of sight until the keyboard reaches it. (Parked 999 px off to the left, it made every
    Arabic and Farsi page of the common layout 1,374 px wide on a 375 px phone.)"""
    offer = offer_link(server, file_broadcast(server, language="ar", day=4, hour=hour), locale)
    _mediator_id, own = own_page_link(server, locale)
    phone = new_page(browser, server, PHONE, locale=locale)  # a phone set to their language
    for path in (offer, own, "/m/a-link-that-expired"):
        phone.goto(path)
        expect(phone.locator("html")).to_have_attribute("lang", locale)
        wide = phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], (path, wide)
    phone.goto(own)
    skip = phone.locator("a.skip")
    expect(skip).not_to_be_in_viewport()
    phone.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport(ratio=1)


def test_the_coordinators_header_leaves_a_phone_screen_to_the_page(
    browser: Browser, server: Server
) -> None:
    """The navigation is one row that scrolls sideways on a phone: its fourteen links,
    wrapped, took 315 of a phone's 667 pixels on every page."""
    phone = new_page(browser, server, PHONE)
    sign_in(phone, "koordination@beckum.example")
    expect(phone).to_have_url(re.compile(r"/dashboard$"))
    header = phone.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= PHONE["height"] / 5, header
    links = phone.locator("header.top nav a")
    assert links.count() >= 14
    expect(links.last).not_to_be_in_viewport()  # further along the row
    links.last.scroll_into_view_if_needed()
    expect(links.last).to_be_in_viewport()
    links.last.click()
    expect(phone).to_have_url(re.compile(r"/requests$"))
    assert phone_overflow(phone) <= 0


def test_a_page_far_along_the_phones_navigation_opens_with_its_link_in_sight(
    browser: Browser, server: Server
) -> None:
    """The row would open at its first link, hiding where the coordinator is; the row
    scrolls so that the current page's link is in sight, and the page itself stays
    at its top."""
    phone = new_page(browser, server, PHONE)
    sign_in(phone, "koordination@beckum.example")
    for path in ("/dashboard/audit", "/requests", "/dashboard"):
        phone.goto(server.url + path)
        current = phone.locator("header.top nav a[aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_be_in_viewport(ratio=0.95)
        assert phone.evaluate("window.scrollY") == 0, path
        assert phone_overflow(phone) <= 0, path
