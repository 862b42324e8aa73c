"""Actions that cannot be undone ask "are you sure?" without JavaScript too (dispatch/web/sure.py).

A browser that runs no script posts the form as it is, without ``sure``: the answer is
a page that asks the form's own question (its ``data-confirm``), and nothing happens
until its "Yes" posts the same fields again with ``sure=yes``. The after-the-job
actions are in tests/jobs/test_request_page_after_the_job.py; the script's side (one
question, not two) in tests/web/test_browser_series.py, a browser without scripts in
tests/web/test_browser_nojs.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.clock import ManualClock
from dispatch.offers.models import Assignment
from dispatch.requests.models import Request, RequestStatus
from dispatch.web import rendering
from dispatch.web.rendering import LANG_COOKIE
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of
from tests.web.test_coordinator_pages import TUESDAY
from tests.web.test_series_pages import FORM as SERIES_FORM
from tests.web.test_series_pages import occurrences


@dataclass
class Form:
    attributes: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page: each one's attributes and its named fields (values unescaped)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(named))
            self.inside = True
        elif self.inside and tag in ("input", "select", "textarea") and "name" in named:
            self.forms[-1].fields[named["name"]] = named.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def forms_of(page: httpx.Response) -> list[Form]:
    parser = _Forms()
    parser.feed(page.text)
    return parser.forms


def form_to(page: httpx.Response, action: str, nth: int = 0) -> Form:
    """The `nth` form on `page` that posts to `action`."""
    found = [form for form in forms_of(page) if form.attributes.get("action") == action]
    assert len(found) > nth, f"the page has a form that posts to {action}"
    return found[nth]


def asks_first(web: TestClient, page: httpx.Response, action: str, nth: int = 0) -> httpx.Response:
    """Send the form of `page` that posts to `action` as a browser without scripts does.

    The answer asks the form's own question, and its form sends the same fields
    again, with ``sure=yes`` and without a question of its own for the script.
    """
    form = form_to(page, action, nth)
    asked: httpx.Response = web.post(action, data=form.fields)
    assert asked.status_code == 200, asked.text
    shown = re.search(r'<p id="question">(.*?)</p>', asked.text, re.S)
    assert shown is not None and html.unescape(shown[1]) == form.attributes["data-confirm"]
    yes = form_to(asked, action)
    assert "data-confirm" not in yes.attributes
    assert yes.fields == {**form.fields, "csrf_token": yes.fields["csrf_token"], "sure": "yes"}
    return asked


def no_leads_to(asked: httpx.Response) -> str:
    """Where the "No, go back" of the page that asked leads."""
    back = re.search(r'<a class="button" href="([^"]*)">', asked.text)
    assert back is not None, "the page has a way back"
    return html.unescape(back[1])


def say_yes(web: TestClient, asked: httpx.Response, action: str) -> httpx.Response:
    """The "Yes" on the page that asked."""
    answer: httpx.Response = web.post(action, data=form_to(asked, action).fields)
    return answer


def status_of(engine: Engine, request_id: int) -> RequestStatus:
    with Session(engine) as session:
        return get_row(session, Request, request_id).status


def test_a_request_is_cancelled_from_the_list_only_after_a_yes(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    filed = file_request(case_person)
    web = signed_in(case_person)
    action = f"/requests/{filed.id}/cancel"

    asked = asks_first(web, web.get("/requests"), action)

    assert status_of(engine, filed.id) == RequestStatus.open
    assert no_leads_to(asked) == "/requests"  # back to the list
    done = say_yes(web, asked, action)
    assert done.headers["location"] == f"/requests?cancelled={filed.id}"
    assert status_of(engine, filed.id) == RequestStatus.cancelled


def test_no_leads_back_to_the_list_as_it_was_filtered(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person)
    web = signed_in(case_person)

    asked = asks_first(
        web, web.get("/requests?status=open&show=all"), f"/requests/{filed.id}/cancel"
    )

    assert no_leads_to(asked) == "/requests?status=open&show=all"


def test_no_leads_to_the_request_when_the_way_back_points_elsewhere(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person)
    web = signed_in(case_person)
    token = csrf_of(web.get("/requests"))

    for elsewhere in ("https://evil.example/", "//evil.example/requests", "/\\evil.example"):
        asked = web.post(
            f"/requests/{filed.id}/cancel", data={"csrf_token": token, "next": elsewhere}
        )
        assert asked.status_code == 200 and no_leads_to(asked) == f"/requests/{filed.id}"


def test_another_organisations_request_is_not_asked_about(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    theirs = file_request(make_person("caseworker", "Stadt Beckum – Sozialamt"))
    web = signed_in(case_person)

    answer = web.post(
        f"/requests/{theirs.id}/cancel", data={"csrf_token": csrf_of(web.get("/requests"))}
    )

    assert answer.status_code == 404 and 'id="question"' not in answer.text
    assert status_of(engine, theirs.id) == RequestStatus.open


def test_a_series_is_cancelled_from_a_day_on_only_after_a_yes(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    form = web.get("/requests/new")
    filed = web.post("/requests/new", data={"csrf_token": csrf_of(form), **SERIES_FORM})
    first, *_ = stored = occurrences(engine)
    page = web.get(filed.headers["location"])
    action = f"/series/{first.series_id}/cancel"

    asked = asks_first(web, page, action, nth=2)  # the third appointment's row

    assert "ab Di 15.12." in asked.text
    assert [r.status for r in occurrences(engine)] == [r.status for r in stored]
    assert no_leads_to(asked) == f"/requests/{first.id}"
    done = say_yes(web, asked, action)
    assert done.headers["location"] == f"/requests/{first.id}?series_cancelled=3"
    assert [r.status for r in occurrences(engine)][2:] == [RequestStatus.cancelled] * 3


def test_no_on_another_appointment_of_the_series_leads_back_to_the_page_it_was_on(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    form = web.get("/requests/new")
    filed = web.post("/requests/new", data={"csrf_token": csrf_of(form), **SERIES_FORM})
    first, _, third, *_ = occurrences(engine)

    asked = asks_first(web, web.get(filed.headers["location"]), f"/requests/{third.id}/cancel")

    assert no_leads_to(asked) == f"/requests/{first.id}#series"


@pytest.mark.parametrize(
    ("lang", "words"), [("de", "wirklich stornieren"), ("en", "Really cancel")]
)
def test_every_form_of_a_page_asks_without_scripts_what_its_script_asks(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    engine: Engine,
    lang: str,
    words: str,
) -> None:
    """The request page of a series has the most: its own "Cancel request", and each
    appointment's "Cancel this one" and "Cancel all from this date on"."""
    web = signed_in(case_person)
    web.cookies.set(LANG_COOKIE, lang)
    form = web.get("/requests/new")
    filed = web.post("/requests/new", data={"csrf_token": csrf_of(form), **SERIES_FORM})
    first, *_ = occurrences(engine)
    page = web.get(filed.headers["location"])
    asking = [form for form in forms_of(page) if "data-confirm" in form.attributes]
    actions = [form.attributes["action"] for form in asking]
    assert f"/requests/{first.id}/cancel" in actions
    assert f"/series/{first.series_id}/cancel" in actions
    assert words in asking[0].attributes["data-confirm"]

    for index, action in enumerate(actions):
        asks_first(web, page, action, nth=actions[:index].count(action))


