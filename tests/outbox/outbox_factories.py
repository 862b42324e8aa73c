"""Factories and readers for the outbox tests (a module of its own name, so that
test modules can import them whichever conftest.py Python saw first)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dispatch.mediators.models import Mediator
from dispatch.offers.models import Offer
from dispatch.outbox.models import Message
from dispatch.storage import unit_of_work
from notifications.smtp_email import SmtpEmailChannel
from notifications.twilio_sms import TwilioSmsChannel
from tests.notifications.provider_stand_ins import ACCOUNT_SID, AUTH_TOKEN, SmtpServer

TWILIO_FROM = "+4925219999000"
START = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
END = START + timedelta(minutes=90)
LINK = "https://sprachpool.test/o/AbCdEfGhJk12"

#: The fields of an offer SMS, as the dispatch workflow passes them.
OFFER_SMS: dict[str, Any] = {
    "language": "Tigrinya", "start": START, "end": END, "mode": "in_person",
    "place": "Jobcenter Beckum", "link": LINK, "code": "4711",
}  # fmt: skip
#: ... and of the offer email: more detail, including notes that must never reach an SMS.
OFFER_EMAIL: dict[str, Any] = {
    **OFFER_SMS, "expires_at": START - timedelta(hours=12),
    "notes": "Bitte am Empfang nach Frau Peters fragen",
    "organisation": "Jobcenter Kreis Warendorf", "recipient_name": "Helen Tekle",
}  # fmt: skip


def twilio_channel(base_url: str, *, timeout: float = 5) -> TwilioSmsChannel:
    return TwilioSmsChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=TWILIO_FROM, api_base_url=base_url, timeout=timeout
    )


def smtp_channel(server: SmtpServer) -> SmtpEmailChannel:
    return SmtpEmailChannel(
        server.host, server.port, from_addr="sprachpool@beckum.test", security="none", timeout=5
    )


def mediator_row(engine: Engine, mediator_id: int) -> Mediator:
    with unit_of_work(engine) as session:
        mediator = session.get(Mediator, mediator_id)
        assert mediator is not None
        return mediator


def message_row(engine: Engine, message_id: int) -> Message:
    with unit_of_work(engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def all_messages(engine: Engine) -> list[Message]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(Message).order_by(col(Message.id))).all())


def make_offer(
    engine: Engine, *, request_id: int, mediator_id: int, expires_at: datetime, now: datetime
) -> int:
    """An offer row, so messages can point at it (the fallback reads its expiry)."""
    with unit_of_work(engine) as session:
        offer = Offer(
            request_id=request_id,
            mediator_id=mediator_id,
            wave=1,
            token_hash=f"{mediator_id:064d}",
            short_code="4711",
            created_at=now,
            expires_at=expires_at,
        )
        session.add(offer)
        session.flush()
        return int(offer.id)
