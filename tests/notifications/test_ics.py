"""The calendar file follows RFC 5545: CRLF, 75-octet folding, escaping, UTC.

Checked twice: on the bytes a mail client receives, and by parsing them back
with ``icalendar`` (what a calendar program reads).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from notifications.ics import cancel_many, make_ics

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def lines_of(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").rstrip("\r\n").split("\r\n")


def event(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "uid": "a-1@sprachpool",
        "start": datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN),
        "end": datetime(2026, 7, 1, 10, 30, tzinfo=BERLIN),
        "summary": "Einsatz Arabisch",
        "location": "Rathaus",
        "description": "Sprachmittlung",
        "dtstamp": STAMP,
    }
    fields.update(overrides)
    return make_ics(**fields)


def parsed(data: bytes) -> Event:
    [vevent] = Calendar.from_ical(data).walk("VEVENT")
    assert isinstance(vevent, Event)
    return vevent


def test_times_are_written_in_utc() -> None:
    data = event()
    lines = unfold(data)

    assert "DTSTART:20260701T070000Z" in lines  # 09:00 summer time in Berlin
    assert "DTEND:20260701T083000Z" in lines
    assert "DTSTAMP:20261130T120000Z" in lines
    vevent = parsed(data)
    assert vevent.decoded("DTSTART") == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert vevent.decoded("DTEND") == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert str(vevent["UID"]) == "a-1@sprachpool"
    assert str(vevent["SUMMARY"]) == "Einsatz Arabisch"
    assert str(vevent["LOCATION"]) == "Rathaus"


def test_every_line_ends_with_crlf_and_has_at_most_75_octets() -> None:
    long_text = "Städtisches Klinikum, Haus B; Eingang Süd — bitte klingeln. " * 5
    data = event(description=long_text, location=long_text)

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines_of(data))
    assert any(line.startswith(b" ") for line in lines_of(data))  # it was folded
    assert str(parsed(data)["LOCATION"]) == long_text


def test_folding_never_splits_a_utf8_character() -> None:
    description = "ü" * 100 + "طلب" * 30

    data = event(description=description)

    for part in lines_of(data):
        part.decode("utf-8")  # raises if a character was cut in two
        assert len(part) <= 75
    [line] = [line for line in unfold(data) if line.startswith("DESCRIPTION:")]
    assert line == "DESCRIPTION:" + description
    assert str(parsed(data)["DESCRIPTION"]) == description


def test_text_values_are_escaped_and_unfold_to_the_original() -> None:
    description = "Zimmer 2.14; 2. Stock, links\nBitte Ausweis mitbringen \\ danke"

    data = event(description=description)

    [line] = [line for line in unfold(data) if line.startswith("DESCRIPTION:")]
    assert line == (
        "DESCRIPTION:Zimmer 2.14\\; 2. Stock\\, links\\nBitte Ausweis mitbringen \\\\ danke"
    )
    assert str(parsed(data)["DESCRIPTION"]) == description


def test_a_cancellation_carries_method_cancel_and_a_higher_sequence() -> None:
    data = event(method="CANCEL", sequence=1)
    lines = unfold(data)

    assert "METHOD:CANCEL" in lines
    assert "STATUS:CANCELLED" in lines
    assert "SEQUENCE:1" in lines
    assert str(Calendar.from_ical(data)["METHOD"]) == "CANCEL"
    assert parsed(data).decoded("SEQUENCE") == 1


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


def test_one_file_withdraws_several_events_each_by_its_uid() -> None:
    first = datetime(2026, 12, 8, 9, 0, tzinfo=BERLIN)
    events = [
        (
            f"assignment-{n}@sprachpool",
            first + timedelta(weeks=n),
            first + timedelta(weeks=n, hours=1),
        )
        for n in range(3)
    ]
    data = cancel_many(events=events, summary="Abgesagt", description="Serie", dtstamp=STAMP)

    calendar = Calendar.from_ical(data)
    assert calendar["METHOD"] == "CANCEL"
    withdrawn = list(calendar.walk("VEVENT"))
    assert [str(e["UID"]) for e in withdrawn] == [uid for uid, _, _ in events]
    assert all(e["STATUS"] == "CANCELLED" and e["SEQUENCE"] == 1 for e in withdrawn)
    assert withdrawn[2].decoded("DTSTART") == datetime(2026, 12, 22, 8, 0, tzinfo=UTC)
