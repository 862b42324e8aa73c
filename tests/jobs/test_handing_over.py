"""A caseworker who leaves hands their open work to a colleague, and nothing is lost.

Deactivating a caseworker ends their access at once; the requests that still
need someone at the organisation (open, out for offers, assigned, nobody found
yet, or a job waiting for its Einsatzbestätigung) and their running series go to
the colleague the coordinator names, who is told once. Without a colleague the
coordinator gets the news meant for them until someone takes over. The
confirmation links in the leaver's mailbox stop working; the colleague gets new
ones. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.requests.models import Request
from dispatch.series.models import Series
from dispatch.users.models import User
from tests.conftest import Staff, get_row, request_payload
from tests.jobs.conftest import Job, confirm_links
from tests.jobs.test_confirmation_api import report
from tests.offers import conftest as offers_fixtures
from tests.offers.conftest import Outbox
from tests.series.test_series_api import file_series

make_pool = offers_fixtures.make_pool

COORDINATION = "koordination@beckum.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The coordination's own address, where news go that nobody else can take."""
    return settings.model_copy(update={"coordinator_email": COORDINATION})


@pytest.fixture
def colleague(make_staff: Callable[..., Staff]) -> Staff:
    """A second caseworker of the same job centre."""
    return make_staff("caseworker", "Jobcenter Kreis Warendorf")


#: Tuesday 8 December 2026, 09:00-10:30 by phone: far enough ahead for the pool's notice.
AHEAD = {
    "start": "2026-12-08T09:00:00+01:00",
    "end": "2026-12-08T10:30:00+01:00",
    "category": "school_parents",
}


