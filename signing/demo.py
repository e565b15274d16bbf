"""Demo documents: a small PDF with Vietnamese text (for tests, the CLI and the benchmark)."""

from __future__ import annotations

import io
import os

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.text import TextBox
from pyhanko.pdf_utils.writer import PdfFileWriter

from .appearance import _text_style

__all__ = ["A4", "make_demo_pdf", "make_text_pdf"]

A4 = (595.0, 842.0)

_PAGES = [
    (
        "ỦY BAN NHÂN DÂN TỈNH CÀ MAU\n"
        "Số: 45/BC-UBND\n\n"
        "BÁO CÁO\n"
        "Tình hình triển khai Chính phủ điện tử năm 2025\n\n"
        "Kính gửi: Bộ Nội vụ.\n"
        "Thực hiện Công văn số 1234/BNV-CCHC, Ủy ban nhân dân tỉnh báo cáo như sau:\n"
        "1. Tỷ lệ văn bản điện tử được ký số đạt 98%."
    ),
    (
        "2. Hệ thống quản lý văn bản đã kết nối trục liên thông quốc gia.\n"
        "3. Đề xuất, kiến nghị: không.\n\n"
        "Nơi nhận:\n- Như trên;\n- Lưu: VT, VP."
    ),
]


def make_demo_pdf(pages: int = 2, *, padding_bytes: int = 0) -> bytes:
    """A PDF of ``pages`` A4 pages with Vietnamese text in Noto Sans.

    ``padding_bytes`` adds an unused, incompressible image of that size (to make big files).
    """
    return make_text_pdf([_PAGES[i % len(_PAGES)] for i in range(pages)],
                         padding_bytes=padding_bytes)


def make_text_pdf(texts: list[str], *, padding_bytes: int = 0) -> bytes:
    """A PDF with one A4 page per text, in Noto Sans (extractable, Vietnamese included)."""
    pages = len(texts)
    w = PdfFileWriter(stream_xrefs=False)
    for i in range(pages):
        tb = TextBox(_text_style(12), writer=w)
        tb.content = texts[i]
        body = tb.render()
        ops = b"q 1 0 0 1 60 %d cm %s Q" % (int(A4[1] - 80 - tb.box.height), body)
        resources = tb.resources.as_pdf_object()
        if padding_bytes and i == pages - 1:
            side = max(1, int(padding_bytes**0.5))
            img = generic.StreamObject(
                {
                    pdf_name("/Type"): pdf_name("/XObject"),
                    pdf_name("/Subtype"): pdf_name("/Image"),
                    pdf_name("/Width"): generic.NumberObject(side),
                    pdf_name("/Height"): generic.NumberObject(side),
                    pdf_name("/ColorSpace"): pdf_name("/DeviceGray"),
                    pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                },
                stream_data=os.urandom(side * side),
            )
            resources[pdf_name("/XObject")] = generic.DictionaryObject(
                {pdf_name("/Pad"): w.add_object(img)}
            )
        stream = generic.StreamObject(stream_data=ops)
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(0), generic.NumberObject(0),
                     generic.FloatObject(A4[0]), generic.FloatObject(A4[1])]
                ),
                pdf_name("/Contents"): w.add_object(stream),
                pdf_name("/Resources"): resources,
            }
        )
        w.insert_page(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()