def test_every_question_in_a_template_is_the_one_the_page_without_scripts_asks() -> None:
    """Written out in a template, a question could say something else than the page that
    asks it without scripts (dispatch/web/questions.py keeps both)."""
    templates = Path(rendering.__file__).parent / "templates"
    questions = [
        (page.relative_to(templates), asked)
        for page in sorted(templates.rglob("*.html"))
        for asked in re.findall(r'data-confirm="([^"]*)"', page.read_text(encoding="utf-8"))
    ]

    assert len(questions) >= 8
    assert [
        (page, asked)
        for page, asked in questions
        if not re.fullmatch(r"\{\{ f\.question\(questions\.[A-Z_]+(, [^{}]*)?\) \}\}", asked)
    ] == []


def test_the_coordinator_cancels_an_assignment_only_after_a_yes(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    helen = add_mediator(
        name="Helen Tekle", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    request = file_request(
        case_person, language="ti", start=clock.now() + timedelta(days=1, hours=1)
    )
    web = signed_in(coord_person)
    web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={
            "csrf_token": csrf_of(web.get(f"/dashboard/requests/{request.id}")),
            "mediator_id": str(helen),
        },
    )
    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.mediator_id == helen)).one()
    action = f"/dashboard/assignments/{held.id}/cancel"

    asked = asks_first(web, web.get(f"/dashboard/requests/{request.id}"), action)

    with Session(engine) as session:
        assert get_row(session, Assignment, held.id).cancelled_at is None
    assert f'href="/dashboard/requests/{request.id}"' in asked.text
    done = say_yes(web, asked, action)
    assert done.headers["location"] == f"/dashboard/requests/{request.id}?freed=1"
    with Session(engine) as session:
        assert get_row(session, Assignment, held.id).cancelled_at is not None


def test_an_unknown_assignment_is_not_asked_about(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    answer = web.post(
        "/dashboard/assignments/4711/cancel", data={"csrf_token": csrf_of(web.get("/requests"))}
    )
    assert answer.status_code == 404 and 'id="question"' not in answer.text


def refused_without_asking(answer: httpx.Response, says: str) -> None:
    """The answer to a form posted without scripts is the refusal the action itself gives,
    not a question whose yes would only be refused."""
    assert answer.status_code == 409, answer.text
    assert 'id="question"' not in answer.text
    assert says in html.unescape(answer.text)


def test_a_request_that_can_no_longer_be_cancelled_is_refused_without_asking(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person)
    web = signed_in(case_person)
    action = f"/requests/{filed.id}/cancel"
    csrf = csrf_of(web.get("/requests"))
    web.post(action, data={"csrf_token": csrf, "sure": "yes"})

    again = web.post(action, data={"csrf_token": csrf})

    refused_without_asking(again, "kann nicht mehr storniert werden")


def test_a_no_show_before_anyone_holds_the_job_is_refused_without_asking(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person, client_ref="JC-2026-0417")
    web = signed_in(case_person)
    csrf = csrf_of(web.get(f"/requests/{filed.id}"))

    no_show = web.post(f"/requests/{filed.id}/no-show", data={"csrf_token": csrf})
    not_again = web.post(f"/requests/{filed.id}/not-for-client", data={"csrf_token": csrf})

    refused_without_asking(no_show, "Ein Nichterscheinen lässt sich erst ab Beginn")
    refused_without_asking(not_again, "Vermerken lässt sich nur eine Anfrage")


def test_an_assignment_cancelled_before_is_refused_without_asking(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    helen = add_mediator(
        name="Helen Tekle", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    request = file_request(
        case_person, language="ti", start=clock.now() + timedelta(days=1, hours=1)
    )
    web = signed_in(coord_person)
    csrf = csrf_of(web.get(f"/dashboard/requests/{request.id}"))
    web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={"csrf_token": csrf, "mediator_id": str(helen)},
    )
    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.mediator_id == helen)).one()
    action = f"/dashboard/assignments/{held.id}/cancel"
    web.post(action, data={"csrf_token": csrf, "sure": "yes"})

    again = web.post(action, data={"csrf_token": csrf})

    refused_without_asking(again, "Diese Zuweisung ist schon aufgehoben.")
