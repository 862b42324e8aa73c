"""Writing messages to the outbox, in the transaction of the change that causes them.

Nothing here talks to a provider: the worker (``worker.py``) delivers what was
committed, so a rolled-back change sends nothing and a committed one is never
lost. Also here, because the worker and the status webhook share them: the
fallback to a person's other channel, provider status reports, and the
coordinator's list of messages. Like every service, these add and flush; the
caller's unit of work commits.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Offer
from dispatch.outbox.models import Message, MessageStatus
from dispatch.storage import insert_rows, new_row
from dispatch.users.models import User
from dispatch.validation import whole_number
from notifications import templates
from notifications.channels import ChannelName

log = logging.getLogger(__name__)

FALLBACK_SUFFIX = ":fallback"
OTHER_CHANNEL: dict[str, ChannelName] = {"sms": "email", "email": "sms"}
_DATETIME_TAG = "$datetime"


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: ChannelName,
    to: str | None,
    recipient_kind: str,
    recipient_id: int | None,
    locale: str | None,
    now: datetime,
    request_id: int | None = None,
    offer_id: int | None = None,
    fallback: Mapping[str, Any] | None = None,
    fresh: bool = False,
    not_before: datetime | None = None,
    **fields: Any,
) -> Message | None:
    """Render and store one message; the same `key` twice stores it once.

    `key` names the purpose and the recipient ("offer:17:sms"), so a step
    that runs again after a crash does not message anyone twice. Returns
    None when the message already exists or there is no address to use.

    `fresh` says the key names a row created in this transaction (a new offer's
    id): no message can carry it yet, so the lookup is skipped; the key's unique
    constraint still refuses a second one.

    `not_before`: the message waits until then (news that can wait for the
    end of the quiet hours); without it, it goes at once.

    `fallback` optionally gives the fields of the other channel's version
    (e.g. the email fields for an SMS), for when this one fails for good;
    without it the fallback is rendered from `fields`, completed from the
    database where it can be (see :func:`enqueue_fallback`).
    """
    if not to:
        return None
    if (
        not fresh
        and session.exec(select(Message.id).where(Message.idempotency_key == key)).first()
        is not None
    ):
        return None
    rendered = templates.render(kind, channel, locale, now=now, **fields)
    ics = next((a.data.decode() for a in rendered.attachments if a.filename.endswith(".ics")), None)
    # Built without the model's constructor (storage.new_row): one or more per filing.
    message = new_row(
        Message,
        idempotency_key=key,
        channel=channel,
        kind=kind,
        recipient=to,
        recipient_kind=recipient_kind,
        recipient_id=recipient_id,
        locale=rendered.locale,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        ics=ics,
        status=MessageStatus.pending,
        next_attempt_at=max(now, not_before) if not_before is not None else now,
        request_id=request_id,
        offer_id=offer_id,
        created_at=now,
        fallback_fields=_fallback_fields(
            kind, channel, fallback if fallback is not None else fields
        ),
    )
    batch = session.info.get(_BATCH)
    if batch is not None:
        batch.append(message)
    else:
        session.add(message)
    return message


_BATCH = "sprachpool_outbox_batch"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The messages enqueued inside are written together when the block ends, by one INSERT.

    A wave's offers each get a message per channel; written as ORM objects
    they cost more at the flush than their rendering (``storage.insert_rows``).
    Inside the block the messages are not in the database yet and the
    objects `enqueue` returns get no id: for steps that only add messages.
    The key's unique constraint still refuses a second one, at the end.
    """
    if _BATCH in session.info:
        yield  # already inside a batch: its end writes these too
        return
    rows: list[Message] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        del session.info[_BATCH]
    insert_rows(session, rows)


# --- the fallback to the other channel ---------------------------------------------


def _other_spec(kind: str, channel: str) -> templates.TemplateSpec | None:
    other = OTHER_CHANNEL.get(channel)
    return templates.SPECS.get((kind, other)) if other else None


