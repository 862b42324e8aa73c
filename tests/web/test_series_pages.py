"""The caseworker files a series on the request form and cancels its occurrences (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.requests.models import Request
from tests.web.conftest import Person, csrf_of, sign_in

FORM = {
    "language": "Arabisch (ar)",
    "date": "2026-12-01",
    "time": "09:00",
    "duration": "90",
    "mode": "phone",
    "repeat_weeks": "1",
    "until": "2026-12-29",
}


def occurrences(engine: Engine) -> list[Request]:
    with Session(engine) as session:
        return list(session.exec(select(Request).order_by(col(Request.start))))


def test_a_weekly_series_is_filed_from_the_form_and_cancelled_from_the_third_on(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    form = web.get("/requests/new")
    assert "Wiederholen" in form.text and "jede Woche" in form.text
    filed = web.post("/requests/new", data={"csrf_token": csrf_of(form), **FORM})
    assert filed.status_code == 303, filed.text
    stored = occurrences(engine)
    assert len(stored) == 5 and len({r.series_id for r in stored}) == 1
    assert filed.headers["location"] == f"/requests/{stored[0].id}?series_filed=1"
    page = web.get(filed.headers["location"])
    assert "Die Serie ist angelegt: 5 Termine." in page.text
    assert page.text.count("Alle ab diesem Tag stornieren") == 5
    third = stored[2]
    for typed in ("²", "9" * 30):  # no request to go back to: the list ("²" broke int())
        nowhere = web.post(
            f"/series/{third.series_id}/cancel",
            data={"csrf_token": csrf_of(page), "from": "2027-01-05", "back": typed, "sure": "yes"},
        )
        assert nowhere.status_code == 303, nowhere.text
        assert nowhere.headers["location"] == "/requests?series_cancelled=0"
    cancelled = web.post(
        f"/series/{third.series_id}/cancel",
        data={
            "csrf_token": csrf_of(page),
            "from": "2026-12-15",
            "back": f"{stored[0].id}",
            "sure": "yes",
        },
    )
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"/requests/{stored[0].id}?series_cancelled=3"
    assert [r.status for r in occurrences(engine)] == ["unfilled", "unfilled", *["cancelled"] * 3]
    after = web.get(cancelled.headers["location"])
    assert "3 Termine der Serie sind storniert" in after.text
    assert after.text.count("Alle ab diesem Tag stornieren") == 2


def test_a_series_of_more_than_26_is_refused_beside_the_field(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    form = web.get("/requests/new")
    refused = web.post(
        "/requests/new", data={"csrf_token": csrf_of(form), **FORM, "until": "2027-12-01"}
    )
    assert refused.status_code == 422
    assert "höchstens 26 Termine" in refused.text
    assert 'value="2027-12-01"' in refused.text  # what was typed stays
    assert occurrences(engine) == []
    wrong = web.post(
        "/requests/new", data={"csrf_token": csrf_of(form), **FORM, "repeat_weeks": "99"}
    )
    assert wrong.status_code == 422 and occurrences(engine) == []


def test_another_organisation_cannot_cancel_the_series(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    other_web: TestClient,
    engine: Engine,
) -> None:
    web = signed_in(case_person)
    form = web.get("/requests/new")
    web.post("/requests/new", data={"csrf_token": csrf_of(form), **FORM})
    series_id = occurrences(engine)[0].series_id
    stranger = make_person("caseworker", "Stadt Beckum – Sozialamt")
    sign_in(other_web, stranger)
    page = other_web.get("/requests")
    refused = other_web.post(
        f"/series/{series_id}/cancel",
        data={"csrf_token": csrf_of(page), "from": "2026-12-01", "sure": "yes"},
    )
    assert refused.status_code == 404
    assert "cancelled" not in {r.status for r in occurrences(engine)}


def test_the_coordinators_request_page_shows_the_whole_series(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    coord_person: Person,
    engine: Engine,
) -> None:
    caseworker = signed_in(case_person)
    form = caseworker.get("/requests/new")
    assert (
        caseworker.post("/requests/new", data={"csrf_token": csrf_of(form), **FORM}).status_code
        == 303
    )
    stored = occurrences(engine)
    caseworker.post("/logout", data={"csrf_token": csrf_of(caseworker.get("/requests"))})

    page = signed_in(coord_person).get(f"/dashboard/requests/{stored[1].id}")

    assert page.status_code == 200, page.text
    assert 'id="series"' in page.text and "Serie: jede Woche bis" in page.text
    for occurrence in stored:
        assert f'href="/dashboard/requests/{occurrence.id}"' in page.text
    assert 'aria-current="true"' in page.text
    assert f'href="/requests/{stored[1].id}#series"' in page.text
