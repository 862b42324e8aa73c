"""The generic deadline runner: domains register their kinds, the runner fires what is due.

Each deadline runs in its own transaction with its kind's handler; `done_at`
is written in that commit; a handler that raises, or a kind nobody
registered, leaves nothing of its step and the row is pushed back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.deadlines import registry
from dispatch.deadlines import service as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.runner import RETRY_AFTER, run_due
from dispatch.offers.models import OfferDeadlineKind
from dispatch.storage import unit_of_work
from dispatch.users.models import Organisation
from tests.conftest import get_row

PROBE = "test_probe"
BROKEN = "test_broken"


@pytest.fixture
def probe_kinds() -> Iterator[list[int]]:
    """Two kinds for this test only: one writes a row and succeeds, one writes and raises."""
    seen: list[int] = []

    def probe(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
        session.add(Organisation(name=f"probe {deadline.subject_id}", created_at=now))
        seen.append(deadline.subject_id)
        return f"probed {deadline.subject_id}"

    def broken(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
        session.add(Organisation(name=f"broken {deadline.subject_id}", created_at=now))
        raise RuntimeError("the step broke")

    registry.handles(PROBE)(probe)
    registry.handles(BROKEN)(broken)
    yield seen
    registry._handlers.pop(PROBE)  # test-only cleanup of the module's registry
    registry._handlers.pop(BROKEN)


def schedule(engine: Engine, clock: ManualClock, kind: str, subject_id: int) -> None:
    with unit_of_work(engine) as session:
        deadlines.schedule(
            session, kind=kind, subject_id=subject_id, due_at=clock.now(), now=clock.now()
        )


def organisation_names(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(o.name for o in session.exec(select(Organisation)))


def test_every_kind_of_offers_has_a_handler() -> None:
    assert {str(kind) for kind in OfferDeadlineKind} <= registry.registered_kinds()


def test_a_kind_gets_one_handler_only() -> None:
    def other(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
        return "other"

    with pytest.raises(ValueError, match="already has a handler"):
        registry.handles(OfferDeadlineKind.reminder)(other)


def test_a_due_deadline_runs_its_kinds_handler_and_is_done_in_the_same_commit(
    engine: Engine, clock: ManualClock, settings: Settings, probe_kinds: list[int]
) -> None:
    schedule(engine, clock, PROBE, 7)

    assert run_due(engine, clock=clock, settings=settings) == 1

    assert probe_kinds == [7]
    assert organisation_names(engine) == ["probe 7"]
    with Session(engine) as session:
        deadline = session.exec(select(Deadline)).one()
        assert deadline.done_at == clock.now() and deadline.outcome == "probed 7"
    assert run_due(engine, clock=clock, settings=settings) == 0, "nothing fires twice"


def test_scheduling_the_same_step_twice_stores_it_once(
    engine: Engine, clock: ManualClock, probe_kinds: list[int]
) -> None:
    schedule(engine, clock, PROBE, 7)
    schedule(engine, clock, PROBE, 7)

    with Session(engine) as session:
        assert len(session.exec(select(Deadline)).all()) == 1


def test_a_failing_handler_leaves_nothing_and_is_pushed_back(
    engine: Engine, clock: ManualClock, settings: Settings, probe_kinds: list[int]
) -> None:
    schedule(engine, clock, BROKEN, 1)
    schedule(engine, clock, PROBE, 2)

    assert run_due(engine, clock=clock, settings=settings) == 2

    assert organisation_names(engine) == ["probe 2"], "the broken step wrote nothing"
    with Session(engine) as session:
        broken = session.exec(select(Deadline).where(Deadline.kind == BROKEN)).one()
        assert broken.done_at is None
        assert broken.due_at == clock.now() + RETRY_AFTER
        assert broken.outcome == "failed: the step broke"


def test_a_kind_nobody_registered_is_pushed_back_not_marked_done(
    engine: Engine, clock: ManualClock, settings: Settings
) -> None:
    schedule(engine, clock, "never_registered", 1)

    assert run_due(engine, clock=clock, settings=settings) == 1

    with Session(engine) as session:
        row = session.exec(select(Deadline)).one()
        assert row.done_at is None and row.due_at > clock.now()
        assert "no handler registered" in (row.outcome or "")


def test_closing_a_subjects_deadlines_touches_only_the_kinds_named(
    engine: Engine, clock: ManualClock
) -> None:
    schedule(engine, clock, OfferDeadlineKind.reminder, 5)
    schedule(engine, clock, OfferDeadlineKind.wave_expiry, 5)

    with unit_of_work(engine) as session:
        deadlines.close(
            session,
            kinds=[OfferDeadlineKind.reminder],
            subject_id=5,
            now=clock.now() + timedelta(minutes=1),
            outcome="assignment cancelled",
        )

    with Session(engine) as session:
        rows = {d.kind: d for d in session.exec(select(Deadline))}
        reminder = get_row(session, Deadline, rows[OfferDeadlineKind.reminder].id)
        assert reminder.outcome == "assignment cancelled" and reminder.done_at is not None
        assert rows[OfferDeadlineKind.wave_expiry].done_at is None
