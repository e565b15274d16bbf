"""Reading the registration fields from OCR text laid out as Decree 30 Appendix I draws it."""

from __future__ import annotations

from ioffice.ocr.fields import read_fields

# what Tesseract returns for a Decree 30 first page: the header's two columns share lines
DECISION = """ỦY BAN NHÂN DÂN TỈNH CÀ MAU CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM

SỞ THÔNG TIN VÀ TRUYỀN Độc lập - Tự do - Hạnh phúc
THÔNG
Số: 121/QĐ-STTTT Đà Nẵng, ngày 16 tháng 08 năm 2026
QUYẾT ĐỊNH

Về việc thành lập Tổ công tác cải cách hành chính

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;

KT. GIÁM ĐỐC
PHÓ GIÁM ĐỐC

Huỳnh Thanh Tùng
"""

LETTER = """UBND TỈNH CÀ MAU CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ NỘI VỤ Độc lập - Tự do - Hạnh phúc

Số: O5/SNV-VP Cà Mau, ngày 5 tháng 3 năm 2026
V/v nâng bậc lương năm 2026
cho công chức

Kính gửi: Các phòng chuyên môn
"""


def test_a_decision_gives_every_field() -> None:
    assert read_fields(DECISION) == {
        "issuer_name": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "number": "121", "notation": "QĐ-STTTT",
        "document_date": "2026-08-16", "place": "Đà Nẵng", "doc_type": "quyet_dinh",
        "subject": "Về việc thành lập Tổ công tác cải cách hành chính",
        "signer": "Huỳnh Thanh Tùng", "signer_position": "KT. GIÁM ĐỐC, PHÓ GIÁM ĐỐC"}


def test_an_official_letter_gives_its_subject_after_vv_and_digits_misread_as_letters() -> None:
    fields = read_fields(LETTER, last_page="TL. GIÁM ĐỐC\nCHÁNH VĂN PHÒNG\n\nLê Hoàng Phúc\n")
    assert fields["number"] == "05"  # the letter O among the digits
    assert fields["notation"] == "SNV-VP"
    assert fields["document_date"] == "2026-03-05"
    assert fields["doc_type"] == "cong_van"
    assert fields["subject"] == "nâng bậc lương năm 2026 cho công chức"
    assert fields["issuer_name"] == "SỞ NỘI VỤ"  # not the governing UBND line
    assert fields["signer"] == "Lê Hoàng Phúc"  # from the last page


def test_an_agency_without_a_governing_line_is_the_issuer_whole() -> None:
    text = "ỦY BAN NHÂN DÂN\nTỈNH CÀ MAU\nSố: 12/QĐ-UBND Cà Mau, ngày 01 tháng 02 năm 2026\n"
    assert read_fields(text)["issuer_name"] == "ỦY BAN NHÂN DÂN TỈNH CÀ MAU"


def test_ocr_noise_in_the_notation_and_the_qd_without_its_stroke() -> None:
    fields = read_fields("Số: 7/QD - UBND\nHà Nội, ngày 30 tháng 12 năm 2025\n")
    assert (fields["number"], fields["notation"]) == ("7", "QĐ-UBND")
    assert read_fields("Số: 12/QĐÐ-SNV")["notation"] == "QĐ-SNV"  # the stroke read twice
    assert fields["place"] == "Hà Nội"


def test_what_is_not_there_is_left_empty_not_guessed() -> None:
    assert read_fields("") == {}
    # an impossible date is not proposed
    assert "document_date" not in read_fields("Hà Nội, ngày 31 tháng 02 năm 2026")
    # a page of prose gives no number, type or signer
    prose = "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;\n" * 3
    fields = read_fields(prose)
    assert "number" not in fields and "doc_type" not in fields and "signer" not in fields


def test_the_governing_agency_is_cut_off_even_when_ocr_merged_or_wrapped_its_lines() -> None:
    def issuer(header: str) -> str:
        return read_fields(header + "\nSố: 5/UBND-VP Cà Mau, ngày 05 tháng 3 năm 2026")["issuer_name"]

    assert issuer("ỦY BAN NHÂN DÂN HUYỆN U MINH | ỦY BAN NHÂN DÂN XÃ KHÁNH HỘI") == \
        "ỦY BAN NHÂN DÂN XÃ KHÁNH HỘI"
    # the parent wrapped, and the motto read with a wrong first letter between its halves
    assert issuer("ỦY BAN NHÂN DÂN TỈNH LÀO GỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nCAI SỞ NỘI VỤ") == \
        "SỞ NỘI VỤ"
    assert issuer("BỘ NỘI VỤ\nVỤ CẢI CÁCH HÀNH CHÍNH") == "VỤ CẢI CÁCH HÀNH CHÍNH"
    assert issuer("VĂN PHÒNG ỦY BAN NHÂN DÂN TỈNH") == "VĂN PHÒNG ỦY BAN NHÂN DÂN TỈNH"


