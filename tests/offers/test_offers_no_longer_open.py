"""Whoever still has an offer open hears when it is no longer open (PRACTICE: "everyone who was
asked is told when the job is filled"; SPEC: a cancellation informs whoever is affected).

Someone else's yes, an override, a cancellation and a change that moves the job away from
the offer each withdraw the open offers; their mediators get "no longer open" with the
job as their offer named it, once, and in the quiet hours not before the morning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.outbox.models import Message
from tests.conftest import BERLIN, Staff
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import accept_first_offer
from tests.offers.test_lifecycle import file_request
from tests.offers.test_request_changes import patch


def no_longer_open(outbox: Outbox) -> list[Message]:
    return outbox.messages("offer_withdrawn", "sms")


def phones(outbox: Outbox, mediator_ids: set[int]) -> set[str]:
    """The numbers the pool's mediators were offered on, by id."""
    return {
        m.recipient
        for m in outbox.messages("offer", "sms")
        if m.recipient_id in mediator_ids and m.recipient
    }


def test_someone_elses_yes_tells_the_others_still_asked_that_the_job_is_filled(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)  # Tuesday 09:00: 3 offers
    asked = {o.mediator_id for o in outbox.offers(created["id"])}

    _, taker = accept_first_offer(client, outbox, created["id"])

    told = no_longer_open(outbox)
    assert {m.recipient for m in told} == phones(outbox, asked - {taker})
    assert len(told) == 2
    assert all("Tigrinya" in m.body and "01.12. 09:00" in m.body for m in told)
    assert all("nicht mehr frei" in m.body for m in told)
    assert all(m.next_attempt_at <= m.created_at for m in told)  # in the day: at once


def test_a_cancelled_request_tells_everyone_whose_offer_was_open(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    asked = {o.mediator_id for o in outbox.offers(created["id"])}

    cancelled = client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)

    assert cancelled.status_code == 200, cancelled.text
    told = no_longer_open(outbox)
    assert sorted(m.recipient or "" for m in told) == sorted(phones(outbox, asked))
    again = client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)
    assert again.status_code in (200, 409)
    assert len(no_longer_open(outbox)) == len(asked)  # once


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL that `engine` runs meanwhile."""
    seen: list[str] = []

    def note(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_news_comes_from_what_the_withdrawal_returned_not_a_second_read(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    """The UPDATE that withdraws the offers returns their mediators and expiries, which is
    all the news needs: nothing reads the same offers again by their ids."""
    make_pool(5)
    created = file_request(client, caseworker)
    asked = {o.mediator_id for o in outbox.offers(created["id"])}

    with statements(engine) as seen:
        cancelled = client.post(
            f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers
        )

    assert cancelled.status_code == 200, cancelled.text
    assert sorted(m.recipient or "" for m in no_longer_open(outbox)) == sorted(
        phones(outbox, asked)
    )
    assert [s for s in seen if re.search(r"FROM offer\s+WHERE offer\.id IN", s)] == []


def test_an_override_tells_those_whose_offer_was_open(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    pool = make_pool(5)
    created = file_request(client, caseworker)
    asked = {o.mediator_id for o in outbox.offers(created["id"])}
    chosen = next(m for m in pool if m not in asked)

    assigned = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": chosen},
        headers=coordinator.headers,
    )

    assert assigned.status_code in (200, 201), assigned.text
    assert {m.recipient for m in no_longer_open(outbox)} == phones(outbox, asked)


def test_an_override_to_someone_with_an_open_offer_confirms_it_to_them_and_nothing_else(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    asked = {o.mediator_id for o in outbox.offers(created["id"])}
    chosen = min(asked)

    assigned = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": chosen},
        headers=coordinator.headers,
    )

    assert assigned.status_code in (200, 201), assigned.text
    assert {m.recipient for m in no_longer_open(outbox)} == phones(outbox, asked - {chosen})
    (confirmed,) = outbox.messages("assignment_confirmed_mediator", "sms")
    assert confirmed.recipient_id == chosen


def test_a_change_nobody_can_serve_tells_those_asked_of_the_job_their_offer_named(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)  # Tigrinya speakers only
    created = file_request(client, caseworker)
    asked = {o.mediator_id for o in outbox.offers(created["id"])}

    changed = patch(
        client,
        caseworker,
        created["id"],
        language="ar",
        start="2026-12-02T11:00:00+01:00",
        end="2026-12-02T12:00:00+01:00",
    )

    assert changed.status_code == 200, changed.text
    told = no_longer_open(outbox)
    assert {m.recipient for m in told} == phones(outbox, asked)
    # The offer was for Tigrinya on Tuesday at 09:00: that is what is off.
    assert all("Tigrinya" in m.body and "01.12. 09:00" in m.body for m in told)


def test_those_asked_again_after_a_change_get_the_new_offer_and_no_word_of_the_old(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    first = {o.mediator_id for o in outbox.offers(created["id"])}
    clock.advance(timedelta(minutes=5))

    changed = patch(
        client,
        caseworker,
        created["id"],
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )

    assert changed.status_code == 200, changed.text
    second = {o.mediator_id for o in outbox.offers(created["id"]) if o.wave == 2}
    assert first & second
    told = {m.recipient_id for m in no_longer_open(outbox)}
    assert told == first - second


def test_at_night_the_word_waits_for_the_morning_unless_they_allow_night_messages(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    pool = make_pool(5)
    clock.set(datetime(2026, 11, 30, 20, 30, tzinfo=BERLIN))
    created = file_request(
        client, caseworker, start="2026-12-03T09:00:00+01:00", end="2026-12-03T10:00:00+01:00"
    )
    asked = sorted(o.mediator_id for o in outbox.offers(created["id"]))
    night_owl = asked[-1]
    allowed = client.patch(
        f"/api/v1/mediators/{night_owl}",
        json={"night_messages": True},
        headers=coordinator.headers,
    )
    assert allowed.status_code == 200, allowed.text
    clock.set(datetime(2026, 11, 30, 22, 30, tzinfo=BERLIN))  # the offers run till tomorrow
    chosen = next(m for m in pool if m not in asked)

    client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": chosen},
        headers=coordinator.headers,
    )

    when = {m.recipient_id: m.next_attempt_at for m in no_longer_open(outbox)}
    assert set(when) == set(asked)
    morning = datetime(2026, 12, 1, 7, 0, tzinfo=BERLIN)
    assert len(asked) >= 2 and all(when[m] == morning for m in asked if m != night_owl)
    assert when[night_owl] == clock.now()


def test_an_offer_that_had_run_out_is_not_told_again(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)  # its offers are open for 60 minutes
    clock.advance(timedelta(minutes=61))  # run out, not yet swept by the scheduler

    client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)

    assert no_longer_open(outbox) == []
