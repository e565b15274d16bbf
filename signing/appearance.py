"""Visible signature appearances as Vietnamese administrative documents require them.

- personal signature: position title, the signature image (blue), full name;
- agency signature: the red seal overlapping the left third of the personal signature, with
  the number and notation and the signing time (Vietnam time, +07:00, written
  ``Thời gian ký: 14:05:09 03/12/2026``);
- agency signature on an attachment: no image, top right of page 1.

Text is drawn with a Noto Sans subset shipped in ``assets/`` (the default Courier turns
Vietnamese into garbage; DejaVu renders with gaps). The subset is small, so pyHanko's
per-signature font subsetting is cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.stamp import TextStampStyle

__all__ = [
    "FONT_PATH",
    "AgencyStamp",
    "AttachmentStamp",
    "Box",
    "PersonalStamp",
    "Stamp",
    "demo_seal_png",
    "demo_signature_png",
]

FONT_PATH = Path(__file__).with_name("assets") / "NotoSans-Vietnamese.ttf"
"""Noto Sans Regular subset to Latin + Vietnamese (SIL OFL 1.1, see assets/OFL.txt)."""

VN_TZ = dt.timezone(dt.timedelta(hours=7))


@dataclass(frozen=True)
class Box:
    """A rectangle on a page, in PDF points from the bottom-left corner."""

    page: int
    """Zero-based page index."""
    x1: float
    """Left edge."""
    y1: float
    """Bottom edge."""
    x2: float
    """Right edge."""
    y2: float
    """Top edge."""

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass(frozen=True)
class PersonalStamp:
    """The competent person's visible signature."""

    box: Box
    """Where to draw it (chosen by the caller)."""
    position_title: str
    """Chức vụ, e.g. "CHỦ TỊCH"."""
    full_name: str
    """Họ và tên, e.g. "Nguyễn Văn An"."""
    signature_png: bytes | None = None
    """Transparent PNG of the handwritten signature; a blue demo image if None."""


@dataclass(frozen=True)
class AgencyStamp:
    """The agency's seal over the left third of the personal signature."""

    personal_box: Box
    """The box of the personal signature it overlaps."""
    number_notation: str
    """Số, ký hiệu, e.g. "45/BC-UBND"."""
    seal_png: bytes | None = None
    """Transparent PNG of the seal; a red demo seal if None."""
    seal_size: float = 96.0
    """Diameter of the seal in points."""

    @property
    def box(self) -> Box:
        """The seal's right edge is at one third of the personal box; text goes under it."""
        pb = self.personal_box
        x2 = pb.x1 + pb.width / 3
        x1 = x2 - self.seal_size
        text_h = 22.0
        cy = (pb.y1 + pb.y2) / 2
        y2 = cy + self.seal_size / 2
        return Box(pb.page, x1 - 12, y2 - self.seal_size - text_h, x2 + 12, y2)


@dataclass(frozen=True)
class AttachmentStamp:
    """The agency signature, without image, at the top right of page 1 of an attachment."""

    agency_name: str
    """Tên cơ quan."""
    number_notation: str
    """Số, ký hiệu of the main document the file is attached to."""
    width: float = 210.0
    """Width of the box, in points."""
    height: float = 46.0
    """Height of the box, in points."""
    margin: float = 14.0
    """Distance from the top and right edges of the page."""

    def box_on(self, page_width: float, page_height: float) -> Box:
        """The box on a page of the given size."""
        return Box(
            0,
            page_width - self.margin - self.width,
            page_height - self.margin - self.height,
            page_width - self.margin,
            page_height - self.margin,
        )


Stamp = PersonalStamp | AgencyStamp | AttachmentStamp


def vn_time(moment: dt.datetime) -> str:
    """Vietnam time (+07:00) as people there write it, time then day/month/year:
    ``09:05:00 04/03/2025``."""
    return f"{moment.astimezone(VN_TZ):%H:%M:%S %d/%m/%Y}"


# --- styles ------------------------------------------------------------------------------------

@functools.cache
def _font(size: int) -> GlyphAccumulatorFactory:
    return GlyphAccumulatorFactory(str(FONT_PATH), font_size=size)


