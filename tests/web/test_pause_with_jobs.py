"""Pausing a mediator who holds jobs to come, or taking them out of the pool: the page asks
first whether they keep them or others get them, with plain forms (no script needed); a
mediator without jobs to come is paused (or taken out) at once, and a job under way is
never touched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators.models import Mediator
from dispatch.offers import flows as offer_flows
from dispatch.offers.models import Assignment, Offer, OfferStatus
from dispatch.outbox.models import Message
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

#: Free every weekday all day, so a released job finds others at once.
WEEK = [{"weekday": day, "start": "06:00", "end": "22:00"} for day in range(5)]
#: What tells the caseworkers and the mediator that a job changed hands.
TOLD = ("cancelled_mediator", "assignment_cancelled_caseworker")


@dataclass
class Scene:
    holder: int
    others: list[int]
    tuesday: Request
    wednesday: Request
    running: Request  # today 09:00-10:30; the clock stands at 09:30


def assign(
    engine: Engine,
    settings: Settings,
    coordinator: Person,
    request: Request,
    mediator: int,
    now: datetime,
) -> None:
    with unit_of_work(engine) as session:
        offer_flows.assign_directly(
            session,
            request_id=request.id,
            mediator_id=mediator,
            actor=get_row(session, User, coordinator.id),
            now=now,
            settings=settings,
        )


@pytest.fixture
def scene(
    add_mediator: Callable[..., int],
    file_request: Callable[..., Request],
    case_person: Person,
    coord_person: Person,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> Scene:
    """Amina holds Tuesday's and Wednesday's job and one today that is under way."""
    holder = add_mediator(name="Amina Haddad", availability=WEEK, message_locale="de")
    others = [
        add_mediator(name=name, availability=WEEK, email=f"{name[:4].lower()}@example.org")
        for name in ("Karim Aziz", "Leila Nasser")
    ]
    running = file_request(case_person, start=clock.now() + timedelta(hours=1))
    tuesday = file_request(case_person)
    wednesday = file_request(case_person, start=clock.now() + timedelta(days=2, hours=2))
    for job in (running, tuesday, wednesday):
        assign(engine, settings, coord_person, job, holder, clock.now())
    clock.advance(timedelta(hours=1, minutes=30))
    return Scene(holder, others, tuesday, wednesday, running)


def messages(engine: Engine, *kinds: str) -> list[Message]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Message).where(col(Message.kind).in_(kinds)).order_by(col(Message.id))
            )
        )


def live_assignment(engine: Engine, request: Request) -> Assignment | None:
    with Session(engine) as session:
        return session.exec(
            select(Assignment).where(
                Assignment.request_id == request.id, col(Assignment.cancelled_at).is_(None)
            )
        ).first()


def status_of(engine: Engine, request: Request) -> RequestStatus:
    with Session(engine) as session:
        return get_row(session, Request, request.id).status


def is_paused(engine: Engine, mediator_id: int) -> bool:
    with Session(engine) as session:
        return get_row(session, Mediator, mediator_id).paused


def in_the_pool(engine: Engine, mediator_id: int) -> bool:
    with Session(engine) as session:
        return get_row(session, Mediator, mediator_id).active


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def press(web: TestClient, page: httpx.Response, button: str) -> httpx.Response:
    """What a browser without scripts sends when the button labelled `button` is pressed:
    the fields of its form as the page filled them in, and the button's own name=value."""
    for head, body in _FORM.findall(page.text):
        for tag, label in re.findall(r"<button\b([^>]*)>(.*?)</button>", body, re.S):
            if html.unescape(re.sub(r"<[^>]+>", "", label)).strip() != button:
                continue
            fields = {
                attrs["name"]: attrs.get("value", "")
                for attrs in (
                    {k: html.unescape(v) for k, v in _ATTRIBUTE.findall(field)}
                    for field in re.findall(r"<input\b([^>]*)>", body)
                )
                if "name" in attrs
            }
            pressed = {k: html.unescape(v) for k, v in _ATTRIBUTE.findall(tag)}
            if "name" in pressed:
                fields[pressed["name"]] = pressed.get("value", "")
            action = html.unescape(dict(_ATTRIBUTE.findall(head))["action"])
            sent: httpx.Response = web.post(action, data=fields)
            return sent
    raise AssertionError(f"no button {button!r} on the page")


