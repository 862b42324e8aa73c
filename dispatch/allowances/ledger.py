"""The ledger's token: the totals behind ``annual_limit`` and ``monthly_limit`` are kept under it.

The engine leaves out of paid offers whoever reached their yearly allowance
limit (issue 15), which needs every approved job and every paid late
cancellation of the year: three queries that intake would otherwise run for
every request filed. What those totals are computed from changes seldom (a
report written or approved, a held job called off, a place moved), so each
such change gives the ledger a new token in its own transaction (row
``LEDGER_ROW`` of ``pool_version``, read with the pool's token in one
statement), and the totals are kept under it, the pool's token (a mediator's
limit, home and travel mode) and the rules.

Changes to a request itself do not renew the token: a job is only counted
once its report is approved (a report row changes) or when it was called off
while held (its assignment changes in the same transaction), and a request
cannot be changed after it started.
"""

from __future__ import annotations

from dispatch.jobs.models import JobReport
from dispatch.mediators.models import GUARDS, LEDGER_ROW, Guard
from dispatch.offers.models import Assignment
from dispatch.places.models import Place

#: A report, a held job or a place changed renews the ledger's token; a new assignment
#: counts for nothing yet (it is neither approved nor called off).
LEDGER_GUARD = Guard(LEDGER_ROW, changed=(JobReport, Assignment, Place), new=(JobReport, Place))
GUARDS.append(LEDGER_GUARD)
