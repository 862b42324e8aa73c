"""The calendar file follows RFC 5545: CRLF, 75-octet folding, escaping, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifications.ics import escape_text, fold_line, make_ics

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def lines_of(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").rstrip("\r\n").split("\r\n")


def event(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "uid": "a-1@sprachpool",
        "start": datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN),
        "end": datetime(2026, 7, 1, 10, 30, tzinfo=BERLIN),
        "summary": "Einsatz Arabisch",
        "location": "Rathaus",
        "description": "Sprachmittlung",
        "dtstamp": STAMP,
    }
    fields.update(overrides)
    return make_ics(**fields)  # type: ignore[arg-type]


def test_times_are_written_in_utc() -> None:
    lines = unfold(event())

    assert "DTSTART:20260701T070000Z" in lines  # 09:00 summer time in Berlin
    assert "DTEND:20260701T083000Z" in lines
    assert "DTSTAMP:20261130T120000Z" in lines


def test_every_line_ends_with_crlf_and_has_at_most_75_octets() -> None:
    long_text = "Städtisches Klinikum, Haus B; Eingang Süd — bitte klingeln. " * 5
    data = event(description=long_text, location=long_text)

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines_of(data))


def test_folding_never_splits_a_utf8_character() -> None:
    line = "DESCRIPTION:" + "ü" * 100 + "طلب" * 30

    folded = fold_line(line)

    for part in folded.split(b"\r\n"):
        part.decode("utf-8")  # raises if a character was cut in two
        assert len(part) <= 75
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line


def test_text_values_are_escaped_and_unfold_to_the_original() -> None:
    description = "Zimmer 2.14; 2. Stock, links\nBitte Ausweis mitbringen \\ danke"

    lines = unfold(event(description=description))

    [line] = [line for line in lines if line.startswith("DESCRIPTION:")]
    assert line == "DESCRIPTION:" + escape_text(description)
    assert line == (
        "DESCRIPTION:Zimmer 2.14\\; 2. Stock\\, links\\nBitte Ausweis mitbringen \\\\ danke"
    )


def test_a_cancellation_carries_method_cancel_and_a_higher_sequence() -> None:
    lines = unfold(event(method="CANCEL", sequence=1))

    assert "METHOD:CANCEL" in lines
    assert "STATUS:CANCELLED" in lines
    assert "SEQUENCE:1" in lines


def test_the_calendar_wraps_exactly_one_event() -> None:
    lines = unfold(event(url="https://sprachpool.beckum.de/a/1", organizer_email="pool@beckum.de"))

    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1
    assert "VERSION:2.0" in lines
    assert "URL:https://sprachpool.beckum.de/a/1" in lines
    assert "ORGANIZER:mailto:pool@beckum.de" in lines


def test_a_phone_job_without_place_has_no_location_line() -> None:
    assert not any(line.startswith("LOCATION") for line in unfold(event(location="")))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        event(start=datetime(2026, 7, 1, 9, 0), end=datetime(2026, 7, 1, 10, 0))


def test_an_event_must_end_after_it_starts() -> None:
    start = datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    with pytest.raises(ValueError):
        event(start=start, end=start)
