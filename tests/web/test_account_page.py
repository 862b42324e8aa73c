"""A staff member's own account page: who they are, and the API tokens they make and revoke."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.storage import unit_of_work
from dispatch.users import service as users
from dispatch.users.models import ApiToken, User
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="(sp_[\w-]+)"')


def create_token(web: TestClient) -> httpx.Response:
    page = web.get("/account")
    answer: httpx.Response = web.post("/account/tokens", data={"csrf_token": csrf_of(page)})
    return answer


def new_token(answer: httpx.Response) -> str:
    match = NEW_TOKEN.search(answer.text)
    assert match, answer.text
    return match[1]


def revoke(web: TestClient, token_id: int | str) -> httpx.Response:
    page = web.get("/account")
    answer: httpx.Response = web.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(page)}
    )
    return answer


def api_places(web: TestClient, token: str) -> int:
    """The status of a real API call with `token` (the web client's cookies play no part)."""
    answer: httpx.Response = web.get("/api/v1/places", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


def tokens_of(engine: Engine, person: Person) -> list[ApiToken]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(ApiToken).where(ApiToken.user_id == person.id).order_by(col(ApiToken.id))
            )
        )


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("role", ["caseworker", "coordinator"])
def test_the_account_page_shows_who_is_signed_in_and_is_linked_from_the_header(
    signed_in: Callable[[Person], TestClient], make_person: Callable[..., Person], role: str
) -> None:
    person = make_person(role, "Jobcenter Kreis Warendorf")
    web = signed_in(person)

    page = web.get("/account")

    assert page.status_code == 200
    assert "<h1>Mein Konto</h1>" in page.text
    assert person.email in page.text and f"{role.title()} Test" in page.text
    assert ("Koordinator/in" if role == "coordinator" else "Sachbearbeiter/in") in page.text
    assert "Jobcenter Kreis Warendorf" in page.text
    assert "Sie haben noch keine API-Tokens." in page.text
    assert '<a href="/account" aria-current="page">Mein Konto</a>' in page.text
    assert '<a href="/account" >Mein Konto</a>' in web.get("/requests").text


def test_the_account_page_needs_a_sign_in(web: TestClient, engine: Engine) -> None:
    response = web.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"
    login = web.get("/login")  # a visitor's form token: still no account to make a token for
    made = web.post("/account/tokens", data={"csrf_token": csrf_of(login)})
    assert made.status_code == 303 and made.headers["location"].startswith("/login")
    with Session(engine) as session:
        assert session.exec(select(ApiToken)).all() == []


def test_a_new_token_is_shown_once_and_works_against_the_api(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
) -> None:
    web = signed_in(case_person)

    answer = create_token(web)

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "Kopieren Sie ihn jetzt: Er wird nur dieses eine Mal angezeigt." in answer.text
    token = new_token(answer)
    assert api_places(web, token) == 200
    [stored] = tokens_of(engine, case_person)
    assert token not in (stored.token_hash, stored.prefix) and token.startswith(stored.prefix)
    assert stored.last_used_at is not None  # the API call was noted
    [issued] = events(engine, "token.issue")
    assert (issued.actor_kind, issued.actor_id, issued.entity_id) == (
        "user",
        case_person.id,
        case_person.id,
    )
    assert issued.details == {"token_id": stored.id}

    again = web.get("/account")

    assert token not in again.text and "new-token" not in again.text
    assert f"<code>{stored.prefix}…</code>" in again.text
    assert "aktiv" in again.text and "Gültige Tokens: 1 von höchstens 5." in again.text


