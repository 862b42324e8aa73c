"""A browser's Accept-Language, read for pages that cannot tell whose they are."""

from __future__ import annotations

import pytest

import locales

MEDIATORS = locales.MEDIATOR_LOCALES


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar", "ar"),
        ("uk-UA,uk;q=0.9,ru;q=0.8,en-US;q=0.7,en;q=0.6", "uk"),
        ("fr-FR,fr;q=0.9,ru;q=0.5,tr;q=0.8", "tr"),  # by weight, not by place
        ("tr;q=0.5,ru;q=0.5", "tr"),  # equal weights: the first named
        ("prs-AF", "fa"),  # Dari reads the Farsi texts
        ("TR_tr", "tr"),
        (" en-GB ; q=1 , de;q=0.9", "en"),
        ("*", None),
        ("ar;q=0, fa;q=0.1", "fa"),  # a weight of 0 refuses
        ("fr, it", None),
        ("", None),
        (None, None),
    ],
)
def test_the_first_mediator_language_the_browser_asks_for_by_weight(
    header: str | None, expected: str | None
) -> None:
    assert locales.from_accept_language(header, MEDIATORS) == expected


@pytest.mark.parametrize(
    "header",
    ["ar;q=x", "ar;q=nan", "ar;q=inf", "ar;q=-1", "ar;q=2", "ar;q=", "\x00ar", "²", ";;;,,,"],
)
def test_a_malformed_range_asks_for_nothing(header: str) -> None:
    assert locales.from_accept_language(header, MEDIATORS) is None


def test_only_the_headers_start_is_read() -> None:
    many = ",".join(["fr"] * locales.ACCEPT_LANGUAGE_MOST_RANGES) + ",ar"
    assert locales.from_accept_language(many, MEDIATORS) is None
    long = "x" * locales.ACCEPT_LANGUAGE_MOST_CHARS + ",ar"
    assert locales.from_accept_language(long, MEDIATORS) is None
    assert locales.from_accept_language("fr," * 5 + "ar", MEDIATORS) == "ar"


def test_only_the_available_languages_are_chosen() -> None:
    assert locales.from_accept_language("ar,en", locales.STAFF_LOCALES) == "en"
