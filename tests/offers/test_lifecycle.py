"""The life of a request through the API and the mediators' links, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.clock import ManualClock
from dispatch.deadlines.models import Deadline
from dispatch.offers.models import Assignment, OfferStatus
from tests.conftest import Staff, request_payload
from tests.offers.conftest import Outbox, put_on_lists, tigrinya_speaker


def file_request(client: TestClient, staff: Staff, **overrides: object) -> dict[str, Any]:
    response = client.post(
        "/api/v1/requests", json=request_payload(**overrides), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_new_request_goes_out_at_once_as_a_first_wave(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)  # Tuesday 09:00, 25 h ahead: 3 offers for 60 min
    assert created["status"] == "offered"
    offers = outbox.offers(created["id"])
    assert [o.wave for o in offers] == [1, 1, 1]
    assert all((o.expires_at - o.created_at).total_seconds() == 3600 for o in offers)
    sms = outbox.messages("offer", "sms")
    assert len(sms) == 3
    assert all("/o/" in m.body and "JA " in m.body for m in sms)


def test_whole_life_offer_accept_remind_report(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    clock: ManualClock,
    engine: Engine,
) -> None:
    make_pool(3)
    created = file_request(
        client,
        caseworker,
        notes="Bitte am Empfang melden",
        contact_name="Frau Jansen",
        contact_phone="+4925211234",
    )
    token = next(iter(outbox.links().values()))
    page = client.get(f"/o/{token}")
    assert page.status_code == 200
    assert "Zusagen" in page.text and "Frau Jansen" not in page.text  # details only after accepting
    assert (
        client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()["status"]
        == "offered"
    )

    accepted = client.post(f"/o/{token}/accept", follow_redirects=False)
    assert accepted.status_code == 303
    page = client.get(f"/o/{token}")
    assert page.status_code == 200 and "Frau Jansen" in page.text and "calendar.ics" in page.text
    ics = client.get(f"/o/{token}/calendar.ics")
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    mine = client.post(f"/o/{token}/mine", follow_redirects=False)
    assert mine.status_code == 303 and mine.headers["location"].startswith("/m/")
    assert client.get(mine.headers["location"]).status_code == 200

    view = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert view["status"] == "assigned"
    assert view["assignment"]["mediator_name"].startswith("Mediator")
    statuses = sorted(o.status for o in outbox.offers(created["id"]))
    assert statuses == ["accepted", "withdrawn", "withdrawn"]
    assert len(outbox.messages("assignment_confirmed_mediator")) == 1
    assert len(outbox.messages("assignment_confirmed_caseworker")) == 1

    # Accepted 25 h ahead: the 24 h reminder asks to reconfirm, the 2 h one reminds.
    advance(hours=1, minutes=1)
    reminder = outbox.messages("reminder_24h", "sms")
    assert len(reminder) == 1
    code = re.findall(r"\bJA (\d{4})\b", reminder[0].body)[-1]
    holder = reminder[0].recipient or ""
    reply_token = outbox.links("reminder_24h")[holder]
    assert client.post(f"/o/{reply_token}/confirm", follow_redirects=False).status_code == 303
    assert code.isdigit()
    advance(hours=22)
    assert len(outbox.messages("reminder_2h", "sms")) == 1
    advance(hours=4)  # Tuesday 11:01: the job is over
    report_token = outbox.links("completion_request")[holder]
    bad = client.post(
        f"/o/{report_token}/report", data={"actual_start": "lots", "actual_end": "10:35"}
    )
    assert bad.status_code == 422 and "Uhrzeit" in bad.text
    assert 'value="lots"' in bad.text  # what was typed stays
    done = client.post(
        f"/o/{report_token}/report",
        data={
            "actual_start": "09:00",
            "actual_end": "10:35",
            "travel_km": "12,5",
            "outcome": "done",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert (
        client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()["status"]
        == "completed"
    )
    with Session(engine) as session:
        assignment = session.exec(select(Assignment)).one()
        assert (assignment.minutes_worked, assignment.travel_km) == (95, 12.5)
        assert assignment.reconfirmed_at is not None and assignment.at_risk_at is None


def test_opening_a_link_accepts_nothing(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    for token in outbox.links().values():
        for _ in range(3):
            assert client.get(f"/o/{token}").status_code == 200
    assert {o.status for o in outbox.offers(created["id"])} == {"pending"}
    assert all(o.opened_at is not None for o in outbox.offers(created["id"]))


def test_a_late_click_on_a_filled_request_gets_a_friendly_page(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(3)
    file_request(client, caseworker)
    first, second, _ = outbox.links().values()
    assert client.post(f"/o/{first}/accept", follow_redirects=False).status_code == 303
    late = client.post(f"/o/{second}/accept")
    assert late.status_code == 409
    assert "Schon vergeben" in late.text and "Traceback" not in late.text
    assert client.get(f"/o/{second}").status_code == 410
    again = client.post(f"/o/{first}/accept", follow_redirects=False)  # a double tap is harmless
    assert again.status_code == 303


def test_unknown_and_malformed_tokens_are_a_friendly_404(client: TestClient) -> None:
    for token in ["x", "A" * 22, "%00", "a" * 500, "ü€", "a.b"]:
        response = client.get(f"/o/{token}")
        assert response.status_code == 404, token
        assert "Link unbekannt" in response.text
        assert client.post(f"/o/{token}/accept").status_code == 404


def test_all_declined_sends_the_next_wave_at_once(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    first_wave = outbox.links()
    for token in first_wave.values():
        response = client.post(
            f"/o/{token}/decline", data={"reason": "krank"}, follow_redirects=False
        )
        assert response.status_code == 303
    offers = outbox.offers(created["id"])
    assert [o.wave for o in offers] == [1, 1, 1, 2, 2]
    assert {o.status for o in offers if o.wave == 1} == {"declined"}
    assert {o.decline_reason for o in offers if o.wave == 1} == {"krank"}
    assert set(outbox.links()) - set(first_wave), "the second wave went to new people"


def test_expiry_escalates_and_running_out_makes_it_unfilled(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(4)
    created = file_request(client, caseworker)
    advance(minutes=59)
    assert [o.wave for o in outbox.offers(created["id"])] == [1, 1, 1]
    advance(minutes=1)
    offers = outbox.offers(created["id"])
    assert [(o.wave, o.status) for o in offers] == [(1, "expired")] * 3 + [(2, "pending")]
    advance(minutes=60)
    view = client.get(f"/api/v1/requests/{created['id']}", headers=caseworker.headers).json()
    assert view["status"] == "unfilled"
    assert len(outbox.messages("alert_unfilled_coordinator", "email")) == 1
    assert len(outbox.messages("alert_unfilled_coordinator", "sms")) == 1
    told = outbox.messages("request_unfilled_caseworker")
    assert len(told) == 1 and "Telefon" in told[0].body or "Video" in told[0].body
    advance(hours=5)  # nothing more happens, and nobody is alerted twice
    assert len(outbox.messages("alert_unfilled_coordinator", "email")) == 1


def test_no_candidate_at_all_is_unfilled_at_once(
    client: TestClient, caseworker: Staff, outbox: Outbox
) -> None:
    created = file_request(client, caseworker)
    assert created["status"] == "unfilled"
    assert len(outbox.messages("alert_unfilled_coordinator", "email")) == 1


def test_an_urgent_request_asks_five_for_fifteen_minutes_and_never_past_start_minus_30(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(6)
    created = file_request(
        client, caseworker, start="2026-11-30T08:40:00+01:00", end="2026-11-30T09:30:00+01:00"
    )
    offers = outbox.offers(created["id"])
    assert len(offers) == 5
    assert all(
        (o.expires_at - o.created_at).total_seconds() == 10 * 60 for o in offers
    )  # start-30 min cuts 15 min


def test_broadcast_asks_everyone_at_once(
    client: TestClient, caseworker: Staff, make_pool: Callable[..., list[int]], outbox: Outbox
) -> None:
    make_pool(7)
    created = file_request(client, caseworker, broadcast=True)
    assert len(outbox.offers(created["id"])) == 7


def test_cancellation_at_each_stage(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
) -> None:
    make_pool(3)
    # offered: every offer is withdrawn, the links say so
    offered = file_request(client, caseworker)
    tokens = list(outbox.links().values())
    assert (
        client.post(
            f"/api/v1/requests/{offered['id']}/cancel", headers=caseworker.headers
        ).status_code
        == 200
    )
    assert {o.status for o in outbox.offers(offered["id"])} == {"withdrawn"}
    assert client.post(f"/o/{tokens[0]}/accept").status_code == 410
    # assigned: the mediator is told, reminders never go out
    assigned = file_request(
        client, caseworker, start="2026-12-02T09:00:00+01:00", end="2026-12-02T10:00:00+01:00"
    )
    token = next(t for t in outbox.links().values() if t not in tokens)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    assert (
        client.post(
            f"/api/v1/requests/{assigned['id']}/cancel", headers=caseworker.headers
        ).status_code
        == 200
    )
    assert len(outbox.messages("cancelled_mediator", "sms")) == 1
    assert client.get(f"/o/{token}").status_code == 410
    advance(days=3)
    assert outbox.messages("reminder_24h") == [] and outbox.messages("completion_request") == []
    # cancelled twice: a clear conflict
    again = client.post(f"/api/v1/requests/{assigned['id']}/cancel", headers=caseworker.headers)
    assert again.status_code == 409


def test_a_mediator_gives_a_job_back_and_it_goes_out_again_without_them(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    created = file_request(
        client, caseworker, start="2026-11-30T12:00:00+01:00", end="2026-11-30T13:00:00+01:00"
    )
    holder, token = next(iter(outbox.links().items()))
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    asked = client.post(f"/o/{token}/cancel", data={"reason": "Kind krank"})
    assert asked.status_code == 200 and "Einsatz zurückgeben?" in asked.text
    kept = outbox.offers(created["id"])  # nothing given back yet: no second wave
    assert [o.status for o in kept].count(OfferStatus.accepted) == 1
    assert {o.wave for o in kept} == {1}
    assert 'name="reason" value="Kind krank"' in asked.text
    assert (
        client.post(
            f"/o/{token}/cancel",
            data={"reason": "Kind krank", "sure": "yes"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    offers = outbox.offers(created["id"])
    second_wave = [o for o in offers if o.wave == 2]
    assert second_wave and all(o.status == "pending" for o in second_wave)
    assert client.get(f"/o/{token}").status_code == 410
    # close to the start: the coordinator hears of it
    assert len(outbox.messages("alert_late_cancellation_coordinator", "email")) == 1
    assert holder not in {m.recipient for m in outbox.messages("offer", "sms")[3:]}


def test_coordinator_override_and_drop_out(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    pool = make_pool(5)
    created = file_request(client, caseworker)
    chosen = pool[-1]
    response = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": chosen, "reason": "kennt die Familie"},
        headers=coordinator.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "assigned" and body["assignment"]["mediator_id"] == chosen
    assert body["assignment"]["source"] == "coordinator"
    assert {o.status for o in outbox.offers(created["id"]) if o.wave == 1} == {"withdrawn"}
    with Session(engine) as session:
        assert session.exec(
            select(AuditEvent).where(AuditEvent.action == "assignment.override")
        ).one()
    # the caseworker may not override, nor cancel an assignment
    assert (
        client.post(
            f"/api/v1/requests/{created['id']}/assign",
            json={"mediator_id": pool[0]},
            headers=caseworker.headers,
        ).status_code
        == 403
    )
    assignment_id = body["assignment"]["id"]
    assert (
        client.post(
            f"/api/v1/assignments/{assignment_id}/cancel", headers=caseworker.headers
        ).status_code
        == 403
    )
    # the mediator drops out: re-dispatched at once, never to them
    dropped = client.post(
        f"/api/v1/assignments/{assignment_id}/cancel",
        json={"reason": "krank"},
        headers=coordinator.headers,
    )
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["status"] == "offered"
    newest = [o for o in outbox.offers(created["id"]) if o.wave == 2]
    assert newest and chosen not in {o.mediator_id for o in newest}
    assert (
        client.post(
            f"/api/v1/assignments/{assignment_id}/cancel", headers=coordinator.headers
        ).status_code
        == 409
    )
    for bad in [
        {"mediator_id": 0},
        {"mediator_id": "x"},
        {"mediator_id": 99999},
        {},
        {"mediator_id": 1, "x": 1},
    ]:
        answer = client.post(
            f"/api/v1/requests/{created['id']}/assign", json=bad, headers=coordinator.headers
        )
        assert 400 <= answer.status_code < 500, (bad, answer.text)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"languages": [{"language": "fa", "level": "native"}]}, "does not speak the language"),
        ({"police_certificate_seen_on": None}, "is not cleared for jobs on that day"),
        ({"listed_until": "2026-11-30"}, "is not cleared"),  # the job is on Tuesday
    ],
)
def test_the_override_may_not_send_someone_without_the_language_or_the_clearance(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    fields: dict[str, object],
    said: str,
) -> None:
    make_pool(2)
    created = file_request(client, caseworker)  # Tigrinya, Tuesday 09:00
    added = client.post(
        "/api/v1/mediators", json=tigrinya_speaker(9, **fields), headers=coordinator.headers
    )
    assert added.status_code == 201, added.text

    response = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": added.json()["id"]},
        headers=coordinator.headers,
    )

    assert response.status_code == 409, response.text
    assert said in response.json()["detail"]
    shown = client.get(f"/api/v1/requests/{created['id']}", headers=coordinator.headers).json()
    assert shown["status"] == "offered" and shown["assignment"] is None


def test_deadlines_are_rows_that_fire_once(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    engine: Engine,
    advance: Callable[..., int],
) -> None:
    make_pool(6)
    file_request(client, caseworker)
    assert advance(minutes=61) == 1
    assert advance(minutes=0) == 0
    with Session(engine) as session:
        fired = session.exec(select(Deadline).where(Deadline.sequence == 1)).one()
        assert fired.done_at is not None and "wave 2 sent" in (fired.outcome or "")


def test_continuity_offers_first_to_whoever_served_the_client(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    coordinator: Staff,
) -> None:
    pool = make_pool(6)
    first = file_request(client, caseworker, client_ref="fam-17")
    client.post(
        f"/api/v1/requests/{first['id']}/assign",
        json={"mediator_id": pool[5]},
        headers=coordinator.headers,
    )
    second = file_request(
        client,
        caseworker,
        client_ref="fam-17",
        start="2026-12-03T09:00:00+01:00",
        end="2026-12-03T10:00:00+01:00",
    )
    assert outbox.offers(second["id"])[0].mediator_id == pool[5]


def test_an_organisations_excluded_mediator_is_never_offered(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
    clock: ManualClock,
) -> None:
    pool = make_pool(3)
    put_on_lists(engine, caseworker, clock.now(), excluded=pool[0], preferred=pool[2])
    created = file_request(client, caseworker, broadcast=True)
    offered = [o.mediator_id for o in outbox.offers(created["id"])]
    assert pool[0] not in offered and offered[0] == pool[2]


def test_no_confirmation_marks_the_job_at_risk(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    coordinator: Staff,
) -> None:
    make_pool(3)
    created = file_request(
        client, caseworker, start="2026-12-03T09:00:00+01:00", end="2026-12-03T10:00:00+01:00"
    )
    token = next(iter(outbox.links().values()))
    client.post(f"/o/{token}/accept")
    advance(days=2, hours=21, minutes=1)  # Thursday 05:01: 4 h before, never reconfirmed
    assert len(outbox.messages("alert_at_risk_coordinator", "email")) == 1
    view = client.get(f"/api/v1/requests/{created['id']}", headers=coordinator.headers).json()
    assert view["assignment"]["reconfirmed_at"] is None


def test_a_no_show_is_recorded_by_the_caseworker(
    client: TestClient,
    caseworker: Staff,
    other_caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    advance: Callable[..., int],
    engine: Engine,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    client.post(f"/o/{next(iter(outbox.links().values()))}/accept")
    early = client.post(f"/api/v1/requests/{created['id']}/no-show", headers=caseworker.headers)
    assert early.status_code == 409
    advance(hours=26)
    assert (
        client.post(
            f"/api/v1/requests/{created['id']}/no-show", headers=other_caseworker.headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/requests/{created['id']}/no-show", headers=caseworker.headers
        ).status_code
        == 200
    )
    with Session(engine) as session:
        assert session.exec(select(Assignment)).one().no_show is True


def test_link_tokens_are_long_random_single_use_and_stored_only_hashed(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    import hashlib

    import sqlalchemy as sa

    make_pool(3)
    file_request(client, caseworker)
    tokens = list(outbox.links().values())
    assert len(set(tokens)) == 3 and all(len(t) >= 22 for t in tokens)  # 128 random bits each
    with engine.connect() as connection:
        dump = " ".join(
            str(v)
            for table in ("offer", "offer_link", "deadline", "audit_event")
            for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
            for v in row
        )
    assert not any(t in dump for t in tokens)
    assert all(hashlib.sha256(t.encode()).hexdigest() in dump for t in tokens)
    declined = client.post(f"/o/{tokens[0]}/decline", follow_redirects=False)
    assert declined.status_code == 303
    reused = client.post(f"/o/{tokens[0]}/accept")
    assert reused.status_code == 409 and "Schon beantwortet" in reused.text


def test_a_failed_confirmation_sms_can_fall_back_to_email(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
) -> None:
    from dispatch.outbox.models import Message
    from dispatch.outbox.service import enqueue_fallback

    make_pool(3)
    file_request(client, caseworker)
    client.post(f"/o/{next(iter(outbox.links().values()))}/accept")
    with Session(engine) as session:
        sms = session.exec(
            select(Message).where(Message.kind == "assignment_confirmed_mediator")
        ).one()
        email = enqueue_fallback(session, sms, settings=settings, now=clock.now())
        session.commit()
        assert (
            email is not None
            and email.channel == "email"
            and (email.recipient or "").endswith("@example.org")
        )
        assert email.ics is not None and "BEGIN:VEVENT" in email.ics