def _text_style(size: int, color: tuple[float, float, float] | None = None) -> TextBoxStyle:
    return TextBoxStyle(font=_font(size), font_size=size, leading=size + 2, text_color=color)


_TOP = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MAX,
    margins=layout.Margins(0, 0, 0, 0),
)
_MID = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins(left=0, right=0, top=16, bottom=16),
)
_BOTTOM = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MIN,
    margins=layout.Margins(0, 0, 0, 0),
)
_SEAL_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MAX,
    margins=layout.Margins(left=12, right=12, top=0, bottom=22),
)
_FILL = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins.uniform(3),
)


@functools.lru_cache(maxsize=32)
def _pil(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def _image(png: bytes) -> PdfImage:
    # PdfImage holds per-writer state: a fresh one per signature over a cached decoded image.
    return PdfImage(_pil(png).copy())


def style_and_params(
    stamp: Stamp | None, moment: dt.datetime
) -> tuple[TextStampStyle | None, dict[str, str]]:
    """The pyHanko stamp style and text parameters for a stamp (None: invisible)."""
    if stamp is None:
        return None, {}
    if isinstance(stamp, PersonalStamp):
        style = TextStampStyle(
            stamp_text="%(title)s\n\n\n\n\n%(name)s",
            text_box_style=_text_style(10),
            inner_content_layout=_FILL,
            background=_image(stamp.signature_png or demo_signature_png()),
            background_layout=_MID,
            background_opacity=1.0,
            border_width=0,
        )
        return style, {"title": stamp.position_title, "name": stamp.full_name}
    if isinstance(stamp, AgencyStamp):
        style = TextStampStyle(
            stamp_text="Số: %(notation)s\nThời gian ký: %(time)s",
            text_box_style=_text_style(7, (0.75, 0.0, 0.0)),
            inner_content_layout=_BOTTOM,
            background=_image(stamp.seal_png or demo_seal_png()),
            background_layout=_SEAL_LAYOUT,
            background_opacity=1.0,
            border_width=0,
        )
        return style, {"notation": stamp.number_notation, "time": vn_time(moment)}
    style = TextStampStyle(
        stamp_text="%(agency)s\nSố: %(notation)s\nThời gian ký: %(time)s",
        text_box_style=_text_style(8, (0.75, 0.0, 0.0)),
        inner_content_layout=_FILL,
        border_width=1,
        border_color=(0.75, 0.0, 0.0),
    )
    return style, {
        "agency": stamp.agency_name, "notation": stamp.number_notation, "time": vn_time(moment),
    }


def field_spec(name: str, stamp: Stamp | None, page_size: tuple[float, float]) -> SigFieldSpec:
    """A new signature field for the stamp (an invisible one at page 1 if None)."""
    if stamp is None:
        return SigFieldSpec(sig_field_name=name)
    box = stamp.box_on(*page_size) if isinstance(stamp, AttachmentStamp) else stamp.box
    return SigFieldSpec(
        sig_field_name=name,
        on_page=box.page,
        box=(int(box.x1), int(box.y1), math.ceil(box.x2), math.ceil(box.y2)),
    )


# --- demo images ---------------------------------------------------------------------------------

@functools.cache
def demo_signature_png() -> bytes:
    """A blue, transparent handwritten-looking signature (demo data, generated)."""
    w, h = 360, 140
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    blue = (20, 40, 170, 255)
    pts = []
    for i in range(300):
        t = i / 300
        x = 30 + 300 * t
        y = 70 + 35 * math.sin(t * 11) * (1 - t * 0.6) + 12 * math.cos(t * 29)
        pts.append((x, y))
    d.line(pts, fill=blue, width=5, joint="curve")
    d.line([(60, 110), (320, 96)], fill=blue, width=4)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


@functools.cache
def demo_seal_png() -> bytes:
    """A red, transparent round seal with a star (demo data, generated)."""
    s = 240
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    red = (210, 20, 20, 235)
    d.ellipse((4, 4, s - 4, s - 4), outline=red, width=10)
    d.ellipse((28, 28, s - 28, s - 28), outline=red, width=4)
    cx = cy = s / 2
    star = []
    for k in range(10):
        r = 52 if k % 2 == 0 else 21
        a = -math.pi / 2 + k * math.pi / 5
        star.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    d.polygon(star, fill=red)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
