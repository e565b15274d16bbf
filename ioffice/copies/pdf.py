"""The copy's PDF: the original's pages (all, or the chosen ones for trích sao), flattened so
that what the original's signatures showed stays visible as page content, then one added A4
page with the copy form of Decree 30 Appendix I part II (Appendix III form 3.1): under a
solid line, the form ("SAO Y"), the copying agency, the copy's number and notation, place and
date, the competent person's position and name, and the recipients.

qpdf does the page work (it is the tool the upload path already repairs PDFs with); the form
page is drawn by :class:`ioffice.documents.pdf_canvas.Canvas` (Noto Serif, real text,
searchable and copyable, never an image).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ioffice.documents.pdf_canvas import LEFT, RIGHT, TOP, Canvas, vn_date
from ioffice.documents.pdf_canvas import wrap as _wrap

__all__ = ["CopyForm", "PdfToolError", "build_copy", "form_page", "parse_pages"]

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


def form_page(form: CopyForm) -> bytes:
    """A one-page PDF: the copy form at the top of an A4 page, as Appendix III form 3.1."""
    c = Canvas()
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
    c.text(vn_date(form.place, form.date), right_cx, top - 30, size=13, style="Italic",
           align="center")
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
    return c.pdf()


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
