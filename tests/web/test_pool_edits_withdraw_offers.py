"""The mediator's page changes what the engine reads of them: an open offer they no longer fit
is withdrawn, as by the API (tests/offers/test_mediator_changes_reach_offers.py).

A holiday entered over the job, weekly hours that no longer cover it, or an
edit that takes the job's language off: the offer sent before goes, and the
mediator hears that it is no longer open.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators import flows as mediator_flows
from dispatch.mediators.models import Mediator
from dispatch.mediators.schemas import MediatorUpdate
from dispatch.offers import flows as offer_flows
from dispatch.offers.models import Offer, OfferStatus
from dispatch.outbox.models import Message
from dispatch.requests.models import Request, RequestStatus
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

#: Free every weekday all day.
WEEK = [{"weekday": day, "start": "06:00", "end": "22:00"} for day in range(5)]


def offered(
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
    request: Request,
) -> list[Offer]:
    with unit_of_work(engine) as session:
        offer_flows.dispatch_new_request(
            session, get_row(session, Request, request.id), now=clock.now(), settings=settings
        )
    return statuses(engine, request)


def statuses(engine: Engine, request: Request) -> list[Offer]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Offer).where(Offer.request_id == request.id).order_by(col(Offer.id))
            )
        )


def withdrawn_told(engine: Engine) -> list[int | None]:
    with Session(engine) as session:
        return [
            m.recipient_id
            for m in session.exec(select(Message).where(Message.kind == "offer_withdrawn"))
        ]


def assign(
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
    request: Request,
    mediator_id: int,
    coordinator: Person,
) -> None:
    """The coordinator gives the job to the mediator directly."""
    with unit_of_work(engine) as session:
        offer_flows.assign_directly(
            session,
            request_id=request.id,
            mediator_id=mediator_id,
            actor=get_row(session, User, coordinator.id),
            now=clock.now(),
            settings=settings,
        )


def _absence(web: TestClient, url: str) -> None:
    page = web.get(url)
    done = web.post(
        f"{url}/absences",
        data={"csrf_token": csrf_of(page), "first": "2026-12-01", "last": "2026-12-01"},
    )
    assert done.status_code == 303, done.text


def _afternoons_only(web: TestClient, url: str) -> None:
    page = web.get(url)
    done = web.post(
        f"{url}/availability",
        data={"csrf_token": csrf_of(page), "weekday-0": "1", "start-0": "14:00", "end-0": "18:00"},
    )
    assert done.status_code == 303, done.text


@pytest.mark.parametrize("change", [_absence, _afternoons_only], ids=["absence", "availability"])
def test_a_change_on_the_page_withdraws_the_offer_they_no_longer_fit(
    change: Callable[[TestClient, str], None],
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    file_request: Callable[..., Request],
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    for name in ("Amina Haddad", "Karim Aziz", "Leila Nasser"):
        add_mediator(name=name, availability=WEEK, message_locale="de")
    # Tuesday 1 December 09:00, by phone.
    job = file_request(case_person, start=datetime.fromisoformat("2026-12-01T09:00:00+01:00"))
    first, *others = offered(engine, settings, clock, job)

    change(signed_in(coord_person), f"/dashboard/pool/{first.mediator_id}")

    after = {o.id: o.status for o in statuses(engine, job)}
    assert after[first.id] == OfferStatus.withdrawn
    assert all(after[o.id] == OfferStatus.pending for o in others)
    assert set(withdrawn_told(engine)) == {first.mediator_id}  # by SMS and e-mail


def test_a_job_they_hold_stays_theirs_and_their_page_says_it_no_longer_fits(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    file_request: Callable[..., Request],
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    holder = add_mediator(name="Amina Haddad", availability=WEEK, message_locale="de")
    job = file_request(case_person, start=datetime.fromisoformat("2026-12-01T09:00:00+01:00"))
    assign(engine, settings, clock, job, holder, coord_person)
    web = signed_in(coord_person)
    url = f"/dashboard/pool/{holder}"
    assert 'id="jobs-unfit"' not in web.get(url).text

    _absence(web, url)

    page = html.unescape(web.get(url).text)
    assert 'id="jobs-unfit"' in page
    warning = page[page.index('id="jobs-unfit"') :]
    warning = warning[: warning.index("</div>")]
    assert "1 Einsatz, den die Person hat, passt nicht zu ihren jetzigen Angaben" in warning
    assert f'href="/dashboard/requests/{job.id}"' in warning
    assert "ganztägig abwesend am Di 01.12." in warning
    with Session(engine) as session:
        assert get_row(session, Request, job.id).status == RequestStatus.assigned


def test_an_import_withdraws_on_confirm_and_its_preview_tells_nobody(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    file_request: Callable[..., Request],
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    for name in ("Amina Haddad", "Karim Aziz"):
        add_mediator(name=name, availability=WEEK, message_locale="de")
    job = file_request(case_person, start=datetime.fromisoformat("2026-12-01T09:00:00+01:00"))
    first, _ = offered(engine, settings, clock, job)
    with Session(engine) as session:
        mediator = get_row(session, Mediator, first.mediator_id)
        # The file takes the job's language off them: they now speak Tigrinya only.
        csv = f"name,phone,languages\n{mediator.name},{mediator.phone},ti:native\n"
    web = signed_in(coord_person)
    page = web.get("/dashboard/pool/import")
    preview = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", csv.encode())},
    )
    assert preview.status_code == 200, preview.text
    assert "aktualisiert: <code>languages</code>" in preview.text

    # The preview wrote the row and rolled it back: the offer is open, nobody was told.
    assert statuses(engine, job)[0].status == OfferStatus.pending
    assert withdrawn_told(engine) == []

    text = re.search(r'name="text" value="([^"]*)"', preview.text, re.S)
    assert text is not None
    done = web.post(
        "/dashboard/pool/import/confirm",
        data={"csrf_token": csrf_of(preview), "text": html.unescape(text[1])},
    )
    assert done.status_code == 303, done.text
    assert statuses(engine, job)[0].status == OfferStatus.withdrawn
    assert set(withdrawn_told(engine)) == {first.mediator_id}


def test_a_monthly_limit_lowered_below_a_held_job_shows_on_their_page(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    file_request: Callable[..., Request],
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    holder = add_mediator(name="Amina Haddad", availability=WEEK, message_locale="de")
    job = file_request(case_person, start=datetime.fromisoformat("2026-12-01T09:00:00+01:00"))
    assign(engine, settings, clock, job, holder, coord_person)
    web = signed_in(coord_person)
    url = f"/dashboard/pool/{holder}"
    assert 'id="jobs-unfit"' not in web.get(url).text

    # She is on Bürgergeld and asks for a limit of 5 euros a month: the job pays more.
    with unit_of_work(engine) as session:
        mediator_flows.update_mediator(
            session,
            mediator_id=holder,
            data=MediatorUpdate(monthly_limit=Decimal("5")),
            actor=get_row(session, User, coord_person.id),
            now=clock.now(),
            settings=settings,
        )

    page = html.unescape(web.get(url).text)
    assert 'id="jobs-unfit"' in page
    warning = page[page.index('id="jobs-unfit"') :]
    warning = warning[: warning.index("</div>")]
    assert "über die eigene Monatsgrenze" in warning
    with Session(engine) as session:
        assert get_row(session, Request, job.id).status == RequestStatus.assigned
