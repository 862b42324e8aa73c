"""When it cannot be filled, the caseworker is told early, with the policy's next step."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import caseworker_mail
from tests.offers.test_lifecycle import file_request
from tests.offers.test_request_changes import patch
from tests.offers.test_who_answers import record

THURSDAY = {"start": "2026-12-03T09:00:00+01:00", "end": "2026-12-03T10:00:00+01:00"}


def test_nobody_yet_48_hours_before_the_start_tells_the_caseworker_once(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    clock: ManualClock,
) -> None:
    make_pool(6)
    created = file_request(client, caseworker, client_ref="fam-9", **THURSDAY)
    assert caseworker_mail(outbox, "request_at_risk_caseworker") == []
    advance(hours=24)  # Tuesday 08:00: waves went out, nobody answered, still looking
    assert caseworker_mail(outbox, "request_at_risk_caseworker") == []
    advance(hours=1, minutes=1)  # Tuesday 09:01: 48 hours before the start
    told = caseworker_mail(outbox, "request_at_risk_caseworker")
    assert len(told) == 1
    mail = told[0]
    assert (mail.subject or "").startswith("Voraussichtlich keine Sprachmittlung")
    assert f"Nr. {created['id']}" in mail.body and "fam-9" in mail.body
    assert "Bitte nutzen Sie einen Telefon- oder Video-Dolmetschdienst." in mail.body
    # We keep looking: the request is still out, and nothing is said twice.
    status = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert status["status"] == "offered"
    advance(hours=3)
    assert len(caseworker_mail(outbox, "request_at_risk_caseworker")) == 1
    # A yes after the warning still fills it.
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    status = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert status["status"] == "assigned"


def test_a_filled_request_is_not_warned(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3)
    file_request(client, caseworker, **THURSDAY)
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    advance(hours=26)
    assert caseworker_mail(outbox, "request_at_risk_caseworker") == []


def test_people_who_rarely_answer_make_the_warning_come_at_once(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
    clock: ManualClock,
) -> None:
    (silent,) = make_pool(1)
    earlier = file_request(
        client, caseworker, start="2026-12-04T09:00:00+01:00", end="2026-12-04T10:00:00+01:00"
    )["id"]
    record(engine, earlier, silent, clock.now(), ["-"] * 12)
    assert caseworker_mail(outbox, "request_at_risk_caseworker") == []
    created = file_request(client, caseworker, **THURSDAY)
    told = caseworker_mail(outbox, "request_at_risk_caseworker")
    assert [m.request_id for m in told] == [created["id"]]
    assert created["status"] == "offered"  # and the one candidate is asked all the same


def test_a_new_start_moves_the_notice_with_it(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(6)
    created = file_request(client, caseworker, **THURSDAY)
    moved = patch(
        client,
        caseworker,
        created["id"],
        start="2026-12-04T09:00:00+01:00",
        end="2026-12-04T10:00:00+01:00",
    )
    assert moved.status_code == 200, moved.text
    advance(hours=25, minutes=1)  # Tuesday 09:01: 48 h before the old start, not the new one
    assert caseworker_mail(outbox, "request_at_risk_caseworker") == []
    advance(hours=24)  # Wednesday 09:01: 48 h before Friday's start
    assert len(caseworker_mail(outbox, "request_at_risk_caseworker")) == 1
