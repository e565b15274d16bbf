"""Zipped attachments read within limits (rule zipped-attachment): never opened past them."""

from __future__ import annotations

import io
import zipfile

from ioffice.exchange.zipped import ZipLimits, is_zip, read_zip


def make_zip(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n" + b"x" * 100 + b"\n%%EOF\n"


def test_pdfs_are_read_and_everything_listed() -> None:
    data = make_zip({"van-ban/cong-van.pdf": PDF, "anh.png": b"\x89PNG...", "phu-luc.PDF": PDF})
    assert is_zip(data) and not is_zip(PDF)
    listing = read_zip(data)
    assert listing.problem == ""
    assert listing.names == ("van-ban/cong-van.pdf", "anh.png", "phu-luc.PDF")
    assert listing.pdfs == (("van-ban/cong-van.pdf", PDF), ("phu-luc.PDF", PDF))


def test_a_zip_bomb_is_not_opened() -> None:
    listing = read_zip(make_zip({"bom.pdf": bytes(5 * 1024 * 1024)}))
    assert "bom nén" in listing.problem and listing.pdfs == ()


def test_names_that_try_to_be_paths_are_not_opened() -> None:
    for name in ("../../etc/cron.d/x.pdf", "/etc/passwd", "C:\\Windows\\x.pdf", "a/../../b.pdf"):
        listing = read_zip(make_zip({"ok.pdf": PDF, name: PDF}))
        assert "không an toàn" in listing.problem and listing.pdfs == (), name


def test_too_many_entries_or_too_many_bytes_are_not_opened() -> None:
    data = make_zip({f"{i}.pdf": PDF for i in range(5)})
    assert "vượt giới hạn 4" in read_zip(data, ZipLimits(max_entries=4)).problem
    assert "tổng dung lượng" in read_zip(data, ZipLimits(max_total_bytes=len(PDF) * 4)).problem


def test_a_pdf_over_its_limit_is_listed_not_read() -> None:
    listing = read_zip(make_zip({"lon.pdf": PDF, "nho.pdf": b"%PDF"}), ZipLimits(max_pdf_bytes=10))
    assert listing.skipped == ("lon.pdf",) and listing.pdfs == (("nho.pdf", b"%PDF"),)


def test_a_broken_zip_is_not_opened_nor_stored() -> None:
    from ioffice.exchange.zipped import stored_as_received

    broken = b"PK\x03\x04" + b"\x00" * 40
    assert "hỏng" in read_zip(broken).problem
    assert stored_as_received("ho-so.zip", broken) is None  # refused, as a broken PDF is


def test_what_is_stored_as_received_is_judged_by_the_bytes() -> None:
    from ioffice.exchange.zipped import stored_as_received

    archive = make_zip({"a.pdf": PDF})
    ooxml = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    assert stored_as_received("ho-so.zip", archive) == "application/zip"
    assert stored_as_received("ho-so", archive) == "application/zip"
    assert stored_as_received("du-thao.docx", ooxml).endswith("wordprocessingml.document")
    assert stored_as_received("bang.xls", ole2) == "application/vnd.ms-excel"
    assert stored_as_received("cong-van.pdf", PDF) is None
    assert stored_as_received("trang.html", b"<html><script>") is None      # refused as before
    assert stored_as_received("x.docx", b"MZ\x90\x00") is None              # not what it says
