"""A minimal RFC 5545 calendar file for one assignment.

Only what mail clients need to show an invitation: CRLF line ends, lines
folded at 75 octets (never inside a UTF-8 character), TEXT values escaped,
times in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

PRODID = "-//Sprachpool//Notifications//DE"


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str) -> bytes:
    """Fold one content line at 75 octets; continuation lines start with a space."""
    out: list[bytes] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current)
            current = b" "
            limit = 75  # the leading space counts towards the 75 octets
        current += encoded
    out.append(current)
    return b"\r\n".join(out)


def format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_ics(
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    location: str,
    description: str,
    url: str | None = None,
    *,
    dtstamp: datetime | None = None,
    method: Literal["REQUEST", "CANCEL"] = "REQUEST",
    sequence: int = 0,
    organizer_email: str | None = None,
) -> bytes:
    """One VEVENT in a VCALENDAR; ``method="CANCEL"`` with a higher ``sequence`` withdraws it.

    ``dtstamp`` is when the file was made (pass the service clock); it defaults
    to now only for convenience at the edge.
    """
    if end <= start:
        raise ValueError("an event must end after it starts")
    stamp = dtstamp or datetime.now(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"DTSTART:{format_utc(start)}",
        f"DTEND:{format_utc(end)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        "STATUS:CANCELLED" if method == "CANCEL" else "STATUS:CONFIRMED",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if url:
        lines.append(f"URL:{url}")
    if organizer_email:
        lines.append(f"ORGANIZER:mailto:{organizer_email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return b"\r\n".join(fold_line(line) for line in lines) + b"\r\n"
