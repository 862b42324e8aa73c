"""The RFC 5545 calendar file for one assignment, written by the ``icalendar`` library.

Only what mail clients need to show an invitation. The library does the
format's details (CRLF line ends, folding at 75 octets without splitting a
UTF-8 character, escaping of TEXT values); we choose the content: times in
UTC, so no VTIMEZONE block has to travel with the file, and a cancellation
that withdraws the same UID with a higher SEQUENCE.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vUri

PRODID = "-//Sprachpool//Notifications//DE"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)


def make_ics(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    location: str,
    description: str,
    dtstamp: datetime,
    url: str | None = None,
    method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    sequence: int = 0,
    organizer_email: str | None = None,
) -> bytes:
    """One VEVENT in a VCALENDAR; ``method="CANCEL"`` with a higher ``sequence`` withdraws it.

    ``dtstamp`` is when the file was made: the service clock, never the wall clock.
    An empty ``location`` (a phone or video job without a place) writes no LOCATION.
    """
    if end <= start:
        raise ValueError("an event must end after it starts")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(dtstamp))
    event.add("dtstart", _utc(start))
    event.add("dtend", _utc(end))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if location:
        event.add("location", location)
    if url:
        event.add("url", vUri(url))
    if organizer_email:
        event.add("organizer", vCalAddress(f"mailto:{organizer_email}"))

    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()  # typed Any by icalendar
    return data


def cancel_many(
    *,
    events: Sequence[tuple[str, datetime, datetime]],
    summary: str,
    description: str,
    dtstamp: datetime,
) -> bytes:
    """One file that withdraws several events at once, (uid, start, end) each.

    A series cancelled in one go is told in one message; its file takes every
    date out of the calendar, as a cancellation of each would have.
    """
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL")
    for uid, start, end in events:
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", _utc(dtstamp))
        event.add("dtstart", _utc(start))
        event.add("dtend", _utc(end))
        event.add("sequence", 1)
        event.add("summary", summary)
        event.add("description", description)
        event.add("status", "CANCELLED")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()  # typed Any by icalendar
    return data
