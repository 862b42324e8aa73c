"""Series of requests (issue 14, item 2) through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines.models import Deadline
from dispatch.offers.models import OfferDeadlineKind
from dispatch.outbox.models import Message
from dispatch.outbox.service import enqueue_fallback
from tests.conftest import BERLIN, Staff, request_payload
from tests.offers.conftest import LINK, Outbox

#: Tuesday 1 December 2026, 09:00-10:30 by phone, every week until 29 December: 5 occurrences.
WEEKLY_OF_FIVE = {"interval_weeks": 1, "until": "2026-12-29"}


def series_payload(**overrides: object) -> dict[str, object]:
    return {**request_payload(), **WEEKLY_OF_FIVE, **overrides}


def file_series(client: TestClient, staff: Staff, **overrides: object) -> dict[str, Any]:
    response = client.post(
        "/api/v1/series", json=series_payload(**overrides), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def statuses(series: dict[str, Any]) -> list[str]:
    return [o["status"] for o in series["occurrences"]]


def offer_token(engine: Engine, offer_id: int) -> str:
    """The link of an offer, read from its SMS."""
    with Session(engine) as session:
        body = session.exec(
            select(Message.body).where(Message.offer_id == offer_id, Message.channel == "sms")
        ).first()
    assert body is not None
    match = LINK.search(body)
    assert match is not None
    return match.group(1)


def test_a_weekly_series_files_each_occurrence_as_its_own_request(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(4)
    series = file_series(client, caseworker, client_ref="JC-2026-0417")
    starts = [o["start"] for o in series["occurrences"]]
    assert starts == [f"2026-12-{day:02d}T09:00:00+01:00" for day in (1, 8, 15, 22, 29)]
    assert all(o["series_id"] == series["id"] for o in series["occurrences"])
    assert len({o["id"] for o in series["occurrences"]}) == 5
    # The first goes out at once; the second is within 14 days, so it does too; the later
    # ones wait for their lead time (no flood of offers today).
    assert statuses(series) == ["offered", "offered", "open", "open", "open"]
    assert all(not outbox.offers(o["id"]) for o in series["occurrences"][2:])
    # The duplicate check did not fire between the series' own occurrences.
    single = client.get(
        f"/api/v1/requests/{series['occurrences'][3]['id']}", headers=caseworker.headers
    )
    assert single.status_code == 200 and single.json()["series_id"] == series["id"]
    again = client.get(f"/api/v1/series/{series['id']}", headers=caseworker.headers)
    assert again.status_code == 200 and again.json()["occurrences"] == series["occurrences"]
    assert again.json()["interval_weeks"] == 1 and again.json()["until"] == "2026-12-29"


def test_a_held_occurrence_is_offered_when_its_lead_time_comes(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    engine: Engine,
) -> None:
    make_pool(4)
    series = file_series(client, caseworker)
    third = series["occurrences"][2]["id"]
    with Session(engine) as session:
        due = session.exec(
            select(Deadline.due_at).where(
                Deadline.kind == OfferDeadlineKind.first_wave, Deadline.subject_id == third
            )
        ).one()
    assert due == datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)  # 14 days before 15 December
    advance(hours=24, minutes=59)
    assert not outbox.offers(third)
    advance(minutes=1)
    assert outbox.offers(third)


def test_a_held_occurrence_moved_waits_for_its_new_lead_time(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(4)
    series = file_series(client, caseworker)
    fourth = series["occurrences"][3]["id"]
    moved = client.patch(
        f"/api/v1/requests/{fourth}",
        json={"start": "2026-12-23T11:00:00+01:00"},
        headers=caseworker.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "open" and not outbox.offers(fourth)
    with Session(engine) as session:
        due = session.exec(
            select(Deadline.due_at).where(
                Deadline.kind == OfferDeadlineKind.first_wave,
                Deadline.subject_id == fourth,
                col(Deadline.done_at).is_(None),
            )
        ).all()
    assert due == [datetime(2026, 12, 9, 11, 0, tzinfo=BERLIN)]
    # Moved within its lead time, it goes out at once.
    soon = client.patch(
        f"/api/v1/requests/{fourth}",
        json={"start": "2026-12-10T11:00:00+01:00"},
        headers=caseworker.headers,
    )
    assert soon.json()["status"] == "offered" and outbox.offers(fourth)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2027-06-01"}, "until"),  # 27 weekly occurrences
        ({"interval_weeks": 2, "until": "2027-11-30"}, "until"),  # 27 every two weeks
        ({"until": "2026-12-01"}, "until"),  # not after the first
        ({"until": "2026-11-30"}, "until"),
        ({"interval_weeks": 0}, "interval_weeks"),
        ({"interval_weeks": 13}, "interval_weeks"),
        ({"until": "31.12.2026"}, "until"),
        ({"until": "9999-12-31"}, "until"),
    ],
)
def test_a_series_it_cannot_file_is_a_422_naming_the_field(
    client: TestClient, caseworker: Staff, body: dict[str, object], field: str
) -> None:
    response = client.post(
        "/api/v1/series", json=series_payload(**body), headers=caseworker.headers
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]][:1] == [field]
    listed = client.get("/api/v1/requests", headers=caseworker.headers).json()
    assert listed["total"] == 0  # nothing of it was filed


def test_26_occurrences_are_the_most(client: TestClient, caseworker: Staff) -> None:
    series = file_series(client, caseworker, until="2027-05-25")
    assert len(series["occurrences"]) == 26


@pytest.mark.parametrize(
    ("first", "until", "offsets"),
    [
        ("2027-03-16T09:00:00+01:00", "2027-04-06", ["+01:00", "+01:00", "+02:00", "+02:00"]),
        ("2027-10-19T09:00:00+02:00", "2027-11-09", ["+02:00", "+02:00", "+01:00", "+01:00"]),
    ],
)
def test_occurrences_keep_the_local_time_across_the_clock_change(
    client: TestClient, caseworker: Staff, first: str, until: str, offsets: list[str]
) -> None:
    end = first.replace("T09:00", "T10:30")
    series = file_series(client, caseworker, start=first, end=end, until=until)
    assert [o["start"][11:] for o in series["occurrences"]] == [f"09:00:00{o}" for o in offsets]
    assert [o["end"][11:16] for o in series["occurrences"]] == ["10:30"] * 4


def test_an_occurrence_in_the_hour_the_clocks_skip_starts_an_hour_later_and_lasts_as_long(
    client: TestClient, caseworker: Staff
) -> None:
    """Weekly at 02:30 for an hour: on 28 March 2027 02:30 does not exist in Berlin."""
    series = file_series(
        client,
        caseworker,
        start="2027-03-21T02:30:00+01:00",
        end="2027-03-21T03:30:00+01:00",
        until="2027-04-04",
    )
    spans = [(o["start"], o["end"]) for o in series["occurrences"]]
    assert spans == [
        ("2027-03-21T02:30:00+01:00", "2027-03-21T03:30:00+01:00"),
        ("2027-03-28T03:30:00+02:00", "2027-03-28T04:30:00+02:00"),
        ("2027-04-04T02:30:00+02:00", "2027-04-04T03:30:00+02:00"),
    ]


def test_cancel_from_the_third_on_tells_the_assigned_mediator(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    pool = make_pool(3)
    series = file_series(client, caseworker)
    occurrences = [o["id"] for o in series["occurrences"]]
    assigned = client.post(
        f"/api/v1/requests/{occurrences[3]}/assign",
        json={"mediator_id": pool[2]},
        headers=coordinator.headers,
    )
    assert assigned.status_code in (200, 201), assigned.text
    response = client.post(
        f"/api/v1/series/{series['id']}/cancel",
        json={"from": "2026-12-15", "reason": "Kurs endet früher"},
        headers=caseworker.headers,
    )
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert statuses(cancelled)[:2] == ["offered", "offered"]
    assert statuses(cancelled)[2:] == ["cancelled"] * 3
    assert cancelled["cancelled_from"] == "2026-12-15"
    assert cancelled["occurrences"][2]["cancel_reason"] == "Kurs endet früher"
    told = outbox.messages("cancelled_mediator", "sms")
    assert [m.request_id for m in told] == [occurrences[3]]
    # One occurrence alone is cancelled like any request.
    single = client.post(f"/api/v1/requests/{occurrences[1]}/cancel", headers=caseworker.headers)
    assert single.status_code == 200 and single.json()["status"] == "cancelled"
    again = client.get(f"/api/v1/series/{series['id']}", headers=caseworker.headers).json()
    assert statuses(again) == ["offered", "cancelled", "cancelled", "cancelled", "cancelled"]


def cancel_from_the_second_with_three_held(
    client: TestClient, caseworker: Staff, coordinator: Staff, pool: list[int]
) -> int:
    """One mediator holds 8, 15 and 22 December; the coordinator cancels from the 8th on.
    Returns who held them."""
    series = file_series(client, caseworker)
    for occurrence in [o["id"] for o in series["occurrences"]][1:4]:
        assigned = client.post(
            f"/api/v1/requests/{occurrence}/assign",
            json={"mediator_id": pool[2]},
            headers=coordinator.headers,
        )
        assert assigned.status_code in (200, 201), assigned.text
    response = client.post(
        f"/api/v1/series/{series['id']}/cancel",
        json={"from": "2026-12-08", "reason": "Kurs endet früher"},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    assert statuses(response.json()) == ["offered"] + ["cancelled"] * 4
    return pool[2]


def test_a_series_cancelled_by_the_coordinator_is_told_once_per_person_with_every_date(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    holder = cancel_from_the_second_with_three_held(
        client, caseworker, coordinator, make_pool(3, channels=["sms", "email"])
    )

    assert outbox.messages("cancelled_mediator") == []
    [sms] = outbox.messages("series_cancelled_mediator", "sms")
    assert sms.recipient_id == holder
    assert all(day in sms.body for day in ("08.12.", "15.12.", "22.12.")), sms.body
    assert "29.12." not in sms.body
    [mail] = outbox.messages("series_cancelled_mediator", "email")
    assert mail.ics is not None and mail.ics.count("BEGIN:VEVENT") == 3
    assert "METHOD:CANCEL" in mail.ics
    assert outbox.messages("request_cancelled_caseworker") == []
    [told] = outbox.messages("series_cancelled_caseworker", "email")
    assert told.recipient_id == caseworker.user_id
    for day in ("8. Dezember", "15. Dezember", "22. Dezember", "29. Dezember"):
        assert day in told.body, told.body
    assert "Kurs endet früher" in told.body and "1. Dezember" not in told.body


def test_a_series_summary_sms_that_fails_becomes_an_email_with_every_date(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    cancel_from_the_second_with_three_held(client, caseworker, coordinator, make_pool(3))
    [sms] = outbox.messages("series_cancelled_mediator", "sms")
    assert outbox.messages("series_cancelled_mediator", "email") == []

    with Session(engine) as session:
        fallback = enqueue_fallback(session, sms, settings=settings, now=clock.now())
        assert fallback is not None
        assert all(day in fallback.body for day in ("8. Dezember", "15. Dezember", "22. Dez"))
        assert fallback.ics is not None and fallback.ics.count("BEGIN:VEVENT") == 3


def test_whoever_takes_an_occurrence_is_asked_first_for_the_later_ones(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    engine: Engine,
) -> None:
    pool = make_pool(6)
    series = file_series(client, caseworker)
    first, second, third = (o["id"] for o in series["occurrences"][:3])
    asked_for_second = {o.mediator_id for o in outbox.offers(second)}
    # Whoever takes the first by their link...
    token = offer_token(engine, outbox.offers(first)[0].id)
    taker = outbox.offers(first)[0].mediator_id
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    if taker not in asked_for_second:
        # ...gets the second (already out to others) at once, alone in a wave of their own.
        newest = outbox.offers(second)[-1]
        assert newest.mediator_id == taker
        assert [o.mediator_id for o in outbox.offers(second) if o.wave == newest.wave] == [taker]
    # The third's first wave, when its lead time comes, is the taker alone.
    advance(hours=25)
    third_offers = outbox.offers(third)
    assert [o.mediator_id for o in third_offers] == [taker]
    # They decline: the others are asked.
    token = offer_token(engine, third_offers[0].id)
    assert client.post(f"/o/{token}/decline", follow_redirects=False).status_code == 303
    others = {o.mediator_id for o in outbox.offers(third)} - {taker}
    assert others and others <= set(pool)


def test_an_override_carries_the_series_to_an_occurrence_already_out(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    pool = make_pool(6)
    series = file_series(client, caseworker)
    first, second = (o["id"] for o in series["occurrences"][:2])
    outsider = next(
        m for m in reversed(pool) if m not in {o.mediator_id for o in outbox.offers(second)}
    )
    assigned = client.post(
        f"/api/v1/requests/{first}/assign",
        json={"mediator_id": outsider},
        headers=coordinator.headers,
    )
    assert assigned.status_code in (200, 201), assigned.text
    newest = outbox.offers(second)[-1]
    assert newest.mediator_id == outsider and newest.status == "pending"
    assert [o.mediator_id for o in outbox.offers(second) if o.wave == newest.wave] == [outsider]
    # Nobody else got an offer for the later occurrences still held.
    assert all(not outbox.offers(o["id"]) for o in series["occurrences"][2:])


def test_another_organisation_sees_no_series(
    client: TestClient, caseworker: Staff, other_caseworker: Staff, coordinator: Staff
) -> None:
    series = file_series(client, caseworker)
    path = f"/api/v1/series/{series['id']}"
    assert client.get(path, headers=other_caseworker.headers).status_code == 404
    refused = client.post(
        f"{path}/cancel", json={"from": "2026-12-01"}, headers=other_caseworker.headers
    )
    assert refused.status_code == 404
    assert client.get(path, headers=coordinator.headers).status_code == 200
    assert client.get("/api/v1/series/999999", headers=caseworker.headers).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get("/api/v1/series", headers=other_caseworker.headers).json()["total"] == 0
    listed = client.get("/api/v1/series", headers=caseworker.headers).json()
    assert [s["id"] for s in listed["items"]] == [series["id"]] and listed["total"] == 1
    assert client.get("/api/v1/series", headers=coordinator.headers).json()["total"] == 1
    untouched = client.get(path, headers=caseworker.headers).json()
    assert "cancelled" not in statuses(untouched)


def test_a_coordinator_files_a_series_for_an_organisation(
    client: TestClient, caseworker: Staff, coordinator: Staff
) -> None:
    series = file_series(client, coordinator, organisation_id=caseworker.organisation_id)
    seen = client.get(f"/api/v1/series/{series['id']}", headers=caseworker.headers)
    assert seen.status_code == 200
    assert {o["organisation_id"] for o in seen.json()["occurrences"]} == {
        caseworker.organisation_id
    }


def test_a_series_over_a_request_filed_before_is_a_duplicate(
    client: TestClient, caseworker: Staff
) -> None:
    filed = client.post(
        "/api/v1/requests",
        json=request_payload(
            client_ref="JC-2026-0417",
            start="2026-12-08T09:30:00+01:00",
            end="2026-12-08T10:00:00+01:00",
        ),
        headers=caseworker.headers,
    )
    assert filed.status_code == 201
    response = client.post(
        "/api/v1/series", json=series_payload(client_ref="JC-2026-0417"), headers=caseworker.headers
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "allow_duplicate"
    assert file_series(client, caseworker, client_ref="JC-2026-0417", allow_duplicate=True)


def test_series_are_in_the_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/series",
        "/api/v1/series/{series_id}",
        "/api/v1/series/{series_id}/cancel",
    } <= set(paths)
    assert re.search(r"26", paths["/api/v1/series"]["post"]["description"])


def test_a_retried_series_with_its_idempotency_key_is_filed_once(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    """The answer to the first POST was lost; the retry returns that series and files nothing."""
    make_pool(4)
    headers = {**caseworker.headers, "Idempotency-Key": "series-form-91c2"}
    first = client.post("/api/v1/series", json=series_payload(), headers=headers)
    offers_after_first = len(outbox.messages())
    retry = client.post("/api/v1/series", json=series_payload(), headers=headers)
    assert first.status_code == 201, first.text
    assert retry.status_code == 200, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert [o["id"] for o in retry.json()["occurrences"]] == [
        o["id"] for o in first.json()["occurrences"]
    ]
    assert client.get("/api/v1/requests", headers=caseworker.headers).json()["total"] == 5
    assert len(outbox.messages()) == offers_after_first  # nobody asked twice


def test_a_series_idempotency_key_reused_for_another_body_is_a_conflict(
    client: TestClient, caseworker: Staff
) -> None:
    headers = {**caseworker.headers, "Idempotency-Key": "k-series"}
    assert client.post("/api/v1/series", json=series_payload(), headers=headers).status_code == 201
    clash = client.post("/api/v1/series", json=series_payload(until="2026-12-15"), headers=headers)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "Idempotency-Key"
    blank = client.post(
        "/api/v1/series",
        json=series_payload(),
        headers={**caseworker.headers, "Idempotency-Key": " "},
    )
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "Idempotency-Key"


def test_simultaneous_retries_of_a_series_file_it_once(
    client: TestClient, caseworker: Staff
) -> None:
    headers = {**caseworker.headers, "Idempotency-Key": "double-click-series"}
    codes: list[int] = []
    ids: list[int] = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        barrier.wait()
        response = client.post("/api/v1/series", json=series_payload(), headers=headers)
        codes.append(response.status_code)
        ids.append(response.json().get("id"))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes.count(201) == 1 and codes.count(200) == 3, codes
    assert len(set(ids)) == 1
    assert client.get("/api/v1/requests", headers=caseworker.headers).json()["total"] == 5
