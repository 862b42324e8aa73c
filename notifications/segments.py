"""How many SMS segments a text costs.

A text made only of GSM 03.38 characters is sent as GSM-7: 160 septets in one
segment, 153 per segment when concatenated (the rest is the UDH header).
Characters of the extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) take
two septets (escape + character) and are never split across segments.
Any other character switches the whole message to UCS-2: 70 UTF-16 code units
in one segment, 67 per segment when concatenated; a surrogate pair (emoji,
rare CJK) is never split either.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_LIMIT = {"GSM-7": 160, "UCS-2": 70}
CONCATENATED_LIMIT = {"GSM-7": 153, "UCS-2": 67}


class SmsSegments(NamedTuple):
    encoding: Encoding
    segments: int


GSM7 = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def _units(text: str, encoding: Encoding) -> list[int]:
    """Cost of each character in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [len(char.encode("utf-16-le")) // 2 for char in text]


def _segments_of(units: int, encoding: Encoding) -> int:
    """Segments of a text whose every character costs one unit."""
    if units <= SINGLE_LIMIT[encoding]:
        return 1
    capacity = CONCATENATED_LIMIT[encoding]
    return -(-units // capacity)


def sms_segments(text: str) -> SmsSegments:
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    one_unit_each = (
        GSM7_EXTENSION.isdisjoint(text) if encoding == "GSM-7" else max(text) <= "\uffff"
    )
    if one_unit_each:
        # The usual text (counted on every offer's SMS, often several times): no escape
        # or surrogate pair, so the segments follow from the length alone.
        return SmsSegments(encoding, _segments_of(len(text), encoding))
    units = _units(text, encoding)
    if sum(units) <= SINGLE_LIMIT[encoding]:
        return SmsSegments(encoding, 1)
    capacity = CONCATENATED_LIMIT[encoding]
    segments, used = 1, 0
    for cost in units:
        if used + cost > capacity:  # an escape pair or surrogate pair moves whole
            segments, used = segments + 1, 0
        used += cost
    return SmsSegments(encoding, segments)
