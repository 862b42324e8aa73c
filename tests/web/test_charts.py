"""The charts' bars stand out from the chart's background (dispatch/web/charts.py,
static/sprachpool.css): WCAG 2.1's 1.4.11 asks 3:1 for the parts of a graphic that are
needed to understand it, and a bar is its value. axe-core does not measure the fill of
SVG shapes, so the ratio is computed here from the stylesheet, as WCAG defines it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from dispatch.web import rendering

STYLESHEET = Path(rendering.__file__).parent / "static" / "sprachpool.css"


@cache
def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def colour(value: str) -> str:
    """A colour of the stylesheet as #rrggbb, its custom properties (``var(--card)``) resolved."""
    named = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
    if named:
        found = re.search(rf"{named[1]}:\s*([^;]+);", stylesheet())
        assert found is not None, f"{named[1]} is defined"
        return colour(found[1])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value.strip()), value
    return value.strip().lower()


def declared(selector: str, prop: str) -> str:
    """The value of `prop` in the stylesheet's rule for exactly `selector`."""
    rule = re.search(rf"^{re.escape(selector)}\s*\{{([^}}]*)\}}", stylesheet(), re.M)
    assert rule is not None, f"the stylesheet has a rule for {selector}"
    value = re.search(rf"(?:^|;)\s*{prop}:\s*([^;]+);", rule[1])
    assert value is not None, f"{selector} sets {prop}"
    return value[1]


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: str, other: str) -> float:
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_ratio_is_wcags() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("bar", [".chart .bar", ".chart .bar.bad", ".chart .bar.muted"])
def test_each_kind_of_bar_stands_out_three_to_one_from_the_white_chart(bar: str) -> None:
    background = colour(declared(".chart", "background"))
    fill = colour(declared(bar, "fill"))

    assert background == "#ffffff"
    assert contrast_ratio(fill, background) >= 3, f"{bar} {fill} on {background}"
