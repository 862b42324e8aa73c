"""The funders' report as CSV for German Excel (the same figures as the page)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from fastapi.responses import Response

import locales
from dispatch.allowances.exports import Cell, german_csv
from dispatch.reports.service import FundersReport, Row
from locales import N_

HEADER = (N_("Section"), N_("Key"), N_("Name"), N_("Jobs"), N_("Hours"), N_("Amount (EUR)"))
SECTIONS = (
    ("by_language", N_("Language")),
    ("by_category", N_("Category")),
    ("by_organisation_type", N_("Organisation type")),
    ("by_funding_source", N_("Funding source")),
)


def _rows(report: FundersReport, lang: str) -> Iterator[list[Cell]]:
    t = locales.translator(lang)
    yield [t.gettext(column) for column in HEADER]
    total = report.total
    yield [t.gettext("Total"), "", total.label, total.jobs, total.hours, total.euros]
    yield [t.gettext("Cost per job"), "", "", "", "", report.cost_per_job]
    yield [t.gettext("Late cancellations"), "", "", "", "", report.cancellation_euros]
    for attribute, section in SECTIONS:
        rows: list[Row] = getattr(report, attribute)
        for row in rows:
            yield [t.gettext(section), row.key, row.label, row.jobs, row.hours, row.euros]
    figures = report.figures.total
    yield [t.gettext("Requests"), "", "", figures.requests, "", ""]
    yield [t.gettext("Unfilled requests"), "", "", figures.unfilled, "", ""]
    median = figures.median_minutes_to_fill
    yield [
        t.gettext("Median minutes to fill"),
        "",
        "",
        "" if median is None else round(median),
        "",
        "",
    ]
    for group in report.figures.unmet_by_language:
        yield [
            t.gettext("Unfilled by language"),
            group.key,
            group.label,
            group.unfilled,
            (Decimal(group.unfilled_minutes) / 60).quantize(Decimal("0.01")),
            "",
        ]


def funders_csv(report: FundersReport, *, lang: str = "de") -> str:
    return german_csv(_rows(report, lang))


def funders_download(report: FundersReport, *, lang: str = "de") -> Response:
    """The report as a CSV file to save, for the API and the coordinator's page alike."""
    name = f"sprachpool-funders-{report.period.first.isoformat()}-{report.period.last.isoformat()}"
    return Response(
        funders_csv(report, lang=lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
