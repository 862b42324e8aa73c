"""The funders' report as a printable page with charts (the same figures as the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from dispatch.deps import ClockDep, SessionDep, SettingsDep
from dispatch.reports import exports, service
from dispatch.reports.service import Row
from dispatch.validation import Day
from dispatch.web.auth import CoordinatorPageUser
from dispatch.web.charts import Bar, bars, height
from dispatch.web.rendering import Formatter, formatter, page_lang, render

router = APIRouter(prefix="/dashboard/reports", include_in_schema=False)


def _hours(fmt: Formatter, hours: float) -> str:
    return fmt.t.unit(round(hours, 1), "duration-hour")


def _charts(report: service.FundersReport, fmt: Formatter) -> dict[str, object]:
    def hours(rows: list[Row]) -> list[Bar]:
        return bars(
            [
                (row.label, float(row.hours), f"{_hours(fmt, float(row.hours))} · {row.jobs}×")
                for row in rows
            ]
        )

    charts = {
        "language": hours(report.by_language),
        "category": hours(report.by_category),
        "organisation_type": hours(report.by_organisation_type),
        "funding_source": bars(
            [
                (row.label, float(row.euros), fmt.euros(row.euros))
                for row in report.by_funding_source
            ]
        ),
        "unfilled": bars(
            [
                (g.label, g.unfilled_minutes / 60, _hours(fmt, g.unfilled_minutes / 60))
                for g in report.figures.unmet_by_language
            ]
        ),
    }
    return {"charts": charts, "heights": {name: height(c) for name, c in charts.items()}}


FromQuery = Annotated[Day | None, Query(alias="from")]
ToQuery = Annotated[Day | None, Query(alias="to")]


@router.get("/funders", response_class=HTMLResponse)
def funders(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> HTMLResponse:
    """The Förderbericht for a period (the year so far unless asked), to print or download."""
    today = clock.now().astimezone(settings.tz).date()
    report = service.for_period(
        session, first=start, last=end, today=today, settings=settings, lang=page_lang(request)
    )
    return render(
        request,
        "coordinator/funders.html",
        {"r": report, "span": report.period, **_charts(report, formatter(request))},
        user=user,
    )


@router.get("/funders.csv")
def funders_csv(
    request: Request,
    session: SessionDep,
    _user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """The page's CSV button: the API's export, signed in by the session (a browser sends
    no bearer token), with the headers in the page's language."""
    today = clock.now().astimezone(settings.tz).date()
    lang = page_lang(request)
    report = service.for_period(
        session, first=start, last=end, today=today, settings=settings, lang=lang
    )
    return exports.funders_download(report, lang=lang)
