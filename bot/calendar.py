"""An activity as an iCalendar file (RFC 5545), for the sign-up page's "add to calendar".

Times are written in UTC (the `Z` form), so no VTIMEZONE is needed and every calendar app
shows them in its own zone. Text is escaped (backslash, semicolon, comma, newline) and
lines are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from store.models import Activity, aware

LINE_OCTETS = 75
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not allowed in TEXT values


def escape_text(text: str) -> str:
    """A TEXT value: backslash, `;` and `,` escaped, line breaks as `\\n`, controls dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets go on in continuation lines that start with a space."""
    pieces: list[str] = []
    current, size = "", 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            pieces.append(current)
            current, size = " ", 1
        current += char
        size += octets
    pieces.append(current)
    return "\r\n".join(pieces)


def _utc(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def activity_ics(
    activity: Activity, *, url: str, host: str, description: str = "", now: datetime
) -> bytes:
    """One VEVENT for the activity; its UID is stable, so adding it twice updates it."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ShareTrail//Activity calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:sharetrail-activity-{activity.id}@{host}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(activity.starts_at)}",
        f"DTEND:{_utc(activity.ends_at)}",
        f"SUMMARY:{escape_text(activity.name)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines += [f"URL:{url}", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
