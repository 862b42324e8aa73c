"""What every delivery channel accepts, returns and raises.

The outbox worker only speaks this interface, so Twilio, SMTP and the log
channel are interchangeable and a test can use any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

ChannelName = Literal["sms", "email"]


def channel_name(value: str) -> ChannelName:
    """A channel name read back from storage, where it is plain text."""
    if value == "sms":
        return "sms"
    if value == "email":
        return "email"
    raise ValueError(f"unknown channel {value!r}")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST; charset=utf-8"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one recipient, as stored in the outbox.

    ``idempotency_key`` is unique per message and recipient; the email channel
    derives the Message-ID from it, so a resend is recognisable as the same mail.
    """

    idempotency_key: str
    channel: ChannelName
    to: str
    body: str
    subject: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    status_callback_url: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None  # Twilio message SID, email Message-ID, ...
    status: str  # the provider's first status: "queued", "accepted", "sent", "logged"


class SendError(Exception):
    """Base of the two outcomes a failed send can have."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # Twilio error code or SMTP reply code, when known


class TransientSendError(SendError):
    """Try again later: provider 5xx, 429, timeouts, refused connections.

    ``maybe_delivered`` is True when the request may have reached the provider
    before the failure (a read timeout, a dropped connection after sending):
    a retry can then duplicate the message, and the outbox may prefer to wait
    for the status callback or accept the small risk.
    """

    def __init__(
        self, reason: str, *, code: int | None = None, maybe_delivered: bool = False
    ) -> None:
        super().__init__(reason, code=code)
        self.maybe_delivered = maybe_delivered


class PermanentSendError(SendError):
    """Retrying cannot help: invalid number, opted out, recipient refused.

    The outbox marks the message failed with ``reason`` and falls back to the
    person's other channel where there is one.
    """


@runtime_checkable
class Channel(Protocol):
    name: ChannelName

    def send(self, message: OutgoingMessage) -> SendResult: ...


def require_channel(channel: Channel, message: OutgoingMessage) -> None:
    """Refuse a message meant for another channel (a wiring mistake, not a send error)."""
    if message.channel != channel.name:
        raise ValueError(
            f"{type(channel).__name__} sends {channel.name!r} messages, got {message.channel!r}"
        )
