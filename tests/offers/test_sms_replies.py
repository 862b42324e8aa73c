"""Mediators answer by SMS: JA/NEIN with a code, a bare JA, STOP/START, and anything else."""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from config.settings import Settings
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment
from tests.conftest import Staff, get_row, request_payload
from tests.offers.conftest import Outbox

AUTH_TOKEN = "twilio-test-auth-token"
URL = "https://sprachpool.test/webhooks/twilio/sms"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"twilio_auth_token": SecretStr(AUTH_TOKEN)})


def sms(client: TestClient, sender: str, text: str, *, token: str = AUTH_TOKEN) -> tuple[int, str]:
    form = {"From": sender, "To": "+4925210000000", "Body": text, "MessageSid": "SM" + "0" * 32}
    signature = RequestValidator(token).compute_signature(URL, form)
    response = client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    if response.status_code != 200:
        return response.status_code, response.text
    reply = ElementTree.fromstring(response.text).findtext("Message") or ""
    return response.status_code, reply


def code_for(outbox: Outbox, phone: str, offer_id: int | None = None) -> str:
    """The reply code in the offer SMS to `phone` (of `offer_id`, when they have several)."""
    body = next(
        m.body
        for m in outbox.messages("offer", "sms")
        if m.recipient == phone and offer_id in (None, m.offer_id)
    )
    match = re.search(r"\bJA (\d{4})\b", body)  # not a link token that happens to end in "JA"
    assert match, body
    return match.group(1)


def test_ja_with_the_code_accepts_and_nein_declines(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(3)
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    phones = list(outbox.links())
    status, reply = sms(client, phones[1], f"nein {code_for(outbox, phones[1])}")
    assert status == 200 and "abgesagt" in reply
    status, reply = sms(client, phones[0], f"Ja {code_for(outbox, phones[0])}")
    assert status == 200 and "gehört Ihnen" in reply
    view = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert view["status"] == "assigned"
    # the third one is too late, and is told so
    status, reply = sms(client, phones[2], f"JA {code_for(outbox, phones[2])}")
    assert status == 200 and "nicht mehr frei" in reply
    with Session(engine) as session:
        assert len(session.exec(select(Assignment)).all()) == 1


def test_a_bare_ja_works_only_with_exactly_one_open_offer(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(1)
    client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    client.post(
        "/api/v1/requests",
        json=request_payload(start="2026-12-02T09:00:00+01:00", end="2026-12-02T10:00:00+01:00"),
        headers=caseworker.headers,
    )
    [phone] = set(outbox.links())
    status, reply = sms(client, phone, "JA")
    # Two offers: which one? Nothing happens, and the reply says why (not "code unknown").
    assert status == 200 and "mehrere offene Anfragen" in reply and "JA 4711" in reply
    status, reply = sms(client, phone, "JA 0000")
    assert "unbekannt" in reply
    status, reply = sms(client, "+4915100000099", "NEIN")  # not in the pool: the help text
    assert "JA und Code" in reply


def test_a_bare_nein_with_no_open_offer_says_there_is_none(
    client: TestClient, make_pool: Callable[..., list[int]]
) -> None:
    make_pool(1)
    status, reply = sms(client, "+4915100000001", "NEIN")
    assert status == 200 and reply.endswith("Sie haben gerade keine offene Anfrage.")


def test_stop_pauses_and_start_resumes_with_a_confirmation(
    client: TestClient, make_pool: Callable[..., list[int]], engine: Engine
) -> None:
    [mediator_id] = make_pool(1)
    status, reply = sms(client, "+49 151 00000001", "STOP")
    assert status == 200 and "pausiert" in reply
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).paused is True
    status, reply = sms(client, "+4915100000001", "start")
    assert "wieder" in reply
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).paused is False


def test_stop_declines_the_offers_still_open_so_the_job_goes_on_to_others(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(2)
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    phone, other = list(outbox.links())
    code = code_for(outbox, phone)

    status, reply = sms(client, phone, "STOP")

    assert status == 200 and "pausiert" in reply
    offers = client.get(f"/api/v1/requests/{created['id']}", headers=coordinator.headers).json()
    by_phone = {o["mediator_id"]: o["status"] for o in offers["offers"]}
    assert sorted(by_phone.values()) == ["declined", "pending"]
    status, reply = sms(client, phone, f"JA {code}")  # a yes after STOP takes nothing
    assert "gehört Ihnen" not in reply
    status, reply = sms(client, other, f"JA {code_for(outbox, other)}")
    assert "gehört Ihnen" in reply


def test_nein_to_a_job_already_accepted_says_how_to_give_it_back_and_keeps_it(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(1)
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    [phone] = list(outbox.links())
    code = code_for(outbox, phone)
    sms(client, phone, f"JA {code}")

    status, reply = sms(client, phone, f"NEIN {code}")

    assert status == 200 and "über den Link in der Bestätigung zurück" in reply
    view = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert view["status"] == "assigned"


def test_anything_else_gets_help_and_strangers_change_nothing(
    client: TestClient, make_pool: Callable[..., list[int]]
) -> None:
    make_pool(1)
    for text in ["Hallo?", "", "JA JA JA JA", "🙂", "x" * 1000]:
        status, reply = sms(client, "+4915100000001", text)
        assert status == 200 and "JA" in reply, text
    status, reply = sms(client, "+4917699999999", "STOP")
    assert status == 200 and "JA" in reply
    status, _ = sms(client, "not a number", "JA 1234")
    assert status == 200


def test_a_forged_or_missing_signature_is_refused(
    client: TestClient, make_pool: Callable[..., list[int]], engine: Engine
) -> None:
    [mediator_id] = make_pool(1)
    status, _ = sms(client, "+4915100000001", "STOP", token="not-the-auth-token")
    assert status == 403
    response = client.post("/webhooks/twilio/sms", data={"From": "+4915100000001", "Body": "STOP"})
    assert response.status_code == 403
    with Session(engine) as session:
        assert get_row(session, Mediator, mediator_id).paused is False
