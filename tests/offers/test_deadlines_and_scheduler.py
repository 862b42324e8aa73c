"""Deadlines and the scheduler.

A broken deadline does not stop the others; the scheduler drains full outbox
batches; links in emails lead somewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines import runner as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.offers.models import OfferDeadlineKind
from dispatch.outbox.models import Message
from dispatch.scheduler import BATCH, BackgroundJobs
from tests.conftest import Staff, request_payload
from tests.offers.conftest import Outbox


def test_a_step_that_fails_is_pushed_back_and_the_others_still_fire(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    make_pool(6)
    client.post("/api/v1/requests", json=request_payload(), headers=caseworker.headers)
    with Session(
        engine
    ) as session:  # a deadline for a request that does not exist: its step raises
        session.add(
            Deadline(
                kind=OfferDeadlineKind.wave_expiry,
                subject_id=999_999,
                sequence=1,
                due_at=clock.now(),
                created_at=clock.now(),
            )
        )
        session.commit()
    clock.advance(timedelta(minutes=61))
    assert deadlines.run_due(engine, clock=clock, settings=settings) == 2
    with Session(engine) as session:
        broken = session.exec(select(Deadline).where(Deadline.subject_id == 999_999)).one()
        assert broken.done_at is None and broken.due_at > clock.now()
        assert (broken.outcome or "").startswith("failed:")
        real = session.exec(
            select(Deadline).where(Deadline.subject_id != 999_999, Deadline.sequence == 1)
        ).one()
        assert real.done_at is not None and "wave 2 sent" in (real.outcome or "")


def test_the_scheduler_delivers_batch_after_batch_until_the_outbox_is_empty(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
    outbox: Outbox,
) -> None:
    make_pool(BATCH + 20)
    client.post(
        "/api/v1/requests", json=request_payload(broadcast=True), headers=caseworker.headers
    )
    pending = len([m for m in outbox.messages() if m.status == "pending"])
    assert pending > BATCH
    jobs = BackgroundJobs(engine, settings=settings, clock=clock)
    assert jobs.deliver_messages() == pending  # one poll, not one batch
    assert {m.status for m in outbox.messages()} == {"logged"}


def test_links_in_the_caseworkers_and_coordinators_emails_lead_to_pages(
    client: TestClient,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    created = client.post(
        "/api/v1/requests", json=request_payload(), headers=caseworker.headers
    ).json()
    assert created["status"] == "unfilled"
    with Session(engine) as session:
        bodies = [m.body for m in session.exec(select(Message).where(Message.channel == "email"))]
    links = {
        link for body in bodies for link in re.findall(r"https://sprachpool\.test(/[^\s#]*)", body)
    }
    assert f"/dashboard/requests/{created['id']}" in links
    assert f"/requests/{created['id']}" in links
    for path in links:  # signed out: each leads to the sign-in page, none is a 404
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (200, 303), (path, response.status_code)
