"""Counting SMS segments: GSM-7 160/153 with two-septet extension characters, UCS-2 70/67."""

from __future__ import annotations

import pytest

from notifications.segments import is_gsm7, sms_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # 160 septets
        ("€" * 81, ("GSM-7", 2)),
        ("Größe Übung äöü ß É Ñ à @£$¥", ("GSM-7", 1)),
        ("ж" * 70, ("UCS-2", 1)),
        ("ж" * 71, ("UCS-2", 2)),
        ("ж" * 134, ("UCS-2", 2)),
        ("ж" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # 70 UTF-16 code units
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_segment_counts(text: str, expected: tuple[str, int]) -> None:
    assert tuple(sms_segments(text)) == expected


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2() -> None:
    assert sms_segments("a" * 100 + "ş") == ("UCS-2", 2)
    assert not is_gsm7("ç")  # lower-case c-cedilla is not in the GSM basic set
    assert is_gsm7("Ç")


def test_an_extension_pair_is_never_split_across_segments() -> None:
    # 152 septets then "€" (2 septets): the pair moves to segment 2 whole.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == ("GSM-7", 3)


def test_a_surrogate_pair_is_never_split_across_segments() -> None:
    text = "ж" * 66 + "😀" + "ж" * 66
    assert sms_segments(text) == ("UCS-2", 3)
