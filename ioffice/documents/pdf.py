"""Checking uploaded PDFs, extracting their text, rendering page previews (pypdfium2)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pypdfium2 as pdfium

from ioffice.errors import DomainError

PDF_MAGIC = b"%PDF-"
# the header may follow a little junk (the PDF spec tolerates up to 1024 bytes)
HEADER_WINDOW = 1024
# The names looked for, in one pass over the file (three searches took most of a check's time
# for a 200 KB PDF): /Encrypt (refused), /JavaScript or /JS, /EmbeddedFile(s) (reported).
_FLAGGED = re.compile(rb"/(Encrypt\s|JavaScript\b|JS\b|EmbeddedFiles?\b)")


class InvalidPdf(DomainError):
    status_code = 422


@dataclass(frozen=True)
class PdfFacts:
    page_count: int
    has_javascript: bool
    has_attachments: bool


def inspect_pdf(data: bytes, filename: str = "") -> PdfFacts:
    """Refuse what is not a readable, unencrypted PDF, with a message a clerk understands."""
    name = f" «{filename}»" if filename else ""
    if not data:
        raise InvalidPdf(f"Tệp{name} rỗng.")
    if PDF_MAGIC not in data[:HEADER_WINDOW]:
        raise InvalidPdf(f"Tệp{name} không phải là PDF (dù có thể mang đuôi .pdf). "
                         "Hãy quét hoặc xuất văn bản ra định dạng PDF.")
    flagged = {match[:2] for match in _FLAGGED.findall(data)}  # b"En", b"Ja", b"JS", b"Em"
    if b"En" in flagged:
        raise InvalidPdf(f"Tệp PDF{name} được mã hóa hoặc đặt mật khẩu; hệ thống không lưu được "
                         "tệp này. Hãy gỡ mật khẩu rồi tải lên lại.")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InvalidPdf(f"Tệp PDF{name} được mã hóa hoặc đặt mật khẩu.") from exc
        raise InvalidPdf(f"Tệp PDF{name} bị hỏng, không đọc được ({exc}).") from exc
    try:
        pages = len(pdf)
        if pages == 0:
            raise InvalidPdf(f"Tệp PDF{name} không có trang nào.")
        pdf[0].get_size()
    finally:
        pdf.close()
    return PdfFacts(page_count=pages, has_javascript=bool(flagged & {b"Ja", b"JS"}),
                    has_attachments=b"Em" in flagged)


def extract_text(data: bytes, max_chars: int = 200_000) -> str:
    pdf = pdfium.PdfDocument(data)
    parts: list[str] = []
    size = 0
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
            page.close()
            parts.append(text)
            size += len(text)
            if size >= max_chars:
                break
    finally:
        pdf.close()
    return "\n".join(parts)[:max_chars]


RENDER_VERSION = 2
"""Goes into the name of stored previews and their URLs: a preview rendered by an older
renderer (version 1 drew no form fields, so neither the signatures nor the seal) is not
reused."""


def open_for_render(data: bytes) -> pdfium.PdfDocument:
    """The document with its form environment set up, so that rendering draws the form
    fields' appearances: the signatures and the seal are widgets of signature fields, which
    pdfium leaves out of a page rendered without one."""
    pdf = pdfium.PdfDocument(data)
    pdf.init_forms()
    return pdf


def render_page(page: pdfium.PdfPage, scale: float):
    """The page as a PIL image, annotations and form fields (signatures, seal) included."""
    return page.render(scale=scale, draw_annots=True, may_draw_forms=True).to_pil()


def preview_name(sha256: str, page: int) -> str:
    """The stored preview of page ``page`` (from 1) of blob ``sha256``."""
    return f"previews/{sha256}/page-{page}.r{RENDER_VERSION}.png"


def render_page_png(data: bytes, page_index: int, width_px: int = 1000) -> bytes:
    pdf = open_for_render(data)
    try:
        if not 0 <= page_index < len(pdf):
            raise InvalidPdf("Trang không tồn tại.")
        page = pdf[page_index]
        width_pt = page.get_width()
        image = render_page(page, width_px / width_pt)
        page.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


# --- PDFs that open in a viewer but that a signature cannot be added to -------------------------

EOF_WINDOW = 1024
QPDF_TIMEOUT = 30
MAX_PAGE_TREE_DEPTH = 64
DAMAGED = ("Tệp PDF{name} bị hỏng (bảng tham chiếu chéo sai) và không sửa được, nên không ký số "
           "được. Hãy xuất lại PDF từ trình soạn thảo (hoặc tải lên bản .docx) rồi thử lại.")
TRUNCATED = ("Tệp PDF{name} không đầy đủ (bị cắt cụt khi tải hoặc sao chép: thiếu phần cuối "
             "tệp), có thể đã mất nội dung. Hãy lấy lại tệp gốc hoặc xuất lại PDF rồi thử lại.")


@dataclass(frozen=True)
class Signable:
    data: bytes
    """The PDF as uploaded, or repaired."""
    repaired: bool
    """Whether qpdf rewrote it (its cross-reference table was wrong)."""


def _pyhanko_reads(data: bytes) -> bool:
    """Whether pyHanko, which adds the signatures, reads the file's structure: the trailer,
    the cross-reference table and every page of the page tree. pdfium (the upload's first
    check) silently rebuilds a broken table; pyHanko does not, so such a file passes upload
    and then fails at the signature."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    def walk(node, depth: int) -> None:
        if depth > MAX_PAGE_TREE_DEPTH:
            raise ValueError("page tree too deep")
        for kid in node.get("/Kids", ()):
            kid = kid.get_object()
            if kid.get("/Type") == "/Pages":
                walk(kid, depth + 1)

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        walk(reader.root["/Pages"].get_object(), 0)
    except (PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False
    return True


def _qpdf_rewrite(data: bytes) -> bytes | None:
    """qpdf's rewrite of a damaged file (it rebuilds the cross-reference table), or None if
    qpdf is missing or gave up."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    qpdf = shutil.which("qpdf")
    if qpdf is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ioffice-qpdf-") as tmp:
        source, target = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        source.write_bytes(data)
        try:
            done = subprocess.run([qpdf, str(source), str(target)], capture_output=True,
                                  timeout=QPDF_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return None
        # 0: fine, 3: "succeeded with warnings" (the repair), 2: failed
        if done.returncode not in (0, 3) or not target.exists():
            return None
        return target.read_bytes()


def make_signable(data: bytes, filename: str = "") -> Signable:
    """``data`` if a signature can be added to it; else repaired by qpdf when only its
    cross-reference table is wrong; else :class:`InvalidPdf` with what to do. A file whose end
    is missing (truncated) is refused, not repaired: what was cut may be content."""
    name = f" «{filename}»" if filename else ""
    if _pyhanko_reads(data):
        return Signable(data, False)
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise InvalidPdf(TRUNCATED.format(name=name))
    repaired = _qpdf_rewrite(data)
    if repaired is None or not _pyhanko_reads(repaired):
        raise InvalidPdf(DAMAGED.format(name=name))
    return Signable(repaired, True)
