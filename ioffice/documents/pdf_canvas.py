"""Pages the app writes itself in the layout of Decree 30's forms (a copy's form page, the
hand-over record and its submission list): lines of real text (searchable, copyable) placed
on A4, rules and table grids, in Noto Serif (the closest to the Times New Roman of Appendix I
under a free licence), regular, bold, italic and bold italic, subset to Latin and Vietnamese
and shipped in ``assets/`` (``assets/OFL.txt`` says how they were made). pyHanko's text boxes
draw each line; every line of a document shares one embedded subset per font style
(subsetting a whole Noto Serif once per line made a page take seconds)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import PdfResources
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.text import TextBox, TextBoxStyle
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

__all__ = ["A4", "LEFT", "RIGHT", "TOP", "Canvas", "vn_date", "wrap"]

A4 = (595.28, 841.89)
# Decree 30 Appendix I: left margin 30-35 mm, right 15-20 mm, top 20-25 mm
LEFT, RIGHT, TOP = 85.0, 595.28 - 57.0, 841.89 - 64.0
ASSETS = Path(__file__).with_name("assets")


@functools.cache
def _font(style: str, size: float) -> GlyphAccumulatorFactory:
    return GlyphAccumulatorFactory(str(ASSETS / f"NotoSerif-Vietnamese-{style}.ttf"),
                                   font_size=size)


_ORIGIN = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN,
    margins=layout.Margins(0, 0, 0, 0), inner_content_scaling=layout.InnerScaling.NO_SCALING,
)


class _Shared(FontEngineFactory):
    """Hands every text box the same engine of a font: one embedded subset per font."""

    def __init__(self, engine: FontEngine) -> None:
        self.engine = engine

    def create_font_engine(self, writer, obj_stream=None) -> FontEngine:
        return self.engine


class Canvas:
    """Lines of text and rules on A4 pages of one PDF; each line its own text box, all pages
    sharing one font resource per style. Draw, :meth:`next_page`, draw, :meth:`pdf`."""

    def __init__(self) -> None:
        self.writer = PdfFileWriter()
        self.resources = PdfResources()
        self.ops: list[bytes] = []
        self._engines: dict[str, FontEngine] = {}
        self._pages: list[PageObject] = []

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

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.6) -> None:
        self.ops.append(b"q 0 0 0 RG %g w %g %g m %g %g l S Q" % (width, x1, y1, x2, y2))

    def next_page(self) -> None:
        """End the page drawn so far; what follows goes on a new one."""
        stream = generic.StreamObject(stream_data=b"\n".join(self.ops))
        self._pages.append(PageObject(self.writer.add_object(stream), (0, 0, *A4),
                                      self.resources.as_pdf_object()))
        self.ops = []

    def pdf(self) -> bytes:
        """The document: every page ended, the last one included."""
        if self.ops or not self._pages:
            self.next_page()
        for page in self._pages:
            self.writer.insert_page(page)
        out = io.BytesIO()
        self.writer.write(out)
        return out.getvalue()


def wrap(text: str, limit: int) -> list[str]:
    """Words into lines of at most ``limit`` characters (a longer word alone on its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def vn_date(place: str, date) -> str:
    """«Cà Mau, ngày 05 tháng 3 năm 2026»: day with two digits, months 1 and 2 with two
    (Decree 30 Appendix I: «tháng 01», «tháng 02»), the others as they are."""
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"{place}, ngày {date.day:02d} tháng {month} năm {date.year}"
