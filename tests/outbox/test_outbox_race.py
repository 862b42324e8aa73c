"""Two workers, each with its own engine and connections, racing over one outbox."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.outbox import service
from dispatch.outbox.models import MessageStatus
from dispatch.outbox.worker import OutboxWorker
from dispatch.storage import make_engine, unit_of_work
from tests.notifications.provider_stand_ins import FakeTwilio
from tests.outbox.outbox_factories import OFFER_SMS, all_messages, twilio_channel

MESSAGES = 200


def test_two_racing_workers_send_every_message_exactly_once(
    engine: Engine,
    database_url: str,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    numbers = [f"+4915112{i:06d}" for i in range(MESSAGES)]
    with unit_of_work(engine) as session:
        for i, number in enumerate(numbers):
            service.enqueue(
                session,
                key=f"offer:{i}:sms",
                kind="offer",
                channel="sms",
                to=number,
                recipient_kind="mediator",
                recipient_id=None,
                locale="de",
                now=clock.now(),
                **OFFER_SMS,
            )
    handled: Counter[str] = Counter()
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        own_engine = make_engine(database_url)
        try:
            worker = OutboxWorker(
                own_engine,
                settings=settings,
                clock=clock,
                worker_id=name,
                channels={"sms": twilio_channel(fake_twilio.base_url)},
            )
            start.wait()
            # Small batches, so the two keep claiming from under each other.
            while (count := worker.run_once(limit=5)) > 0:
                handled[name] += count
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            own_engine.dispose()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    calls_per_number = Counter(r.fields["To"] for r in fake_twilio.requests)
    assert calls_per_number == Counter(numbers), "every message went to Twilio exactly once"
    assert sum(handled.values()) == MESSAGES
    assert handled["worker-1"] > 0 and handled["worker-2"] > 0, "both workers took part"
    messages = all_messages(engine)
    assert {m.status for m in messages} == {MessageStatus.sent}
    assert Counter(m.claimed_by for m in messages) == handled
    assert len({m.provider_id for m in messages}) == MESSAGES
