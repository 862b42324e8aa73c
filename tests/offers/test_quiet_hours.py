"""Quiet hours (policy, 21:00-07:00 local): offers wait for the morning, their time stops at night,
and urgent jobs reach only those who allow night messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from config import data as config_data
from dispatch.clock import ManualClock
from dispatch.offers import policy as offer_policy
from tests.conftest import Staff, request_payload
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import accept_first_offer
from tests.offers.test_lifecycle import file_request

BERLIN = ZoneInfo("Europe/Berlin")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def test_an_offer_filed_at_night_waits_for_the_morning(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    clock: ManualClock,
) -> None:
    make_pool(3)
    advance(hours=14)  # Monday 22:00
    created = file_request(
        client,
        caseworker,
        start="2026-12-02T09:00:00+01:00",
        end="2026-12-02T10:00:00+01:00",
    )
    assert outbox.offers(created["id"]) == [] and outbox.messages("offer") == []
    advance(hours=8, minutes=59)  # Tuesday 06:59
    assert outbox.offers(created["id"]) == []
    advance(minutes=1)  # 07:00: the wave goes out
    offers = outbox.offers(created["id"])
    assert len(offers) == 3 and all(o.created_at == clock.now() for o in offers)  # 26 h ahead
    assert offers[0].created_at.astimezone(BERLIN) == datetime(2026, 12, 1, 7, 0, tzinfo=BERLIN)


def test_an_offers_time_does_not_run_down_at_night(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(4)
    advance(hours=12, minutes=30)  # Monday 20:30, a job Tuesday 15:00: 3 offers for 60 minutes
    created = file_request(
        client, caseworker, start="2026-12-01T15:00:00+01:00", end="2026-12-01T16:00:00+01:00"
    )
    offers = outbox.offers(created["id"])
    assert len(offers) == 3
    # 30 minutes before 21:00, the other 30 after 07:00.
    assert {o.expires_at.astimezone(BERLIN) for o in offers} == {
        datetime(2026, 12, 1, 7, 30, tzinfo=BERLIN)
    }
    advance(hours=10, minutes=59)  # Tuesday 07:29: nothing has run out, no second wave
    assert {o.status for o in outbox.offers(created["id"])} == {"pending"}


def test_an_urgent_job_at_night_goes_only_to_those_who_allow_night_messages(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    ids = make_pool(4)
    allowed = client.patch(
        f"/api/v1/mediators/{ids[2]}", json={"night_messages": True}, headers=coordinator.headers
    )
    assert allowed.status_code == 200 and allowed.json()["night_messages"] is True
    advance(hours=15)  # Monday 23:00, a phone job at Tuesday 07:30 cannot wait
    created = client.post(
        "/api/v1/requests",
        json=request_payload(start="2026-12-01T07:30:00+01:00", end="2026-12-01T08:30:00+01:00"),
        headers=caseworker.headers,
    )
    assert created.status_code == 201, created.text
    offers = outbox.offers(created.json()["id"])
    assert [o.mediator_id for o in offers] == [ids[2]]
    # Sent at night on purpose: its time runs as usual (60 minutes under 48 h).
    assert offers[0].expires_at - offers[0].created_at == timedelta(minutes=60)


def awake_minutes_day_by_day(policy: Any, since: datetime, until: datetime, tz: ZoneInfo) -> float:
    """The waking minutes counted night by night, as before whole days were added at once."""
    if policy.quiet_start == policy.quiet_end:
        return max(0.0, (until - since).total_seconds() / 60)
    total, moment = timedelta(0), since
    while moment < until:
        quiet = offer_policy.quiet_hours(policy, moment, tz)
        if quiet is not None:
            moment = quiet[1]
            continue
        step = min(offer_policy._next_quiet_start(policy, moment, tz), until)
        total += step - moment
        moment = step
    return total.total_seconds() / 60


@settings(max_examples=300, deadline=None)
@given(
    quiet=st.sampled_from(
        [("21:00", "07:00"), ("22:30", "06:15"), ("13:00", "15:00"), ("08:00", "08:00")]
    ),
    since_minutes=st.integers(0, 60 * 24 * 30),
    span_minutes=st.integers(0, 60 * 24 * 70),
    utc_since=st.booleans(),
)
def test_waking_minutes_weeks_ahead_are_those_counted_night_by_night(
    quiet: tuple[str, str], since_minutes: int, span_minutes: int, utc_since: bool
) -> None:
    # From mid-March across both clock changes of 2026 (29 March, 25 October).
    tz = ZoneInfo("Europe/Berlin")
    policy = replace(config_data.default_policy(), quiet_start=quiet[0], quiet_end=quiet[1])
    since = datetime(2026, 3, 15, 0, 0, tzinfo=tz) + timedelta(minutes=since_minutes * 7)
    if utc_since:
        since = since.astimezone(UTC)
    until = since + timedelta(minutes=span_minutes)
    expected = awake_minutes_day_by_day(policy, since, until, tz)
    assert offer_policy.awake_minutes(policy, since, until, tz) == pytest.approx(expected, abs=1e-9)


def two_hour_reminders(outbox: Outbox) -> list[datetime]:
    return [m.created_at.astimezone(BERLIN) for m in outbox.messages("reminder_2h", "sms")]


def test_the_reminder_before_an_early_job_waits_for_the_quiet_hours_to_end(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(1, channels=["sms"])
    created = file_request(
        client, caseworker, start="2026-12-01T08:00:00+01:00", end="2026-12-01T09:00:00+01:00"
    )
    accept_first_offer(client, outbox, created["id"])
    advance(hours=22, minutes=30)  # Tuesday 06:30: two hours before was 06:00
    assert two_hour_reminders(outbox) == []
    advance(minutes=30)  # 07:00, the quiet hours' end
    assert two_hour_reminders(outbox) == [datetime(2026, 12, 1, 7, 0, tzinfo=BERLIN)]


def test_a_job_too_early_for_that_is_reminded_at_its_own_time(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(1, channels=["sms"])
    created = file_request(
        client, caseworker, start="2026-12-01T07:15:00+01:00", end="2026-12-01T08:15:00+01:00"
    )
    accept_first_offer(client, outbox, created["id"])
    advance(hours=21, minutes=15)  # Tuesday 05:15: 07:00 would leave 15 minutes
    assert two_hour_reminders(outbox) == [datetime(2026, 12, 1, 5, 15, tzinfo=BERLIN)]


@pytest.mark.parametrize(
    ("due", "start", "sent"),
    [
        (local(30, 20, 59), local(30, 22, 59), local(30, 20, 59)),  # awake: as due
        (local(30, 21, 0), local(30, 23, 0), local(30, 21, 0)),  # job at night: as due
        (local(30, 5, 0), local(30, 7, 30), local(30, 7, 0)),  # 30 minutes left: moved
        (local(30, 5, 0), local(30, 7, 29), local(30, 5, 0)),  # 29 left: as due
        (local(29, 8, 0), local(30, 8, 0), local(29, 8, 0)),  # the day before, awake
        (local(29, 6, 0), local(30, 6, 0), local(29, 7, 0)),  # the day before, at night
    ],
)
def test_a_reminder_due_in_the_quiet_hours_goes_at_their_end_when_that_leaves_time(
    due: datetime, start: datetime, sent: datetime
) -> None:
    policy = config_data.default_policy()
    assert offer_policy.reminder_time(policy, due, start, BERLIN) == sent
