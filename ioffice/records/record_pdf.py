"""The hand-over record's PDF in the layout of Decree 30 Appendix V: page 1 the record
(Biên bản giao nhận hồ sơ, tài liệu, form V) with its two-column heading and the two sides'
titles over their signature boxes; the next pages the submission list (Mục lục hồ sơ, tài
liệu nộp lưu, form III) as a ruled table of seven columns. Drawn by
:class:`ioffice.documents.pdf_canvas.Canvas` (Noto Serif, real text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ioffice.documents.pdf_canvas import LEFT, RIGHT, TOP, Canvas, vn_date, wrap
from signing.appearance import Box

__all__ = ["DossierLine", "RecordText", "in_words", "render"]

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")


def _hundreds(n: int, full: bool) -> list[str]:
    """0 < n < 1000; ``full``: a group after a higher one (reads «không trăm», «linh»)."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if h or full:
        words += [_DIGITS[h], "trăm"]
    if t == 0:
        if u and (h or full):
            words.append("linh")
    elif t == 1:
        words.append("mười")
    else:
        words += [_DIGITS[t], "mươi"]
    if u == 1 and t > 1:
        words.append("mốt")
    elif u == 5 and t > 0:
        words.append("lăm")
    elif u == 4 and t > 1:
        words.append("tư")
    elif u:
        words.append(_DIGITS[u])
    return words


def in_words(n: int) -> str:
    """A count written in Vietnamese words, as forms ask («Viết bằng chữ»): 21 -> «Hai mươi
    mốt», 105 -> «Một trăm linh năm», 1015 -> «Một nghìn không trăm mười lăm»."""
    if n < 0 or n >= 10**9:
        raise ValueError(n)
    if n == 0:
        return "Không"
    words: list[str] = []
    for value, unit in ((n // 10**6 % 1000, "triệu"), (n // 1000 % 1000, "nghìn"),
                        (n % 1000, "")):
        if value:
            words += _hundreds(value, full=bool(words)) + ([unit] if unit else [])
    text = " ".join(words)
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class DossierLine:
    """One row of the submission list."""

    symbol: str
    title: str
    span: str
    retention: str
    pages: str
    note: str = ""


@dataclass(frozen=True)
class RecordText:
    """What the record says."""

    number: int
    parent_name: str
    agency_name: str
    place: str
    date: dt.date
    years: str
    keeper_name: str
    keeper_title: str
    first: dt.date
    last: dt.date
    files: int
    dossiers: tuple[DossierLine, ...]


def _name_lines(name: str) -> list[str]:
    """An agency's name in capitals for the left column: one line if it fits, else broken
    where the place begins («ỦY BAN NHÂN DÂN» / «TỈNH CÀ MAU»)."""
    upper = name.upper()
    return [upper] if len(upper) <= 24 else wrap(upper, 16)


def _heading(c: Canvas, record: RecordText, top: float) -> float:
    """The two columns: agencies (left), the national motto and the place and date (right).
    Returns the baseline below them."""
    left_cx, right_cx = LEFT + 75, RIGHT - 125
    y = top
    for line in _name_lines(record.parent_name) if record.parent_name else []:
        c.text(line, left_cx, y, size=12, align="center")
        y -= 15
    for line in _name_lines(record.agency_name):
        c.text(line, left_cx, y, size=12, style="Bold", align="center")
        y -= 15
    c.rule(left_cx - 30, left_cx + 30, y + 6)
    c.text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_cx, top, size=12, style="Bold",
           align="center")
    width = c.text("Độc lập - Tự do - Hạnh phúc", right_cx, top - 16, size=12, style="Bold",
                   align="center")
    c.rule(right_cx - width / 2, right_cx + width / 2, top - 20)
    c.text(vn_date(record.place, record.date), right_cx, top - 40, size=13, style="Italic",
           align="center")
    return min(y, top - 40) - 34


