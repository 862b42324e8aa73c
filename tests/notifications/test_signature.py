"""Webhook signatures: only Twilio's, for exactly this URL and body, pass."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from twilio.request_validator import RequestValidator

from notifications.signature import public_url, verify_twilio_signature

TOKEN = "test-auth-token-0123456789abcdef"
URL = "https://sprachpool.beckum.de/webhooks/twilio/sms"
PARAMS = {
    "MessageSid": "SM" + "0" * 32,
    "From": "+491701234567",
    "To": "+4925219999000",
    "Body": "JA K7Q2",
}


def signed(url: str = URL, params: dict[str, str] = PARAMS, token: str = TOKEN) -> str:
    signature: str = RequestValidator(token).compute_signature(url, params)  # untyped library
    return signature


def test_a_request_signed_by_twilio_is_valid() -> None:
    assert verify_twilio_signature(TOKEN, URL, PARAMS, signed())


def test_a_forged_signature_is_refused() -> None:
    assert not verify_twilio_signature(TOKEN, URL, PARAMS, signed(token="someone-elses-token"))
    assert not verify_twilio_signature(TOKEN, URL, PARAMS, "bm90IGEgc2lnbmF0dXJl")


@pytest.mark.parametrize("signature", [None, ""])
def test_a_missing_signature_is_refused(signature: str | None) -> None:
    assert not verify_twilio_signature(TOKEN, URL, PARAMS, signature)


def test_a_signature_for_another_url_is_refused() -> None:
    other = "https://sprachpool.beckum.de/webhooks/twilio/status"
    assert not verify_twilio_signature(TOKEN, URL, PARAMS, signed(url=other))


def test_a_changed_body_is_refused() -> None:
    tampered = PARAMS | {"Body": "NEIN K7Q2"}
    assert not verify_twilio_signature(TOKEN, URL, tampered, signed())


def test_without_an_auth_token_nothing_is_valid() -> None:
    assert not verify_twilio_signature("", URL, PARAMS, signed(token=""))


def test_repeated_form_fields_are_signed_with_every_value() -> None:
    params = {"Body": ["JA K7Q2"], "MediaUrl": ["https://a.example/1", "https://a.example/2"]}
    flat = "".join(f"{name}{value}" for name in sorted(params) for value in sorted(params[name]))
    signature = base64.b64encode(
        hmac.new(TOKEN.encode(), (URL + flat).encode(), hashlib.sha1).digest()
    ).decode()

    assert verify_twilio_signature(TOKEN, URL, params, signature)


def test_the_public_url_is_rebuilt_from_the_base_url_path_and_query() -> None:
    assert public_url("https://sprachpool.beckum.de/", "/webhooks/twilio/sms") == URL
    assert (
        public_url("https://beckum.de/sprachpool", "webhooks/twilio/status", "id=7&x=a%20b")
        == "https://beckum.de/sprachpool/webhooks/twilio/status?id=7&x=a%20b"
    )


def test_a_request_proxied_to_another_host_verifies_against_the_public_url() -> None:
    # The app sees http://127.0.0.1:8000/...; Twilio signed the public https URL.
    rebuilt = public_url("https://sprachpool.beckum.de", "/webhooks/twilio/sms")
    assert verify_twilio_signature(TOKEN, rebuilt, PARAMS, signed())
    assert not verify_twilio_signature(
        TOKEN, "http://127.0.0.1:8000/webhooks/twilio/sms", PARAMS, signed()
    )


def test_a_base_url_without_scheme_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        public_url("sprachpool.beckum.de", "/webhooks/twilio/sms")
