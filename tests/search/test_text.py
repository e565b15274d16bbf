"""Marking the query's words in the results: the one-expression path gives what the word by
word path gives."""

from markupsafe import Markup, escape

from ioffice.documents.vocabulary import FOLD_TABLE
from ioffice.search.text import highlight, marked, query_terms

TEXTS = [
    "Quyết định về việc Đầu tư xây dựng đường giao thông nông thôn",
    "V/v giải phóng mặt bằng dự án QUY HOẠCH khu dân cư số 15/QĐ-UBND",
    "Sở Tài nguyên và Môi trường; <b>báo cáo</b> & đề xuất \"sạt lở\" bờ biển",
    "đầu_tư dau tu dautu DAU-TU đầu tư2 2đầu tư",
    "Công văn – chuyển đổi số “cải cách hành chính”",  # a dash and quotes: word by word
    "Phòng chống lụt bão năm 2026 (lần 2)",
    "Tiếp công dân định kỳ tháng 12",
    "ẩn ẨN Ẩn ȁ ǖ ḁ ỹ Ỹ ơ Ơ ư Ư",
    "",
]
QUERIES = ["dau tu", "giai phong mat bang quy hoach", "bao cao sat lo", "dau tu 2", "chuyen doi so",
           "lut bao 2026", "tiep cong dan 12", "an o u y", "qd ubnd 15", "b"]


def word_by_word(text: str, terms: list[str]) -> Markup:
    return Markup("".join(f"<mark>{escape(piece)}</mark>" if hit else str(escape(piece))
                          for piece, hit in highlight(text, terms)))


def test_every_folded_letter_is_one_letter() -> None:
    assert all(len(v) == 1 and v.isascii() for v in FOLD_TABLE.values())


def test_marked_as_word_by_word() -> None:
    for query in QUERIES:
        terms = query_terms(query)
        for text in TEXTS:
            assert marked(text, terms) == (word_by_word(text, terms) if text else ""), (query, text)


def test_marked_examples() -> None:
    assert marked("Đầu tư <x>", ["dau"]) == "<mark>Đầu</mark> tư &lt;x&gt;"
    assert marked("đầu_tư dau", ["dau"]) == "đầu_tư <mark>dau</mark>"
    assert marked("Sạt lở", []) == "Sạt lở"
