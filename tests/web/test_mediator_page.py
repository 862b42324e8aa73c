"""A mediator's personal link: upcoming jobs, pause and resume; single-purpose, expiring, hashed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import locales
from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.mediators.models import Mediator
from dispatch.offers.flows import dispatch_new_request
from dispatch.offers.models import Assignment, AssignmentSource, Offer, OfferStatus
from dispatch.places.models import Place
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from dispatch.web.links import MEDIATOR_LINK_LIFETIME, issue_mediator_link, issue_sign_in_link
from tests.catalog_texts import assert_only_in
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of, update_row

BERLIN = ZoneInfo("Europe/Berlin")


def _link(engine: Engine, clock: ManualClock, mediator_id: int) -> str:
    with unit_of_work(engine) as session:
        return issue_mediator_link(session, mediator_id=mediator_id, now=clock.now())


def _hold(engine: Engine, clock: ManualClock, job: Request, mediator_id: int) -> None:
    """The coordinator gave the job to the mediator."""
    with unit_of_work(engine) as session:
        session.add(
            Assignment(
                request_id=job.id,
                mediator_id=mediator_id,
                source=AssignmentSource.coordinator,
                created_at=clock.now(),
            )
        )
    update_row(engine, job, status=RequestStatus.assigned)


def test_link_shows_upcoming_jobs_and_pauses_and_resumes(
    web: TestClient,
    add_mediator: Callable[..., int],
    case_person: Person,
    file_request: Callable[..., Request],
    place: Place,
    engine: Engine,
    clock: ManualClock,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad")
    job = file_request(case_person, mode="in_person", place_id=place.id, contact_name="Frau Peters")
    _hold(engine, clock, job, mediator_id)
    path = _link(engine, clock, mediator_id)
    assert path.startswith("/m/")
    page = web.get(path)
    arabic = locales.translator("ar")  # the mediator's message_locale: the page speaks it
    assert page.status_code == 200 and arabic.gettext("Hello %(name)s", name="Amina") in page.text
    assert '<html lang="ar" dir="rtl">' in page.text
    # The job's day in full, weekday first, as an Arabic reader writes it.
    assert arabic.date(job.start.astimezone(BERLIN).date(), "full") in page.text
    assert (
        "Rathaus Beckum" in page.text and "Frau Peters" in page.text and "Bürgerbüro" in page.text
    )
    paused = web.post(path + "/pause", data={"csrf_token": csrf_of(page)})
    assert paused.headers["location"] == path + "?done=paused"
    assert (
        arabic.gettext("You are paused. You get no new offers until you resume.")
        in web.get(paused.headers["location"]).text
    )
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).paused is True
    web.post(path + "/resume", data={"csrf_token": csrf_of(page)})
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).paused is False
        # Their history says they paused and resumed, by their page (not "changed").
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_id == mediator_id)
            .order_by(col(AuditEvent.id))
        ).all()
        assert [(e.action, e.actor_kind, e.details) for e in events][-2:] == [
            ("mediator.pause", "mediator", {"via": "page"}),
            ("mediator.resume", "mediator", {"via": "page"}),
        ]


def test_the_page_says_whom_to_call_or_which_link_to_join_for_remote_jobs(
    web: TestClient,
    add_mediator: Callable[..., int],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad")
    phone = file_request(case_person, mode="phone", connection="+49 2521 29-0")
    video = file_request(
        case_person,
        mode="video",
        connection="https://meet.example/jc-4711",
        start=clock.now() + timedelta(days=2),
    )
    for job in (phone, video):
        _hold(engine, clock, job, mediator_id)
    page = web.get(_link(engine, clock, mediator_id)).text
    arabic = locales.translator("ar")
    assert arabic.gettext("Please call the office at the start:") in page
    assert 'href="tel:+492521290"' in page
    assert arabic.gettext("Video meeting:") in page
    assert 'href="https://meet.example/jc-4711"' in page


def test_pause_without_the_form_token_is_refused(
    web: TestClient, add_mediator: Callable[..., int], engine: Engine, clock: ManualClock
) -> None:
    path = _link(engine, clock, add_mediator())
    other = _link(engine, clock, add_mediator())
    token_of_other = csrf_of(web.get(other))
    assert web.post(path + "/pause", data={}).status_code == 403
    assert web.post(path + "/pause", data={"csrf_token": token_of_other}).status_code == 403


def test_links_expire_are_stored_hashed_and_serve_one_purpose(
    web: TestClient,
    add_mediator: Callable[..., int],
    case_person: Person,
    engine: Engine,
    clock: ManualClock,
) -> None:
    path = _link(engine, clock, add_mediator())
    with engine.connect() as connection:
        stored = " ".join(str(r) for r in connection.execute(sa.text("SELECT * FROM access_link")))
    assert path.removeprefix("/m/") not in stored
    with unit_of_work(engine) as session:
        sign_in_path = issue_sign_in_link(
            session, user=get_row(session, User, case_person.id), now=clock.now()
        )
    assert web.get("/m/" + sign_in_path.rsplit("/", 1)[1]).status_code == 410
    assert web.get("/m/not-a-token").status_code == 410
    clock.advance(MEDIATOR_LINK_LIFETIME + timedelta(minutes=1))
    expired = web.get(path)
    assert expired.status_code == 410 and "Dieser Link gilt nicht mehr" in expired.text


def test_german_speaking_mediator_gets_german(
    web: TestClient, add_mediator: Callable[..., int], engine: Engine, clock: ManualClock
) -> None:
    path = _link(engine, clock, add_mediator(name="Amina Haddad", message_locale="de"))
    page = web.get(path)
    assert '<html lang="de">' in page.text and "Hallo Amina" in page.text


def test_english_speaking_mediator_gets_english(
    web: TestClient, add_mediator: Callable[..., int], engine: Engine, clock: ManualClock
) -> None:
    path = _link(engine, clock, add_mediator(message_locale="en"))
    page = web.get(path)
    assert '<html lang="en">' in page.text and "Your next jobs" in page.text


@pytest.mark.parametrize("locale", [lc for lc in locales.MEDIATOR_LOCALES if lc != "de"])
def test_a_link_that_no_longer_works_answers_in_the_phones_language(
    locale: str,
    web: TestClient,
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    """An expired link names nobody: the page speaks what the phone asks for."""
    path = _link(engine, clock, add_mediator(message_locale=locale))
    clock.advance(MEDIATOR_LINK_LIFETIME + timedelta(minutes=1))
    phone = {"Accept-Language": f"{locale}-XX,{locale};q=0.9,de;q=0.5"}
    expired = web.get(path, headers=phone)
    t = locales.translator(locale)
    assert expired.status_code == 410
    assert t.gettext("This link no longer works") in expired.text
    assert_only_in(expired.text, locale)
    unknown_offer = web.get("/o/not-a-token", headers=phone)
    assert unknown_offer.status_code == 404
    assert t.gettext("Unknown link") in unknown_offer.text
    assert_only_in(unknown_offer.text, locale)


def test_a_refused_form_on_the_own_page_answers_in_the_phones_language(
    web: TestClient, add_mediator: Callable[..., int], engine: Engine, clock: ManualClock
) -> None:
    path = _link(engine, clock, add_mediator(message_locale="uk"))
    refused = web.post(path + "/pause", data={}, headers={"Accept-Language": "uk"})
    assert refused.status_code == 403
    assert locales.translator("uk").gettext("This form has expired") in refused.text
    assert_only_in(refused.text, "uk")


def test_error_pages_keep_german_without_a_wish_and_the_switchs_choice_over_the_phone(
    web: TestClient,
) -> None:
    assert '<html lang="de">' in web.get("/m/not-a-token").text
    assert '<html lang="de">' in web.get("/m/not-a-token", headers={"Accept-Language": "fr"}).text
    web.cookies.set("sp_lang", "en")
    chosen = web.get("/m/not-a-token", headers={"Accept-Language": "ar"})
    assert chosen.status_code == 410 and '<html lang="en">' in chosen.text
    assert "This link no longer works" in chosen.text


def test_staff_error_pages_stay_in_german_or_english_whatever_the_browser_asks(
    web: TestClient,
) -> None:
    missing = web.get("/no-such-page", headers={"Accept-Language": "ar"})
    assert missing.status_code == 404 and '<html lang="de">' in missing.text


def test_a_mediator_who_switched_to_german_finds_the_way_back_to_their_language(
    web: TestClient, add_mediator: Callable[..., int], engine: Engine, clock: ManualClock
) -> None:
    """The header's switch offered only German or English: a tap on "Deutsch" on an
    Arabic page left no way back but clearing the cookies."""
    path = _link(engine, clock, add_mediator(name="Amina Haddad", message_locale="ar"))
    arabic = web.get(path).text
    assert '<html lang="ar" dir="rtl">' in arabic
    assert 'href="/lang/de?next=' in arabic and 'href="/lang/en?next=' in arabic
    assert 'href="/lang/ar?' not in arabic
    german = web.get("/lang/de", params={"next": path}, follow_redirects=True)
    assert '<html lang="de">' in german.text and "Hallo Amina" in german.text
    assert 'hreflang="ar" dir="rtl">العربية</a>' in german.text
    again = web.get("/lang/ar", params={"next": path}, follow_redirects=True)
    assert '<html lang="ar" dir="rtl">' in again.text
    # Arabic is no staff page's language: those stay German (or English) for this browser.
    staff = web.get("/login")
    assert '<html lang="de">' in staff.text and 'href="/lang/ar' not in staff.text


def test_the_switchs_choice_of_a_mediator_language_holds_on_their_error_pages(
    web: TestClient,
) -> None:
    web.cookies.set("sp_lang", "tr")
    gone = web.get("/m/not-a-token", headers={"Accept-Language": "ar"})
    assert gone.status_code == 410 and '<html lang="tr">' in gone.text
    assert_only_in(gone.text, "tr")


def test_a_mediator_whose_link_failed_sees_whom_to_call(
    web: TestClient,
    app: FastAPI,
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page said "ask the coordinator" and left them to find the number."""
    office = "+4925219990000"
    monkeypatch.setattr(
        app.state, "settings", app.state.settings.model_copy(update={"coordinator_phone": office})
    )
    path = _link(engine, clock, add_mediator(message_locale="ar"))
    own = web.get(path).text
    assert f'href="tel:{office}"' in own
    assert_only_in(own, "ar")
    refused = web.post(path + "/pause", data={}, headers={"Accept-Language": "ar"})
    assert refused.status_code == 403 and f'href="tel:{office}"' in refused.text
    assert locales.translator("ar").gettext("Coordinator:") in refused.text
    assert_only_in(refused.text, "ar")
    staff = web.get("/no-such-page")
    assert staff.status_code == 404 and "tel:" not in staff.text  # staff know the number


def test_pausing_on_the_page_declines_the_offers_still_open(
    web: TestClient,
    add_mediator: Callable[..., int],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    """Like STOP by SMS: an open offer would hold its place in the wave until it ran out."""
    tuesdays = [{"weekday": "tue", "start": "08:00", "end": "16:00"}]
    mediator_id = add_mediator(name="Amina Haddad", availability=tuesdays)
    job = file_request(case_person)  # Tuesday 09:00
    with unit_of_work(engine) as session:
        dispatch_new_request(
            session, get_row(session, Request, job.id), now=clock.now(), settings=settings
        )
    with Session(engine) as session:
        offer = session.exec(select(Offer).where(Offer.request_id == job.id)).one()
    assert offer.mediator_id == mediator_id and offer.status == OfferStatus.pending
    path = _link(engine, clock, mediator_id)

    web.post(path + "/pause", data={"csrf_token": csrf_of(web.get(path))})

    with Session(engine) as session:
        assert get_row(session, Offer, offer.id).status == OfferStatus.declined
