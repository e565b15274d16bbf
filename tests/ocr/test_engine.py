"""OCRmyPDF with Tesseract's Vietnamese model on scans made on purpose (ioffice.ocr.specimen).
Each page takes seconds: few pages, at 200-300 dpi."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ioffice.documents.pdf import extract_text
from ioffice.ocr import engine, specimen
from ioffice.ocr.fields import read_fields

pytestmark = pytest.mark.skipif(engine.problem() is not None, reason="OCR not installed")

SPEC = specimen.Specimen(
    parent="ỦY BAN NHÂN DÂN TỈNH CÀ MAU", issuer_name="SỞ NỘI VỤ", number="12",
    notation="QĐ-SNV", place="Cà Mau", document_date=dt.date(2026, 3, 5), doc_type="quyet_dinh",
    type_title="QUYẾT ĐỊNH", subject="Về việc thành lập Tổ kiểm tra công tác văn thư",
    signer="Trần Thị Bích Ngọc", authority="KT. GIÁM ĐỐC", signer_title="PHÓ GIÁM ĐỐC",
    body=specimen.BODY)


def test_a_clean_scan_gets_a_text_layer_and_its_fields() -> None:
    scan = specimen.to_pdf([specimen.render_page(SPEC, 300)], 300)
    assert extract_text(scan).strip() == ""  # image only
    done: list[int] = []
    out = engine.ocr_pdf(scan, 1, progress=done.append)
    assert done == [1]
    assert "Tổ kiểm tra công tác văn thư" in extract_text(out.pdf)  # searchable copy
    fields = read_fields(out.pages[0])
    assert fields["number"] == "12" and fields["notation"] == "QĐ-SNV"
    assert fields["document_date"] == "2026-03-05"
    assert fields["signer"] == "Trần Thị Bích Ngọc"


def test_pages_upside_down_and_sideways_are_turned_and_progress_counts_each_chunk() -> None:
    page = specimen.render_page(SPEC, 200)
    rng = random.Random(7)
    upside_down = specimen.degrade(page, rng=rng, rotate=180, noise=0.001, jpeg_quality=60)
    sideways = specimen.degrade(page, rng=rng, rotate=90, skew=0.8)
    scan = specimen.to_pdf([upside_down, sideways], 200)
    done: list[int] = []
    out = engine.ocr_pdf(scan, 2, progress=done.append, chunk_pages=1)
    assert done == [1, 2]  # one chunk per page: the job's progress moves after each
    assert len(out.pages) == 2
    for text in out.pages:
        fields = read_fields(text)
        assert (fields["number"], fields["notation"]) == ("12", "QĐ-SNV"), text[:300]
    assert len(extract_text(out.pdf)) > 200  # the joined copy keeps both pages' text


def test_a_broken_scan_fails_with_a_message_for_the_clerk(tmp_path) -> None:
    with pytest.raises(engine.OcrError) as caught:
        engine.ocr_pdf(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", 1)
    assert "Tệp quét bị hỏng" in caught.value.message or "thất bại" in caught.value.message


def test_ocr_missing_on_the_server_says_which_packages(monkeypatch) -> None:
    monkeypatch.setattr(engine, "_ocrmypdf", lambda: None)
    assert "ocrmypdf" in engine.problem() and "tesseract-ocr-vie" in engine.problem()
    with pytest.raises(engine.OcrUnavailable) as caught:
        engine.ocr_pdf(b"%PDF-1.4", 1)
    assert "Văn bản vẫn được vào sổ" in caught.value.message
