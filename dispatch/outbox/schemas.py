"""What the coordinator sees of the outbox."""

from __future__ import annotations

from pydantic import BaseModel

from dispatch.outbox.models import Message, MessageStatus
from dispatch.validation import Timestamp


def mask_phone(number: str) -> str:
    """+4915112340027 → +49•••••••••027: enough to tell messages apart, not to dial.

    The outbox list is a log that ends up on screens and in screenshots; the
    full number is one click away in the pool for whoever needs it.
    """
    if len(number) <= 6:
        return "•" * len(number)
    return number[:3] + "•" * (len(number) - 6) + number[-3:]


class MessagePublic(BaseModel):
    id: int
    channel: str
    kind: str
    #: Emails in full; phone numbers masked but for the country code and last 3 digits.
    recipient: str | None
    recipient_kind: str
    recipient_id: int | None
    locale: str
    subject: str | None
    status: MessageStatus
    provider_status: str | None
    attempts: int
    error: str | None
    created_at: Timestamp
    next_attempt_at: Timestamp
    sent_at: Timestamp | None
    request_id: int | None
    offer_id: int | None

    @classmethod
    def of(cls, message: Message) -> MessagePublic:
        recipient = message.recipient
        if recipient and message.channel == "sms":
            recipient = mask_phone(recipient)
        return cls(
            id=message.id,
            channel=message.channel,
            kind=message.kind,
            recipient=recipient,
            recipient_kind=message.recipient_kind,
            recipient_id=message.recipient_id,
            locale=message.locale,
            subject=message.subject,
            status=message.status,
            provider_status=message.provider_status,
            attempts=message.attempts,
            error=message.error,
            created_at=message.created_at,
            next_attempt_at=message.next_attempt_at,
            sent_at=message.sent_at,
            request_id=message.request_id,
            offer_id=message.offer_id,
        )


class MessagePage(BaseModel):
    items: list[MessagePublic]
    total: int
    limit: int
    offset: int
