"""Scans made on purpose: Vietnamese administrative documents laid out as Decree 30/2020
Appendix I draws them (agency top left, national motto top right, number and notation under
the agency, place and date on the same line at the right, type and subject centred, or
"V/v" under the number for an official letter, the signature block bottom right), drawn as
an image as a scanner would return it: a chosen resolution, then noise, skew, JPEG artefacts.

Used by the tests and by ``bench/ocr.py`` (a corpus whose right answers are known); not by
the service. Fonts: Liberation Serif (Times New Roman's metrics, as the Decree asks).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/liberation2/"
A4_MM = (210, 297)


@dataclass(frozen=True)
class Specimen:
    """A document's first page and the fields a reader should find on it."""

    parent: str  # the governing agency (may be empty)
    issuer_name: str
    number: str
    notation: str
    place: str
    document_date: dt.date
    doc_type: str  # the vocabulary's code (ioffice.documents.vocabulary)
    type_title: str  # "QUYẾT ĐỊNH"; empty for an official letter (công văn)
    subject: str
    signer: str
    signer_title: str = "CHỦ TỊCH"
    authority: str = ""  # "TM. ỦY BAN NHÂN DÂN", "KT. GIÁM ĐỐC"
    body: tuple[str, ...] = field(default_factory=tuple)
    addressee: str = "Các sở, ban, ngành tỉnh"

    @property
    def date_line(self) -> str:
        d = self.document_date  # Appendix I: a day below 10 and months 1, 2 take a leading 0
        month = f"{d.month:02d}" if d.month < 3 else str(d.month)
        return f"{self.place}, ngày {d.day:02d} tháng {month} năm {d.year}"

    def expected(self) -> dict[str, str]:
        return {"issuer_name": self.issuer_name, "number": self.number,
                "notation": self.notation, "document_date": self.document_date.isoformat(),
                "doc_type": self.doc_type, "subject": self.subject, "signer": self.signer}