def test_a_revoked_token_is_refused_by_the_api_at_once(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    token = new_token(create_token(web))
    assert api_places(web, token) == 200
    [made] = tokens_of(engine, coord_person)

    revoked = revoke(web, made.id)

    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/account?revoked={made.id}"
    assert api_places(web, token) == 401
    page = web.get(revoked.headers["location"])
    assert f"Der Token {made.prefix}… ist widerrufen" in page.text
    assert f"/account/tokens/{made.id}/revoke" not in page.text  # nothing left to revoke
    [event] = events(engine, "token.revoke")
    assert (event.actor_kind, event.actor_id, event.details) == (
        "user",
        coord_person.id,
        {"token_id": made.id},
    )
    assert "API-Token widerrufen" in web.get("/dashboard/audit").text
    assert revoke(web, made.id).status_code == 303  # a second click changes nothing
    assert len(events(engine, "token.revoke")) == 1


def test_someone_elses_token_cannot_be_revoked_and_keeps_working(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    engine: Engine,
    clock: ManualClock,
) -> None:
    colleague = make_person("caseworker", "Jobcenter Kreis Warendorf")
    with unit_of_work(engine) as session:
        theirs = users.issue_token(
            session, user=get_row(session, User, colleague.id), now=clock.now()
        )
    [their_row] = tokens_of(engine, colleague)
    web = signed_in(case_person)

    refused = revoke(web, their_row.id)

    assert refused.status_code == 404
    assert f"Sie haben keinen API-Token mit der Nummer {their_row.id}" in refused.text
    assert api_places(web, theirs) == 200
    assert tokens_of(engine, colleague)[0].revoked_at is None
    assert revoke(web, 999_999).status_code == 404
    for garbage in ("abc", "0", "-1", "1.5", "99999999999999999999"):
        answer = revoke(web, garbage)
        assert answer.status_code == 422, garbage
        assert "Ungültige Eingabe" in answer.text
    assert events(engine, "token.revoke") == []


def test_at_the_limit_a_new_token_waits_until_one_is_revoked(
    signed_in: Callable[[Person], TestClient], case_person: Person, app: FastAPI, engine: Engine
) -> None:
    limit = app.state.settings.max_api_tokens_per_user
    assert limit == 5
    web = signed_in(case_person)
    for _ in range(limit):
        assert create_token(web).status_code == 200

    refused = create_token(web)

    assert refused.status_code == 409
    assert "Sie haben bereits 5 gültige API-Tokens, mehr sind nicht erlaubt." in refused.text
    assert "new-token" not in refused.text
    assert len(tokens_of(engine, case_person)) == limit
    assert revoke(web, tokens_of(engine, case_person)[0].id).status_code == 303
    assert create_token(web).status_code == 200
    assert len([t for t in tokens_of(engine, case_person) if t.revoked_at is None]) == limit


def test_a_form_without_its_csrf_token_is_refused(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    token = new_token(create_token(web))
    [made] = tokens_of(engine, case_person)

    no_token = web.post("/account/tokens", data={})
    no_revoke = web.post(f"/account/tokens/{made.id}/revoke", data={"csrf_token": "0" * 64})

    assert no_token.status_code == 403 and no_revoke.status_code == 403
    assert "Das Formular ist abgelaufen" in no_token.text
    assert len(tokens_of(engine, case_person)) == 1
    assert api_places(web, token) == 200


def test_the_page_speaks_english_after_the_switch(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    web.get("/lang/en")

    answer = create_token(web)

    assert "<h1>My account</h1>" in answer.text
    assert "Copy it now: it is shown only this once." in answer.text
    assert "Kopieren" not in answer.text and "Mein Konto" not in answer.text
    [made] = tokens_of(engine, case_person)
    page = web.get(revoke(web, made.id).headers["location"])
    assert f"The token {made.prefix}… is revoked; the API refuses it from now on." in page.text
    assert "You have no API token with the number 999999" in revoke(web, 999_999).text


def test_a_mangled_notice_in_the_account_page_s_address_is_a_page_not_a_server_error(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    for value in ("abc", "-1", "9" * 40, "%00"):
        answer = web.get(f"/account?revoked={value}")
        assert 200 <= answer.status_code < 500, (value, answer.status_code)
        assert "text/html" in answer.headers["content-type"], value
