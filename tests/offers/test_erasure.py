"""Erasing a mediator: their jobs go out again at once, and no trace of them is left (issue 11).

On SQLite and PostgreSQL, through the API and the mediators' links, with the
outbox worker delivering what is due afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines.models import Deadline
from dispatch.offers.models import Assignment, OfferDeadlineKind
from dispatch.outbox.models import Message
from dispatch.outbox.worker import OutboxWorker
from dispatch.requests.models import RequestDeadlineKind
from dispatch.tables import metadata
from dispatch.users.models import User
from notifications.channels import Channel, ChannelName, OutgoingMessage, SendResult
from tests.conftest import Staff, get_row, request_payload
from tests.offers.conftest import LINK, Outbox, tigrinya_speaker

SELAM = {"name": "Selam Ghebremedhin", "phone": "+4915112349999", "email": "selam@example.org"}
TRACES = tuple(SELAM.values())


@dataclass
class RecordingChannel:
    """A channel that keeps what it was given to send."""

    name: ChannelName
    sent: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_id=f"rec-{len(self.sent)}", status="sent")


def add_mediator(client: TestClient, coordinator: Staff, number: int, **fields: object) -> int:
    response = client.post(
        "/api/v1/mediators",
        json=tigrinya_speaker(number, **{"channels": ["sms", "email"], **fields}),
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def set_paused(client: TestClient, coordinator: Staff, mediator_id: int, paused: bool) -> None:
    response = client.patch(
        f"/api/v1/mediators/{mediator_id}", json={"paused": paused}, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text


def file(client: TestClient, staff: Staff, **overrides: object) -> int:
    response = client.post(
        "/api/v1/requests", json=request_payload(**overrides), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def link_of(outbox: Outbox, request_id: int, phone: str) -> str:
    """The offer link token a mediator got by SMS for a request."""
    for message in outbox.messages("offer", "sms"):
        if message.request_id == request_id and message.recipient == phone:
            match = LINK.search(message.body)
            assert match
            return match.group(1)
    raise AssertionError(f"no offer to {phone} for request {request_id}")


@dataclass
class Scene:
    selam: int
    other: int
    spare: int
    held: int  # Tuesday, held by Selam
    pending: int  # Wednesday, where Selam's offer is the last one open
    selam_token: str


def set_scene(client: TestClient, coordinator: Staff, caseworker: Staff, outbox: Outbox) -> Scene:
    """Selam holds Tuesday's job and has the last open offer of Wednesday's.

    A third speaker is paused while both go out, so that each request has
    someone not yet asked once Selam is gone.
    """
    selam = add_mediator(client, coordinator, 1, **SELAM)
    other = add_mediator(client, coordinator, 2)
    spare = add_mediator(client, coordinator, 3)
    set_paused(client, coordinator, spare, True)
    # Tuesday's job first: while Wednesday's leans on Selam alone, she would be asked last.
    held = file(client, caseworker)  # Tuesday 09:00-10:30
    token = link_of(outbox, held, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    pending = file(
        client, caseworker, start="2026-12-02T09:00:00+01:00", end="2026-12-02T10:00:00+01:00"
    )
    other_phone = str(tigrinya_speaker(2)["phone"])
    declined = client.post(f"/o/{link_of(outbox, pending, other_phone)}/decline", data={})
    assert declined.status_code in (200, 303)
    set_paused(client, coordinator, spare, False)
    return Scene(selam, other, spare, held, pending, token)


def test_an_erased_mediators_job_goes_out_again_at_once_and_the_caseworker_is_told(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
    clock: ManualClock,
) -> None:
    scene = set_scene(client, coordinator, caseworker, outbox)

    erased = client.delete(f"/api/v1/mediators/{scene.selam}", headers=coordinator.headers)

    assert erased.status_code == 200, erased.text
    held = client.get(f"/api/v1/requests/{scene.held}", headers=coordinator.headers).json()
    assert held["status"] == "offered" and held["assignment"] is None
    second_wave = [o for o in outbox.offers(scene.held) if o.wave == 2]
    # The other speaker lost the job to Selam's yes and never said no: asked again, as
    # the spare may be.
    assert second_wave and {o.status for o in second_wave} == {"pending"}
    assert {o.mediator_id for o in second_wave} <= {scene.other, scene.spare}
    with Session(engine) as session:
        due = session.exec(
            select(Deadline).where(
                Deadline.kind == OfferDeadlineKind.wave_expiry,
                Deadline.subject_id == scene.held,
                Deadline.sequence == 2,
                col(Deadline.done_at).is_(None),
            )
        ).one()
        assert due.due_at > clock.now()
        # Selam's reminders and the check after the job will never fire.
        assignment = session.exec(
            select(Assignment).where(Assignment.mediator_id == scene.selam)
        ).one()
        assert assignment.cancelled_at is not None
        assert not session.exec(
            select(Deadline).where(
                Deadline.subject_id == assignment.id,
                Deadline.kind != OfferDeadlineKind.wave_expiry,
                # A request's own deadline has a request's id as its subject, not this one.
                Deadline.kind != RequestDeadlineKind.erase_data,
                col(Deadline.done_at).is_(None),
            )
        ).all()
        caseworker_email = get_row(session, User, caseworker.user_id).email
    told = outbox.messages("assignment_cancelled_caseworker", "email")
    assert [(m.recipient, m.request_id) for m in told] == [(caseworker_email, scene.held)]
    assert "kommt leider nicht" in told[0].body and "andere Sprachmittler" in told[0].body
    assert not any(trace in told[0].body + (told[0].subject or "") for trace in TRACES)
    # Wednesday: Selam's offer was the last one open, so the next wave went out now.
    pending = outbox.offers(scene.pending)
    assert [o.status for o in pending if o.mediator_id == scene.selam] == ["withdrawn"]
    assert [(o.wave, o.mediator_id, o.status) for o in pending if o.wave == 2] == [
        (2, scene.spare, "pending")
    ]
    # Selam's links lead nowhere.
    assert client.get(f"/o/{scene.selam_token}").status_code == 404


def test_erasure_leaves_no_trace_of_the_mediator_and_nothing_old_goes_out(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    scene = set_scene(client, coordinator, caseworker, outbox)
    # Selam's own page; a job today given back with words of their own (the coordinator is
    # alerted, naming them); its messages already sent.
    own_page = client.post(f"/o/{scene.selam_token}/mine", follow_redirects=False)
    assert own_page.status_code == 303 and client.get(own_page.headers["location"]).is_success
    earlier = file(
        client,
        caseworker,
        start="2026-11-30T12:00:00+01:00",
        end="2026-11-30T13:00:00+01:00",
        broadcast=True,
    )
    earlier_token = link_of(outbox, earlier, SELAM["phone"])
    assert client.post(f"/o/{earlier_token}/accept", follow_redirects=False).status_code == 303
    gave_back = client.post(
        f"/o/{earlier_token}/cancel",
        data={"reason": "Selam Ghebremedhin hat einen Arzttermin", "sure": "yes"},
        follow_redirects=False,
    )
    assert gave_back.status_code == 303
    with engine.begin() as connection:
        connection.execute(
            sa.update(Message)
            .where(col(Message.request_id) == earlier)
            .values(status="sent", sent_at=clock.now())
        )
    confirmations = outbox.messages("assignment_confirmed_caseworker")
    assert any(SELAM["phone"] in m.body for m in confirmations)  # as it was before erasure
    alerts = outbox.messages("alert_late_cancellation_coordinator", "email")
    assert len(alerts) == 1 and SELAM["name"] in alerts[0].body

    assert client.delete(f"/api/v1/mediators/{scene.selam}", headers=coordinator.headers).is_success

    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                text = " ".join(str(value) for value in row)
                found = [trace for trace in TRACES if trace.lower() in text.lower()]
                assert not found, (table.name, found, text[:300])
    with Session(engine) as session:
        about_selam = session.exec(
            select(Message).where(
                col(Message.request_id).in_([scene.held, earlier]),
                col(Message.kind).in_(
                    ["assignment_confirmed_caseworker", "assignment_confirmed_mediator"]
                ),
            )
        ).all()
        statuses = {(m.kind, m.request_id): m.status for m in about_selam}
    # What was sent stays sent (its words without Selam); what was waiting never goes out.
    assert statuses[("assignment_confirmed_caseworker", earlier)] == "sent"
    assert statuses[("assignment_confirmed_caseworker", scene.held)] == "cancelled"
    assert statuses[("assignment_confirmed_mediator", scene.held)] == "cancelled"
    sms, email = RecordingChannel("sms"), RecordingChannel("email")
    channels: dict[str, Channel] = {"sms": sms, "email": email}
    worker = OutboxWorker(engine, settings=settings, clock=clock, channels=channels)
    while worker.run_once():
        pass
    delivered = sms.sent + email.sent
    assert delivered  # the new wave and the caseworker's news did go out
    for message in delivered:
        text = f"{message.to} {message.subject} {message.body} {message.html}"
        assert not any(trace in text for trace in TRACES), text[:300]
    assert not any("[erased]" in m.body for m in delivered)
    assert client.get(own_page.headers["location"]).status_code == 410


def test_erasing_twice_or_a_mediator_without_jobs_changes_nothing_more(
    client: TestClient,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    (mediator,) = make_pool(1)
    first = client.delete(f"/api/v1/mediators/{mediator}", headers=coordinator.headers)
    again = client.delete(f"/api/v1/mediators/{mediator}", headers=coordinator.headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert outbox.messages() == []


def test_a_namesake_of_the_erased_mediator_still_gets_the_job_offered(
    client: TestClient, coordinator: Staff, caseworker: Staff, outbox: Outbox
) -> None:
    selam = add_mediator(client, coordinator, 1, **SELAM)
    namesake = add_mediator(client, coordinator, 2, name=SELAM["name"])
    set_paused(client, coordinator, namesake, True)
    held = file(client, caseworker)
    token = link_of(outbox, held, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    set_paused(client, coordinator, namesake, False)

    assert client.delete(f"/api/v1/mediators/{selam}", headers=coordinator.headers).is_success

    to_namesake = [
        m
        for m in outbox.messages("offer")
        if m.recipient_kind == "mediator" and m.recipient_id == namesake
    ]
    assert {m.channel for m in to_namesake} == {"sms", "email"}
    assert all(m.status == "pending" for m in to_namesake)
    (email,) = [m for m in to_namesake if m.channel == "email"]
    assert f"Hallo {SELAM['name']}" in email.body  # their own name, left alone


def test_after_erasure_the_sqlite_files_hold_no_copy_of_the_mediator(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    """Freed pages and the write-ahead log kept the erased name, phone and e-mail: whoever
    copied the database file could read them (`strings sprachpool.db`)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps dead rows until vacuum: the server's to schedule")
    unique = {
        "name": "Zerihun Wolde-Kidanemariam",
        "phone": "+4915112348765",
        "email": "zerihun.wk@example.org",
    }
    zerihun = add_mediator(client, coordinator, 7, **unique)
    held = file(client, caseworker)
    token = link_of(outbox, held, unique["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    with engine.connect() as connection:  # as a running server's log gets checkpointed
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # Deleted rows are zeroed, not left in the file's free pages.
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1

    erased = client.delete(f"/api/v1/mediators/{zerihun}", headers=coordinator.headers)

    assert erased.status_code == 200, erased.text
    database = Path(str(engine.url.database))
    files = [path for path in (database, Path(f"{database}-wal")) if path.exists()]
    content = b"".join(path.read_bytes() for path in files)
    for trace in unique.values():
        assert trace.encode() not in content, trace


def assignment_reasons(engine: Engine, mediator_id: int) -> dict[int, tuple[str | None, object]]:
    """Per assignment of the mediator: its cancel reason and the reason its cancel event says."""
    from dispatch.audit import AuditEvent

    with Session(engine) as session:
        held = session.exec(select(Assignment).where(Assignment.mediator_id == mediator_id)).all()
        found: dict[int, tuple[str | None, object]] = {}
        for assignment in held:
            event = session.exec(
                select(AuditEvent).where(
                    AuditEvent.entity == "assignment",
                    AuditEvent.entity_id == assignment.id,
                    AuditEvent.action == "assignment.cancel",
                )
            ).one()
            found[assignment.id] = (assignment.cancel_reason, (event.details or {}).get("reason"))
        return found


def test_erasure_keeps_the_reasons_sprachpool_wrote_and_erases_what_the_mediator_typed(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    """Why a job was taken back is part of the record the funders and the town audit; only
    the words a person typed may name someone."""
    selam = add_mediator(
        client,
        coordinator,
        1,
        **SELAM,
        availability=[{"weekday": "tue", "start": "06:00", "end": "12:00"}],
    )
    add_mediator(client, coordinator, 2)
    # One job given back with words of her own.
    typed = file(client, caseworker, broadcast=True)
    token = link_of(outbox, typed, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    gave_back = client.post(
        f"/o/{token}/cancel",
        data={"reason": "Selam Ghebremedhin hat einen Arzttermin", "sure": "yes"},
        follow_redirects=False,
    )
    assert gave_back.status_code == 303
    # One taken from her because the caseworker moved it past the hours she is free.
    changed = file(client, caseworker, broadcast=True)
    token = link_of(outbox, changed, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    moved = client.patch(
        f"/api/v1/requests/{changed}",
        json={"start": "2026-12-01T14:00:00+01:00", "end": "2026-12-01T15:30:00+01:00"},
        headers=caseworker.headers,
    )
    assert moved.status_code == 200, moved.text
    # One taken back when the coordinator paused her with her jobs offered to others.
    released = file(
        client, caseworker, start="2026-12-01T11:00:00+01:00", end="2026-12-01T11:45:00+01:00"
    )
    token = link_of(outbox, released, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    paused = client.patch(
        f"/api/v1/mediators/{selam}",
        json={"paused": True, "release_jobs": True},
        headers=coordinator.headers,
    )
    assert paused.status_code == 200, paused.text
    before = assignment_reasons(engine, selam)
    assert sorted(str(reason) for reason, _ in before.values()) == [
        "Selam Ghebremedhin hat einen Arzttermin",
        "mediator taken out of the pool",
        "request changed",
    ]

    assert client.delete(f"/api/v1/mediators/{selam}", headers=coordinator.headers).is_success

    after = assignment_reasons(engine, selam)
    assert sorted(after.values(), key=str) == sorted(
        [
            ("[erased]", "[erased]"),
            ("mediator taken out of the pool", "mediator taken out of the pool"),
            ("request changed", "request changed"),
        ],
        key=str,
    )


# --- out of the pool for a year: erased without being asked ---------------------------------


def take_out(client: TestClient, coordinator: Staff, mediator_id: int, out: bool = True) -> None:
    response = client.patch(
        f"/api/v1/mediators/{mediator_id}", json={"active": not out}, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text


def erased(engine: Engine, mediator_id: int) -> bool:
    from dispatch.mediators.models import Mediator

    with Session(engine) as session:
        return get_row(session, Mediator, mediator_id).erased_at is not None


def test_a_mediator_out_of_the_pool_is_erased_after_mediator_data_days(
    client: TestClient,
    coordinator: Staff,
    engine: Engine,
    settings: Settings,
    advance: Callable[..., int],
) -> None:
    """Someone who left is not kept by name for ever; nobody has to remember to erase them."""
    from dispatch.audit import AuditEvent

    assert settings.mediator_data_days == 365
    selam = add_mediator(client, coordinator, 1, **SELAM)
    take_out(client, coordinator, selam)

    advance(days=364)
    assert not erased(engine, selam)
    advance(days=1, minutes=1)

    assert erased(engine, selam)
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "mediator.erase", AuditEvent.entity_id == selam
            )
        ).one()
    assert event.actor_kind == "system" and event.actor_id is None
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                text = " ".join(str(value) for value in row)
                assert not [t for t in TRACES if t.lower() in text.lower()], table.name


def test_a_mediator_taken_back_into_the_pool_is_not_erased_when_the_old_period_ends(
    client: TestClient,
    coordinator: Staff,
    engine: Engine,
    advance: Callable[..., int],
) -> None:
    selam = add_mediator(client, coordinator, 1, **SELAM)
    take_out(client, coordinator, selam)
    advance(days=100)
    take_out(client, coordinator, selam, out=False)

    advance(days=300)

    assert not erased(engine, selam)
    # Out again: a new year from now.
    take_out(client, coordinator, selam)
    advance(days=364)
    assert not erased(engine, selam)
    advance(days=2)
    assert erased(engine, selam)


def test_a_mediator_whose_job_is_not_settled_waits_a_week_at_a_time(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
    advance: Callable[..., int],
) -> None:
    """Erased, they could no longer be paid through Sprachpool: a job done but never
    reported keeps them until the coordinator decides it."""
    selam = add_mediator(client, coordinator, 1, **SELAM)
    held = file(client, caseworker)  # Tuesday 09:00-10:30
    token = link_of(outbox, held, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    take_out(client, coordinator, selam)  # their last job stays theirs

    advance(days=365, minutes=1)
    assert not erased(engine, selam)
    advance(days=7)
    assert not erased(engine, selam)
    no_show = client.post(f"/api/v1/requests/{held}/no-show", headers=coordinator.headers)
    assert no_show.status_code == 200, no_show.text

    advance(days=7)

    assert erased(engine, selam)


def test_a_waiting_erasure_tells_the_coordination_once_without_naming_the_mediator(
    client: TestClient,
    coordinator: Staff,
    caseworker: Staff,
    outbox: Outbox,
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    """Nobody should find out a year later that someone was kept because a job was never
    settled; the notice links to the mediator's page instead of naming them, so it keeps
    nothing of them once they are erased."""
    from datetime import timedelta

    from dispatch.deadlines import runner as deadlines

    settings = settings.model_copy(update={"coordinator_email": "integration@beckum.example"})

    def advance(**delta: float) -> None:
        clock.advance(timedelta(**delta))
        deadlines.run_due(engine, clock=clock, settings=settings)

    selam = add_mediator(client, coordinator, 1, **SELAM)
    held = file(client, caseworker)
    token = link_of(outbox, held, SELAM["phone"])
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    take_out(client, coordinator, selam)

    advance(days=365, minutes=1)
    advance(days=7)
    advance(days=7)

    assert not erased(engine, selam)
    notices = outbox.messages("mediator_erasure_waiting_coordinator", "email")
    assert len(notices) == 1
    [notice] = notices
    assert notice.recipient == "integration@beckum.example"
    assert f"/dashboard/pool/{selam}" in notice.body
    assert "1 Einsatz" in notice.body
    assert not any(trace in f"{notice.subject} {notice.body}" for trace in TRACES)
    page = client.get(f"/api/v1/mediators/{selam}", headers=coordinator.headers)
    assert page.status_code == 200

    # Taken back and out again: a new waiting period may tell again.
    take_out(client, coordinator, selam, out=False)
    take_out(client, coordinator, selam)
    advance(days=366)
    assert len(outbox.messages("mediator_erasure_waiting_coordinator", "email")) == 2
