"""The copy's PDF: the original's pages (all, or the chosen ones for trích sao), flattened so
that what the original's signatures showed stays visible as page content, then one added A4
page with the copy form of Decree 30 Appendix I part II (Appendix III form 3.1): under a
solid line, the form ("SAO Y"), the copying agency, the copy's number and notation, place and
date, the competent person's position and name, and the recipients.

qpdf does the page work (it is the tool the upload path already repairs PDFs with); pyHanko's
text boxes draw the form page with Noto Serif (the closest to the Times New Roman of
Appendix I under a free licence), regular, bold, italic and bold italic, subset to Latin and
Vietnamese and shipped in ``assets/`` (subsetting the whole fonts for every page took seconds;
``assets/OFL.txt`` says how they were made). Text is real text (searchable, copyable), never
an image.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import PdfResources
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBox, TextBoxStyle
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

__all__ = ["CopyForm", "PdfToolError", "build_copy", "form_page", "parse_pages"]

A4 = (595.28, 841.89)
# Decree 30 Appendix I: left margin 30-35 mm, right 15-20 mm, top 20-25 mm
LEFT, RIGHT, TOP = 85.0, 595.28 - 57.0, 841.89 - 64.0
ASSETS = Path(__file__).with_name("assets")
QPDF_TIMEOUT = 60


class PdfToolError(Exception):
    """qpdf could not read or rewrite the original."""


@dataclass(frozen=True)
class CopyForm:
    """What the copy form says (Appendix I part II.1)."""

    heading: str
    """"SAO Y", "SAO LỤC" or "TRÍCH SAO"."""
    agency_name: str
    """The copying agency."""
    parent_name: str
    """The agency it belongs to (tên cơ quan chủ quản), "" if none."""
    number_notation: str
    """e.g. ``05/SY-UBND``."""
    place: str
    """Địa danh, e.g. "Cà Mau"."""
    date: dt.date
    signer_title: str
    """Position of the competent person, e.g. "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"."""
    signer_name: str
    recipients: tuple[str, ...]
    original: str
    """A line naming the original (number, date, issuer), printed small under the line."""


@functools.cache
def _font(style: str, size: float) -> GlyphAccumulatorFactory:
    return GlyphAccumulatorFactory(str(ASSETS / f"NotoSerif-Vietnamese-{style}.ttf"),
                                   font_size=size)


_ORIGIN = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN,
    margins=layout.Margins(0, 0, 0, 0), inner_content_scaling=layout.InnerScaling.NO_SCALING,
)


class _Shared(FontEngineFactory):
    """Hands every text box of a page the same engine of a font: one embedded subset per font
    (subsetting a whole Noto Serif once per line made the page take seconds)."""

    def __init__(self, engine: FontEngine) -> None:
        self.engine = engine

    def create_font_engine(self, writer, obj_stream=None) -> FontEngine:
        return self.engine


class _Canvas:
    """Lines of text and rules on one page; each line its own text box, sharing one font
    resource per style."""

    def __init__(self, writer: PdfFileWriter) -> None:
        self.writer = writer
        self.resources = PdfResources()
        self.ops: list[bytes] = []
        self._engines: dict[str, FontEngine] = {}

    def _shared(self, style: str) -> _Shared:
        if style not in self._engines:
            self._engines[style] = _font(style, 13).create_font_engine(self.writer)
        return _Shared(self._engines[style])

    def text(self, content: str, x: float, y: float, *, size: float = 13, style: str = "Regular",
             align: str = "left") -> float:
        """Draw one line with its baseline at ``y``; ``x`` is its left edge, centre or right edge
        by ``align``. Returns its width."""
        box = TextBox(TextBoxStyle(font=self._shared(style), font_size=size, leading=size,
                                   box_layout_rule=_ORIGIN),
                      writer=self.writer, resources=self.resources, font_name=f"F{style}")
        box.content = content
        body = box.render()
        width = box.box.width
        left = {"left": x, "center": x - width / 2, "right": x - width}[align]
        self.ops.append(b"q 1 0 0 1 %g %g cm %s Q" % (left, y, body))
        return width

    def rule(self, x1: float, x2: float, y: float, width: float = 0.6) -> None:
        self.ops.append(b"q 0 0 0 RG %g w %g %g m %g %g l S Q" % (width, x1, y, x2, y))

    def page(self) -> PageObject:
        stream = generic.StreamObject(stream_data=b"\n".join(self.ops))
        return PageObject(self.writer.add_object(stream), (0, 0, *A4),
                          self.resources.as_pdf_object())


def _wrap(text: str, limit: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def form_page(form: CopyForm) -> bytes:
    """A one-page PDF: the copy form at the top of an A4 page, as Appendix III form 3.1."""
    writer = PdfFileWriter()
    c = _Canvas(writer)
    c.rule(LEFT, RIGHT, TOP, 1.0)  # the solid line after the end of the document copied
    y = TOP - 14
    for line in _wrap(form.original, 95):
        c.text(line, LEFT, y, size=9, style="Italic")
        y -= 11
    top = y - 14
    left_cx, right_cx = LEFT + 100, RIGHT - 115
    # left column: agency (and its parent), short rule, number
    y = top
    for line in _wrap(form.parent_name.upper(), 34) if form.parent_name else []:
        c.text(line, left_cx, y, size=12, align="center")
        y -= 15
    for line in _wrap(form.agency_name.upper(), 28):
        c.text(line, left_cx, y, size=12, style="Bold", align="center")
        y -= 15
    c.rule(left_cx - 30, left_cx + 30, y + 9)
    y -= 10
    c.text(f"Số: {form.number_notation}", left_cx, y, size=13, align="center")
    bottom_left = y
    # right column: the form of copy, place and date
    c.text(form.heading, right_cx, top, size=14, style="Bold", align="center")
    date = form.date
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    c.text(f"{form.place}, ngày {date.day:02d} tháng {month} năm {date.year}", right_cx, top - 30,
           size=13, style="Italic", align="center")
    y = min(bottom_left, top - 30) - 36
    # recipients (left) and the competent person (right)
    block = y
    c.text("Nơi nhận:", LEFT, y, size=12, style="BoldItalic")
    y -= 14
    for recipient in (*form.recipients, "Lưu: VT."):
        for i, line in enumerate(_wrap(recipient, 40)):
            c.text(("- " if i == 0 else "  ") + line + (";" if recipient != "Lưu: VT." and
                   i == len(_wrap(recipient, 40)) - 1 else ""), LEFT, y, size=11)
            y -= 13
    y = block
    for line in form.signer_title.upper().split("\n"):
        for part in _wrap(line, 32):
            c.text(part, right_cx, y, size=13, style="Bold", align="center")
            y -= 16
    c.text("(Đã ký số của cơ quan sao văn bản)", right_cx, y - 30, size=11, style="Italic",
           align="center")
    c.text(form.signer_name, right_cx, y - 70, size=13, style="Bold", align="center")
    writer.insert_page(c.page())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def parse_pages(spec: str, page_count: int) -> tuple[int, ...]:
    """Pages typed as "1-2, 4" (1-based) -> zero-based indexes, in order, without repeats.
    ValueError with a Vietnamese message on anything else or a page the document lacks."""
    pages: list[int] = []
    parts = [p.strip() for p in spec.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("Trích sao: hãy ghi các trang cần trích, ví dụ «1-2, 4».")
    for part in parts:
        ends = [e.strip() for e in part.split("-")]
        if len(ends) > 2 or not all(e.isdigit() for e in ends):
            raise ValueError(f"Trích sao: «{part}» không phải là số trang hay khoảng trang "
                             "(ví dụ «1-2, 4»).")
        first, last = int(ends[0]), int(ends[-1])
        if first > last:
            raise ValueError(f"Trích sao: khoảng trang «{part}» phải ghi từ trang nhỏ đến trang "
                             "lớn.")
        for page in (first, last):
            if page < 1 or page > page_count:
                raise ValueError(f"Trích sao: trang {page} nằm ngoài văn bản (văn bản có "
                                 f"{page_count} trang).")
        pages.extend(p - 1 for p in range(first, last + 1) if p - 1 not in pages)
    if len(pages) == page_count:
        raise ValueError("Trích sao là sao một phần văn bản: các trang đã chọn là cả văn bản; "
                         "hãy chọn bớt trang, hoặc chọn «Sao y».")
    return tuple(pages)


def _qpdf(*args: str) -> None:
    try:
        done = subprocess.run(["qpdf", *args], capture_output=True, timeout=QPDF_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PdfToolError(str(exc)) from exc
    if done.returncode not in (0, 3):  # 3: warnings, the output was written
        raise PdfToolError(done.stderr.decode(errors="replace")[:500])


def build_copy(original: bytes, pages: tuple[int, ...] | None, form: bytes) -> bytes:
    """The original's pages (``pages``: zero-based, None = all) with their annotations and
    signature appearances flattened into the page content, then the form page; no form
    fields, signatures or DSS of the original come along (the copy carries the copying
    agency's signature only)."""
    with tempfile.TemporaryDirectory(prefix="ioffice-copy-") as tmp:
        d = Path(tmp)
        (d / "original.pdf").write_bytes(original)
        (d / "form.pdf").write_bytes(form)
        _qpdf("--flatten-annotations=all", "--generate-appearances",
              str(d / "original.pdf"), str(d / "flat.pdf"))
        selection = ",".join(str(p + 1) for p in pages) if pages is not None else "1-z"
        _qpdf("--empty", "--pages", str(d / "flat.pdf"), selection, str(d / "form.pdf"), "1",
              "--", str(d / "copy.pdf"))
        return (d / "copy.pdf").read_bytes()
