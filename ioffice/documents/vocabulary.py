"""Document types, urgency and confidentiality, as the decree names them."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class DocType:
    code: str
    name: str
    abbreviation: str  # "" for Công văn, whose notation has no type part


DOC_TYPES: tuple[DocType, ...] = (
    DocType("nghi_quyet", "Nghị quyết", "NQ"),
    DocType("quyet_dinh", "Quyết định", "QĐ"),
    DocType("chi_thi", "Chỉ thị", "CT"),
    DocType("quy_che", "Quy chế", "QC"),
    DocType("quy_dinh", "Quy định", "QyĐ"),
    DocType("thong_cao", "Thông cáo", "TC"),
    DocType("thong_bao", "Thông báo", "TB"),
    DocType("huong_dan", "Hướng dẫn", "HD"),
    DocType("chuong_trinh", "Chương trình", "CTr"),
    DocType("ke_hoach", "Kế hoạch", "KH"),
    DocType("phuong_an", "Phương án", "PA"),
    DocType("de_an", "Đề án", "ĐA"),
    DocType("du_an", "Dự án", "DA"),
    DocType("bao_cao", "Báo cáo", "BC"),
    DocType("bien_ban", "Biên bản", "BB"),
    DocType("to_trinh", "Tờ trình", "TTr"),
    DocType("hop_dong", "Hợp đồng", "HĐ"),
    DocType("cong_van", "Công văn", ""),
    DocType("cong_dien", "Công điện", "CĐ"),
    DocType("ban_ghi_nho", "Bản ghi nhớ", "BGN"),
    DocType("ban_thoa_thuan", "Bản thỏa thuận", "BTT"),
    DocType("giay_uy_quyen", "Giấy ủy quyền", "GUQ"),
    DocType("giay_moi", "Giấy mời", "GM"),
    DocType("giay_gioi_thieu", "Giấy giới thiệu", "GGT"),
    DocType("giay_nghi_phep", "Giấy nghỉ phép", "GNP"),
    DocType("phieu_gui", "Phiếu gửi", "PG"),
    DocType("phieu_chuyen", "Phiếu chuyển", "PC"),
    DocType("phieu_bao", "Phiếu báo", "PB"),
    DocType("ban_sao_y", "Bản sao y", "SY"),
    DocType("trich_sao", "Trích sao", "TrS"),
    DocType("sao_luc", "Sao lục", "SL"),
)
DOC_TYPES_BY_CODE = {t.code: t for t in DOC_TYPES}


def doc_type(code: str) -> DocType:
    return DOC_TYPES_BY_CODE[code]


def doc_type_by_name(name: str) -> DocType | None:
    folded = fold(name)
    return next((t for t in DOC_TYPES if fold(t.name) == folded), None)


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"
    FLASH = "flash"

    @property
    def label(self) -> str:
        return {"normal": "Thường", "urgent": "Khẩn", "very_urgent": "Thượng khẩn",
                "flash": "Hỏa tốc"}[self.value]

    @property
    def rank(self) -> int:
        """Higher is more urgent; queues sort by it."""
        return list(Urgency).index(self)


class Confidentiality(enum.StrEnum):
    NORMAL = "normal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    @property
    def label(self) -> str:
        return {"normal": "Thường", "confidential": "Mật", "secret": "Tối mật",
                "top_secret": "Tuyệt mật"}[self.value]


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).lower()


def _fold_table() -> dict[int, str]:
    """Each precomposed Latin letter (Vietnamese's among them) to its folded form, where that
    is plain ASCII: one ``str.translate`` then does what :func:`_fold_slow` does char by char."""
    table = {}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for cp in range(start, end):
            folded = _fold_slow(chr(cp))
            if folded.isascii() and folded != chr(cp):
                table[cp] = folded
    return table


FOLD_TABLE = _fold_table()
"""Each precomposed Latin letter to its folded letter (one character each): text that is ASCII
after ``str.translate(FOLD_TABLE)`` folds character for character, then ``.lower()``."""


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: "Quyết định Đầu tư" -> "quyet dinh dau tu".

    Search folds every word it shows and indexes (hundreds per page): the precomposed letters
    go through one table, and only text with something else outside ASCII (a combining mark,
    a dash, a quote) takes the general path, which gives the same result."""
    translated = text.translate(FOLD_TABLE)
    if translated.isascii():
        return translated.lower()
    return _fold_slow(translated)


def notation_text(number: str, notation: str) -> str:
    """``15`` + ``QĐ-UBND`` -> ``15/QĐ-UBND``."""
    number, notation = number.strip(), notation.strip()
    return f"{number}/{notation}" if notation else number
