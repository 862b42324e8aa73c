"""The funders' report (Förderbericht) for coordinators: JSON and CSV."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from dispatch.deps import ClockDep, CoordinatorUser, SessionDep, SettingsDep
from dispatch.errors import responses
from dispatch.reports import exports, service
from dispatch.stats.routes import FromDay, ToDay

router = APIRouter(prefix="/api/v1", tags=["statistics"])


def _report(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    start: date | None,
    end: date | None,
    lang: str,
) -> service.FundersReport:
    today = clock.now().astimezone(settings.tz).date()
    return service.for_period(
        session, first=start, last=end, today=today, settings=settings, lang=lang
    )


@router.get("/reports/funders", responses=responses(422))
def funders(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromDay = None,
    end: ToDay = None,
) -> dict[str, Any]:
    """For the funders, by default the year so far: approved jobs, hours and euros by
    language, category, organisation type and funding source; cost per job; unfilled
    requests by language (the languages to recruit for); fill rate and time to fill."""
    return _report(session, settings, clock, start, end, "en").as_dict()


@router.get(
    "/export/funders.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the report"}, **responses(422)},
)
def funders_csv(
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    """The funders' report as CSV for German Excel (semicolons, decimal commas, a BOM)."""
    return exports.funders_download(_report(session, settings, clock, start, end, "de"))
