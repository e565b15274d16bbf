"""The work calendar as iCalendar (RFC 5545), written by hand: text escaped (3.3.11), lines
folded at 75 octets without cutting a UTF-8 character (3.1), CRLF line ends, local times with
the agency's VTIMEZONE (Vietnam keeps one offset all year)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ioffice.agencies.models import Agency
from ioffice.schedule.models import CalendarEvent

__all__ = ["calendar", "escape_text", "fold"]

PRODID = "-//iOffice//Lich cong tac//VI"


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded into chunks of at most 75 octets (the continuation lines start
    with one space, counted in their 75), never inside a multi-byte character."""
    out: list[str] = []
    current, size, limit = [], 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def _local(day: dt.date, time: dt.time) -> str:
    return dt.datetime.combine(day, time).strftime("%Y%m%dT%H%M%S")


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(agency: Agency, events: Iterable[CalendarEvent], *, tzid: str, offset: dt.timedelta,
             now: dt.datetime) -> bytes:
    """The feed of ``agency``: one VEVENT per event, UTF-8 bytes."""
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    tz_offset = f"{'+' if hours >= 0 else '-'}{abs(hours):02d}{rest // 60:02d}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text('Lịch công tác – ' + agency.name)}",
             f"X-WR-TIMEZONE:{tzid}",
             "BEGIN:VTIMEZONE", f"TZID:{tzid}", "BEGIN:STANDARD", "DTSTART:19700101T000000",
             f"TZOFFSETFROM:{tz_offset}", f"TZOFFSETTO:{tz_offset}", "TZNAME:ICT",
             "END:STANDARD", "END:VTIMEZONE"]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:lich-{e.id}@{agency.code}", f"DTSTAMP:{_utc(now)}",
                  f"LAST-MODIFIED:{_utc(e.updated_at)}", f"SEQUENCE:{e.sequence or 0}",
                  f"DTSTART;TZID={tzid}:{_local(e.day, e.start_time)}"]
        if e.end_time is not None:
            lines.append(f"DTEND;TZID={tzid}:{_local(e.day, e.end_time)}")
        lines.append(f"SUMMARY:{escape_text(e.title)}")
        if e.place:
            lines.append(f"LOCATION:{escape_text(e.place)}")
        description = [("Chủ trì", e.chair), ("Thành phần", e.participants),
                       ("Chuẩn bị", e.preparation), ("Ghi chú", e.notes)]
        text = "\n".join(f"{label}: {value}" for label, value in description if value)
        if text:
            lines.append(f"DESCRIPTION:{escape_text(text)}")
        lines += ["STATUS:CONFIRMED", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("".join(fold(line) + "\r\n" for line in lines)).encode("utf-8")
