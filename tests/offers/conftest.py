"""Fixtures for the dispatch workflow: a small Tigrinya pool and helpers to read the outbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines import runner as deadlines
from dispatch.offers.models import Offer
from dispatch.outbox.models import Message
from tests.conftest import Staff, mediator_payload

LINK = re.compile(r"https://sprachpool\.test/o/([A-Za-z0-9_\-]+)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with a coordinator to alert."""
    return settings.model_copy(
        update={
            "coordinator_email": "integration@beckum.example",
            "coordinator_phone": "+4925219990000",
        }
    )


def tigrinya_speaker(number: int, **overrides: object) -> dict[str, object]:
    """A mediator who speaks Tigrinya and is free all Tuesday, by phone."""
    fields: dict[str, object] = {
        "name": f"Mediator {number}",
        "phone": f"+49151000{number:05d}",
        "email": f"m{number}@example.org",
        "languages": [{"language": "ti", "level": "native"}],
        "gender": None,
        "home": {"lat": 51.7561 + number * 0.001, "lon": 8.0452},
        "max_travel_km": 50,
        "max_hours_per_week": None,
        "qualifications": [],
        "channels": ["sms"],
        "message_locale": "de",
        "availability": [
            {"weekday": day, "start": "06:00", "end": "22:00"}
            for day in ("mon", "tue", "wed", "thu", "fri")
        ],
    }
    return mediator_payload(**{**fields, **overrides})


@pytest.fixture
def make_pool(client: TestClient, coordinator: Staff) -> Callable[..., list[int]]:
    def make(count: int, **overrides: object) -> list[int]:
        ids = []
        for number in range(1, count + 1):
            response = client.post(
                "/api/v1/mediators",
                json=tigrinya_speaker(number, **overrides),
                headers=coordinator.headers,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    return make


class Outbox:
    """Reads what the workflow wrote to the outbox, as a test would read a phone."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def messages(self, kind: str | None = None, channel: str | None = None) -> list[Message]:
        with Session(self.engine) as session:
            query = select(Message).order_by(col(Message.id))
            if kind:
                query = query.where(Message.kind == kind)
            if channel:
                query = query.where(Message.channel == channel)
            return list(session.exec(query))

    def links(self, kind: str = "offer") -> dict[str, str]:
        """Link token by recipient, from the SMS of this kind."""
        found: dict[str, str] = {}
        for message in self.messages(kind, "sms"):
            match = LINK.search(message.body)
            if match and message.recipient:
                found[message.recipient] = match.group(1)
        return found

    def offers(self, request_id: int) -> list[Offer]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Offer).where(Offer.request_id == request_id).order_by(col(Offer.id))
                )
            )


@pytest.fixture
def outbox(engine: Engine) -> Outbox:
    return Outbox(engine)


@pytest.fixture
def advance(engine: Engine, clock: ManualClock, settings: Settings) -> Callable[..., int]:
    """Move the clock on and fire what fell due, as the scheduler would."""

    def go(**delta: float) -> int:
        clock.advance(timedelta(**delta))
        return deadlines.run_due(engine, clock=clock, settings=settings)

    return go


def put_on_lists(engine: Engine, staff: Staff, at: datetime, **kinds: int) -> None:
    """The staff's organisation lists mediators: `excluded=id`, `preferred=id`."""
    from dispatch.users.models import OrganisationMediator

    with Session(engine) as session:
        for kind, mediator_id in kinds.items():
            session.add(
                OrganisationMediator(
                    organisation_id=staff.organisation_id,
                    mediator_id=mediator_id,
                    kind=kind,
                    created_at=at,
                )
            )
        session.commit()