def ask_to_pause(web: TestClient, scene: Scene) -> httpx.Response:
    return press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Pausieren")


def test_pausing_a_mediator_with_jobs_to_come_asks_first_and_changes_nothing(
    signed_in: Callable[[Person], TestClient], coord_person: Person, scene: Scene, engine: Engine
) -> None:
    web = signed_in(coord_person)
    before = len(messages(engine, "offer_withdrawn", *TOLD))

    asked = ask_to_pause(web, scene)

    assert asked.status_code == 200
    assert "<h1>Amina Haddad pausieren?</h1>" in asked.text
    table = asked.text[asked.text.index('id="held-jobs"') : asked.text.index("</table>")]
    assert re.findall(r'href="/dashboard/requests/(\d+)"', table) == [
        str(scene.tuesday.id),
        str(scene.wednesday.id),
    ]
    assert "Arabisch" in table and "Jobcenter Kreis Warendorf" in table
    assert "Ein Einsatz, der schon begonnen hat, bleibt wie er ist." in asked.text
    assert "Pausieren; Amina Haddad behält diese Einsätze" in asked.text
    assert "Pausieren und diese 2 Einsätze anderen anbieten" in asked.text
    assert f'href="/dashboard/pool/{scene.holder}"' in asked.text  # the way back
    assert not is_paused(engine, scene.holder)
    assert len(messages(engine, "offer_withdrawn", *TOLD)) == before
    for job in (scene.tuesday, scene.wednesday, scene.running):
        assert status_of(engine, job) == RequestStatus.assigned


def test_keeping_the_jobs_pauses_them_and_nobody_hears_of_the_jobs(
    signed_in: Callable[[Person], TestClient], coord_person: Person, scene: Scene, engine: Engine
) -> None:
    web = signed_in(coord_person)

    kept = press(web, ask_to_pause(web, scene), "Pausieren; Amina Haddad behält diese Einsätze")

    assert kept.status_code == 303 and kept.headers["location"] == f"/dashboard/pool/{scene.holder}"
    assert is_paused(engine, scene.holder)
    for job in (scene.tuesday, scene.wednesday, scene.running):
        held = live_assignment(engine, job)
        assert held is not None and held.mediator_id == scene.holder
    assert messages(engine, *TOLD) == []
    page = web.get(f"/dashboard/pool/{scene.holder}").text
    assert "Pausiert, hat aber noch 2 kommende Einsätze." in page


