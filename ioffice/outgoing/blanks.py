"""Where a signed draft left the number and the date of issue blank, and the text that fills
them (Decree 30, Appendix I, items 3 and 4).

A draft is signed before the clerk numbers it, so it reads "Số:      /QĐ-UBND" and
"Hà Nội, ngày    tháng    năm 2026". The clerk's number and the date go into those blanks in
the agency signature's own revision (:mod:`signing.marks`). The blanks are found in the
first pages' text with pypdfium2's character boxes: "Số:" followed, on the same line, by
only spaces, dots or underscores and then "/"; "ngày", "tháng" and "năm" with gaps between
them and no figures in the gaps.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from signing import Box, TextMark

__all__ = ["Blanks", "day_text", "find_blanks", "marks_for", "month_text"]

PAGES_SEARCHED = 2
"""The number and date are in the header of the first page; a cover page may precede it."""
_BLANK = r"[ \t.…_\u00a0]*"
# a PDF's text may hold a letter and its marks as one character or as several
_NUMBER = re.compile(r"S(?:ố|ô\u0301|o\u0302\u0301)\s*:(" + _BLANK + r")/")
_DATE = re.compile(r"ng(?:à|a\u0300)y(" + _BLANK + r")th(?:á|a\u0301)ng(" + _BLANK
                   + r")n(?:ă|a\u0306)m(" + _BLANK + r")(\d{4})?")
DIGIT_EM = 0.6
"""A figure's width in ems, about (Times, Arial, Noto Sans)."""


@dataclass(frozen=True)
class Blanks:
    """The blanks found (None: not found)."""

    number: Box | None
    """Between "Số:" and "/"."""
    day: Box | None
    """Between "ngày" and "tháng"."""
    month: Box | None
    """Between "tháng" and "năm"."""
    year: Box | None
    """After "năm", when no year is printed."""
    font_size: int
    """The size of the text around the blanks, in points."""

    @property
    def date(self) -> bool:
        return self.day is not None and self.month is not None

    @property
    def complete(self) -> bool:
        return self.number is not None and self.date


@dataclass(frozen=True)
class _Char:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    size: float
    baseline: float


def _chars(page: pdfium.PdfPage) -> list[_Char]:
    textpage = page.get_textpage()
    try:
        out = []
        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            left, bottom, right, top = textpage.get_charbox(i)
            size = pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, x, y)
            out.append(_Char(chr(code) if code else " ", left, bottom, right, top, size,
                             y.value))
        return out
    finally:
        textpage.close()


def _gap(page: int, before: _Char, after: _Char, line: _Char, min_width: float) -> Box | None:
    """The empty space between two characters on one line, if wide enough."""
    x1, x2 = before.right + 1.5, after.left - 0.5
    if x2 - x1 < min_width or abs(before.bottom - after.bottom) > line.top - line.bottom:
        return None
    return _band(page, x1, x2, line)


def _band(page: int, x1: float, x2: float, line: _Char) -> Box:
    """From ``x1`` to ``x2``, the band of ``line``'s text from its descenders to its accents,
    short of the lines above and below (spaced at least 1.15 em)."""
    em = line.size or 13
    return Box(page, x1, line.baseline - 0.25 * em, x2, line.baseline + 0.85 * em)


def _font_size(chars: list[_Char], index: int) -> int:
    return max(8, min(16, round(chars[index].size or 13)))


def find_blanks(pdf: bytes) -> Blanks:
    """The blanks of the first pages of ``pdf``, the first of each kind."""
    number = day = month = year = None
    size = 13
    try:
        doc = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError:  # checked at upload; if not readable now, there is no place
        return Blanks(None, None, None, None, size)
    try:
        for index in range(min(PAGES_SEARCHED, len(doc))):
            chars = _chars(doc[index])
            text = "".join(c.text for c in chars)
            if number is None and (m := _NUMBER.search(text)):
                colon, slash = m.start(1) - 1, m.end(1)
                size = _font_size(chars, m.start())  # the "S" of "Số"
                number = _gap(index, chars[colon], chars[slash], chars[slash],
                              2 * DIGIT_EM * size)
            if day is None and (m := _DATE.search(text)):
                s = _font_size(chars, m.end(1) + 1)  # the "h" of "tháng"
                need = 2 * DIGIT_EM * s
                day = _gap(index, chars[m.start(1) - 1], chars[m.end(1)], chars[m.end(1)], need)
                month = _gap(index, chars[m.start(2) - 1], chars[m.end(2)], chars[m.end(2)],
                             need)
                if m.group(4) is None:  # "năm ...": the year too, after "năm"
                    last = chars[m.start(3) - 1]
                    year = _band(index, last.right + 2, last.right + 2 + 3 * s, last)
                if day is None or month is None:
                    day = month = year = None
    finally:
        doc.close()
    return Blanks(number, day, month, year, size)


def day_text(day: dt.date) -> str:
    """Days below 10 with a 0 before them (Appendix I, item 4)."""
    return f"{day.day:02d}"


def month_text(day: dt.date) -> str:
    """January and February with a 0 before them, not the others (Appendix I, item 4)."""
    return f"{day.month:02d}" if day.month < 3 else str(day.month)


def _mark(name: str, box: Box, text: str, align: str, description: str) -> TextMark:
    em = box.height / 1.1  # see _band
    return TextMark(name, box, text, max(8, min(16, round(em))), align, description,
                    baseline=box.y1 + 0.25 * em)


def marks_for(blanks: Blanks, number_text: str, issued: dt.date) -> tuple[TextMark, ...]:
    """The text for each blank found."""
    marks = []
    if blanks.number is not None:
        marks.append(_mark("SoVanBan", blanks.number, number_text, "right", "Số văn bản"))
    if blanks.day is not None and blanks.month is not None:
        marks.append(_mark("NgayBanHanh", blanks.day, day_text(issued), "center",
                           "Ngày ban hành"))
        marks.append(_mark("ThangBanHanh", blanks.month, month_text(issued), "center",
                           "Tháng ban hành"))
        if blanks.year is not None:
            marks.append(_mark("NamBanHanh", blanks.year, str(issued.year), "left",
                               "Năm ban hành"))
    return tuple(marks)