def _paragraph(c: Canvas, text: str, y: float, *, limit: int = 70, indent: str = "",
               style: str = "Regular", size: float = 13) -> float:
    for i, line in enumerate(wrap(text, limit)):
        c.text(("" if i == 0 else indent) + line, LEFT, y, size=size, style=style)
        y -= size + 5
    return y


def _record_page(c: Canvas, record: RecordText, keeper_box: Box, archive_box: Box) -> None:
    y = _heading(c, record, TOP)
    middle = (LEFT + RIGHT) / 2
    c.text("BIÊN BẢN", middle, y, size=14, style="Bold", align="center")
    c.text("Giao nhận hồ sơ, tài liệu", middle, y - 18, size=14, style="Bold", align="center")
    c.text(f"(Biên bản số {record.number})", middle, y - 36, size=12, style="Italic",
           align="center")
    y -= 64
    y = _paragraph(c, "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ "
                      "về công tác văn thư;", y)
    y = _paragraph(c, f"Căn cứ Danh mục hồ sơ năm {record.years};", y)
    y = _paragraph(c, "Chúng tôi gồm:", y)
    y = _paragraph(c, f"BÊN GIAO: {record.keeper_name}", y, style="Bold")
    y = _paragraph(c, f"Ông (bà): {record.keeper_name}. Chức vụ công tác: {record.keeper_title}",
                   y, indent="    ")
    y = _paragraph(c, "BÊN NHẬN: Lưu trữ cơ quan", y, style="Bold")
    y = _paragraph(c, "Ông (bà), chức vụ công tác: người nhận ký số dưới đây.", y)
    y = _paragraph(c, "Thống nhất lập biên bản giao nhận tài liệu với những nội dung như sau:", y)
    y = _paragraph(c, f"1. Tên khối tài liệu giao nộp: hồ sơ điện tử do {record.keeper_name} "
                      "lập và giữ.", y, indent="    ")
    y = _paragraph(c, f"2. Thời gian của hồ sơ, tài liệu: {record.first:%d/%m/%Y} – "
                      f"{record.last:%d/%m/%Y}.", y, indent="    ")
    y = _paragraph(c, "3. Số lượng tài liệu: đối với hồ sơ, tài liệu điện tử: tổng số hồ sơ: "
                      f"{len(record.dossiers)}; tổng số tệp tin trong hồ sơ: {record.files}.",
                   y, indent="    ")
    y = _paragraph(c, "4. Tình trạng tài liệu giao nộp: hồ sơ đã kết thúc, đủ thành phần.", y,
                   indent="    ")
    y = _paragraph(c, "5. Mục lục hồ sơ, tài liệu nộp lưu kèm theo (trang sau).", y)
    y = _paragraph(c, "Biên bản này được lập trên Hệ thống, mỗi bên ký số một chữ ký; bên giao "
                      "và bên nhận cùng giữ bản điện tử này./.", y, style="Italic")
    # the sides' titles just above their signature boxes (the stamps draw post and name)
    over = max(keeper_box.y2, archive_box.y2) + 12
    for box, side in ((keeper_box, "ĐẠI DIỆN BÊN GIAO"), (archive_box, "ĐẠI DIỆN BÊN NHẬN")):
        cx = (box.x1 + box.x2) / 2
        c.text(side, cx, over + 16, size=13, style="Bold", align="center")
        c.text("(Ký và ghi rõ họ và tên)", cx, over, size=12, style="Italic", align="center")
    if y < over + 36:
        raise ValueError("the record's text reaches the signature boxes")


# the submission list's columns: heading, width (points), characters per line in 10 pt
_COLUMNS = (("Số TT", 30, 5), ("Số, ký hiệu hồ sơ", 64, 12), ("Tiêu đề hồ sơ", 150, 30),
            ("Thời gian tài liệu", 70, 13), ("Thời hạn bảo quản", 55, 10),
            ("Số tờ/ Số trang", 38, 6), ("Ghi chú", 46, 8))
_BOTTOM = 70.0


Columns = tuple[tuple[str, float, int], ...]


