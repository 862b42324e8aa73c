"""Messages enqueued in a batch are written together at its end, and only if it ends well."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.outbox import service as outbox
from dispatch.outbox.models import Message
from dispatch.storage import unit_of_work
from tests.outbox.outbox_factories import OFFER_SMS

NOW = datetime.fromisoformat("2026-11-30T08:00:00+01:00")


def enqueue_offer_sms(session: Session, key: str) -> Message | None:
    return outbox.enqueue(
        session,
        key=key,
        kind="offer",
        channel="sms",
        to="+4915100000001",
        recipient_kind="mediator",
        recipient_id=None,
        locale="de",
        now=NOW,
        fresh=True,
        **OFFER_SMS,
    )


def keys(engine: Engine) -> list[str]:
    with unit_of_work(engine) as session:
        return sorted(session.exec(select(Message.idempotency_key)))


def test_a_batch_writes_its_messages_when_it_ends_and_an_inner_batch_joins_it(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        with outbox.batched(session):
            enqueue_offer_sms(session, "offer:1:sms")
            with outbox.batched(session):
                enqueue_offer_sms(session, "offer:2:sms")
            assert session.exec(select(Message.id)).first() is None  # not written yet
        stored = list(session.exec(select(Message)))
        assert sorted(m.idempotency_key for m in stored) == ["offer:1:sms", "offer:2:sms"]
        assert all(m.body and m.status == "pending" and m.next_attempt_at for m in stored)
        enqueue_offer_sms(session, "offer:3:sms")  # outside a batch: as before
    assert keys(engine) == ["offer:1:sms", "offer:2:sms", "offer:3:sms"]


def test_a_batch_that_fails_writes_nothing_and_a_key_twice_is_refused(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        with pytest.raises(RuntimeError), outbox.batched(session):
            enqueue_offer_sms(session, "offer:1:sms")
            raise RuntimeError("the wave failed")
        # Within the same transaction: the failed batch inserted nothing, and is over.
        assert session.exec(select(Message.id)).first() is None
        enqueue_offer_sms(session, "offer:2:sms")
    assert keys(engine) == ["offer:2:sms"]
    refused = pytest.raises(sa.exc.IntegrityError)
    with refused, unit_of_work(engine) as session, outbox.batched(session):
        enqueue_offer_sms(session, "offer:1:sms")
        enqueue_offer_sms(session, "offer:1:sms")
    assert keys(engine) == ["offer:2:sms"]