def _font(size_pt: float, dpi: int, *, bold: bool = False, italic: bool = False
          ) -> ImageFont.FreeTypeFont:
    style = {(False, False): "Regular", (True, False): "Bold", (False, True): "Italic",
             (True, True): "BoldItalic"}[(bold, italic)]
    return ImageFont.truetype(f"{FONT_DIR}LiberationSerif-{style}.ttf", round(size_pt * dpi / 72))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
          ) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def render_page(spec: Specimen, dpi: int = 300, *, signature: bool = True,
                date: bool = True) -> Image.Image:
    """The first page, clean, in greyscale at ``dpi``; ``signature=False``: the first page of
    a longer document (the signature block is on the last, :func:`render_last_page`);
    ``date=False``: no place and date under the motto (they are above the signature)."""
    mm = dpi / 25.4
    width, height = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    left, right = round(30 * mm), width - round(15 * mm)
    top = round(20 * mm)
    line = round(13 * dpi / 72 * 1.35)
    reg, bold = _font(13, dpi), _font(13, dpi, bold=True)
    ital = _font(14, dpi, italic=True)
    # box 2 (agency) centred over the left 45 %; box 1 (motto) over the right part
    left_mid = left + round(0.42 * (right - left)) // 2
    right_mid = left + round(0.42 * (right - left)) + round(0.58 * (right - left)) // 2

    def centred(x: int, y: int, text: str, font: ImageFont.FreeTypeFont) -> None:
        draw.text((x - draw.textlength(text, font=font) / 2, y), text, font=font, fill=0)

    y = top
    if spec.parent:
        for part in _wrap(draw, spec.parent.upper(), reg, round(0.40 * (right - left))):
            centred(left_mid, y, part, reg)
            y += line
    for part in _wrap(draw, spec.issuer_name.upper(), bold, round(0.42 * (right - left))):
        centred(left_mid, y, part, bold)
        y += line
    agency_bottom = y
    centred(right_mid, top, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _font(12, dpi, bold=True))
    centred(right_mid, top + line, "Độc lập - Tự do - Hạnh phúc", _font(13, dpi, bold=True))
    y = max(agency_bottom, top + 2 * line) + line // 2
    centred(left_mid, y, f"Số: {spec.number}/{spec.notation}", reg)
    if date:
        centred(right_mid, y, spec.date_line, ital)
    y += line
    if not spec.type_title:  # an official letter: "V/v ..." under the number, then "Kính gửi"
        for part in _wrap(draw, f"V/v {spec.subject}", _font(12, dpi), round(0.42 * (right - left))):
            centred(left_mid, y, part, _font(12, dpi))
            y += line
        y += line
        centred((left + right) // 2, y, f"Kính gửi: {spec.addressee}", reg)
        y += line
    y += line
    if spec.type_title:
        centred((left + right) // 2, y, spec.type_title, _font(14, dpi, bold=True))
        y += line
        for part in _wrap(draw, spec.subject, _font(14, dpi, bold=True), round(0.8 * (right - left))):
            centred((left + right) // 2, y, part, _font(14, dpi, bold=True))
            y += line
        y += line
    for paragraph in spec.body:
        for part in _wrap(draw, paragraph, reg, right - left - round(10 * mm)):
            draw.text((left + round(10 * mm) if part == paragraph[:len(part)] else left, y), part,
                      font=reg, fill=0)
            y += line
        y += line // 3
    if signature:
        _signature_block(draw, spec, dpi, max(y + line, height - round(95 * mm)))
    return img


def render_last_page(spec: Specimen, dpi: int = 300, *, number: int = 2,
                     date: bool = False) -> Image.Image:
    """The last page of a document of ``number`` pages: its number at the top (Decree 30:
    from the second page on), the end of the text, then the recipients and the signature block
    (box 7: authority, position, name); ``date``: the place and date above the block, as some
    documents put them at their end."""
    mm = dpi / 25.4
    width, height = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    left, right = round(30 * mm), width - round(15 * mm)
    reg = _font(13, dpi)
    line = round(13 * dpi / 72 * 1.35)
    draw.text(((left + right) / 2 - draw.textlength(str(number), font=reg) / 2,
               round(10 * mm)), str(number), font=reg, fill=0)
    y = round(20 * mm)
    closing = ("Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành văn bản này kể từ "
               "ngày ký.")
    for part in _wrap(draw, closing, reg, right - left - round(10 * mm)):
        draw.text((left + round(10 * mm) if part == closing[:len(part)] else left, y), part,
                  font=reg, fill=0)
        y += line
    y += line
    if date:
        text = spec.date_line
        ital = _font(14, dpi, italic=True)
        sign_mid = right - round(40 * mm)
        draw.text((sign_mid - draw.textlength(text, font=ital) / 2, y), text, font=ital, fill=0)
        y += 2 * line
    _signature_block(draw, spec, dpi, y)
    return img


def render_pages(spec: Specimen, dpi: int = 300, *, date_at_end: bool = False
                 ) -> list[Image.Image]:
    """A two-page document: the heading and text on the first page, the signature block (and,
    with ``date_at_end``, the place and date) on the second."""
    return [render_page(spec, dpi, signature=False, date=not date_at_end),
            render_last_page(spec, dpi, number=2, date=date_at_end)]


def _signature_block(draw: ImageDraw.ImageDraw, spec: Specimen, dpi: int, y: int) -> None:
    mm = dpi / 25.4
    width = draw.im.size[0]
    left, right = round(30 * mm), width - round(15 * mm)
    line = round(13 * dpi / 72 * 1.35)
    bold = _font(13, dpi, bold=True)

    def centred(x: int, y: int, text: str, font: ImageFont.FreeTypeFont) -> None:
        draw.text((x - draw.textlength(text, font=font) / 2, y), text, font=font, fill=0)

    # box 9a: the recipients, bottom left, level with the signature block
    small = _font(11, dpi)
    draw.text((left, y), "Nơi nhận:", font=_font(12, dpi, bold=True, italic=True), fill=0)
    for n, item in enumerate(("- Như trên;", "- Lãnh đạo Văn phòng;", "- Lưu: VT, VP.")):
        draw.text((left, y + round((n + 1) * line * 0.8)), item, font=small, fill=0)
    sign_mid = right - round(40 * mm)
    for text in (spec.authority, spec.signer_title):
        if text:
            centred(sign_mid, y, text, bold)
            y += line
    y += 3 * line  # the handwritten signature and the seal go here
    centred(sign_mid, y, spec.signer, bold)


def degrade(img: Image.Image, *, rng: random.Random, noise: float = 0.0, skew: float = 0.0,
            jpeg_quality: int | None = None, rotate: int = 0) -> Image.Image:
    """A scanner's faults: speckle (``noise``: the share of pixels flipped), a small skew in
    degrees, a 90/180/270 degree turn (a page fed sideways or upside down), JPEG compression."""
    out = img
    if skew:
        out = out.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if noise:
        out = out.filter(ImageFilter.GaussianBlur(0.6))
        pixels = out.load()
        w, h = out.size
        for _ in range(int(w * h * noise)):
            x, y = rng.randrange(w), rng.randrange(h)
            pixels[x, y] = 0 if pixels[x, y] > 128 and rng.random() < 0.5 else 255
    if rotate:
        out = out.rotate(rotate, expand=True)
    if jpeg_quality:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=jpeg_quality)
        out = Image.open(io.BytesIO(buf.getvalue()))
        out.load()
    return out


def to_pdf(pages: list[Image.Image], dpi: int) -> bytes:
    """An image-only PDF, one page per image (what a scanner's "scan to PDF" produces)."""
    buf = io.BytesIO()
    first, *rest = [p.convert("L") for p in pages]
    first.save(buf, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return buf.getvalue()


def to_image_bytes(img: Image.Image, fmt: str = "JPEG", dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs = {"dpi": (dpi, dpi)} if dpi else {}
    img.convert("RGB" if fmt == "JPEG" else "L").save(buf, fmt, **kwargs)
    return buf.getvalue()


PLACES = ("Hà Nội", "Cà Mau", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Huế", "Cần Thơ", "Phú Quốc")
PROVINCES = ("TỈNH CÀ MAU", "THÀNH PHỐ HÀ NỘI", "TỈNH AN GIANG", "TỈNH NGHỆ AN", "TỈNH LÀO CAI")
NAMES = ("Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Minh Đức",
         "Võ Thị Thu Hà", "Đặng Quốc Khánh", "Huỳnh Thanh Tùng", "Bùi Thị Mỹ Dung",
         "Dương Văn Ẩn", "Lý Thị Hồng Nhung", "Quách Tuấn Kiệt", "Ngô Đình Lộc")
SUBJECTS = ("về việc ban hành Quy chế làm việc của Ủy ban nhân dân",
            "về việc phê duyệt kế hoạch chuyển đổi số năm 2026",
            "về việc thành lập Tổ công tác cải cách hành chính",
            "triển khai thực hiện Nghị định số 30/2020/NĐ-CP về công tác văn thư",
            "tăng cường phòng, chống thiên tai mùa mưa bão",
            "báo cáo tình hình giải ngân vốn đầu tư công quý I",
            "về việc tổ chức kiểm tra, đánh giá việc thực hiện quy chế dân chủ ở cơ sở và công "
            "tác tiếp công dân, giải quyết khiếu nại, tố cáo trên địa bàn",
            "hướng dẫn lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan năm 2026")
BODY = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác "
        "văn thư;",
        "Theo đề nghị của Chánh Văn phòng, các cơ quan, đơn vị triển khai thực hiện nghiêm túc "
        "nội dung văn bản này, báo cáo kết quả trước ngày 30 hằng tháng.")
KINDS = (("quyet_dinh", "QUYẾT ĐỊNH", "QĐ"), ("ke_hoach", "KẾ HOẠCH", "KH"),
         ("thong_bao", "THÔNG BÁO", "TB"), ("cong_van", "", ""), ("bao_cao", "BÁO CÁO", "BC"),
         ("chi_thi", "CHỈ THỊ", "CT"))
AGENCIES = (("UBND", "ỦY BAN NHÂN DÂN {p}", "", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
            ("SNV", "SỞ NỘI VỤ", "ỦY BAN NHÂN DÂN {p}", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
            ("STTTT", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "ỦY BAN NHÂN DÂN {p}", "", "GIÁM ĐỐC"),
            ("SNNPTNT", "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", "ỦY BAN NHÂN DÂN {p}",
             "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
            ("UBND", "ỦY BAN NHÂN DÂN XÃ KHÁNH HỘI", "ỦY BAN NHÂN DÂN HUYỆN U MINH",
             "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"))


def random_specimen(rng: random.Random) -> Specimen:
    code, title, abbrev = rng.choice(KINDS)
    short, agency, parent, authority, position = rng.choice(AGENCIES)
    province = rng.choice(PROVINCES)
    notation = f"{abbrev}-{short}" if abbrev else f"{short}-VP"
    subject = rng.choice(SUBJECTS)
    if code == "cong_van":
        subject = subject.removeprefix("về việc ")
    return Specimen(
        parent=parent.format(p=province), issuer_name=agency.format(p=province),
        number=f"{rng.randint(1, 999):02d}", notation=notation, place=rng.choice(PLACES),
        document_date=dt.date(2026, rng.randint(1, 11), rng.randint(1, 28)), doc_type=code,
        type_title=title, subject=subject[0].upper() + subject[1:] if title else subject,
        signer=rng.choice(NAMES), authority=authority, signer_title=position, body=BODY)
