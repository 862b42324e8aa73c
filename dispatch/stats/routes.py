"""Statistics and the assignment export for coordinators (JSON API).

The dashboard's statistics page reads the same service, so both always agree.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dispatch.deps import ClockDep, CoordinatorUser, SessionDep, SettingsDep
from dispatch.stats import service
from dispatch.validation import Day

router = APIRouter(prefix="/api/v1", tags=["statistics"])

FromDay = Annotated[
    Day | None,
    Query(alias="from", description="first day (YYYY-MM-DD), included; default: twelve weeks back"),
]
ToDay = Annotated[
    Day | None,
    Query(alias="to", description="last day (YYYY-MM-DD), included; default: two weeks ahead"),
]


def csv_response(text: str, *, span: service.Period) -> Response:
    filename = f"sprachpool-assignments-{span.first.isoformat()}-{span.last.isoformat()}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/stats")
def stats(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromDay = None,
    end: ToDay = None,
) -> dict[str, Any]:
    """Fill rate, median time to fill, counts by status, language and organisation, unmet demand."""
    span = service.period(start, end, today=clock.now().astimezone(settings.tz).date())
    return service.compute(session, span=span, tz=settings.tz, lang="en").as_dict()


@router.get(
    "/export/assignments.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per assignment"}},
)
def export_assignments(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    """Every assignment of the period's requests as CSV (UTF-8), for accounting and reports."""
    span = service.period(start, end, today=clock.now().astimezone(settings.tz).date())
    return csv_response(service.assignments_csv(session, span=span, tz=settings.tz), span=span)
