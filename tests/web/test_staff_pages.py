"""The staff page and the account pages: invite, the link page, forgotten passwords, deactivate,
hand over."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.outbox.models import Message
from dispatch.requests.models import Request
from dispatch.throttle import ThrottleHit
from dispatch.users import flows
from dispatch.users.models import User
from dispatch.web.account import FORGOT_WINDOW
from tests.conftest import get_row
from tests.web.conftest import PASSWORD, Person, csrf_of, sign_in

NEW_PASSWORD = "mein-eigenes-passwort"


def mails_to(engine: Engine, email: str, kind: str) -> list[Message]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.recipient == email, Message.kind == kind)
                .order_by(col(Message.id))
            )
        )


def link_path(message: Message) -> str:
    match = re.search(r"https://sprachpool\.test(/login/link/[\w-]+)", message.body)
    assert match, message.body
    return match[1]


def invite(web: TestClient, **values: str) -> tuple[int, str]:
    page = web.get("/dashboard/staff")
    response = web.post("/dashboard/staff", data={"csrf_token": csrf_of(page), **values})
    return response.status_code, response.text


def test_invited_caseworker_sets_a_password_from_the_link_once(
    signed_in: Callable[[Person], TestClient],
    other_web: TestClient,
    coord_person: Person,
    case_person: Person,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    status, _ = invite(
        web,
        name="Nora Neu",
        email="nora@jobcenter.example",
        role="caseworker",
        organisation_id=str(case_person.organisation_id),
        locale="de",
    )
    assert status == 303
    page = web.get("/dashboard/staff?invited=1")
    assert "nora@jobcenter.example" in page.text and "eingeladen" in page.text
    [mail] = mails_to(engine, "nora@jobcenter.example", "staff_invitation")
    assert mail.subject == "Ihr Zugang zu Sprachpool"
    path = link_path(mail)

    form = other_web.get(path)
    assert form.status_code == 200 and "Willkommen bei Sprachpool" in form.text
    token = csrf_of(form)
    refused = other_web.post(path, data={"csrf_token": token, "password": ""})
    assert refused.status_code == 422 and "Bitte wählen Sie ein Passwort." in refused.text
    short = other_web.post(path, data={"csrf_token": token, "password": "kurz"})
    assert short.status_code == 422 and "mindestens 10 Zeichen" in short.text
    done = other_web.post(path, data={"csrf_token": token, "password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/requests"
    assert other_web.get("/requests").status_code == 200

    # Used: the link gets the friendly page and changes nothing.
    again = web.get(path)
    assert again.status_code == 410 and "gilt nicht mehr" in again.text
    second = web.post(path, data={"csrf_token": token, "password": "ein-anderes-passwort"})
    assert second.status_code == 410
    with Session(engine) as session:
        nora = session.exec(select(User).where(User.email == "nora@jobcenter.example")).one()
    person = Person(nora.id, nora.email, nora.organisation_id, nora)
    other_web.cookies.clear()
    assert sign_in(other_web, person, password=NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize("how", ["expired", "forged", "replaced"])
def test_a_link_that_no_longer_works_gets_a_friendly_page(
    signed_in: Callable[[Person], TestClient],
    other_web: TestClient,
    coord_person: Person,
    engine: Engine,
    clock: ManualClock,
    how: str,
) -> None:
    web = signed_in(coord_person)
    invite(web, name="Kai", email="kai@beckum.example", role="coordinator", locale="en")
    [mail] = mails_to(engine, "kai@beckum.example", "staff_invitation")
    path = link_path(mail)
    if how == "expired":
        clock.advance(timedelta(hours=48, minutes=1))
    elif how == "forged":
        path = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    else:
        page = web.get("/dashboard/staff")
        user_id = mail.recipient_id
        web.post(f"/dashboard/staff/{user_id}/invite", data={"csrf_token": csrf_of(page)})
        assert len(mails_to(engine, "kai@beckum.example", "staff_invitation")) == 2
    response = other_web.get(path)
    assert response.status_code == 410 and "gilt nicht mehr" in response.text
    with Session(engine) as session:
        kai = session.exec(select(User).where(User.email == "kai@beckum.example")).one()
        assert kai.password_hash is None


def test_invitation_errors_are_shown_beside_the_fields_and_kept(
    signed_in: Callable[[Person], TestClient], coord_person: Person, case_person: Person
) -> None:
    web = signed_in(coord_person)
    status, text = invite(web, name="", email="kein-at", role="admin", locale="de")
    assert status == 422
    assert 'id="name-error"' in text and 'id="email-error"' in text and 'id="role-error"' in text
    assert 'value="kein-at"' in text
    status, text = invite(web, name="Doppelt", email=case_person.email, role="caseworker")
    assert status == 409
    assert 'id="email-error"' in text and "Zu dieser E-Mail-Adresse gibt es schon ein Konto" in text

    web.get("/lang/en")
    status, text = invite(web, name="X", email="x@", role="caseworker")
    assert status == 422 and "Please give a valid email address" in text
    status, text = invite(web, name="Jörg", email="jörg@köln.de", role="caseworker")
    assert status == 422 and 'id="email-error"' in text
    assert "before the @ with Latin letters without accents" in text
    status, _ = invite(web, name="Köln", email="info@köln.de", role="caseworker")
    assert status == 303


def test_forgot_password_answers_the_same_and_sends_a_link_to_an_account(
    web: TestClient, case_person: Person, engine: Engine
) -> None:
    page = web.get("/login")
    assert 'href="/login/forgot"' in page.text
    form = web.get("/login/forgot")
    known = web.post(
        "/login/forgot", data={"csrf_token": csrf_of(form), "email": case_person.email.upper()}
    )
    unknown = web.post(
        "/login/forgot", data={"csrf_token": csrf_of(form), "email": "niemand@example.org"}
    )
    assert known.status_code == unknown.status_code == 200
    nul = web.post(  # checked as an address before any lookup (PostgreSQL refuses a NUL)
        "/login/forgot", data={"csrf_token": csrf_of(form), "email": case_person.email + "\x00"}
    )
    assert nul.status_code == 422
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "Falls es zu dieser Adresse ein Konto gibt" in known.text
    [mail] = mails_to(engine, case_person.email, "signin_link")
    path = link_path(mail)
    assert "60 Minuten" in mail.body
    link_page = web.get(path)
    assert link_page.status_code == 200
    response = web.post(path, data={"csrf_token": csrf_of(link_page), "password": NEW_PASSWORD})
    assert response.status_code == 303

    form = web.get("/login/forgot")  # signed in now: the form is bound to the session
    bad = web.post("/login/forgot", data={"csrf_token": csrf_of(form), "email": "kein-at"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text


def test_forgot_password_is_rate_limited(
    web: TestClient, case_person: Person, engine: Engine, clock: ManualClock
) -> None:
    form = web.get("/login/forgot")
    answers = [
        web.post(
            "/login/forgot", data={"csrf_token": csrf_of(form), "email": case_person.email}
        ).status_code
        for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]
    # The address got at most FORGOT_PER_HOUR links of the five asked for.
    assert len(mails_to(engine, case_person.email, "signin_link")) == flows.FORGOT_PER_HOUR
    clock.advance(timedelta(minutes=61))
    again = web.post(
        "/login/forgot", data={"csrf_token": csrf_of(form), "email": case_person.email}
    )
    assert again.status_code == 200
    assert len(mails_to(engine, case_person.email, "signin_link")) == flows.FORGOT_PER_HOUR + 1


def test_forgot_password_limits_hold_across_restarts_and_keep_no_address(
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
    case_person: Person,
) -> None:
    """Each restart (a new app, as a new worker or process) sees the counts of the others."""

    def ask(email: str) -> int:
        restarted: FastAPI = create_app(settings, engine=engine, clock=clock, run_migrations=False)
        with TestClient(restarted, base_url="https://testserver", follow_redirects=False) as web:
            form = web.get("/login/forgot")
            answer = web.post("/login/forgot", data={"csrf_token": csrf_of(form), "email": email})
        status: int = answer.status_code
        return status

    answers = [ask(case_person.email) for _ in range(flows.FORGOT_PER_HOUR + 1)]
    assert answers == [200] * (flows.FORGOT_PER_HOUR + 1)  # the same answer, fewer links
    assert len(mails_to(engine, case_person.email, "signin_link")) == flows.FORGOT_PER_HOUR
    assert ask("niemand@example.org") == 200  # the fifth ask of this client
    assert ask("noch-jemand@example.org") == 429  # the sixth, from a fresh process
    with Session(engine) as session:
        hits = session.exec(select(ThrottleHit)).all()
    stored = " ".join(f"{hit.scope} {hit.key_hash}" for hit in hits)
    assert hits and "@" not in stored and "testclient" not in stored
    clock.advance(FORGOT_WINDOW)
    assert ask("noch-jemand@example.org") == 200
    clock.advance(timedelta(hours=1))
    assert ask(case_person.email) == 200
    assert len(mails_to(engine, case_person.email, "signin_link")) == flows.FORGOT_PER_HOUR + 1


def test_deactivating_signs_the_person_out_at_once(
    signed_in: Callable[[Person], TestClient],
    other_web: TestClient,
    coord_person: Person,
    case_person: Person,
) -> None:
    assert sign_in(other_web, case_person).status_code == 303
    assert other_web.get("/requests").status_code == 200
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    assert f'/dashboard/staff/{coord_person.id}/deactivate"' not in page.text  # not oneself
    response = web.post(
        f"/dashboard/staff/{case_person.id}/deactivate", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 303
    assert other_web.get("/requests").status_code == 303  # back to the sign-in page
    assert sign_in(other_web, case_person, password=PASSWORD).status_code == 401


def owner(engine: Engine, request: Request) -> int:
    with Session(engine) as session:
        return get_row(session, Request, request.id).created_by_user_id


def test_a_leaving_caseworker_s_open_requests_go_to_the_colleague_picked_on_the_page(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    colleague = make_person("caseworker", "Jobcenter Kreis Warendorf")
    make_person("caseworker", "Stadt Beckum – Sozialamt")  # another office: not offered
    first, second = file_request(case_person), file_request(case_person)
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    assert "2 offene Anfragen" in page.text
    choices = re.findall(
        rf'<select id="hand-to-{case_person.id}" name="hand_to">(.*?)</select>', page.text, re.S
    )
    assert re.findall(r'<option value="(\d*)"', choices[0]) == [str(colleague.id), ""]

    done = web.post(
        f"/dashboard/staff/{case_person.id}/deactivate",
        data={"csrf_token": csrf_of(page), "hand_to": str(colleague.id)},
    )

    assert done.status_code == 303
    assert owner(engine, first) == owner(engine, second) == colleague.id
    [told] = mails_to(engine, colleague.email, "requests_handed_over_caseworker")
    assert "2 offene Anfragen von Caseworker Test" in told.body


def test_a_caseworker_who_left_without_a_successor_can_hand_over_later(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    request = file_request(case_person)
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    gone = web.post(
        f"/dashboard/staff/{case_person.id}/deactivate",
        data={"csrf_token": csrf_of(page), "hand_to": ""},
    )
    shown = web.get(gone.headers["location"])
    assert "bleibt bei der Koordination" in shown.text
    assert "bis eine Kollegin oder ein Kollege der Organisation eingeladen ist" in shown.text
    newcomer = make_person("caseworker", "Jobcenter Kreis Warendorf")
    page = web.get("/dashboard/staff")
    for hostile in ("abc", str(coord_person.id), "99999999999"):
        refused = web.post(
            f"/dashboard/staff/{case_person.id}/hand-over",
            data={"csrf_token": csrf_of(page), "to_user_id": hostile},
        )
        assert refused.status_code == 422, (hostile, refused.text)
    assert "aktive Sachbearbeitung derselben Organisation" in refused.text
    assert owner(engine, request) == case_person.id

    handed = web.post(
        f"/dashboard/staff/{case_person.id}/hand-over",
        data={"csrf_token": csrf_of(page), "to_user_id": str(newcomer.id)},
    )

    assert handed.status_code == 303
    assert owner(engine, request) == newcomer.id
    assert "sind übergeben" in web.get(handed.headers["location"]).text


def test_a_person_who_left_is_erased_from_the_staff_page_after_being_asked(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    assert f'/dashboard/staff/{case_person.id}/erase"' not in page.text  # still active
    web.post(f"/dashboard/staff/{case_person.id}/deactivate", data={"csrf_token": csrf_of(page)})
    page = web.get("/dashboard/staff")
    assert f'/dashboard/staff/{case_person.id}/erase"' in page.text

    asked = web.post(f"/dashboard/staff/{case_person.id}/erase", data={"csrf_token": csrf_of(page)})

    assert asked.status_code == 200
    assert "Name und E-Mail-Adresse von Caseworker Test" in asked.text
    with Session(engine) as session:
        assert session.get(User, case_person.id).erased_at is None  # type: ignore[union-attr]
    done = web.post(
        f"/dashboard/staff/{case_person.id}/erase",
        data={"csrf_token": csrf_of(asked), "sure": "yes"},
    )
    assert done.status_code == 303
    shown = web.get(done.headers["location"]).text
    assert "sind aus Sprachpool und seinen Nachrichten gelöscht" in shown
    assert case_person.email not in shown and "(gelöscht)" in shown


def test_erasing_a_person_whose_requests_still_need_them_is_refused_without_asking(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    file_request(case_person)
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    web.post(f"/dashboard/staff/{case_person.id}/deactivate", data={"csrf_token": csrf_of(page)})

    asked = web.post(f"/dashboard/staff/{case_person.id}/erase", data={"csrf_token": csrf_of(page)})

    assert asked.status_code == 409
    assert 'id="question"' not in asked.text
    assert (
        "1 offene Anfrage braucht diese Sachbearbeitung noch" in asked.text
    )  # one, not "Anfragen"
    with Session(engine) as session:
        assert session.get(User, case_person.id).erased_at is None  # type: ignore[union-attr]


def test_the_staff_page_says_when_an_erasure_waits_for_open_requests(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
) -> None:
    file_request(case_person)
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    web.post(f"/dashboard/staff/{case_person.id}/deactivate", data={"csrf_token": csrf_of(page)})
    assert "Löschung wartet" not in web.get("/dashboard/staff").text
    with Session(engine) as session:  # as users/scheduled.py marks it when the time came
        leaver = get_row(session, User, case_person.id)
        leaver.erasure_waiting_since = clock.now()
        session.add(leaver)
        session.commit()

    page = web.get("/dashboard/staff")

    assert "Löschung wartet: 1 offene Anfrage" in page.text


def test_erasing_one_s_own_account_is_refused_without_asking(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")

    asked = web.post(
        f"/dashboard/staff/{coord_person.id}/erase", data={"csrf_token": csrf_of(page)}
    )

    assert asked.status_code == 409
    assert 'id="question"' not in asked.text
    assert "Sie können Ihr eigenes Konto nicht löschen" in asked.text


def test_a_deactivated_account_invited_again_comes_back_only_through_the_new_link(
    signed_in: Callable[[Person], TestClient],
    other_web: TestClient,
    coord_person: Person,
    case_person: Person,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/staff")
    web.post(f"/dashboard/staff/{case_person.id}/deactivate", data={"csrf_token": csrf_of(page)})
    page = web.get("/dashboard/staff")

    again = web.post(
        f"/dashboard/staff/{case_person.id}/invite", data={"csrf_token": csrf_of(page)}
    )

    assert again.status_code == 303
    assert sign_in(other_web, case_person, password=PASSWORD).status_code == 401
    [mail] = mails_to(engine, case_person.email, "staff_invitation")
    form = other_web.get(link_path(mail))
    done = other_web.post(
        link_path(mail), data={"csrf_token": csrf_of(form), "password": NEW_PASSWORD}
    )
    assert done.status_code == 303
    other_web.cookies.clear()
    assert sign_in(other_web, case_person, password=NEW_PASSWORD).status_code == 303


def test_a_caseworker_may_not_open_the_staff_page(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    assert web.get("/dashboard/staff").status_code == 403
    page = web.get("/requests/new")
    response = web.post(
        f"/dashboard/staff/{case_person.id}/invite", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 403
