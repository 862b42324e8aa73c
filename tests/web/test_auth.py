"""Signing in and out, sessions, lockout, CSRF and one-time sign-in links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.clock import ManualClock
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from dispatch.web import auth
from dispatch.web.links import issue_sign_in_link
from dispatch.web.models import WebSession
from tests.conftest import get_row
from tests.web.conftest import PASSWORD, Person, csrf_of, sign_in


def test_caseworker_signs_in_and_lands_on_their_requests(
    web: TestClient, case_person: Person
) -> None:
    response = sign_in(web, case_person)
    assert response.status_code == 303
    assert response.headers["location"] == "/requests"
    assert web.get("/").headers["location"] == "/requests"
    page = web.get("/requests")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Anfragen meiner Organisation" in page.text


def test_coordinator_lands_on_the_dashboard(web: TestClient, coord_person: Person) -> None:
    assert sign_in(web, coord_person).headers["location"] == "/dashboard"
    assert web.get("/").headers["location"] == "/dashboard"


def test_session_cookie_is_httponly_secure_lax_and_stored_hashed(
    web: TestClient, case_person: Person, engine: Engine
) -> None:
    response = sign_in(web, case_person)
    cookie = next(
        h
        for h in response.headers.get_list("set-cookie")
        if h.startswith(auth.SESSION_COOKIE + "=")
    )
    flags = cookie.lower()
    assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags
    value = cookie.split(";")[0].split("=", 1)[1]
    with Session(engine) as session:
        stored = session.exec(select(WebSession)).one()
    assert stored.token_hash != value and len(stored.token_hash) == 64
    with engine.connect() as connection:
        dump = " ".join(
            str(row) for row in connection.execute(sa.text("SELECT * FROM web_session"))
        )
    assert value not in dump


def test_anonymous_visitor_is_sent_to_login_and_back(web: TestClient, case_person: Person) -> None:
    assert web.get("/").headers["location"] == "/login"
    response = web.get("/requests?show=past")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Frequests%3Fshow%3Dpast"
    page = web.get(response.headers["location"])
    signed = web.post(
        "/login",
        data={
            "email": case_person.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "/requests?show=past",
        },
    )
    assert signed.headers["location"] == "/requests?show=past"


def test_next_may_not_lead_to_another_site(web: TestClient, case_person: Person) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        web.cookies.clear()
        page = web.get("/login")
        signed = web.post(
            "/login",
            data={
                "email": case_person.email,
                "password": PASSWORD,
                "csrf_token": csrf_of(page),
                "next": target,
            },
        )
        assert signed.headers["location"] == "/requests"


def test_wrong_password_says_so_without_telling_which_part(
    web: TestClient, case_person: Person
) -> None:
    # A NUL went to PostgreSQL as it was, and it answered with a server error.
    for email in (case_person.email, "nobody@beckum.example", case_person.email + "\x00"):
        page = web.get("/login")
        response = web.post(
            "/login", data={"email": email, "password": "falsch", "csrf_token": csrf_of(page)}
        )
        assert response.status_code == 401
        assert "E-Mail-Adresse oder Passwort stimmen nicht." in response.text
        assert auth.SESSION_COOKIE not in response.cookies


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    web: TestClient, case_person: Person, clock: ManualClock, engine: Engine
) -> None:
    for attempt in range(1, auth.MAX_FAILED_LOGINS + 1):
        response = sign_in(web, case_person, password=f"wrong-{attempt}")
        assert response.status_code == (429 if attempt == auth.MAX_FAILED_LOGINS else 401)
    assert "vorübergehend gesperrt" in response.text and "15 Minuten" in response.text
    # Even the right password is refused while the lock holds.
    locked = sign_in(web, case_person)
    assert locked.status_code == 429
    with Session(engine) as session:
        assert get_row(session, User, case_person.id).locked_until == clock.now() + auth.LOCKOUT
    clock.advance(auth.LOCKOUT + timedelta(seconds=1))
    assert sign_in(web, case_person).status_code == 303


def test_a_successful_sign_in_resets_the_failure_count(
    web: TestClient, case_person: Person, engine: Engine
) -> None:
    for _ in range(auth.MAX_FAILED_LOGINS - 1):
        assert sign_in(web, case_person, password="wrong").status_code == 401
    assert sign_in(web, case_person).status_code == 303
    with Session(engine) as session:
        assert get_row(session, User, case_person.id).failed_logins == 0


def test_login_without_or_with_a_wrong_csrf_token_is_refused(
    web: TestClient, case_person: Person
) -> None:
    web.get("/login")
    for data in ({}, {"csrf_token": "0" * 64}):
        response = web.post(
            "/login", data={"email": case_person.email, "password": PASSWORD, **data}
        )
        assert response.status_code == 403
        assert "Das Formular ist abgelaufen" in response.text
        assert response.headers["content-type"].startswith("text/html")


def test_a_form_token_of_one_browser_is_refused_in_another(
    web: TestClient, other_web: TestClient, case_person: Person
) -> None:
    token = csrf_of(web.get("/login"))
    other_web.get("/login")
    response = other_web.post(
        "/login", data={"email": case_person.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403


def test_sign_out_ends_the_session_for_good(web: TestClient, case_person: Person) -> None:
    sign_in(web, case_person)
    cookie = web.cookies.get(auth.SESSION_COOKIE)
    page = web.get("/requests")
    assert web.post("/logout", data={"csrf_token": csrf_of(page)}).headers["location"] == "/login"
    web.cookies.set(
        auth.SESSION_COOKIE, cookie, domain="testserver"
    )  # a copied cookie is no use afterwards
    assert web.get("/requests").status_code == 303


def test_an_idle_session_expires(web: TestClient, case_person: Person, clock: ManualClock) -> None:
    sign_in(web, case_person)
    clock.advance(auth.IDLE_TIMEOUT - timedelta(minutes=1))
    assert web.get("/requests").status_code == 200  # use extends it
    clock.advance(auth.IDLE_TIMEOUT - timedelta(minutes=1))
    assert web.get("/requests").status_code == 200
    clock.advance(auth.IDLE_TIMEOUT + timedelta(minutes=1))
    assert web.get("/requests").status_code == 303


def test_caseworker_may_not_open_coordinator_pages(web: TestClient, case_person: Person) -> None:
    sign_in(web, case_person)
    for path in (
        "/dashboard",
        "/dashboard/pool",
        "/dashboard/stats",
        "/dashboard/messages",
        "/dashboard/plan",
        "/dashboard/export/assignments.csv",
    ):
        response = web.get(path)
        assert response.status_code == 403, path
        assert "Kein Zugriff" in response.text


def test_one_time_link_works_once_and_can_set_a_password(
    web: TestClient,
    other_web: TestClient,
    make_person: Callable[..., Person],
    engine: Engine,
    clock: ManualClock,
) -> None:
    person = make_person("caseworker", password=None)
    with unit_of_work(engine) as session:
        path = issue_sign_in_link(session, user=get_row(session, User, person.id), now=clock.now())
    page = web.get(path)  # opening it (or a link previewer) uses nothing up
    page = web.get(path)
    assert page.status_code == 200 and "Passwort speichern und anmelden" in page.text
    response = web.post(path, data={"csrf_token": csrf_of(page), "password": "ein-neues-passwort"})
    assert response.status_code == 303 and response.headers["location"] == "/requests"
    assert web.get("/requests").status_code == 200
    again = other_web.get(path)  # a used link says so at once
    assert again.status_code == 410 and "gilt nicht mehr" in again.text
    # The form's token is bound to the link, so the page shown before still sends.
    used = other_web.post(path, data={"csrf_token": csrf_of(page)})
    assert used.status_code == 410 and "gilt nicht mehr" in used.text
    assert sign_in(other_web, person, password="ein-neues-passwort").status_code == 303


def test_one_time_link_expires(
    web: TestClient, make_person: Callable[..., Person], engine: Engine, clock: ManualClock
) -> None:
    person = make_person("coordinator", password=None)
    with unit_of_work(engine) as session:
        path = issue_sign_in_link(session, user=get_row(session, User, person.id), now=clock.now())
    page = web.get(path)
    clock.advance(timedelta(hours=49))
    assert web.get(path).status_code == 410
    assert web.post(path, data={"csrf_token": csrf_of(page)}).status_code == 410


def test_language_switch_shows_english_and_back(web: TestClient) -> None:
    response = web.get("/lang/en?next=/login")
    assert response.headers["location"] == "/login"
    page = web.get("/login")
    assert '<html lang="en">' in page.text and "Sign in" in page.text and "Password" in page.text
    web.get("/lang/de?next=/login")
    assert '<html lang="de">' in web.get("/login").text


def test_unknown_page_is_a_friendly_html_page_and_the_api_stays_json(web: TestClient) -> None:
    page = web.get("/no-such-page")
    assert page.status_code == 404 and "Nicht gefunden" in page.text
    api = web.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "http_404"


def test_pages_forbid_framing_and_outside_scripts(web: TestClient) -> None:
    page = web.get("/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"


def test_a_signed_in_staff_members_language_switch_is_the_language_of_their_messages(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    assert web.get("/lang/en?next=/requests").status_code == 303
    with Session(engine) as session:
        assert get_row(session, User, case_person.id).locale == "en"
    web.get("/lang/xx?next=/requests")  # not a language of ours: nothing changes
    with Session(engine) as session:
        assert get_row(session, User, case_person.id).locale == "en"
    web.get("/lang/de?next=/requests")
    with Session(engine) as session:
        assert get_row(session, User, case_person.id).locale == "de"
