"""Webhooks Twilio calls: the signature check every one of them shares, and delivery status.

Twilio signs the public URL it called plus the POST parameters with the
account's auth token (``X-Twilio-Signature``). Behind a reverse proxy the app
sees another host, so the URL is rebuilt from ``PUBLIC_BASE_URL`` — the one
Twilio was given — before checking. The inbound SMS route
(``POST /webhooks/twilio/sms``) belongs to offers (``dispatch/offers/routes.py``) and uses
:func:`twilio_form` from here.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from config.settings import Settings
from dispatch import errors
from dispatch.deps import ClockDep, SessionDep, SettingsDep
from dispatch.errors import Forbidden
from dispatch.outbox import service
from notifications.signature import public_url, verify_twilio_signature

log = logging.getLogger(__name__)


def request_public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + the path inside the app + the raw query."""
    path = request.url.path
    root_path = str(request.scope.get("root_path") or "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]  # the prefix is part of PUBLIC_BASE_URL already
    query = request.scope.get("query_string", b"").decode("latin-1")
    return public_url(settings.public_base_url, path, query)


async def twilio_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, after checking ``X-Twilio-Signature``; 403 otherwise.

    Refuses a missing or forged signature, one made for another URL, and
    every request when no TWILIO_AUTH_TOKEN is configured (an unsigned
    webhook could pause mediators or fake delivery reports). A repeated
    field is checked with all its values and returned with its first.
    """
    settings: Settings = request.app.state.settings
    if settings.twilio_auth_token is None or not settings.twilio_auth_token.get_secret_value():
        raise Forbidden("Twilio webhooks are refused: TWILIO_AUTH_TOKEN is not configured.")
    form = await request.form()
    params: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str):  # a file upload: Twilio never sends one
            raise Forbidden("This webhook accepts form fields only.")
        params.setdefault(name, []).append(value)
    url = request_public_url(request, settings)
    signature = request.headers.get("X-Twilio-Signature")
    if not verify_twilio_signature(
        settings.twilio_auth_token.get_secret_value(), url, params, signature
    ):
        log.warning("Twilio webhook with a missing or invalid signature for %s", url)
        raise Forbidden("The Twilio signature is missing or does not match this address.")
    return {name: values[0] for name, values in params.items()}


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]

router = APIRouter(tags=["webhooks"], responses=errors.responses(400, 403, 413))


@router.post(
    "/webhooks/twilio/status",
    status_code=204,
    response_class=Response,
    summary="Twilio delivery status callback",
)
def twilio_status(
    form: TwilioForm, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Record queued/sent/delivered/undelivered/failed on the message with this MessageSid.

    An undelivered or failed SMS falls back to the person's email. Unknown
    SIDs and statuses are acknowledged and ignored: Twilio only needs a 2xx.
    """
    service.record_provider_status(
        session,
        provider_id=form.get("MessageSid") or form.get("SmsSid") or "",
        provider_status=form.get("MessageStatus") or form.get("SmsStatus") or "",
        error_code=form.get("ErrorCode"),
        settings=settings,
        now=clock.now(),
    )
    return Response(status_code=204)
