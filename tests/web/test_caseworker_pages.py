"""The caseworker's request form and list, as a person in a browser uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.offers import flows as offer_flows
from dispatch.offers.models import Offer
from dispatch.places.models import Place
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

GOOD = {
    "language": "Tigrinya (ti)",
    "date": "2026-12-01",
    "time": "09:00",
    "duration": "90",
    "mode": "phone",
}


def post_form(web: TestClient, **fields: str) -> httpx.Response:
    page = web.get("/requests/new")
    response: httpx.Response = web.post(
        "/requests/new", data={"csrf_token": csrf_of(page), **fields}
    )
    return response


def test_caseworker_files_a_phone_request_and_sees_it_listed(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    response = post_form(web, **GOOD)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/requests?filed=")
    with Session(engine) as session:
        stored = session.exec(select(Request)).one()
    assert stored.language == "ti" and stored.organisation_id == case_person.organisation_id
    assert stored.end - stored.start == timedelta(minutes=90)
    assert stored.start.isoformat() == "2026-12-01T08:00:00+00:00"  # 09:00 in Beckum
    listing = web.get(f"/requests?filed={stored.id}")
    assert f"Anfrage Nr. {stored.id} ist gespeichert" in listing.text
    assert "Di 01.12. 09:00–10:30" in listing.text and "Tigrinya" in listing.text


def test_a_video_appointment_the_mediator_joins_needs_its_link(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    """Filed without it, the assigned mediator would have nothing to open."""
    web = signed_in(case_person)

    refused = post_form(web, **{**GOOD, "mode": "video", "call_direction": "mediator_calls"})
    office_calls = post_form(web, **{**GOOD, "mode": "video", "call_direction": "office_calls"})

    assert refused.status_code == 422
    assert "Das braucht die Sprachmittlung zum Anrufen oder Einwählen" in refused.text
    assert 'value="mediator_calls" selected' in refused.text  # what was chosen stays
    assert office_calls.status_code == 303


def test_nobody_in_the_pool_shows_unfilled_with_the_next_step(
    signed_in: Callable[[Person], TestClient], case_person: Person, place: Place
) -> None:
    web = signed_in(case_person)
    post_form(web, **{**GOOD, "mode": "in_person", "place": str(place.id)})
    listing = web.get("/requests").text
    assert "nicht besetzt" in listing
    assert "als Telefon- oder Video-Termin neu anfragen" in listing
    post_form(web, **{**GOOD, "time": "13:00"})
    assert "einen professionellen Dolmetschdienst beauftragen" in web.get("/requests").text


def test_language_can_be_typed_by_name_or_tag(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    for typed, tag in (("dari", "prs"), ("Ukrainian", "uk"), ("ar", "ar")):
        assert post_form(web, **{**GOOD, "language": typed}).status_code == 303
        with Session(engine) as session:
            newest = session.exec(select(Request).order_by(col(Request.id).desc())).first()
            assert newest is not None and newest.language == tag


def test_bad_input_is_shown_beside_each_field(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    response = post_form(
        web,
        language="Klingonisch",
        date="",
        time="25:99",
        duration="7",
        mode="in_person",
        client_ref="Hans Müller",
        contact_phone="0171 12",
    )
    assert response.status_code == 422
    text = response.text
    for field, message in (
        ("language", "Bitte eine Sprache aus der Liste wählen."),
        ("date", "Bitte ein gültiges Datum angeben."),
        ("time", "Bitte eine Uhrzeit angeben"),
        ("duration", "Bitte eine Dauer aus der Liste wählen."),
        ("place", "Bitte einen Ort aus der Liste wählen"),
        ("client_ref", "bitte keine Namen"),
        ("contact_phone", "internationalen Format"),
    ):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', text, re.S), field
        assert re.search(
            rf'<p class="field-error" id="{field}-error">.*?{re.escape(message)}', text
        ), field
    # What was typed is shown again, so nothing has to be typed twice.
    assert 'value="Klingonisch"' in text and 'value="Hans Müller"' in text


def test_a_start_in_the_past_is_shown_at_the_date(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    response = post_form(web, **{**GOOD, "date": "2026-11-29"})
    assert response.status_code == 422
    assert "Dieser Termin liegt in der Vergangenheit." in response.text


def test_form_post_without_csrf_token_is_refused(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    response = web.post("/requests/new", data=GOOD)
    assert response.status_code == 403 and "Das Formular ist abgelaufen" in response.text
    with Session(engine) as session:
        assert session.exec(select(Request)).first() is None


def test_list_shows_asked_declined_and_then_name_and_phone(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    for _ in range(3):
        add_mediator(
            languages=[{"language": "ti", "level": "native"}],
            availability=[{"weekday": "tue", "start": "08:00", "end": "16:00"}],
        )
    web = signed_in(case_person)
    post_form(web, **GOOD)
    assert "3 angefragt" in web.get("/requests").text
    with unit_of_work(engine) as session:
        offers = list(session.exec(select(Offer).order_by(col(Offer.id))))
        offer_flows.decline_offer(session, offers[0], now=clock.now(), settings=settings)
    assert "3 angefragt, 1 abgelehnt" in web.get("/requests").text
    with unit_of_work(engine) as session:
        offer_flows.accept_offer(session, offers[1], now=clock.now(), settings=settings)
    listing = web.get("/requests").text
    assert (
        "besetzt" in listing
        and "Amina Haddad" in listing
        and 'href="tel:+4915112300011"' in listing
    )


def test_cancel_and_other_organisations_requests_stay_hidden(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    mine = file_request(case_person)
    theirs = file_request(make_person("caseworker", "Stadt Beckum – Sozialamt"))
    web = signed_in(case_person)
    listing = web.get("/requests")
    assert (
        f"/requests/{mine.id}/cancel" in listing.text
        and f"/requests/{theirs.id}/cancel" not in listing.text
    )
    token = csrf_of(listing)
    refused = web.post(f"/requests/{theirs.id}/cancel", data={"csrf_token": token, "sure": "yes"})
    assert refused.status_code == 404 and "Nicht gefunden" in refused.text
    done = web.post(f"/requests/{mine.id}/cancel", data={"csrf_token": token, "sure": "yes"})
    assert done.headers["location"] == f"/requests?cancelled={mine.id}"
    with Session(engine) as session:
        assert get_row(session, Request, mine.id).status == RequestStatus.cancelled
        assert get_row(session, Request, theirs.id).status == RequestStatus.open
    again = web.post(f"/requests/{mine.id}/cancel", data={"csrf_token": token, "sure": "yes"})
    assert again.status_code == 409 and "kann nicht mehr storniert werden" in again.text


def test_bad_path_and_query_values_are_4xx_pages(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    token = csrf_of(web.get("/requests"))
    assert web.get("/requests?show=tomorrow").status_code == 422
    assert web.post("/requests/0/cancel", data={"csrf_token": token}).status_code == 422
    assert web.post("/requests/99999999999/cancel", data={"csrf_token": token}).status_code == 422
    assert (
        web.post(
            "/requests/new", content=b"\xff\xfe", headers={"content-type": "text/plain"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("day", "time", "duration", "message"),
    [
        ("9999-12-31", "23:00", "480", "Dieser Termin liegt zu weit in der Zukunft."),
        ("9999-12-31", "09:00", "90", "Dieser Termin liegt zu weit in der Zukunft."),
        ("2200-01-01", "09:00", "90", "Dieser Termin liegt zu weit in der Zukunft."),
        ("0001-01-01", "00:00", "30", "Dieser Termin liegt in der Vergangenheit."),
        ("1899-12-31", "09:00", "90", "Dieser Termin liegt in der Vergangenheit."),
    ],
)
def test_a_day_at_the_end_of_the_calendar_is_a_form_error(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    day: str,
    time: str,
    duration: str,
    message: str,
) -> None:
    web = signed_in(case_person)
    response = post_form(web, **{**GOOD, "date": day, "time": time, "duration": duration})
    assert response.status_code == 422
    assert re.search(
        rf'<p class="field-error" id="date-error">.*?{re.escape(message)}',
        response.text,
    )


def test_a_request_filed_at_night_says_when_its_first_offers_go_out(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    add_mediator: Callable[..., int],
    clock: ManualClock,
) -> None:
    # Mediators get no messages from 21:00 to 07:00: a request filed on Monday at 22:30 is
    # held until Tuesday 07:00. "Being dispatched …" with nobody asked would leave the
    # caseworker wondering all night whether anything happens.
    add_mediator(
        languages=[{"language": "ti", "level": "native"}],
        availability=[{"weekday": "wed", "start": "08:00", "end": "16:00"}],
    )
    clock.advance(timedelta(hours=14, minutes=30))  # Monday 22:30
    web = signed_in(case_person)
    response = post_form(web, **{**GOOD, "date": "2026-12-02"})
    assert response.status_code == 303, response.text
    request_id = response.headers["location"].split("filed=")[1]
    waiting = (
        "Die ersten Anfragen gehen Di 01.12. 07:00 hinaus"
        " (nachts erhalten Sprachmittler*innen keine Nachrichten)."
    )
    assert waiting in web.get(f"/requests/{request_id}").text
    assert waiting in web.get("/requests").text
