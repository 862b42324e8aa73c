"""SMS through Twilio's Messages API with the real ``twilio`` client.

Errors are sorted into :class:`TransientSendError` (retry with backoff) and
:class:`PermanentSendError` (mark failed, fall back to email) by HTTP status
and Twilio error code. Twilio's Messages API has no idempotency key, so
"at most once" is the outbox's job: it must not resend a message that got a
SendResult; a read timeout is reported with ``maybe_delivered=True``.
"""

from __future__ import annotations

from typing import Any

import requests
import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.channels import (
    ChannelName,
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    require_channel,
)

TWILIO_API_BASE = "https://api.twilio.com"

# Twilio error codes that say "this recipient cannot get this SMS", whatever we retry.
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid 'To' phone number",
    21217: "'To' phone number not valid",
    21408: "SMS to this region is not enabled on the account",
    21610: "recipient has opted out (replied STOP)",
    21612: "'To' number cannot be reached from the sender",
    21614: "'To' number is not a mobile number",
    21635: "'To' number is a landline",
}
# 4xx codes that are really "later": sender queue full, account rate limit.
TRANSIENT_CODES: dict[int, str] = {
    14107: "sending rate limit reached",
    20429: "too many requests",
    21611: "sender's message queue is full",
}


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio has no types
    """The library's HTTP client, sending to ``base_url`` instead of https://api.twilio.com.

    Used by tests and benchmarks to run the real client against a local
    stand-in of the Messages endpoint; everything else (auth, form encoding,
    headers, error parsing) is the library's own.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API_BASE):
            url = self.base_url + url[len(TWILIO_API_BASE) :]
        return super().request(method, url, *args, **kwargs)


def classify_twilio_error(status: int, code: int | None, message: str) -> Exception:
    """Map an HTTP status and Twilio error code to Transient or Permanent."""
    if code in PERMANENT_CODES:
        return PermanentSendError(f"Twilio {code}: {PERMANENT_CODES[code]}", code=code)
    if code in TRANSIENT_CODES:
        return TransientSendError(f"Twilio {code}: {TRANSIENT_CODES[code]}", code=code)
    if status == 429 or status >= 500:
        return TransientSendError(f"Twilio HTTP {status}: {message}", code=code)
    # Other 4xx: wrong credentials, bad sender, malformed request. Retrying the
    # same request cannot succeed, so fail now and let the fallback channel try.
    return PermanentSendError(f"Twilio HTTP {status} (code {code}): {message}", code=code)


def _may_have_reached(error: requests.exceptions.ConnectionError) -> bool:
    """False when the connection was never made (refused, DNS), so nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


class TwilioSmsChannel:
    name: ChannelName = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        *,
        http_client: HttpClient | None = None,
        api_base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        """Send from ``messaging_service_sid`` when given (it wins), else from ``from_number``.

        ``api_base_url`` (e.g. ``http://127.0.0.1:8765``) points the client at a
        stand-in; ``http_client`` replaces the HTTP client entirely.
        """
        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioSmsChannel needs from_number or messaging_service_sid")
        if http_client is None:
            http_client = (
                BaseUrlHttpClient(api_base_url, timeout=timeout)
                if api_base_url
                else TwilioHttpClient(timeout=timeout)
            )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, message: OutgoingMessage) -> SendResult:
        require_channel(self, message)
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number or ""}
        )
        if message.status_callback_url:
            sender["status_callback"] = message.status_callback_url
        try:
            created = self.client.messages.create(to=message.to, body=message.body, **sender)
        except (TwilioRestException, TwilioServiceException) as error:
            detail = getattr(error, "msg", None) or getattr(error, "detail", None) or str(error)
            raise classify_twilio_error(error.status, error.code, str(detail)) from error
        except requests.exceptions.ConnectTimeout as error:
            raise TransientSendError(f"Twilio connect timeout: {error}") from error
        except requests.exceptions.Timeout as error:
            raise TransientSendError(
                f"Twilio read timeout: {error}", maybe_delivered=True
            ) from error
        except requests.exceptions.ConnectionError as error:
            raise TransientSendError(
                f"Twilio connection error: {error}", maybe_delivered=_may_have_reached(error)
            ) from error
        except TwilioException as error:
            raise TransientSendError(f"Twilio client error: {error}") from error
        return SendResult(provider_id=created.sid, status=str(created.status or "queued"))