def test_offering_the_jobs_to_others_pauses_them_and_each_job_goes_out_again(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    scene: Scene,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    asked = ask_to_pause(web, scene)

    released = press(web, asked, "Pausieren und diese 2 Einsätze anderen anbieten")

    assert released.status_code == 303
    assert is_paused(engine, scene.holder)
    with Session(engine) as session:
        taken_back = list(
            session.exec(
                select(Assignment)
                .where(Assignment.mediator_id == scene.holder)
                .where(col(Assignment.request_id).in_([scene.tuesday.id, scene.wednesday.id]))
            )
        )
        new_offers = list(
            session.exec(
                select(Offer).where(
                    col(Offer.request_id).in_([scene.tuesday.id, scene.wednesday.id]),
                    Offer.status == OfferStatus.pending,
                )
            )
        )
        caseworker_email = get_row(session, User, case_person.id).email
    assert len(taken_back) == 2
    assert all(a.cancelled_at is not None for a in taken_back)
    assert {a.cancel_reason for a in taken_back} == {"mediator taken out of the pool"}
    told = messages(engine, "cancelled_mediator")
    assert {(m.recipient_id, m.request_id) for m in told} == {
        (scene.holder, scene.tuesday.id),
        (scene.holder, scene.wednesday.id),
    }
    caseworker = messages(engine, "assignment_cancelled_caseworker")
    assert {(m.recipient, m.request_id) for m in caseworker} == {
        (caseworker_email, scene.tuesday.id),
        (caseworker_email, scene.wednesday.id),
    }
    assert {o.request_id for o in new_offers} == {scene.tuesday.id, scene.wednesday.id}
    assert {o.mediator_id for o in new_offers} <= set(scene.others)
    # The job under way stays hers, and the page says nothing of jobs still held.
    running = live_assignment(engine, scene.running)
    assert running is not None and running.mediator_id == scene.holder
    assert status_of(engine, scene.running) == RequestStatus.assigned
    assert 'id="jobs-held"' not in web.get(f"/dashboard/pool/{scene.holder}").text


def test_a_mediator_with_no_job_to_come_is_paused_at_once(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    scene: Scene,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(days=2, hours=1))  # Wednesday 10:30: her last job is under way
    web = signed_in(coord_person)

    paused = press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Pausieren")

    assert paused.status_code == 303
    assert is_paused(engine, scene.holder)
    resumed = press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Fortsetzen")
    assert resumed.status_code == 303 and not is_paused(engine, scene.holder)
    assert messages(engine, *TOLD) == []


def test_jobs_that_changed_since_the_page_was_opened_are_not_given_away_unseen(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    scene: Scene,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    web = signed_in(coord_person)
    asked = ask_to_pause(web, scene)
    thursday = file_request(case_person, start=clock.now() + timedelta(days=3))
    assign(engine, settings, coord_person, thursday, scene.holder, clock.now())

    again = press(web, asked, "Pausieren und diese 2 Einsätze anderen anbieten")

    assert again.status_code == 409
    assert "haben sich geändert, seit die Seite geöffnet wurde" in again.text
    assert "Pausieren und diese 3 Einsätze anderen anbieten" in again.text
    assert not is_paused(engine, scene.holder) and messages(engine, *TOLD) == []
    assert press(web, again, "Pausieren und diese 3 Einsätze anderen anbieten").status_code == 303
    assert status_of(engine, thursday) != RequestStatus.assigned


@pytest.mark.parametrize(
    "fields",
    [
        {"jobs": "all"},
        {"jobs": "²"},
        {"jobs": "keep", "paused": "yes"},
        {"jobs": "release", "shown": "x" * 3000},
    ],
)
def test_hostile_values_are_refused_and_nothing_changes(
    fields: dict[str, str],
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    scene: Scene,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    token = csrf_of(web.get(f"/dashboard/pool/{scene.holder}"))

    refused = web.post(
        f"/dashboard/pool/{scene.holder}/pause",
        data={"csrf_token": token, "paused": "true", **fields},
    )

    assert refused.status_code == 422
    assert not is_paused(engine, scene.holder) and messages(engine, *TOLD) == []


@pytest.mark.parametrize("shown", ["", "²", "1 2 x", "9" * 30, "-1"])
def test_a_mangled_list_of_jobs_asks_again_and_gives_nothing_away(
    shown: str,
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    scene: Scene,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    token = csrf_of(web.get(f"/dashboard/pool/{scene.holder}"))

    asked = web.post(
        f"/dashboard/pool/{scene.holder}/pause",
        data={"csrf_token": token, "paused": "true", "jobs": "release", "shown": shown},
    )

    assert asked.status_code == 409 and 'id="held-jobs"' in asked.text
    assert not is_paused(engine, scene.holder) and messages(engine, *TOLD) == []


# --- out of the pool ------------------------------------------------------------------------


def ask_to_take_out(web: TestClient, scene: Scene) -> httpx.Response:
    return press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Aus dem Pool nehmen")


def test_taking_a_mediator_with_jobs_out_of_the_pool_asks_first_and_changes_nothing(
    signed_in: Callable[[Person], TestClient], coord_person: Person, scene: Scene, engine: Engine
) -> None:
    web = signed_in(coord_person)

    asked = ask_to_take_out(web, scene)

    assert asked.status_code == 200
    assert "<h1>Amina Haddad aus dem Pool nehmen?</h1>" in asked.text
    assert "Aus dem Pool nehmen; Amina Haddad behält diese Einsätze" in asked.text
    assert "Aus dem Pool nehmen und diese 2 Einsätze anderen anbieten" in asked.text
    assert "Nicht aus dem Pool nehmen" in asked.text
    assert in_the_pool(engine, scene.holder) and not is_paused(engine, scene.holder)
    assert messages(engine, *TOLD) == []

    kept = press(web, asked, "Aus dem Pool nehmen; Amina Haddad behält diese Einsätze")

    assert kept.status_code == 303 and not in_the_pool(engine, scene.holder)
    assert messages(engine, *TOLD) == []
    page = web.get(f"/dashboard/pool/{scene.holder}").text
    assert "Nicht mehr im Pool, hat aber noch 2 kommende Einsätze." in page


def test_a_mediator_taken_out_of_the_pool_leaves_the_list_and_can_be_taken_back(
    signed_in: Callable[[Person], TestClient], coord_person: Person, scene: Scene, engine: Engine
) -> None:
    """Someone who left (moved away, stopped) should not clutter the pool, its export and
    the clearance reminders for years, yet stay until what they are owed is paid."""
    web = signed_in(coord_person)

    out = press(
        web,
        ask_to_take_out(web, scene),
        "Aus dem Pool nehmen und diese 2 Einsätze anderen anbieten",
    )

    assert out.status_code == 303
    assert not in_the_pool(engine, scene.holder) and not is_paused(engine, scene.holder)
    assert {(m.recipient_id, m.request_id) for m in messages(engine, "cancelled_mediator")} == {
        (scene.holder, scene.tuesday.id),
        (scene.holder, scene.wednesday.id),
    }
    assert "Amina Haddad" not in web.get("/dashboard/pool").text
    assert "Amina Haddad" not in web.get("/dashboard/pool/export.csv").text
    left = web.get("/dashboard/pool?state=left").text
    assert "Amina Haddad" in left and "nicht mehr im Pool" in left
    page = web.get(f"/dashboard/pool/{scene.holder}").text
    assert "nicht mehr im Pool" in page and "Pausieren" not in page
    assert 'id="jobs-held"' not in page  # the job under way is not one to come
    # MEDIATOR_DATA_DAYS later, unless taken back:
    assert "Die Daten werden am Dienstag, 30. November 2027 gelöscht" in page

    back = press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Wieder in den Pool aufnehmen")

    assert back.status_code == 303
    assert in_the_pool(engine, scene.holder) and not is_paused(engine, scene.holder)
    assert "Amina Haddad" in web.get("/dashboard/pool").text
    assert 'id="erasure-due"' not in web.get(f"/dashboard/pool/{scene.holder}").text


def test_a_mediator_with_no_job_to_come_is_taken_out_at_once(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    scene: Scene,
    engine: Engine,
    clock: ManualClock,
) -> None:
    clock.advance(timedelta(days=2, hours=1))
    web = signed_in(coord_person)

    out = press(web, web.get(f"/dashboard/pool/{scene.holder}"), "Aus dem Pool nehmen")

    assert out.status_code == 303 and not in_the_pool(engine, scene.holder)
    assert messages(engine, *TOLD) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"active": "yes"},
        {"active": "false", "jobs": "all"},
        {},
        {"active": "false", "next": "x" * 600},
    ],
)
def test_hostile_values_for_leaving_the_pool_are_refused_and_nothing_changes(
    fields: dict[str, str],
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    scene: Scene,
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    token = csrf_of(web.get(f"/dashboard/pool/{scene.holder}"))

    refused = web.post(
        f"/dashboard/pool/{scene.holder}/membership", data={"csrf_token": token, **fields}
    )

    assert refused.status_code == 422
    assert in_the_pool(engine, scene.holder) and messages(engine, *TOLD) == []
