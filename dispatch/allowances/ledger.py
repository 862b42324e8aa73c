"""The ledger's token: the totals behind ``annual_limit`` and ``monthly_limit`` are kept under it.

The engine leaves out of paid offers whoever reached their yearly allowance
limit (issue 15), which needs every approved job and every paid late
cancellation of the year: three queries that intake would otherwise run for
every request filed. What those totals are computed from changes seldom (a
report written or approved, a job taken or a held job called off, a place
moved, a held job's times changed), so each such change gives the ledger a new
token in its own transaction (row ``LEDGER_ROW`` of ``pool_version``, read with
the pool's token in one statement), and the totals are kept under it, the
pool's token (a mediator's limit, home and travel mode) and the rules.

A monthly limit counts the jobs a mediator holds at what they are expected to
pay (their booked times and mode), so a new assignment (an accepted offer, a
coordinator's choice) renews the token, and so does a request whose start, end
or mode changed. Other changes to a request (its status as offers go out) do not:
filing stays cheap.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session

from dispatch.jobs.models import JobReport
from dispatch.mediators.models import GUARDS, LEDGER_ROW, Guard, bump_version
from dispatch.offers.models import Assignment
from dispatch.places.models import Place
from dispatch.requests.models import Request

#: A report, a held job or a place changed or added renews the ledger's token.
LEDGER_GUARD = Guard(
    LEDGER_ROW, changed=(JobReport, Assignment, Place), new=(JobReport, Assignment, Place)
)
GUARDS.append(LEDGER_GUARD)

#: What a held job is expected to pay depends on these of its request.
_PRICED = ("start", "end", "mode")


@event.listens_for(Session, "before_flush")
def _bump_on_booked_times(session: Session, _context: Any, _instances: Any) -> None:
    """A request's times or mode changed: a new ledger token (a held job's expected
    allowance, and its month, may have changed)."""
    for obj in session.dirty:
        if isinstance(obj, Request):
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _PRICED):
                bump_version(session, LEDGER_ROW)
                return
