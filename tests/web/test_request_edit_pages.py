"""The caseworker changes, copies and looks up one request on its own page (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.offers.flows import dispatch_new_request
from dispatch.places.models import Place
from dispatch.requests.models import Request
from dispatch.storage import unit_of_work
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

FORM = {
    "language": "Arabisch (ar)",
    "date": "2026-12-01",
    "time": "09:00",
    "duration": "90",
    "mode": "phone",
}


def test_the_edit_form_is_filled_in_and_a_new_time_is_saved(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
) -> None:
    stored = file_request(case_person, notes="Elterngespräch", connection="+4925212900")
    web = signed_in(case_person)
    page = web.get(f"/requests/{stored.id}/edit")
    assert page.status_code == 200
    assert 'value="+4925212900"' in page.text and "Elterngespräch" in page.text
    assert "Änderungen speichern" in page.text
    fields = {**FORM, "time": "11:00", "notes": "Elterngespräch", "connection": "+4925212900"}
    saved = web.post(f"/requests/{stored.id}/edit", data={"csrf_token": csrf_of(page), **fields})
    assert (
        saved.status_code == 303 and saved.headers["location"] == f"/requests/{stored.id}?changed=1"
    )
    with Session(engine) as session:
        changed = get_row(session, Request, stored.id)
        assert changed.start.isoformat() == "2026-12-01T10:00:00+00:00"
        assert changed.end - changed.start == timedelta(minutes=90)
        assert changed.connection == "+4925212900"
    detail = web.get(saved.headers["location"])
    assert "Die Anfrage ist geändert." in detail.text
    assert "geändert: Zeit" in detail.text


def test_a_wrong_connection_is_shown_beside_the_field_and_what_was_typed_stays(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    stored = file_request(case_person, mode="video", call_direction="office_calls")
    web = signed_in(case_person)
    page = web.get(f"/requests/{stored.id}/edit")
    fields = {**FORM, "mode": "video", "connection": "meet.example/abc"}
    refused = web.post(f"/requests/{stored.id}/edit", data={"csrf_token": csrf_of(page), **fields})
    assert refused.status_code == 422
    assert 'id="connection-error"' in refused.text and 'value="meet.example/abc"' in refused.text


def test_a_started_request_cannot_be_changed_on_the_page(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
) -> None:
    stored = file_request(case_person, start=clock.now() + timedelta(hours=1))
    web = signed_in(case_person)
    page = web.get(f"/requests/{stored.id}/edit")
    clock.advance(timedelta(hours=1, minutes=10))
    refused = web.post(
        f"/requests/{stored.id}/edit",
        data={"csrf_token": csrf_of(page), **{**FORM, "date": "2026-12-02"}},
    )
    assert refused.status_code == 422
    assert "hat bereits begonnen" in refused.text
    assert "Ändern" not in web.get(f"/requests/{stored.id}").text.split("Verlauf")[0]


def test_a_cancelled_request_says_so_on_the_edit_page(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    stored = file_request(case_person)
    web = signed_in(case_person)
    page = web.get(f"/requests/{stored.id}/edit")
    assert (
        web.post(
            f"/requests/{stored.id}/cancel", data={"csrf_token": csrf_of(page), "sure": "yes"}
        ).status_code
        == 303
    )
    refused = web.post(f"/requests/{stored.id}/edit", data={"csrf_token": csrf_of(page), **FORM})
    assert refused.status_code == 422
    assert "Diese Anfrage ist abgesagt" in refused.text
    assert "hat bereits begonnen" not in refused.text


def test_copy_fills_the_new_request_form(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    place: Place,
) -> None:
    stored = file_request(
        case_person, mode="in_person", place_id=place.id, client_ref="JC-2026-0417"
    )
    web = signed_in(case_person)
    page = web.get(f"/requests/new?copy={stored.id}")
    assert page.status_code == 200
    assert 'value="JC-2026-0417"' in page.text
    assert f'<option value="{place.id}" selected' in page.text
    assert "Anfrage senden" in page.text


def test_another_organisations_request_has_no_page(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    stranger = make_person("caseworker", "Stadt Ahlen")
    stored = file_request(stranger)
    web = signed_in(case_person)
    assert web.get(f"/requests/{stored.id}").status_code == 404
    assert web.get(f"/requests/{stored.id}/edit").status_code == 404
    assert web.get(f"/requests/new?copy={stored.id}").status_code == 404


def test_the_same_request_twice_asks_file_anyway(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    fields = {**FORM, "client_ref": "JC-2026-0417"}
    page = web.get("/requests/new")
    assert (
        web.post("/requests/new", data={"csrf_token": csrf_of(page), **fields}).status_code == 303
    )
    page = web.get("/requests/new")
    warned = web.post("/requests/new", data={"csrf_token": csrf_of(page), **fields})
    assert warned.status_code == 422
    assert "Trotzdem anfragen" in warned.text and 'id="allow_duplicate"' in warned.text
    anyway = web.post(
        "/requests/new", data={"csrf_token": csrf_of(warned), **fields, "allow_duplicate": "1"}
    )
    assert anyway.status_code == 303
    with Session(engine) as session:
        assert len(session.exec(select(Request)).all()) == 2


def test_the_request_page_shows_what_was_filed_for_the_mediator_and_the_budget(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    stored = file_request(
        case_person,
        category="school_parents",
        urgency_reason="Zeugniskonferenz",
        qualification="medical",
        gender={"value": "f", "strength": "required"},
    )
    web = signed_in(case_person)
    facts = web.get(f"/requests/{stored.id}").text.split("Verlauf")[0]
    assert "Einsatzbereich" in facts and "Schule: Elterngespräch" in facts
    assert "Zeugniskonferenz" in facts and "Medizin" in facts
    assert "nur eine Frau" in facts
    assert web.get(f"/lang/en?next=/requests/{stored.id}").status_code == 303
    english = web.get(f"/requests/{stored.id}").text
    assert "School: parent meeting" in english and "a woman only" in english


def test_the_history_counts_one_mediator_in_the_singular(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    add_mediator(availability=[{"weekday": "tue", "start": "08:00", "end": "16:00"}])
    stored = file_request(case_person)  # Arabic, Tuesday 09:00: one speaker is free
    with unit_of_work(engine) as session:
        dispatch_new_request(
            session, get_row(session, Request, stored.id), now=clock.now(), settings=settings
        )
    web = signed_in(case_person)

    history = web.get(f"/requests/{stored.id}").text.split("Verlauf")[1]

    assert "an 1 Sprachmittler*in angeboten" in history
    assert "Sprachmittler*innen angeboten" not in history
