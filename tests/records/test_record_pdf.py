"""The hand-over record's PDF in the layout of Decree 30 Appendix V: the record (form V) on
page 1 with its heading columns and the sides' titles over the signature boxes, left free for
the stamps; the submission list (form III) as a table on the next pages, the count written in
words; every line real Vietnamese text."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from ioffice.records import record_pdf
from ioffice.records.handover import ARCHIVE_BOX, KEEPER_BOX
from ioffice.records.record_pdf import DossierLine, RecordText, in_words


def _record(dossiers: int) -> RecordText:
    lines = tuple(DossierLine(f"{i:02d}.TCCB", f"Hồ sơ tuyển dụng công chức, viên chức năm 2026 "
                              f"đợt {i} của Sở Nội vụ", "01/02/2026 – 30/11/2026",
                              "Vĩnh viễn" if i % 3 == 0 else "10 năm", str(12 * i))
                  for i in range(1, dossiers + 1))
    return RecordText(7, "Ủy ban nhân dân tỉnh Cà Mau", "Ủy ban nhân dân xã Khánh An", "Khánh An",
                      dt.date(2026, 2, 4), "2026", "Nguyễn Thị Hồng Nhung", "Chuyên viên",
                      dt.date(2026, 2, 1), dt.date(2026, 11, 30), 57, lines)


def _text(pdf: Path, page: int, last: int | None = None) -> str:
    """Pages ``page`` to ``last`` (default: that page alone; 0: to the end)."""
    last = page if last is None else last
    return subprocess.run(["pdftotext", "-layout", "-f", str(page),
                           *(["-l", str(last)] if last else []), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(x1, y1, x2, y2) in PDF points from the bottom left, and the word."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))
    return [(float(x1), height - float(y2), float(x2), height - float(y1), w) for x1, y1, x2, y2, w
            in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">([^<]*)</word>', html)]


@pytest.mark.parametrize("n, words", [
    (1, "Một"), (10, "Mười"), (15, "Mười lăm"), (21, "Hai mươi mốt"), (24, "Hai mươi tư"),
    (30, "Ba mươi"), (105, "Một trăm linh năm"), (214, "Hai trăm mười bốn"),
    (1015, "Một nghìn không trăm mười lăm"), (2000, "Hai nghìn"), (1_000_000, "Một triệu"),
])
def test_counts_are_written_in_words(n: int, words: str) -> None:
    assert in_words(n) == words


def test_the_record_and_its_list_read_as_the_forms(tmp_path: Path) -> None:
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(record_pdf.render(_record(30), KEEPER_BOX, ARCHIVE_BOX))
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    first = " ".join(_text(pdf, 1).split())
    for expected in ("ỦY BAN NHÂN DÂN", "TỈNH CÀ MAU", "XÃ KHÁNH AN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Khánh An, ngày 04 tháng 02 năm 2026",
                     "BIÊN BẢN", "Giao nhận hồ sơ, tài liệu", "Căn cứ Nghị định số 30/2020/NĐ-CP",
                     "BÊN GIAO: Nguyễn Thị Hồng Nhung", "BÊN NHẬN: Lưu trữ cơ quan",
                     "tổng số hồ sơ: 30; tổng số tệp tin trong hồ sơ: 57",
                     "ĐẠI DIỆN BÊN GIAO", "ĐẠI DIỆN BÊN NHẬN"):
        assert expected in first, expected
    # nothing is written where the two signatures' stamps go
    for x1, y1, x2, y2, word in _words(pdf, 1):
        for box in (KEEPER_BOX, ARCHIVE_BOX):
            assert x2 <= box.x1 or x1 >= box.x2 or y2 <= box.y1 or y1 >= box.y2, (word, box)
    second = " ".join(_text(pdf, 2).split())
    assert "MỤC LỤC HỒ SƠ, TÀI LIỆU NỘP LƯU" in second
    assert "Mục lục này gồm: 30 hồ sơ (đơn vị bảo quản). Viết bằng chữ: Ba mươi hồ sơ" in second
    assert "Thời hạn" in second and "bảo quản" in second and "(7)" in second
    every = " ".join(_text(pdf, 2, 0).split())
    for i in range(1, 31):  # every dossier once, the table running over the pages
        assert every.count(f"{i:02d}.TCCB") == 1, i
    assert "Người lập" in every and "Vĩnh viễn" in every


def test_a_record_too_long_for_its_page_is_refused_not_overprinted() -> None:
    record = _record(1)
    long_name = "Nguyễn Thị Hồng Nhung " * 30
    with pytest.raises(ValueError, match="signature boxes"):
        record_pdf.render(RecordText(**{**record.__dict__, "keeper_title": long_name}),
                          KEEPER_BOX, ARCHIVE_BOX)
