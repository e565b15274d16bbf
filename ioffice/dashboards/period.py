"""The period a dashboard covers: whole months, from one to another, at most ten years."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ioffice.errors import DomainError

__all__ = ["MAX_MONTHS", "Period", "PeriodError", "parse_period"]

MAX_MONTHS = 120
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(DomainError):
    """A period the dashboard refuses (400), said in Vietnamese."""


@dataclass(frozen=True)
class Period:
    """Whole months ``first`` .. ``last`` (both the first day of their month), in the agency's
    time zone; ``start``/``end`` are the UTC bounds the database compares with (UTC,
    aware), ``end`` excluded."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    @property
    def months(self) -> list[str]:
        """``YYYY-MM`` of every month of the period, in order."""
        out, y, m = [], self.first.year, self.first.month
        while (y, m) <= (self.last.year, self.last.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def start(self) -> dt.datetime:
        return _utc(self.first, self.tz)

    @property
    def end(self) -> dt.datetime:
        nxt = dt.date(self.last.year + (self.last.month == 12), self.last.month % 12 + 1, 1)
        return _utc(nxt, self.tz)

    @property
    def offset(self) -> dt.timedelta:
        """The zone's offset from UTC (Vietnam keeps no summer time: one offset all year)."""
        return self.tz.utcoffset(dt.datetime.combine(self.first, dt.time()))

    @property
    def label(self) -> str:
        return f"từ tháng {self.first:%m/%Y} đến tháng {self.last:%m/%Y}"

    def query(self) -> dict[str, str]:
        return {"tu": f"{self.first:%Y-%m}", "den": f"{self.last:%Y-%m}"}


def _utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return local.astimezone(dt.UTC)


def _month(value: str, name: str) -> dt.date:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise PeriodError(f"{name} «{value[:20]}» không hợp lệ: hãy chọn tháng dạng năm-tháng, "
                          "ví dụ 2026-01.")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_period(first: str | None, last: str | None, *, today: dt.date, tz: ZoneInfo) -> Period:
    """The period from the filter's ``tu``/``den`` (``YYYY-MM``); an empty one: the last 12
    months up to and including this month. Refused: a malformed month, from after to, more
    than ten years."""
    this_month = today.replace(day=1)
    end = _month(last, "Tháng kết thúc") if last else this_month
    if first:
        begin = _month(first, "Tháng bắt đầu")
    else:
        begin = dt.date(end.year - 1 + (end.month == 12), end.month % 12 + 1, 1)
    if begin > end:
        raise PeriodError("Tháng bắt đầu phải trước hoặc trùng tháng kết thúc.")
    months = (end.year - begin.year) * 12 + end.month - begin.month + 1
    if months > MAX_MONTHS:
        raise PeriodError(f"Khoảng thời gian thống kê dài {months} tháng, quá giới hạn 10 năm "
                          f"({MAX_MONTHS} tháng): hãy chọn khoảng ngắn hơn.")
    return Period(begin, end, tz)