def _table_head(c: Canvas, y: float, columns: Columns = _COLUMNS) -> float:
    """The columns' headings and their numbers (1), (2), …; returns the top of the first row."""
    heads = [wrap(name, chars) for name, _, chars in columns]
    height = 12 * max(len(h) for h in heads) + 8
    rows = [(y, y - height), (y - height, y - height - 16)]
    x = LEFT
    for i, ((_, width, _), lines) in enumerate(zip(columns, heads, strict=True)):
        for j, line in enumerate(lines):
            c.text(line, x + width / 2, y - 12 - 12 * j, size=10, style="Bold", align="center")
        c.text(f"({i + 1})", x + width / 2, rows[1][0] - 12, size=10, style="Italic",
               align="center")
        x += width
    _grid(c, y, y - height, columns)
    _grid(c, y - height, y - height - 16, columns)
    return y - height - 16


def _grid(c: Canvas, top: float, bottom: float, columns: Columns = _COLUMNS) -> None:
    x = LEFT
    c.rule(LEFT, RIGHT, top)
    c.rule(LEFT, RIGHT, bottom)
    for _, width, _ in columns:
        c.line(x, top, x, bottom)
        x += width
    c.line(RIGHT, top, RIGHT, bottom)


def table(c: Canvas, y: float, columns: Columns, rows: list[tuple[str, ...]]) -> float:
    """A ruled table from ``y`` down: its heading, then each row (cells wrapped to their
    column), over as many pages as needed with the heading repeated. Returns the bottom."""
    y = _table_head(c, y, columns)
    for values in rows:
        cells = [wrap(v, chars) for v, (_, _, chars) in zip(values, columns, strict=True)]
        height = 12 * max(len(cell) for cell in cells) + 6
        if y - height < _BOTTOM:
            c.next_page()
            y = _table_head(c, TOP, columns)
        x = LEFT
        for (_, width, _), cell in zip(columns, cells, strict=True):
            for j, line in enumerate(cell):
                if line:
                    c.text(line, x + 3, y - 12 - 12 * j, size=10)
            x += width
        _grid(c, y, y - height, columns)
        y -= height
    return y


def _list_pages(c: Canvas, record: RecordText) -> None:
    middle = (LEFT + RIGHT) / 2

    def title() -> float:
        c.text("MỤC LỤC HỒ SƠ, TÀI LIỆU NỘP LƯU", middle, TOP, size=14, style="Bold",
               align="center")
        y = TOP - 18
        for line in wrap(record.agency_name, 60):
            c.text(line, middle, y, size=13, style="Bold", align="center")
            y -= 17
        c.text(f"Năm {record.years}", middle, y, size=13, style="Bold", align="center")
        return y - 24

    y = title()
    count = len(record.dossiers)
    y = _paragraph(c, f"Mục lục này gồm: {count} hồ sơ (đơn vị bảo quản). Viết bằng chữ: "
                      f"{in_words(count)} hồ sơ (đơn vị bảo quản).", y, size=12)
    y = table(c, y - 4, _COLUMNS, [
        (str(i), d.symbol, d.title, d.span, d.retention, d.pages, d.note)
        for i, d in enumerate(record.dossiers, start=1)])
    if y - 120 < _BOTTOM:
        c.next_page()
        y = TOP
    right_cx = RIGHT - 120
    c.text(vn_date(record.place, record.date), right_cx, y - 24, size=13, style="Italic",
           align="center")
    c.text("Người lập", right_cx, y - 42, size=13, style="Bold", align="center")
    c.text("(ký số trên biên bản giao nhận)", right_cx, y - 58, size=11, style="Italic",
           align="center")
    y -= 80
    for line in wrap(f"{record.keeper_name}, {record.keeper_title}", 34):
        c.text(line, right_cx, y, size=12, align="center")
        y -= 15


def render(record: RecordText, keeper_box: Box, archive_box: Box) -> bytes:
    """The record (page 1) and the submission list (the next pages) as one PDF."""
    c = Canvas()
    _record_page(c, record, keeper_box, archive_box)
    c.next_page()
    _list_pages(c, record)
    return c.pdf()