def _fallback_fields(kind: str, channel: str, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """The subset of `fields` the other channel's template declares, ready for a JSON column.

    Only declared fields are kept, so an SMS fallback can never carry the
    notes or names an email had; `recipient_name` is left out because the
    fallback looks the name up when it is needed (and erasure removes it).
    """
    spec = _other_spec(kind, channel)
    if spec is None:
        return None
    accepted = (spec.required | spec.optional) - {"recipient_name"}
    return {
        name: _encode(value)
        for name, value in fields.items()
        if name in accepted and value is not None
    }


def _encode(value: Any) -> Any:
    """A field as JSON keeps it; a list (what changed, as codes) stays a list, not its repr."""
    if isinstance(value, datetime):
        return {_DATETIME_TAG: value.isoformat()}
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return str(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {_DATETIME_TAG}:
        return datetime.fromisoformat(value[_DATETIME_TAG])
    if isinstance(value, list):  # the days of a series, as `_encode` wrote them
        return [_decode(item) for item in value]
    return value


def _address_on(
    session: Session, message: Message, channel: str, settings: Settings
) -> tuple[str | None, str | None]:
    """The person's address on `channel` and their name, looked up now (not stored)."""
    if message.recipient_kind == "mediator" and message.recipient_id is not None:
        mediator = session.get(Mediator, message.recipient_id)
        if mediator is None or mediator.erased_at is not None:
            return None, None
        return (mediator.phone if channel == "sms" else mediator.email), mediator.name
    if message.recipient_kind == "user" and message.recipient_id is not None:
        user = session.get(User, message.recipient_id)
        if user is None or not user.active:
            return None, None
        return (None if channel == "sms" else user.email), user.name
    if message.recipient_kind == "coordinator":
        return (
            settings.coordinator_phone if channel == "sms" else settings.coordinator_email
        ), None
    return None, None


class _NoFallback(Exception):
    """Why a failed message has no fallback (logged, not an error)."""


def enqueue_fallback(
    session: Session, message: Message, *, settings: Settings, now: datetime
) -> Message | None:
    """After a permanent failure, the same message on the person's other channel, once.

    Used by the worker (invalid number, opted out, gave up, may-have-been-
    delivered) and by the Twilio status webhook (undelivered). Returns the
    new message, or None when there is no fallback: the message is itself a
    fallback, the kind has no version on the other channel, the person has
    no address there, the other channel already carries this message, or a
    field the other template needs cannot be found. The reason is logged.
    """
    try:
        other, address, fields = _fallback_plan(session, message, settings=settings)
    except _NoFallback as reason:
        log.info("message %s: no fallback (%s)", message.id, reason)
        return None
    return enqueue(
        session,
        key=message.idempotency_key + FALLBACK_SUFFIX,
        kind=message.kind,
        channel=other,
        to=address,
        recipient_kind=message.recipient_kind,
        recipient_id=message.recipient_id,
        locale=message.locale,
        now=now,
        request_id=message.request_id,
        offer_id=message.offer_id,
        **fields,
    )


def _fallback_plan(
    session: Session, message: Message, *, settings: Settings
) -> tuple[ChannelName, str, dict[str, Any]]:
    """The other channel, the person's address on it and the fields to render, or _NoFallback."""
    other = OTHER_CHANNEL.get(message.channel)
    spec = _other_spec(message.kind, message.channel)
    if message.idempotency_key.endswith(FALLBACK_SUFFIX):
        raise _NoFallback("it is a fallback itself")
    if other is None or spec is None or message.fallback_fields is None:
        raise _NoFallback(f"no {other} version of {message.kind!r}")
    if _other_channel_carries(session, message, other):
        raise _NoFallback(f"the {other} version is already in the outbox")
    address, name = _address_on(session, message, other, settings)
    if not address:
        raise _NoFallback(f"the recipient has no {other} address")
    fields = {field: _decode(value) for field, value in message.fallback_fields.items()}
    accepted = spec.required | spec.optional
    if "expires_at" in accepted and "expires_at" not in fields and message.offer_id:
        offer = session.get(Offer, message.offer_id)
        if offer is not None:
            fields["expires_at"] = offer.expires_at
    if "recipient_name" in accepted and name:
        fields["recipient_name"] = name
    missing = spec.required - {k for k, v in fields.items() if v is not None}
    if missing:
        raise _NoFallback(f"the {other} template needs {sorted(missing)}")
    return other, address, fields


def _other_channel_carries(session: Session, message: Message, other: str) -> bool:
    """True when the same purpose already has a message to this person on `other`.

    Whatever its status: delivered or on its way, nothing is missing; failed,
    that address does not work either.
    """
    query = select(Message.id).where(
        Message.kind == message.kind,
        Message.channel == other,
        Message.recipient_kind == message.recipient_kind,
        Message.recipient_id == message.recipient_id,  # == None renders IS NULL
        Message.request_id == message.request_id,
        Message.offer_id == message.offer_id,
    )
    return session.exec(query.limit(1)).first() is not None


def fail_with_fallback(
    session: Session, message: Message, *, reason: str, settings: Settings, now: datetime
) -> Message | None:
    """Mark `message` failed with `reason` and queue its fallback; the reason names the fallback."""
    message.status = MessageStatus.failed
    fallback = enqueue_fallback(session, message, settings=settings, now=now)
    if fallback is not None:
        session.flush()  # for its id
        reason = f"{reason} — sent by {fallback.channel} instead (message {fallback.id})"
    message.error = reason[:500]
    session.add(message)
    return fallback


# --- provider status reports -------------------------------------------------------

#: How far along each Twilio status is; a report never moves a message back.
_TWILIO_PROGRESS: dict[str, int] = {
    "accepted": 1, "scheduled": 1, "queued": 1, "sending": 1,
    "sent": 2,
    "delivered": 3, "read": 3, "undelivered": 3, "failed": 3, "canceled": 3,
}  # fmt: skip
_TWILIO_NOT_DELIVERED = frozenset({"undelivered", "failed", "canceled"})


def record_provider_status(
    session: Session,
    *,
    provider_id: str,
    provider_status: str,
    error_code: str | None,
    settings: Settings,
    now: datetime,
) -> Message | None:
    """Apply a delivery report (Twilio's status callback) to the message with this provider id.

    Reports can arrive late and out of order ("sent" after "delivered"), so
    only a step forward counts. Undelivered or failed falls back to the
    other channel like a permanent send error. Unknown ids return None.
    """
    provider_status = provider_status.strip().lower()
    progress = _TWILIO_PROGRESS.get(provider_status)
    if progress is None or not provider_id or not provider_id.isprintable():
        return None  # a NUL in a looked-up id was a server error on PostgreSQL
    message = session.exec(
        select(Message).where(Message.provider_id == provider_id).with_for_update()
    ).first()
    if message is None:
        return None
    if progress <= _TWILIO_PROGRESS.get(message.provider_status or "", 0):
        return message
    message.provider_status = provider_status
    if provider_status in ("delivered", "read"):
        message.status = MessageStatus.delivered
        message.error = None
    elif provider_status in _TWILIO_NOT_DELIVERED:
        # Twilio's codes are numbers (30003): anything else is left out of the reason.
        number = whole_number(error_code or "")
        code = f" (Twilio error {number})" if number is not None else ""
        fail_with_fallback(
            session,
            message,
            reason=f"{provider_status} by the provider{code}",
            settings=settings,
            now=now,
        )
    session.add(message)
    return message


# --- erasure ------------------------------------------------------------------------

ERASED = "(gelöscht)"
#: Why a message about an erased person never went out.
ERASED_UNSENT = "not sent: the mediator it was to or about was erased"
#: Why a message to an erased staff member never went out.
ERASED_STAFF_UNSENT = "not sent: the staff member it was to was erased"


def _empty_messages_to(
    session: Session, *, recipient_kind: str, recipient_id: int, why: str
) -> int:
    """Every message to an erased person loses address, text, calendar file and fallback
    fields; one still pending is cancelled (`why`). Returns how many."""
    to_them = session.exec(
        select(Message).where(
            Message.recipient_kind == recipient_kind, Message.recipient_id == recipient_id
        )
    ).all()
    for message in to_them:
        message.recipient = None
        message.body = "[erased]"
        message.subject = message.html = message.ics = message.error = None
        message.fallback_fields = None
        if message.status == MessageStatus.pending:
            message.status = MessageStatus.cancelled
            message.error = why
        session.add(message)
    return len(to_them)


def erase_traces(
    session: Session,
    *,
    mediator_id: int,
    request_ids: Collection[int],
    traces: Collection[str],
) -> int:
    """Erase a mediator from every message that carried their data; returns how many changed.

    Messages to them are emptied (no address, no text, no calendar file, no
    fallback fields). Messages to staff about their requests (the
    caseworker's confirmation with their name and phone, coordinator alerts
    naming them) keep their words but lose the person's: each trace (name,
    phone, email) is replaced wherever it stands, in the subject, text,
    HTML, calendar file, fallback fields and error. Whatever of these was
    still pending is cancelled, so nothing goes out with the old data; a
    message a worker is sending at this moment is beyond reach.
    """
    unsent = (MessageStatus.pending,)
    changed = _empty_messages_to(
        session, recipient_kind="mediator", recipient_id=mediator_id, why=ERASED_UNSENT
    )
    patterns = _trace_patterns(traces)
    if not patterns or not request_ids:
        return changed
    # Staff messages only: what goes to a mediator names nobody but that mediator,
    # and another mediator of the same name must still get their offers.
    about_them = session.exec(
        select(Message).where(
            col(Message.request_id).in_(list(request_ids)),
            col(Message.recipient_kind) != "mediator",
        )
    )
    for message in about_them:
        if not _scrub_message(message, patterns):
            continue
        if message.status in unsent:
            message.status = MessageStatus.cancelled
            message.error = ERASED_UNSENT
        session.add(message)
        changed += 1
    session.flush()
    return changed


def erase_staff_traces(session: Session, *, user_id: int, traces: Collection[str]) -> int:
    """Erase a staff member from every message that carried their data; returns how many.

    Messages to them (sign-in links, their requests' news) are emptied as a
    mediator's are; a pending one is cancelled. Messages that name them to
    others (a colleague told who changed a request or handed work over, an
    invitation naming who invited) keep their words but lose the name and
    address, wherever they stand. Only messages whose text holds a trace are
    looked at, found by the database first.
    """
    changed = _empty_messages_to(
        session, recipient_kind="user", recipient_id=user_id, why=ERASED_STAFF_UNSENT
    )
    patterns = _trace_patterns(traces)
    words = [t.strip() for t in traces if t and len(t.strip()) > 1]
    if not patterns or not words:
        session.flush()
        return changed
    naming = session.exec(
        select(Message).where(
            sa.or_(*(col(Message.body).contains(word, autoescape=True) for word in words)),
            sa.not_(
                sa.and_(col(Message.recipient_kind) == "user", col(Message.recipient_id) == user_id)
            ),
        )
    ).all()
    for message in naming:
        if _scrub_message(message, patterns):
            session.add(message)
            changed += 1
    session.flush()
    return changed


def scrub_request_messages(
    session: Session, *, request_ids: Collection[int], traces: Collection[str]
) -> int:
    """Replace erased request data wherever messages about these requests carried them.

    When a request's contact, connection or a home visit's street is erased
    (``REQUEST_DATA_DAYS`` after the end), or a client reference is erased on
    request, the words stay in the messages that were sent about it: the
    assigned mediator's confirmation, reminders and calendar file, the
    caseworker's e-mails. Each trace is replaced as in `erase_traces` (a
    calendar file holding one is dropped); a message still pending goes out
    with the trace replaced. Returns how many messages changed.
    """
    patterns = _trace_patterns(traces)
    if not patterns or not request_ids:
        return 0
    changed = 0
    messages = session.exec(select(Message).where(col(Message.request_id).in_(list(request_ids))))
    for message in messages:
        if _scrub_message(message, patterns):
            session.add(message)
            changed += 1
    session.flush()
    return changed


def _trace_patterns(traces: Collection[str]) -> list[re.Pattern[str]]:
    """One pattern per trace and spelling (as typed, as HTML escapes it), longest first.

    A trace matches only as a whole word, so a name inside another word
    stays; too short a trace (one letter) is no trace.
    """
    spellings = {t.strip() for t in traces if t and len(t.strip()) > 1}
    spellings |= {html_lib.escape(t) for t in spellings}
    return [
        re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE)
        for text in sorted(spellings, key=len, reverse=True)
    ]


def _scrub_text(text: str | None, patterns: list[re.Pattern[str]]) -> str | None:
    if text is None:
        return None
    for pattern in patterns:
        text = pattern.sub(ERASED, text)
    return text


def _scrub_json(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        return _scrub_text(value, patterns)
    if isinstance(value, dict):
        return {k: _scrub_json(v, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v, patterns) for v in value]
    return value


def _scrub_message(message: Message, patterns: list[re.Pattern[str]]) -> bool:
    """Replace the traces in one message; True when it held any."""
    before = (message.subject, message.body, message.html, message.error, message.fallback_fields)
    message.subject = _scrub_text(message.subject, patterns)
    message.body = _scrub_text(message.body, patterns) or ""
    message.html = _scrub_text(message.html, patterns)
    message.error = _scrub_text(message.error, patterns)
    if message.fallback_fields is not None:
        message.fallback_fields = _scrub_json(message.fallback_fields, patterns)
    changed = before != (
        message.subject,
        message.body,
        message.html,
        message.error,
        message.fallback_fields,
    )
    if message.ics is not None:
        # A calendar file folds long lines and escapes commas: look at it unfolded,
        # and drop it whole rather than edit it.
        unfolded = message.ics.replace("\r\n ", "").replace("\n ", "").replace("\\", "")
        if any(pattern.search(unfolded) for pattern in patterns):
            message.ics = None
            changed = True
    return changed


# --- the coordinator's view --------------------------------------------------------


def list_messages(
    session: Session,
    *,
    status: MessageStatus | None = None,
    channel: str | None = None,
    kind: str | None = None,
    request_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Message], int]:
    """Messages newest first with the total matching the filters."""
    conditions = []
    if status is not None:
        conditions.append(col(Message.status) == status)
    if channel is not None:
        conditions.append(col(Message.channel) == channel)
    if kind is not None:
        conditions.append(col(Message.kind) == kind)
    if request_id is not None:
        conditions.append(col(Message.request_id) == request_id)
    total = session.exec(select(sa.func.count()).select_from(Message).where(*conditions)).one()
    rows = session.exec(
        select(Message)
        .where(*conditions)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)