def test_the_place_glued_to_the_notation_is_not_part_of_it() -> None:
    fields = read_fields("Số: 521/UBND-VP-Phú Quốc, ngày 05 tháng 3 năm 2026")
    assert (fields["notation"], fields["place"]) == ("UBND-VP", "Phú Quốc")


def test_a_noisy_scan_title_and_a_subject_split_by_a_blank_line() -> None:
    fields = read_fields("Số: 3/BC-SNV Cà Mau, ngày 05 tháng 3 năm 2026\n\nBẢO CÁO .\n\n"
                         "Tình hình giải ngân vốn đầu tư . công\n\nquý I năm 2026\n\n"
                         "Thực hiện chỉ đạo của Ủy ban nhân dân tỉnh\n")
    assert fields["doc_type"] == "bao_cao"  # one letter off in a closed list of names
    assert fields["subject"] == "Tình hình giải ngân vốn đầu tư công quý I năm 2026"
    letter = read_fields("Số: 4/SNV-VP\nV/v hướng dẫn lập hồ sơ và nộp lưu hồ\n\n"
                         "sơ, tài liệu vào Lưu trữ cơ quan năm\n2026\n\nKính gửi: Các phòng\n"
                         "GIÁM ĐỐC\n\nBùi Thị Mỹ Dung .\n")
    assert letter["subject"] == ("hướng dẫn lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ "
                                 "quan năm 2026")
    assert letter["signer"] == "Bùi Thị Mỹ Dung"


# a two-page decision (ioffice.ocr.specimen.render_pages): the first page without the
# signature block, and without its date when the document dates itself at its end
FIRST_WITHOUT_DATE = """ỦY BAN NHÂN DÂN TỈNH CÀ MAU CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ NỘI VỤ Độc lập - Tự do - Hạnh phúc

Số: 27/QĐ-SNV

QUYẾT ĐỊNH
Về việc kiểm kê tài liệu lưu trữ

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
"""
# what Tesseract returned for the specimen's last pages (tests/ocr/test_scans.py): the
# recipients (left) and the signature block (right) share lines, with a speck read as words
LAST_PAGE = """2

Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành văn bản này kể từ ngày

ký.

Nơi nhận: KT. GIÁM ĐỐC
- Như trên; PHÓ GIÁM ĐỐC
- Lãnh đạo Văn phòng;

- Lưu: VI; VP.

Trần Thị Bích Ngọc"""
LAST_PAGE_DATED = """2

Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành văn bản này kể từ ngày

ký.
Cà Mau, ngày 05 tháng 3 năm 2026
Nơi nhận: KT. GIÁM ĐỐC
°-NN RIỂH, PHÓ GIÁM ĐỐC
- Lãnh đạo Văn phòng;
- Lưu: VT, VP.

Trần Thị Bích Ngọc"""


def test_the_signer_and_position_are_read_from_the_last_page() -> None:
    fields = read_fields(FIRST_WITHOUT_DATE, LAST_PAGE)
    assert fields["signer"] == "Trần Thị Bích Ngọc"
    assert fields["signer_position"] == "KT. GIÁM ĐỐC, PHÓ GIÁM ĐỐC"
    assert (fields["number"], fields["notation"], fields["doc_type"]) == ("27", "QĐ-SNV",
                                                                          "quyet_dinh")
    # the first page has no date and the last none above its signature: none is guessed
    # (not the date of the law the text cites, nor a date of the last page's text)
    assert "document_date" not in fields and "place" not in fields
    cited = LAST_PAGE.replace("ký.", "ký.\nTheo Luật ban hành ngày 22 tháng 6 năm 2015.")
    assert "document_date" not in read_fields(FIRST_WITHOUT_DATE, cited)


def test_place_and_date_above_the_signature_when_the_first_page_has_none() -> None:
    fields = read_fields(FIRST_WITHOUT_DATE, LAST_PAGE_DATED)
    assert (fields["document_date"], fields["place"]) == ("2026-03-05", "Cà Mau")
    assert fields["signer_position"] == "KT. GIÁM ĐỐC, PHÓ GIÁM ĐỐC"  # the speck left out
    # the first page's date stays the document's: the last page's is not read over it
    dated = FIRST_WITHOUT_DATE.replace("Số: 27/QĐ-SNV", "Số: 27/QĐ-SNV Hà Nội, ngày 02 tháng "
                                       "01 năm 2026")
    fields = read_fields(dated, LAST_PAGE_DATED)
    assert (fields["document_date"], fields["place"]) == ("2026-01-02", "Hà Nội")


def test_a_last_page_without_a_name_leaves_the_first_pages_signer() -> None:
    fields = read_fields(DECISION, "3\n\nPhụ lục: danh sách các đơn vị\n- Văn phòng Sở;\n")
    assert fields["signer"] == "Huỳnh Thanh Tùng"
    # one page: the same reading as before, the position from its own signature block
    assert read_fields(DECISION) == read_fields(DECISION, None)
