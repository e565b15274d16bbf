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


def render_page_png(data: bytes, page_index: int, width_px: int = 1000) -> bytes:
    pdf = pdfium.PdfDocument(data)
    try:
        if not 0 <= page_index < len(pdf):
            raise InvalidPdf("Trang không tồn tại.")
        page = pdf[page_index]
        width_pt = page.get_width()
        image = page.render(scale=width_px / width_pt).to_pil()
        page.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
