"""A mediator's timed work: one taken out of the pool is erased after ``MEDIATOR_DATA_DAYS``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from config.settings import Settings
from dispatch import messages
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handles
from dispatch.mediators import flows
from dispatch.mediators.models import Mediator, MediatorDeadlineKind

#: A mediator still owed money (or holding a job) when the time comes is looked at again
#: this much later.
RETRY_AFTER = timedelta(days=7)


@handles(MediatorDeadlineKind.erase_data)
def erase_data(session: Session, deadline: Deadline, *, now: datetime, settings: Settings) -> str:
    """Keep only what the job needs: someone who left the pool long ago is not kept by name.

    One taken back into the pool in the meantime, or erased by hand, is left alone.
    One the town still owes money, or with a job done but not yet settled, or still
    holding a job to come, waits a week at a time: erased, they could no longer be paid
    or reached through Sprachpool, and the coordinator's own erasure asks a second yes
    for exactly that. The first time it waits, the coordination is told (once per
    waiting period: ``erasure_waiting_since``), without the mediator's name.
    """
    mediator = session.get(Mediator, deadline.subject_id)
    if mediator is None or mediator.erased_at is not None:
        return "no-op: erased"
    if mediator.active:
        return "no-op: back in the pool"
    owed = flows.owed_to(session, mediator_id=mediator.id, now=now, settings=settings)
    held = flows.jobs_held(session, mediator_id=mediator.id, now=now)
    if owed.anything or held:
        if mediator.erasure_waiting_since is None:
            # Once per waiting period, so nobody learns a year later that it never ended.
            mediator.erasure_waiting_since = now
            session.add(mediator)
            messages.mediator_erasure_waiting(
                session,
                settings,
                mediator_id=mediator.id,
                euros=max(owed.euros, Decimal(0)),
                open_jobs=owed.open_jobs,
                jobs_to_come=held,
                since=now,
                now=now,
            )
        flows.schedule_erasure(session, mediator_id=mediator.id, due_at=now + RETRY_AFTER, now=now)
        return f"waiting: {max(owed.euros, 0):.2f} EUR owed, {owed.open_jobs} open, {held} to come"
    flows.erase_mediator(session, mediator_id=mediator.id, actor=None, now=now, settings=settings)
    return "erased"
