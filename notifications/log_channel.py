"""The channel used when no Twilio or SMTP settings are given (SPEC "Configuration").

It sends nothing: it writes the whole message to the log, so a new user sees
every SMS and email (links included) without an account anywhere. The message
also stays in the outbox, visible at ``GET /api/v1/messages``.
"""

from __future__ import annotations

import logging

from notifications.channels import ChannelName, OutgoingMessage, SendResult, require_channel

logger = logging.getLogger("sprachpool.notifications")


class LogChannel:
    def __init__(self, name: ChannelName, *, log: logging.Logger = logger) -> None:
        self.name: ChannelName = name
        self._log = log

    def send(self, message: OutgoingMessage) -> SendResult:
        require_channel(self, message)
        attachments = ", ".join(a.filename for a in message.attachments) or "none"
        self._log.info(
            "%s to %s (not sent: no %s settings) [%s]\nSubject: %s\nAttachments: %s\n%s",
            message.channel.upper(),
            message.to,
            "Twilio" if message.channel == "sms" else "SMTP",
            message.idempotency_key,
            message.subject or "-",
            attachments,
            message.body,
        )
        return SendResult(provider_id=f"log:{message.idempotency_key}", status="logged")
