"""A late yes counts: accepting after one's offer ran out, while nobody holds the request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.offers.models import Assignment
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_lifecycle import file_request
from tests.offers.test_sms_replies import AUTH_TOKEN, code_for, sms


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"twilio_auth_token": SecretStr(AUTH_TOKEN)})


def status_of(client: TestClient, staff: Staff, request_id: int) -> str:
    view = client.get(f"/api/v1/requests/{request_id}", headers=staff.headers).json()
    return str(view["status"])


def test_a_yes_after_the_wave_ran_out_takes_the_job_while_it_is_still_seeking(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    engine: Engine,
) -> None:
    make_pool(4)
    created = file_request(client, caseworker)  # 3 offers for 60 min, then one more
    first_wave = outbox.links()
    advance(minutes=61)
    assert [(o.wave, o.status) for o in outbox.offers(created["id"])] == [(1, "expired")] * 3 + [
        (2, "pending")
    ]
    token = next(iter(first_wave.values()))
    page = client.get(f"/o/{token}")
    assert page.status_code == 200 and "Zusagen" in page.text  # the accept button is back
    assert "noch niemand" in page.text
    accepted = client.post(f"/o/{token}/accept", follow_redirects=False)
    assert accepted.status_code == 303
    assert status_of(client, caseworker, created["id"]) == "assigned"
    statuses = [(o.wave, str(o.status)) for o in outbox.offers(created["id"])]
    assert statuses.count((1, "accepted")) == 1 and (2, "withdrawn") in statuses
    page = client.get(f"/o/{token}")
    assert page.status_code == 200 and "Ihre Antwort kam nach Ablauf" in page.text
    # First accept still wins: a second late yes is told the job is taken.
    other = list(first_wave.values())[1]
    assert client.post(f"/o/{other}/accept", follow_redirects=False).status_code == 409
    with Session(engine) as session:
        assert len(list(session.exec(select(Assignment)))) == 1


def test_a_late_yes_fills_a_request_given_up_while_there_is_time(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    advance(minutes=61)  # everyone was asked: unfilled, the caseworker told
    assert status_of(client, caseworker, created["id"]) == "unfilled"
    token = next(iter(outbox.links().values()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    assert status_of(client, caseworker, created["id"]) == "assigned"
    assert len(outbox.messages("assignment_confirmed_caseworker")) >= 1


def test_no_late_yes_once_the_time_to_get_there_is_gone_or_after_a_decline(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)  # Tuesday 09:00, filed Monday 08:00
    tokens = list(outbox.links().values())
    assert client.post(f"/o/{tokens[0]}/decline", follow_redirects=False).status_code == 303
    advance(minutes=61)
    assert client.post(f"/o/{tokens[0]}/accept", follow_redirects=False).status_code == 409
    advance(hours=24, minutes=31)  # Tuesday 08:31: start - 30 min has passed
    assert client.post(f"/o/{tokens[1]}/accept", follow_redirects=False).status_code == 410
    assert status_of(client, caseworker, created["id"]) == "unfilled"


def test_a_late_ja_by_sms_takes_the_job_and_says_so(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(4)
    created = file_request(client, caseworker)
    phone = outbox.messages("offer", "sms")[0].recipient
    assert phone is not None
    code = code_for(outbox, phone)
    advance(minutes=61)
    status, reply = sms(client, phone, f"JA {code}")
    assert status == 200 and "nach Ablauf" in reply and "gehört Ihnen" in reply
    assert status_of(client, caseworker, created["id"]) == "assigned"
