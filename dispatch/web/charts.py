"""Bar charts drawn on the server as SVG: no script, no CDN, readable by screen readers
(each chart has a title and a table with the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dispatch.stats.service import Group, Stats
from dispatch.web.rendering import Formatter

ROW_HEIGHT = 26
LABEL_WIDTH = 170
BAR_WIDTH = 330
WIDTH = LABEL_WIDTH + BAR_WIDTH + 110


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    #: Share of the chart's width, 0..1; None draws no bar (no data).
    fraction: float | None
    y: int
    width: float


def bars(
    items: list[tuple[str, float | None, str]], *, scale_max: float | None = None
) -> list[Bar]:
    """Horizontal bars for (label, value, shown text); `scale_max` fixes the scale (1.0: rates)."""
    values = [v for _, v, _ in items if v is not None]
    top = scale_max if scale_max is not None else (max(values) if values else 0)
    result = []
    for index, (label, value, text) in enumerate(items):
        fraction = None if value is None or top <= 0 else max(0.0, min(1.0, value / top))
        result.append(
            Bar(
                label=label,
                text=text,
                fraction=fraction,
                y=index * ROW_HEIGHT,
                width=round((fraction or 0) * BAR_WIDTH, 1),
            )
        )
    return result


def height(chart: list[Bar]) -> int:
    return max(1, len(chart)) * ROW_HEIGHT + 4


def stats_charts(figures: Stats, fmt: Formatter) -> dict[str, object]:
    """The statistics page's charts, each with its height, as template variables."""

    def rate_text(group: Group) -> str:
        decided = group.filled + group.unfilled
        return f"{fmt.percent(group.fill_rate)} ({group.filled}/{decided})" if decided else "–"

    def week_label(group: Group) -> str:
        week = fmt.pgettext("calendar week", "Wk %(week)s", week=group.key[-2:])
        return f"{week} · {fmt.day(date.fromisoformat(group.label))}"

    charts = {
        "week_rate": bars(
            [(week_label(g), g.fill_rate, rate_text(g)) for g in figures.by_week], scale_max=1.0
        ),
        "week_ttf": bars(
            [
                (week_label(g), g.median_minutes_to_fill, fmt.minutes(g.median_minutes_to_fill))
                for g in figures.by_week
            ]
        ),
        "lang_rate": bars(
            [(g.label, g.fill_rate, rate_text(g)) for g in figures.by_language], scale_max=1.0
        ),
        "lang_ttf": bars(
            [
                (g.label, g.median_minutes_to_fill, fmt.minutes(g.median_minutes_to_fill))
                for g in figures.by_language
            ]
        ),
        "unmet": bars(
            [
                (
                    g.label,
                    g.unfilled_minutes / 60,
                    f"{fmt.t.unit(round(g.unfilled_minutes / 60, 1), 'duration-hour')}"
                    f" · {g.unfilled}×",
                )
                for g in figures.unmet_by_language
                if g.unfilled
            ]
        ),
    }
    return {**charts, **{f"{name}_h": height(chart) for name, chart in charts.items()}}
