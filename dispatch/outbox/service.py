"""Writing messages to the outbox, in the transaction of the change that causes them.

Nothing here talks to a provider: the worker delivers what was committed,
so a rolled-back change sends nothing and a committed one is never lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from dispatch.outbox.models import Message, MessageStatus
from notifications import templates
from notifications.channels import ChannelName


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
    **fields: Any,
) -> Message | None:
    """Render and store one message; the same `key` twice stores it once.

    `key` names the purpose and the recipient ("offer:17:sms"), so a step
    that runs again after a crash does not message anyone twice. Returns
    None when the message already exists or there is no address to use.
    """
    if not to:
        return None
    if session.exec(select(Message.id).where(Message.idempotency_key == key)).first() is not None:
        return None
    rendered = templates.render(kind, channel, locale, now=now, **fields)
    ics = next((a.data.decode() for a in rendered.attachments if a.filename.endswith(".ics")), None)
    message = Message(
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
        next_attempt_at=now,
        request_id=request_id,
        offer_id=offer_id,
        created_at=now,
    )
    session.add(message)
    return message
