"""Twilio's status callback: signed requests only, delivery recorded, undelivered falls back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.outbox.models import MessageStatus
from dispatch.outbox.worker import OutboxWorker
from tests.notifications.provider_stand_ins import AUTH_TOKEN, FakeTwilio, SmtpServer
from tests.outbox.outbox_factories import OFFER_EMAIL, all_messages, mediator_row, message_row

PATH = "/webhooks/twilio/status"
URL = "https://sprachpool.test" + PATH


def signed(params: dict[str, str], url: str = URL, token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def report(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts (the fields its documentation lists for SMS status callbacks)."""
    return {
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
        "AccountSid": "AC" + "0123456789abcdef" * 2, "From": "+4925219999000",
        "To": "+4915112000001", "ApiVersion": "2010-04-01", **extra,
    }  # fmt: skip


@pytest.fixture
def sent_sms(
    engine: Engine,
    worker: OutboxWorker,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> tuple[int, str]:
    """An offer SMS the worker handed to the Twilio stand-in: (message id, MessageSid)."""
    message_id = enqueue_offer(make_mediator(), fallback=OFFER_EMAIL)
    assert worker.run_once() == 1
    sid = message_row(engine, message_id).provider_id
    assert sid is not None
    return message_id, sid


def test_a_signed_delivery_report_marks_the_message_delivered(
    client: TestClient,
    engine: Engine,
    sent_sms: tuple[int, str],
) -> None:
    message_id, sid = sent_sms
    params = report(sid, "delivered")

    response = client.post(PATH, data=params, headers=signed(params))

    assert response.status_code == 204
    assert response.content == b""
    message = message_row(engine, message_id)
    assert (message.status, message.provider_status) == (MessageStatus.delivered, "delivered")


def test_reports_never_move_a_message_back(
    client: TestClient,
    engine: Engine,
    sent_sms: tuple[int, str],
) -> None:
    message_id, sid = sent_sms
    for status in ("sent", "delivered", "sent", "queued"):
        params = report(sid, status)
        assert client.post(PATH, data=params, headers=signed(params)).status_code == 204

    message = message_row(engine, message_id)
    assert (message.status, message.provider_status) == (MessageStatus.delivered, "delivered")


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_undelivered_offer_sms_is_sent_by_email_instead(
    status: str,
    client: TestClient,
    engine: Engine,
    worker: OutboxWorker,
    smtp_server: SmtpServer,
    fake_twilio: FakeTwilio,
    sent_sms: tuple[int, str],
) -> None:
    message_id, sid = sent_sms
    params = report(sid, "sent")
    client.post(PATH, data=params, headers=signed(params))
    params = report(sid, status, ErrorCode="30003")

    assert client.post(PATH, data=params, headers=signed(params)).status_code == 204
    assert worker.run_once() == 1

    failed, fallback = all_messages(engine)
    assert failed.id == message_id
    assert failed.status == MessageStatus.failed and failed.provider_status == status
    assert failed.error == (
        f"{status} by the provider (Twilio error 30003)"
        f" — sent by email instead (message {fallback.id})"
    )
    assert fallback.channel == "email" and fallback.status == MessageStatus.sent
    assert failed.recipient_id is not None
    mediator = mediator_row(engine, failed.recipient_id)
    [mail] = smtp_server.mails
    assert mail.rcpt_tos == [mediator.email]
    assert len(fake_twilio.requests) == 1, "the SMS itself is not sent again"

    again = client.post(PATH, data=params, headers=signed(params))
    assert again.status_code == 204
    assert len(all_messages(engine)) == 2, "a repeated report adds no second fallback"


def test_an_unknown_sid_is_acknowledged_and_ignored(client: TestClient, engine: Engine) -> None:
    params = report("SM" + "f" * 32, "delivered")
    response = client.post(PATH, data=params, headers=signed(params))
    assert response.status_code == 204
    assert all_messages(engine) == []


def test_a_signed_report_with_control_characters_is_acknowledged_and_harms_nothing(
    client: TestClient, engine: Engine, sent_sms: tuple[int, str]
) -> None:
    # Signed with the right token, so only Twilio or the token's holder could send them; a
    # NUL in the id or in the error code reached PostgreSQL and answered with a server error.
    message_id, sid = sent_sms
    for params in (
        report("SM\x00" + "0" * 31, "delivered"),
        report(sid, "failed", ErrorCode="30003\x00" + "x" * 20_000),
    ):
        assert client.post(PATH, data=params, headers=signed(params)).status_code == 204
    message = message_row(engine, message_id)
    assert (message.status, message.provider_status) == (MessageStatus.failed, "failed")
    assert message.error is not None and message.error.startswith("failed by the provider —")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Twilio-Signature": ""}, id="empty"),
        pytest.param({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, id="forged"),
        pytest.param("wrong-token", id="signed-with-another-token"),
        pytest.param("https://evil.example/webhooks/twilio/status", id="for-another-host"),
        pytest.param("https://sprachpool.test/webhooks/twilio/sms", id="for-another-path"),
        pytest.param(URL + "?retry=1", id="for-another-query"),
    ],
)
def test_an_unsigned_or_misdirected_report_is_refused(
    headers: dict[str, str] | str,
    client: TestClient,
    engine: Engine,
    sent_sms: tuple[int, str],
) -> None:
    message_id, sid = sent_sms
    params = report(sid, "undelivered")
    if headers == "wrong-token":
        headers = signed(params, token="another-account-token")
    elif isinstance(headers, str):
        headers = signed(params, url=headers)

    response = client.post(PATH, data=params, headers=headers)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert message_row(engine, message_id).status == MessageStatus.sent
    assert len(all_messages(engine)) == 1


def test_a_report_whose_body_was_changed_is_refused(
    client: TestClient,
    engine: Engine,
    sent_sms: tuple[int, str],
) -> None:
    message_id, sid = sent_sms
    headers = signed(report(sid, "delivered"))
    response = client.post(PATH, data=report(sid, "undelivered"), headers=headers)
    assert response.status_code == 403
    assert message_row(engine, message_id).status == MessageStatus.sent


def test_the_query_string_is_part_of_what_twilio_signs(client: TestClient) -> None:
    params = report("SM" + "e" * 32, "delivered")
    response = client.post(
        PATH + "?retry=1", data=params, headers=signed(params, url=URL + "?retry=1")
    )
    assert response.status_code == 204


def test_without_an_auth_token_every_report_is_refused(
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
) -> None:
    """Nothing can be checked without the token, so nothing is believed."""
    unconfigured = settings.model_copy(update={"twilio_auth_token": None})
    app = create_app(unconfigured, engine=engine, clock=clock, run_migrations=False)
    params = report("SM" + "e" * 32, "delivered")
    with TestClient(app) as client:
        response = client.post(PATH, data=params, headers=signed(params))
    assert response.status_code == 403
    assert "TWILIO_AUTH_TOKEN" in response.json()["detail"]


def test_behind_a_path_prefix_the_public_url_is_checked(
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
) -> None:
    prefixed = settings.model_copy(
        update={
            "public_base_url": "https://stadt.example/sprachpool",
            "twilio_auth_token": SecretStr(AUTH_TOKEN),
        }
    )
    app = create_app(prefixed, engine=engine, clock=clock, run_migrations=False)
    params = report("SM" + "e" * 32, "delivered")
    with TestClient(app) as client:
        good = client.post(
            PATH, data=params, headers=signed(params, url="https://stadt.example/sprachpool" + PATH)
        )
        bad = client.post(PATH, data=params, headers=signed(params))
    assert (good.status_code, bad.status_code) == (204, 403)
