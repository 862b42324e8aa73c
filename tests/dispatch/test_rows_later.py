"""Audit events and deadlines held back to the end of a block, one INSERT per table.

Filing a request writes them among its other statements; `storage.rows_later`
turns five INSERTs into two. What must still hold: the rows are there when
the block ends, a step in the block that reads or changes their table sees
them, and nothing held back survives a rollback or an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch import audit
from dispatch.deadlines import service as deadlines
from dispatch.storage import rows_later, unit_of_work
from tests.conftest import NOW


@contextmanager
def inserts(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).startswith("INSERT"):
            seen.append(str(args[2]).split("(")[0].strip())

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    columns = {
        "deadline": "kind, subject_id, sequence, done_at IS NOT NULL",
        "audit_event": "action, entity_id",
    }[table]
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(sa.text(f"SELECT {columns} FROM {table} ORDER BY id"))
        ]


def event_of(session: Session, action: str, entity_id: int) -> None:
    audit.record(
        session,
        at=NOW,
        actor_kind="system",
        actor_id=None,
        action=action,
        entity="request",
        entity_id=entity_id,
    )


def deadline_of(session: Session, kind: str, subject_id: int, *, new: bool = True) -> None:
    deadlines.schedule(
        session,
        kind=kind,
        subject_id=subject_id,
        due_at=NOW + timedelta(hours=1),
        now=NOW,
        new=new,
    )


def test_held_rows_go_in_at_the_end_of_the_block_one_insert_per_table(engine: Engine) -> None:
    with inserts(engine) as seen, unit_of_work(engine) as session:
        with rows_later(session):
            event_of(session, "request.create", 1)
            deadline_of(session, "erase_data", 1)
            deadline_of(session, "wave_expiry", 1)
            event_of(session, "request.wave", 1)
            deadline_of(session, "unfilled_warning", 1)
            assert seen == []  # nothing written yet
        assert seen == ["INSERT INTO audit_event", "INSERT INTO deadline"]
    assert rows(engine, "audit_event") == [("request.create", 1), ("request.wave", 1)]
    assert rows(engine, "deadline") == [
        ("erase_data", 1, 0, 0),
        ("wave_expiry", 1, 0, 0),
        ("unfilled_warning", 1, 0, 0),
    ]


def test_outside_a_block_each_row_goes_in_at_once(engine: Engine) -> None:
    with inserts(engine) as seen, unit_of_work(engine) as session:
        event_of(session, "request.create", 1)
        deadline_of(session, "erase_data", 1)
        assert seen == ["INSERT INTO audit_event", "INSERT INTO deadline"]


def test_a_step_that_reads_or_changes_deadlines_in_the_block_sees_the_held_ones(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session, rows_later(session):
        deadline_of(session, "wave_expiry", 7)
        # The lookup finds the held row: no second one, which the unique key would refuse.
        deadline_of(session, "wave_expiry", 7, new=False)
        deadline_of(session, "unfilled_warning", 7)
        deadlines.close(
            session, kinds=["unfilled_warning"], subject_id=7, now=NOW, outcome="filled"
        )
    assert rows(engine, "deadline") == [("wave_expiry", 7, 0, 0), ("unfilled_warning", 7, 0, 1)]


def test_a_step_that_reads_events_in_the_block_sees_the_held_ones(engine: Engine) -> None:
    with unit_of_work(engine) as session, rows_later(session):
        audit.record(
            session,
            at=NOW,
            actor_kind="user",
            actor_id=None,
            action="assignment.give_back",
            entity="assignment",
            entity_id=5,
            details={"reason": "Termin beim Arzt"},
        )
        # Erasing a mediator replaces typed reasons: it must find the event held back.
        assert audit.erase_reasons(session, entity="assignment", entity_ids=[5]) == 1
    with engine.connect() as connection:
        details = connection.execute(sa.text("SELECT details FROM audit_event")).scalar_one()
    assert "Termin beim Arzt" not in str(details)


def test_an_error_in_the_block_writes_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), unit_of_work(engine) as session, rows_later(session):
        event_of(session, "request.create", 1)
        deadline_of(session, "erase_data", 1)
        raise RuntimeError("refused")
    assert rows(engine, "audit_event") == []
    assert rows(engine, "deadline") == []


def test_a_rollback_in_the_block_drops_what_was_held_before_it(engine: Engine) -> None:
    with unit_of_work(engine) as session, rows_later(session):
        event_of(session, "request.create", 1)
        session.rollback()  # as a lost race does, before the step tries again
        event_of(session, "request.create", 2)
    assert rows(engine, "audit_event") == [("request.create", 2)]
