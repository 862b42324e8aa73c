"""Numbers typed in the digits of the mediator's script read as 0-9 (SMS codes, reports)."""

from __future__ import annotations

import pytest

from locales import western_digits


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("١٢٫٥ km", "12٫5 km"),  # Arabic-Indic; the decimal separator is the form's to read
        ("۰۹:۳۰", "09:30"),  # Persian (Extended Arabic-Indic)
        ("JA ٤٧١١", "JA 4711"),
        ("１２３", "123"),  # full-width, as some Asian keyboards type
        ("A7K2", "A7K2"),
        ("", ""),
    ],
)
def test_digits_of_any_script_read_as_western_digits(typed: str, read: str) -> None:
    assert western_digits(typed) == read
