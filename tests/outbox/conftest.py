"""Fixtures for the outbox tests: real provider stand-ins, people to message, workers.

The Twilio stand-in and the aiosmtpd server are the ones the notifications
tests use (tests/notifications/provider_stand_ins.py), so the worker drives
the real twilio client and smtplib over real sockets. Every test runs on
SQLite and on PostgreSQL through the shared `engine` fixture.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import delete

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notifications"))

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators.models import Mediator
from dispatch.outbox import service
from dispatch.outbox.models import Message
from dispatch.outbox.worker import OutboxWorker
from dispatch.storage import unit_of_work
from notifications.channels import Channel, ChannelName
from tests.conftest import Staff, request_payload
from tests.notifications.provider_stand_ins import (  # noqa: F401 - fixtures are found by name
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    SmtpServer,
    _twilio_server,
    fake_twilio,
    smtp_server,
)
from tests.outbox.outbox_factories import (
    OFFER_EMAIL,
    OFFER_SMS,
    TWILIO_FROM,
    mediator_row,
    smtp_channel,
    twilio_channel,
)


@pytest.fixture
def settings(
    settings: Settings,
    fake_twilio: FakeTwilio,  # noqa: F811 (the imported fixture, requested)
    smtp_server: SmtpServer,  # noqa: F811
) -> Settings:
    """The shared test settings with Twilio and SMTP pointed at the local stand-ins."""
    return settings.model_copy(
        update={
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": SecretStr(AUTH_TOKEN),
            "twilio_from": TWILIO_FROM,
            "twilio_api_base": fake_twilio.base_url,
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "smtp_from": "sprachpool@beckum.test",
            "coordinator_email": "integration@beckum.test",
        }
    )


@pytest.fixture
def channels(fake_twilio: FakeTwilio, smtp_server: SmtpServer) -> dict[str, Channel]:  # noqa: F811
    return {"sms": twilio_channel(fake_twilio.base_url), "email": smtp_channel(smtp_server)}


@pytest.fixture
def make_worker(
    engine: Engine, settings: Settings, clock: ManualClock, channels: dict[str, Channel]
) -> Callable[..., OutboxWorker]:
    counter = iter(range(1, 1000))

    def make(**overrides: Any) -> OutboxWorker:
        overrides.setdefault("channels", dict(channels))
        overrides.setdefault("worker_id", f"worker-{next(counter)}")
        return OutboxWorker(engine, settings=settings, clock=clock, **overrides)

    return make


@pytest.fixture
def worker(make_worker: Callable[..., OutboxWorker]) -> OutboxWorker:
    return make_worker()


@pytest.fixture
def make_mediator(engine: Engine, clock: ManualClock) -> Callable[..., int]:
    counter = iter(range(1, 100_000))

    def make(
        *,
        phone: str | None = "auto",
        email: str | None = "auto",
        locale: str = "de",
        name: str = "Helen Tekle",
    ) -> int:
        number = next(counter)
        with unit_of_work(engine) as session:
            mediator = Mediator(
                name=name,
                phone=f"+4915112{number:06d}" if phone == "auto" else phone,
                email=f"mediator{number}@example.org" if email == "auto" else email,
                message_locale=locale,
                channels=["sms", "email"],
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            session.add(mediator)
            session.flush()
            return int(mediator.id)

    return make


@pytest.fixture
def enqueue_offer(engine: Engine, clock: ManualClock) -> Callable[..., int]:
    """Commit one offer message to a mediator, as the workflow does, and return its id."""

    def enqueue(
        mediator_id: int,
        *,
        channel: ChannelName = "sms",
        key: str | None = None,
        offer_id: int | None = None,
        request_id: int | None = None,
        fallback: dict[str, Any] | None = None,
        **fields: Any,
    ) -> int:
        mediator = mediator_row(engine, mediator_id)
        values = {**(OFFER_SMS if channel == "sms" else OFFER_EMAIL), **fields}
        with unit_of_work(engine) as session:
            message = service.enqueue(
                session,
                key=key or f"offer:test-{mediator_id}:{channel}",
                kind="offer",
                channel=channel,
                to=mediator.phone if channel == "sms" else mediator.email,
                recipient_kind="mediator",
                recipient_id=mediator_id,
                locale=mediator.message_locale,
                now=clock.now(),
                request_id=request_id,
                offer_id=offer_id,
                fallback=fallback,
                **values,
            )
            assert message is not None
            session.flush()
            return int(message.id)

    return enqueue


@pytest.fixture
def caseworker_request(client: TestClient, caseworker: Staff, engine: Engine) -> int:
    """A real request (messages and offers point at one), with whatever dispatching it
    wrote to the outbox removed, so a test sees only its own messages."""
    response = client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    assert response.status_code == 201, response.text
    with unit_of_work(engine) as session:
        session.exec(delete(Message))
    return int(response.json()["id"])


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: connecting to it times out (a "black hole").

    A listening socket with a backlog of 0 is filled by one connection that
    is never accepted; the kernel then drops further SYNs, so a client's
    connect attempt waits out its timeout, as against an unreachable host.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    server.close()
