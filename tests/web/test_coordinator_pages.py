"""The coordinator's pages.

Dashboard, request detail with override, pool, planning, statistics, messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators.models import AvailabilitySlot, Mediator
from dispatch.offers import flows as offer_flows
from dispatch.offers.models import Assignment, AssignmentSource, Offer
from dispatch.outbox.models import Message
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from dispatch.web import names
from notifications.templates import SPECS
from tests.conftest import Staff, get_row, request_payload
from tests.web.conftest import Person, csrf_of, update_row

TUESDAY = [{"weekday": "tue", "start": "08:00", "end": "16:00"}]
MONDAY = [{"weekday": "mon", "start": "08:00", "end": "18:00"}]


def test_unfilled_and_at_risk_requests_come_first(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    calm = file_request(case_person, start=clock.now() + timedelta(hours=5))
    unfilled = file_request(case_person, start=clock.now() + timedelta(days=1))
    risky = file_request(case_person, start=clock.now() + timedelta(hours=3))
    update_row(engine, unfilled, status=RequestStatus.unfilled)
    mediator_id = add_mediator(availability=MONDAY)
    with unit_of_work(engine) as session:
        session.add(
            Assignment(
                request_id=risky.id,
                mediator_id=mediator_id,
                source=AssignmentSource.coordinator,
                created_at=clock.now(),
            )
        )
    update_row(engine, risky, status=RequestStatus.assigned)
    page = signed_in(coord_person).get("/dashboard")
    assert page.status_code == 200
    attention = page.text[
        page.text.index("Braucht Ihre Aufmerksamkeit") : page.text.index('<div class="days">')
    ]
    links = re.findall(r'href="/dashboard/requests/(\d+)"', attention)
    assert links == [str(unfilled.id), str(risky.id)]
    assert (
        str(calm.id) not in links
        and "Noch nicht bestätigt:" in attention
        and "Amina Haddad" in attention
    )
    assert re.search(r'<span class="n">1</span>nicht besetzt', page.text)
    assert re.search(r'<span class="n">1</span>gefährdet', page.text)


def test_request_detail_shows_offers_candidates_reasons_and_overrides(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    first = add_mediator(
        name="Helen Tekle", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    second = add_mediator(
        name="Yonas Habte", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    add_mediator(
        name="Tesfay Sonntag",
        languages=[{"language": "ti", "level": "native"}],
        availability=[{"weekday": "sun", "start": "08:00", "end": "16:00"}],
    )
    request = file_request(
        case_person, language="ti", start=clock.now() + timedelta(days=1, hours=1)
    )
    with unit_of_work(engine) as session:
        offer_flows.dispatch_new_request(
            session, get_row(session, Request, request.id), now=clock.now(), settings=settings
        )
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/requests/{request.id}")
    assert page.status_code == 200
    assert "Helen Tekle" in page.text and "Yonas Habte" in page.text
    assert "angefragt" in page.text and "Welle" in page.text  # the offers table
    assert "Nicht in Frage: 1 Person, die die Sprache spricht" in page.text
    assert "Tesfay Sonntag" in page.text
    assert "nicht verfügbar 09:00–10:30" in page.text  # the engine's reason, in German
    response = web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={"csrf_token": csrf_of(page), "mediator_id": str(second)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard/requests/{request.id}?assigned={second}"
    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.cancelled_at == None)).one()  # noqa: E711
        assert (held.mediator_id, held.source) == (second, AssignmentSource.coordinator)
        assert get_row(session, Request, request.id).status == RequestStatus.assigned
    after = web.get(response.headers["location"])
    assert "Zugewiesen." in after.text and "von der Koordination zugewiesen" in after.text
    # The override again, to the first: the second is replaced.
    again = web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={"csrf_token": csrf_of(after), "mediator_id": str(first)},
    )
    assert again.status_code == 303
    # Freeing the assignment sends the request out again.
    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.cancelled_at == None)).one()  # noqa: E711
    freed = web.post(
        f"/dashboard/assignments/{held.id}/cancel",
        data={"csrf_token": csrf_of(after), "sure": "yes"},
    )
    assert freed.headers["location"] == f"/dashboard/requests/{request.id}?freed=1"
    with Session(engine) as session:
        assert get_row(session, Request, request.id).status != RequestStatus.assigned


def test_override_of_an_unknown_mediator_is_a_4xx_page(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    request = file_request(case_person)
    web = signed_in(coord_person)
    token = csrf_of(web.get("/dashboard"))
    response = web.post(
        f"/dashboard/requests/{request.id}/assign", data={"csrf_token": token, "mediator_id": "999"}
    )
    assert (
        response.status_code == 422
        and "Es gibt keine Sprachmittlung mit der Nr. 999" in response.text
    )
    assert (
        web.post(
            f"/dashboard/requests/{request.id}/assign",
            data={"csrf_token": token, "mediator_id": "x"},
        ).status_code
        == 422
    )
    assert (
        web.post(f"/dashboard/requests/{request.id}/assign", data={"mediator_id": "1"}).status_code
        == 403
    )


def test_override_of_someone_without_the_language_says_so_in_german(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
) -> None:
    request = file_request(case_person)  # Arabic
    farsi = add_mediator(name="Nasrin Ahmadi", languages=[{"language": "fa", "level": "native"}])
    web = signed_in(coord_person)

    response = web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={"csrf_token": csrf_of(web.get("/dashboard")), "mediator_id": str(farsi)},
    )

    assert response.status_code == 409
    assert "Nasrin Ahmadi spricht die Sprache dieser Anfrage nicht." in response.text


def test_pool_search_language_filter_pause_and_resume(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    amina = add_mediator(name="Amina Haddad")
    oleks = add_mediator(
        name="Oleksandr Kovalenko", languages=[{"language": "uk", "level": "native"}]
    )
    web = signed_in(coord_person)
    assert "Oleksandr" in web.get("/dashboard/pool").text
    by_language = web.get("/dashboard/pool?language=uk").text
    assert "Oleksandr" in by_language and "Amina" not in by_language
    assert (
        "Amina" in web.get("/dashboard/pool?q=amina").text
        and "Oleksandr" not in web.get("/dashboard/pool?q=amina").text
    )
    assert web.get("/dashboard/pool?language=xx").status_code == 422
    page = web.get("/dashboard/pool")
    paused = web.post(
        f"/dashboard/pool/{oleks}/pause",
        data={
            "csrf_token": csrf_of(page),
            "paused": "true",
            "next": "/dashboard/pool?state=paused",
        },
    )
    assert paused.headers["location"] == "/dashboard/pool?state=paused"
    listing = web.get("/dashboard/pool?state=paused").text
    assert "Oleksandr" in listing and "Amina" not in listing
    web.post(
        f"/dashboard/pool/{oleks}/pause", data={"csrf_token": csrf_of(page), "paused": "false"}
    )
    with Session(engine) as session:
        assert get_row(session, Mediator, oleks).paused is False
        assert get_row(session, Mediator, amina).paused is False


def test_pausing_on_the_pool_page_withdraws_their_open_offer_and_tells_them(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    client: TestClient,
    caseworker: Staff,
    engine: Engine,
) -> None:
    asked = add_mediator(name="Amina Haddad", message_locale="de")
    filed = client.post(
        "/api/v1/requests",
        json=request_payload(
            language="ar", start="2026-11-30T13:00:00+01:00", end="2026-11-30T14:00:00+01:00"
        ),
        headers=caseworker.headers,
    )
    assert filed.status_code == 201 and filed.json()["status"] == "offered", filed.text
    web = signed_in(coord_person)

    web.post(
        f"/dashboard/pool/{asked}/pause",
        data={"csrf_token": csrf_of(web.get("/dashboard/pool")), "paused": "true"},
    )

    with Session(engine) as session:
        offers = list(session.exec(select(Offer).where(Offer.mediator_id == asked)))
        told = list(session.exec(select(Message).where(Message.kind == "offer_withdrawn")))
    assert [o.status for o in offers] == ["withdrawn"]
    assert {m.recipient_id for m in told} == {asked}


def test_availability_is_edited_with_errors_beside_the_row(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator = add_mediator(availability=MONDAY)
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/pool/{mediator}")
    assert 'value="08:00"' in page.text and 'value="18:00"' in page.text
    token = csrf_of(page)
    bad = web.post(
        f"/dashboard/pool/{mediator}/availability",
        data={
            "csrf_token": token,
            "weekday-0": "0",
            "start-0": "08:00",
            "end-0": "12:00",
            "weekday-1": "2",
            "start-1": "14:00",
            "end-1": "10:00",
        },
    )
    assert bad.status_code == 422
    assert re.search(r'id="end-1"[^>]*aria-invalid="true"', bad.text)
    assert "Diese Zeit endet (10:00) vor oder mit ihrem Beginn (14:00)." in bad.text
    good = web.post(
        f"/dashboard/pool/{mediator}/availability",
        data={
            "csrf_token": token,
            "weekday-0": "0",
            "start-0": "",
            "end-0": "",
            "weekday-1": "2",
            "start-1": "14:00",
            "end-1": "18:00",
            "weekday-2": "4",
            "start-2": "",
            "end-2": "",
        },
    )
    assert good.headers["location"] == f"/dashboard/pool/{mediator}?saved=availability"
    with Session(engine) as session:
        slots = [
            (s.weekday, s.start_minute, s.end_minute)
            for s in session.exec(select(AvailabilitySlot))
        ]
    assert slots == [(2, 14 * 60, 18 * 60)]


def test_planning_proposes_and_assigns_from_the_proposal(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    helen = add_mediator(
        name="Helen Tekle", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    request = file_request(case_person, language="ti")
    web = signed_in(coord_person)
    assert "Vorschlag berechnen" in web.get("/dashboard/plan").text
    page = web.get("/dashboard/plan?from=2026-11-30&days=7")
    assert page.status_code == 200 and "1 / 1" in page.text and "Helen Tekle" in page.text
    assigned = web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={
            "csrf_token": csrf_of(page),
            "mediator_id": str(helen),
            "next": "/dashboard/plan?from=2026-11-30&days=7",
        },
    )
    assert assigned.headers["location"] == "/dashboard/plan?from=2026-11-30&days=7"
    assert "keine offenen Anfragen" in web.get("/dashboard/plan?from=2026-11-30&days=7").text
    assert web.get("/dashboard/plan?from=2026-13-01").status_code == 422
    assert web.get("/dashboard/plan?from=2026-11-30&days=30").status_code == 422


def test_statistics_page_export_and_message_log(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
    clock: ManualClock,
) -> None:
    request = file_request(case_person, language="so")
    update_row(engine, request, status=RequestStatus.unfilled)
    with unit_of_work(engine) as session:
        session.add(
            Message(
                idempotency_key="k1",
                channel="sms",
                kind="offer",
                recipient="+4915112345678",
                recipient_kind="mediator",
                body="Sprachpool: Einsatz Somali",
                next_attempt_at=clock.now(),
                created_at=clock.now(),
                request_id=request.id,
            )
        )
    web = signed_in(coord_person)
    page = web.get("/dashboard/stats")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5 and "Ungedeckter Bedarf je Sprache" in page.text
    assert (
        '<label for="from">Von</label>' in page.text and '<label for="to">Bis</label>' in page.text
    )
    assert "1,5 Std. · 1×" in page.text  # unmet demand: one Somali request of 90 minutes
    assert web.get("/dashboard/stats?from=2026-12-01&to=2026-11-01").status_code == 422
    export = web.get("/dashboard/export/assignments.csv?from=2026-11-01&to=2026-12-31")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.text.lstrip("\ufeff").startswith("Einsatz-Nr.;Anfrage-Nr.;Organisation")
    log = web.get("/dashboard/messages")
    assert "Sprachpool: Einsatz Somali" in log.text and "+4915112345678" in log.text
    assert "Noch keine Nachrichten." in web.get("/dashboard/messages?status=failed").text
    assert "Sprachpool: Einsatz Somali" in web.get("/dashboard/messages?status=").text
    # Not a status (a NUL went to PostgreSQL as it was, and it answered with a server error):
    for typed in ("gesendet", "\x00"):
        refused = web.get("/dashboard/messages", params={"status": typed})
        assert refused.status_code == 422 and "Ungültige Eingabe" in refused.text


def test_freeing_an_assignment_on_the_dashboard_tells_the_caseworker_and_marks_the_offer(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    helen = add_mediator(
        name="Helen Tekle", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    add_mediator(
        name="Yonas Habte", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    request = file_request(
        case_person, language="ti", start=clock.now() + timedelta(days=1, hours=1)
    )
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/requests/{request.id}")
    web.post(
        f"/dashboard/requests/{request.id}/assign",
        data={"csrf_token": csrf_of(page), "mediator_id": str(helen)},
    )
    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.mediator_id == helen)).one()

    freed = web.post(
        f"/dashboard/assignments/{held.id}/cancel",
        data={"csrf_token": csrf_of(page), "sure": "yes"},
    )

    assert freed.status_code == 303
    with Session(engine) as session:
        told = session.exec(
            select(Message).where(Message.kind == "assignment_cancelled_caseworker")
        ).all()
    assert [m.recipient for m in told] == [case_person.email]
    detail = web.get(freed.headers["location"])
    assert "zurückgenommen" in detail.text  # Helen's offer, no longer "angenommen"
    assert "angenommen" not in detail.text
    candidates = detail.text.split('id="candidates"')[1].split("Nicht in Frage")[0]
    assert "Helen Tekle" not in candidates  # not proposed for it again
    # Codes in words: the override's channel, the message's kind and recipient.
    assert "direkt zugewiesen" in detail.text and "DIRECT" not in detail.text
    log = web.get("/dashboard/messages").text
    assert "Sprachmittlung kommt nicht, an Sachbearbeitung" in log and "Mitarbeitende" in log
    assert "assignment_cancelled_caseworker" not in log


def test_every_kind_of_message_has_a_name_on_the_outbox_page() -> None:
    assert {kind for kind, _ in SPECS} <= set(names.MESSAGE_KIND)


@pytest.mark.parametrize(
    "address",
    [
        "/dashboard/plan?from=9999-12-31&days=7",
        "/dashboard/plan?from=0001-01-01",
        "/dashboard/stats?from=0001-01-01",
        "/dashboard/stats?to=0001-01-01",
        "/dashboard/stats?from=9999-12-31&to=9999-12-31",
        "/dashboard/export/assignments.csv?from=9999-12-31&to=9999-12-31",
        "/dashboard/export/assignments.csv?from=0001-01-01",
    ],
)
def test_days_at_the_ends_of_the_calendar_are_4xx_pages(
    signed_in: Callable[[Person], TestClient], coord_person: Person, address: str
) -> None:
    web = signed_in(coord_person)
    response = web.get(address)
    assert response.status_code == 422, response.text
    assert "Ungültige Eingabe" in response.text


def test_the_last_accepted_days_plan_and_count(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    assert web.get("/dashboard/plan?from=2199-12-25&days=7").status_code == 200
    assert web.get("/dashboard/stats?from=2199-01-01&to=2199-12-31").status_code == 200
    assert web.get("/dashboard/stats?from=1900-01-01&to=1900-12-31").status_code == 200


def test_a_wrong_period_is_said_in_the_pages_language(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    backwards = web.get("/dashboard/stats?from=2026-12-31&to=2026-12-01")
    assert backwards.status_code == 422
    assert "Das Ende des Zeitraums darf nicht vor seinem Anfang liegen." in backwards.text
    web.get("/lang/en")
    english = web.get("/dashboard/stats?from=2026-12-31&to=2026-12-01")
    assert "The end of the period must be on or after its start." in english.text


def test_request_detail_marks_the_candidates_other_requests_lean_on(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    add_mediator: Callable[..., int],
    clock: ManualClock,
) -> None:
    """The only Arabic speaker is needed by another request that day: dispatch asks them
    last, and the coordinator assigning by hand sees it."""
    add_mediator(
        name="Helen Tekle",
        languages=[{"language": "ti", "level": "native"}, {"language": "ar", "level": "native"}],
        availability=TUESDAY,
    )
    add_mediator(
        name="Yonas Habte", languages=[{"language": "ti", "level": "native"}], availability=TUESDAY
    )
    file_request(case_person, language="ar", start=clock.now() + timedelta(days=1, hours=3))
    tigrinya = file_request(
        case_person, language="ti", start=clock.now() + timedelta(days=1, hours=1)
    )

    page = signed_in(coord_person).get(f"/dashboard/requests/{tigrinya.id}")

    assert page.status_code == 200
    rows = {
        name: page.text[page.text.index(name) :].split("</td>", 1)[0]
        for name in ("Helen Tekle", "Yonas Habte")
    }
    assert "knapp" in rows["Helen Tekle"] and "(1,0)" in rows["Helen Tekle"]
    assert "knapp" not in rows["Yonas Habte"]