def file(client: TestClient, staff: Staff, **overrides: object) -> int:
    response = client.post(
        "/api/v1/requests", json=request_payload(**{**AHEAD, **overrides}), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def owner_of(engine: Engine, request_id: int) -> int:
    with Session(engine) as session:
        return get_row(session, Request, request_id).created_by_user_id


def email_of(engine: Engine, staff: Staff) -> str:
    with Session(engine) as session:
        return get_row(session, User, staff.user_id).email


def test_deactivating_a_caseworker_hands_their_open_requests_and_series_to_the_colleague(
    client: TestClient,
    caseworker: Staff,
    colleague: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(3)
    open_one = file(client, caseworker)
    done_with = file(client, caseworker, start="2026-12-09T09:00:00+01:00",
                     end="2026-12-09T10:00:00+01:00")  # fmt: skip
    cancelled = client.post(f"/api/v1/requests/{done_with}/cancel", json={},
                            headers=caseworker.headers)  # fmt: skip
    assert cancelled.status_code == 200, cancelled.text
    five_tuesdays = {**AHEAD, "until": "2027-01-05"}
    series = file_series(client, caseworker, client_ref="JC-2026-0417", **five_tuesdays)

    gone = client.delete(
        f"/api/v1/users/{caseworker.user_id}?hand_to={colleague.user_id}",
        headers=coordinator.headers,
    )

    assert gone.status_code == 200, gone.text
    assert gone.json()["active"] is False
    assert owner_of(engine, open_one) == colleague.user_id
    assert owner_of(engine, done_with) == caseworker.user_id  # nothing left to do there
    assert {owner_of(engine, o["id"]) for o in series["occurrences"]} == {colleague.user_id}
    with Session(engine) as session:
        assert get_row(session, Series, series["id"]).created_by_user_id == colleague.user_id
    [told] = outbox.messages("requests_handed_over_caseworker", "email")
    assert told.recipient == email_of(engine, colleague)
    assert "caseworker test" in told.body  # whose work it was
    assert "6" in told.body  # the open request and the series' five dates
    # The colleague now hears what the leaver would have heard.
    client.post(f"/api/v1/requests/{open_one}/cancel", json={"reason": "Termin entfällt"},
                headers=coordinator.headers)  # fmt: skip
    [cancel_mail] = outbox.messages("request_cancelled_caseworker", "email")
    assert cancel_mail.recipient == email_of(engine, colleague)
    # And sees them as their own.
    mine = client.get(
        f"/api/v1/requests?created_by_user_id={colleague.user_id}", headers=colleague.headers
    )
    assert open_one in {r["id"] for r in mine.json()["items"]}


def test_only_an_active_caseworker_of_the_same_organisation_can_take_over(
    client: TestClient,
    caseworker: Staff,
    other_caseworker: Staff,
    coordinator: Staff,
    make_staff: Callable[..., Staff],
    make_pool: Callable[..., list[int]],
    engine: Engine,
) -> None:
    make_pool(1)
    request_id = file(client, caseworker)
    left_before = make_staff("caseworker", "Jobcenter Kreis Warendorf")
    client.delete(f"/api/v1/users/{left_before.user_id}", headers=coordinator.headers)
    for hand_to in (
        other_caseworker.user_id,  # another organisation
        coordinator.user_id,  # files no requests
        caseworker.user_id,  # the one who leaves
        left_before.user_id,  # deactivated
        4711,  # nobody
    ):
        refused = client.delete(
            f"/api/v1/users/{caseworker.user_id}?hand_to={hand_to}", headers=coordinator.headers
        )
        assert refused.status_code == 422, (hand_to, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["hand_to"], refused.text
        with Session(engine) as session:
            assert get_row(session, User, caseworker.user_id).active  # nothing changed
    assert owner_of(engine, request_id) == caseworker.user_id
    bad = client.delete(
        f"/api/v1/users/{caseworker.user_id}?hand_to=erna", headers=coordinator.headers
    )
    assert bad.status_code == 422


def test_without_a_colleague_the_coordination_hears_the_news_until_someone_takes_over(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_staff: Callable[..., Staff],
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(2)
    first = file(client, caseworker)
    second = file(client, caseworker, start="2026-12-10T09:00:00+01:00",
                  end="2026-12-10T10:00:00+01:00")  # fmt: skip
    gone = client.delete(f"/api/v1/users/{caseworker.user_id}", headers=coordinator.headers)
    assert gone.json()["active"] is False
    client.post(f"/api/v1/requests/{first}/cancel", json={}, headers=coordinator.headers)
    [news] = outbox.messages("request_cancelled_caseworker", "email")
    assert news.recipient == COORDINATION
    assert "weil caseworker test nicht mehr mit Sprachpool arbeitet" in news.body
    assert "die Anfrage von caseworker test storniert" in news.body
    assert "Ihre Anfrage" not in news.body

    newcomer = make_staff("caseworker", "Jobcenter Kreis Warendorf")
    handed = client.post(
        f"/api/v1/users/{caseworker.user_id}/hand-over",
        json={"to_user_id": newcomer.user_id},
        headers=coordinator.headers,
    )

    assert handed.status_code == 200, handed.text
    assert handed.json() == {"requests": 1, "series": 0, "to_user_id": newcomer.user_id}
    assert owner_of(engine, second) == newcomer.user_id
    assert owner_of(engine, first) == caseworker.user_id  # cancelled: nothing to do
    client.post(f"/api/v1/requests/{second}/cancel", json={}, headers=coordinator.headers)
    assert [m.recipient for m in outbox.messages("request_cancelled_caseworker", "email")] == [
        COORDINATION,
        email_of(engine, newcomer),
    ]
    # Handing over is the coordinator's; it works from someone still here (on leave), too.
    by_caseworker = client.post(
        f"/api/v1/users/{newcomer.user_id}/hand-over",
        json={"to_user_id": newcomer.user_id},
        headers=newcomer.headers,
    )
    assert by_caseworker.status_code == 403
    to_oneself = client.post(
        f"/api/v1/users/{newcomer.user_id}/hand-over",
        json={"to_user_id": newcomer.user_id},
        headers=coordinator.headers,
    )
    assert to_oneself.status_code == 422, to_oneself.text
    assert [e["field"] for e in to_oneself.json()["errors"]] == ["to_user_id"]


def test_the_leaver_s_confirmation_link_stops_and_the_colleague_gets_a_new_one(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    colleague: Staff,
    coordinator: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    assert report(client, job_over).status_code == 201
    [old_link] = confirm_links(outbox)

    client.delete(
        f"/api/v1/users/{caseworker.user_id}?hand_to={colleague.user_id}",
        headers=coordinator.headers,
    )

    assert client.get(f"/c/{old_link}").status_code == 410
    mails = outbox.messages("job_confirmation_caseworker", "email")
    assert [m.recipient for m in mails] == [
        email_of(engine, caseworker),
        email_of(engine, colleague),
    ]
    [_, new_link] = confirm_links(outbox)
    page = client.get(f"/c/{new_link}")
    assert page.status_code == 200, page.text
    assert owner_of(engine, job_over.request_id) == colleague.user_id
    with Session(engine) as session:
        handed = session.exec(
            select(Request.id).where(col(Request.created_by_user_id) == colleague.user_id)
        ).all()
    assert handed == [job_over.request_id]
