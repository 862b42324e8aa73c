"""A staff account's timed work: a deactivated one is erased after ``STAFF_DATA_DAYS``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from config.settings import Settings
from dispatch import messages
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handles
from dispatch.users import flows
from dispatch.users.models import User, UserDeadlineKind

#: A caseworker whose open work is still theirs when the time comes is looked at again
#: this much later (the coordination gets their news meanwhile).
RETRY_AFTER = timedelta(days=7)


@handles(UserDeadlineKind.erase_account)
def erase_account(
    session: Session,
    deadline: Deadline,
    *,
    now: datetime,
    settings: Settings,
) -> str:
    """Keep only what the job needs: someone who left long ago is not kept by name.

    An account invited back in the meantime, or erased by hand, is left alone; one
    whose requests still need it (nobody took them over) waits a week at a time, so
    no request loses the person its news go to. The first time it waits, the
    coordination is told (once per waiting period: ``erasure_waiting_since``), so that
    someone hands the requests over instead of the account waiting unseen for ever.
    """
    user = session.get(User, deadline.subject_id)
    if user is None or user.erased_at is not None:
        return "no-op: erased"
    if user.active:
        return "no-op: active again"
    waiting = flows.open_work(session, user_ids=[user.id], now=now).get(user.id, 0)
    if waiting:
        if user.erasure_waiting_since is None:
            user.erasure_waiting_since = now
            session.add(user)
            messages.staff_erasure_waiting(
                session, settings, user=user, requests=waiting, since=now, now=now
            )
        flows.schedule_erasure(session, user=user, due_at=now + RETRY_AFTER, now=now)
        return f"waiting: {waiting} open requests"
    flows.erase(session, user_id=user.id, actor=None, now=now)
    return "erased"
