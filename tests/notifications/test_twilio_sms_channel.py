"""TwilioSmsChannel drives the real twilio client against the local Messages stand-in."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from twilio.http.http_client import TwilioHttpClient

from notifications.channels import (
    Channel,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)
from notifications.twilio_sms import BaseUrlHttpClient, TwilioSmsChannel
from tests.notifications.provider_stand_ins import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
FROM = "+4925219999000"
SERVICE_SID = "MG" + "fedcba9876543210" * 2


def sms(body: str = "Sprachpool: Einsatz Arabisch", **overrides: object) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "idempotency_key": "msg-1",
        "channel": "sms",
        "to": "+491701234567",
        "body": body,
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def channel_for(fake: FakeTwilio, **kwargs: Any) -> TwilioSmsChannel:
    kwargs.setdefault("from_number", FROM)
    return TwilioSmsChannel(ACCOUNT_SID, AUTH_TOKEN, api_base_url=fake.base_url, **kwargs)


def test_channel_satisfies_the_channel_protocol(fake_twilio: FakeTwilio) -> None:
    assert isinstance(channel_for(fake_twilio), Channel)


def test_sending_posts_the_message_form_to_the_account_messages_endpoint(
    fake_twilio: FakeTwilio,
) -> None:
    result = channel_for(fake_twilio).send(
        sms(status_callback_url="https://sprachpool.example/webhooks/twilio/status")
    )

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == MESSAGES_PATH
    assert request.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("twilio-python/")
    assert request.fields == {
        "To": "+491701234567",
        "From": FROM,
        "Body": "Sprachpool: Einsatz Arabisch",
        "StatusCallback": "https://sprachpool.example/webhooks/twilio/status",
    }
    assert result.provider_id is not None and result.provider_id.startswith("SM")
    assert result.status == "queued"


def test_a_messaging_service_is_used_instead_of_a_from_number(fake_twilio: FakeTwilio) -> None:
    channel = channel_for(fake_twilio, from_number=None, messaging_service_sid=SERVICE_SID)

    result = channel.send(sms())

    [request] = fake_twilio.requests
    assert request.fields["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in request.fields
    assert "StatusCallback" not in request.fields
    assert result.status == "accepted"


def test_unicode_bodies_arrive_unchanged(fake_twilio: FakeTwilio) -> None:
    body = "طلب ترجمة Arabisch، 01.12. 09:00-10:30 — Städtisches Klinikum"

    channel_for(fake_twilio).send(sms(body))

    assert fake_twilio.requests[0].fields["Body"] == body


@pytest.mark.parametrize("behaviour", ["server_error", "rate_limited"])
def test_provider_overload_is_transient(fake_twilio: FakeTwilio, behaviour: str) -> None:
    fake_twilio.behaviour = behaviour

    with pytest.raises(TransientSendError):
        channel_for(fake_twilio).send(sms())

    assert len(fake_twilio.requests) == 1  # the channel itself never retries


def test_a_retry_after_a_server_error_sends_once_more_and_succeeds(fake_twilio: FakeTwilio) -> None:
    fake_twilio.behaviour = ["server_error", "created"]
    channel = channel_for(fake_twilio)

    with pytest.raises(TransientSendError):
        channel.send(sms())
    result = channel.send(sms())

    assert result.provider_id is not None
    assert len(fake_twilio.requests) == 2


def test_an_invalid_number_is_permanent_with_twilio_code(fake_twilio: FakeTwilio) -> None:
    fake_twilio.behaviour = "invalid_number"

    with pytest.raises(PermanentSendError) as raised:
        channel_for(fake_twilio).send(sms(to="+4900"))

    assert raised.value.code == 21211
    assert "invalid" in raised.value.reason.lower()


def test_an_opted_out_recipient_is_permanent(fake_twilio: FakeTwilio) -> None:
    fake_twilio.behaviour = "opted_out"

    with pytest.raises(PermanentSendError) as raised:
        channel_for(fake_twilio).send(sms())

    assert raised.value.code == 21610


def test_wrong_credentials_fail_permanently_so_the_fallback_channel_can_try(
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.behaviour = "unauthorized"

    with pytest.raises(PermanentSendError) as raised:
        channel_for(fake_twilio).send(sms())

    assert raised.value.code == 20003


def test_a_provider_that_does_not_answer_is_a_transient_timeout(fake_twilio: FakeTwilio) -> None:
    fake_twilio.behaviour = "hang"

    with pytest.raises(TransientSendError) as raised:
        channel_for(fake_twilio, timeout=0.5).send(sms())

    assert "timeout" in raised.value.reason.lower()
    assert raised.value.maybe_delivered  # the request reached the provider


def test_a_refused_connection_is_transient_and_certainly_not_delivered() -> None:
    # A socket that is bound but never listens: connecting to it is refused.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        channel = TwilioSmsChannel(
            ACCOUNT_SID, AUTH_TOKEN, FROM, api_base_url=f"http://127.0.0.1:{port}"
        )
        with pytest.raises(TransientSendError) as raised:
            channel.send(sms())

    assert not raised.value.maybe_delivered


def test_the_stand_in_client_rewrites_only_the_twilio_api_base(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(
        TwilioHttpClient, "request", lambda _self, _method, url, *_a, **_kw: seen.append(url)
    )
    client = BaseUrlHttpClient("http://127.0.0.1:1/")

    client.request("POST", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
    client.request("GET", "https://lookups.twilio.com/v2/PhoneNumbers/+49")

    assert seen == [
        "http://127.0.0.1:1/2010-04-01/Accounts/AC1/Messages.json",
        "https://lookups.twilio.com/v2/PhoneNumbers/+49",
    ]


def test_a_sender_is_required() -> None:
    with pytest.raises(ValueError):
        TwilioSmsChannel(ACCOUNT_SID, AUTH_TOKEN)


def test_an_email_message_is_refused_as_a_wiring_mistake(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(ValueError):
        channel_for(fake_twilio).send(sms(channel="email"))
    assert fake_twilio.requests == []
