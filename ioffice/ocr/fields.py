"""Reading the registration fields from a scan's first page, as Decree 30/2020 Appendix I lays
it out: the issuing agency (box 2, top left, under its governing agency), "Số: 12/QĐ-UBND"
(box 3), "Hà Nội, ngày 05 tháng 3 năm 2026" (box 4, same line, right), the type in capitals
and the subject under it (box 5a) or "V/v ..." under the number of an official letter (5b),
and the signer's name at the foot of the signature block (box 7).

The text comes from Tesseract reading the page block by block: the left and right columns of
the header may share a line ("ỦY BAN NHÂN DÂN TỈNH CÀ MAU CỘNG HÒA XÃ HỘI ..."), so the
national motto is cut out first. OCR confusions are corrected only where the field's shape
leaves no doubt (a letter O among the digits of a number or a date is a zero); a field that is
not found is left empty for the clerk rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from ioffice.documents.vocabulary import DOC_TYPES

FIELDS = ("issuer_name", "number", "notation", "document_date", "doc_type", "subject", "signer")
LABELS = {"issuer_name": "Cơ quan ban hành", "number": "Số", "notation": "Ký hiệu",
          "document_date": "Ngày văn bản", "doc_type": "Loại văn bản",
          "subject": "Trích yếu", "signer": "Người ký", "place": "Địa danh",
          "signer_position": "Chức vụ người ký"}


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), same length as ``text`` for most Vietnamese
    text (each precomposed letter folds to one letter), so positions carry over."""
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("d")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower())
    return "".join(out)


# the national motto (box 1), found in the folded line even with a letter misread
_MOTTO = re.compile(r"\w{0,2}ong\s*hoa\s*xa\s*hoi\s*chu\s*ngh\w{0,2}\s*viet\s*nam"
                    r"|\w{0,2}oc\s*lap\s*[-–—]?\s*tu\s*do\s*[-–—]?\s*hanh\s*phuc")
# digits as OCR misreads them, inside a field that can only hold digits
_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1",
                         "i": "1", "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})
_NUM = r"[0-9OoDQlIi|!SsBZz]"
_NUMBER_RE = re.compile(
    rf"S[ốốôoó0]\s*[:;.,]?\s*({_NUM}{{1,6}})\s*[/|lI1]\s*"
    r"([A-ZĐÐa-zđ0-9][A-ZĐÐa-zđ0-9.]*(?:\s?[-–]\s?[A-ZĐÐa-zđ0-9.]+)*)")
_DATE_RE = re.compile(
    rf"ngay\s*({_NUM}{{1,2}})\s*thang\s*({_NUM}{{1,2}})\s*nam\s*({_NUM}{{4}})")
# where the issuing agency's name starts after its governing agency's (box 2: "ỦY BAN NHÂN
# DÂN TỈNH CÀ MAU" over "SỞ NỘI VỤ"; "UBND HUYỆN U MINH" over "ỦY BAN NHÂN DÂN XÃ KHÁNH HỘI")
_UNIT_START = re.compile(
    r"\b(?:so|phong|cuc|vu|ban(?! nhan dan)|trung tam|van phong|chi cuc|truong|benh vien|thanh tra|doan|"
    r"kho bac|tong cuc|vien|hoi dong|(?:uy ban nhan dan|ubnd) (?:xa|phuong|thi tran|huyen|quan|"
    r"thi xa|thanh pho))\b")
_GOVERNING = ("uy ban nhan dan", "ubnd", "bo ", "tong cuc", "hoi dong nhan dan", "tinh uy",
              "thanh uy", "huyen uy")
_TYPES = sorted(((fold(t.name), t.code) for t in DOC_TYPES if t.code != "cong_van"),
                key=lambda item: -len(item[0]))
_NAME_WORD = re.compile(r"^[A-ZÀ-ỸĐ][a-zà-ỹđ]+$")


def _clean_line(line: str) -> str:
    """The line without the national motto and its underline (the header's right column)."""
    folded = fold(line)
    if len(folded) == len(line):
        for match in reversed(list(_MOTTO.finditer(folded))):
            line = line[:match.start()] + " " + line[match.end():]
    return " ".join(line.replace("_", " ").split()).strip(" -–—")


def _digits(raw: str) -> str:
    return raw.translate(_DIGITS)


def read_fields(first_page: str, last_page: str | None = None) -> dict[str, str]:
    """The fields found (a subset of :data:`FIELDS` plus ``place`` and ``signer_position``),
    each a string as the registration form takes it (``document_date`` in ISO form,
    ``doc_type`` a vocabulary code).

    ``last_page``: the last page of a document of several pages (None for one page), where
    Appendix I puts the signature block (box 7): the signer's name and position are read
    there, and the place and date too when the first page has none (some documents date
    themselves above the signature); the first page is read as for a one-page scan."""
    lines = [_clean_line(line) for line in first_page.splitlines()]
    found: dict[str, str] = {}
    number_at = _read_number(lines, found)
    date_at = _read_date(lines, found)
    header_end = min(i for i in (number_at, date_at, len(lines)) if i is not None)
    _read_issuer(lines[:header_end], found)
    after = max(i for i in (number_at, date_at, -1) if i is not None) + 1
    _read_type_and_subject(lines, after, number_at, found)
    block = lines
    if last_page is not None:
        last = [_clean_line(line) for line in last_page.splitlines()]
        if _read_signer(last)[0] is not None:
            block = last
    at, signer = _read_signer(block)
    if at is not None:
        found["signer"] = signer
        position = _read_position(block[:at])
        if position:
            found["signer_position"] = position
    if block is not lines and ("document_date" not in found or "place" not in found):
        _read_closing_date(block[:at], found)
    return found


def _read_number(lines: list[str], found: dict[str, str]) -> int | None:
    for index, line in enumerate(lines):
        match = _NUMBER_RE.search(line)
        if not match:
            continue
        number = _digits(match.group(1))
        text = "".join(match.group(2).replace("–", "-").split()).strip(".-")
        after = line[match.end():match.end() + 1]
        if after.isalpha() and "-" in text:  # the last part is the start of the next word
            text = text.rsplit("-", 1)[0]
        if not number.isdigit() or not text:
            continue
        found["number"] = number
        found["notation"] = _notation(text)
        return index
    return None


def _notation(raw: str) -> str:
    """Conservative clean-up of the letters Tesseract gets wrong in a notation: Đ read as the
    look-alike Ð (U+00D0) or doubled (its stroke seen as a second letter: "QĐĐ", "QĐÐ"), and
    the Đ of QĐ read as D."""
    fixed = []
    for part in raw.replace("Ð", "Đ").split("-"):
        part = re.sub("Đ{2,}", "Đ", part)
        fixed.append("QĐ" if part == "QD" else part)
    return "-".join(fixed)


def _read_date(lines: list[str], found: dict[str, str]) -> int | None:
    for index, line in enumerate(lines):
        folded = fold(line)
        match = _DATE_RE.search(folded)
        if not match or _cited(line, folded, match.start()):
            continue
        try:
            day, month, year = (int(_digits(g)) for g in match.groups())
            found["document_date"] = dt.date(year, month, day).isoformat()
        except ValueError:
            continue
        place = line[:match.start()].rstrip(" ,.")
        number_match = _NUMBER_RE.search(place)
        if number_match:  # "Số: 12/QĐ-UBND Hà Nội, ngày ..." on one line
            end = number_match.end()
            if place[end:end + 1].isalpha():  # the place's first word glued to the notation
                end = place.rfind("-", number_match.start(2), end) + 1
            place = place[end:].strip()
        if place:
            found["place"] = place
        return index
    return None


def _cited(line: str, folded: str, start: int) -> bool:
    """A date the text cites, not the document's: "Căn cứ Luật ... ngày 19 tháng 6 năm
    2015", or any date that goes on a sentence ("... địa phương ngày ..."), where the
    document's follows a place and its comma ("Cà Mau, ngày", the comma sometimes lost)."""
    if folded.lstrip(" -").startswith("can cu"):
        return True
    before = line[:start].rstrip()
    words = before.split()
    return bool(words) and not before.endswith(",") and words[-1][:1].islower()


def _read_issuer(header: list[str], found: dict[str, str]) -> None:
    # words without a letter are specks of the scan ("|", "'", ".")
    names = [" ".join(w for w in line.split() if any(c.isalpha() for c in w))
             for line in header if line and _mostly_upper(line)]
    names = [n for n in names if n]
    if not names:
        return
    if fold(names[0]).startswith(_GOVERNING):
        # a line of its own that starts the unit's name: "BỘ NỘI VỤ" over "VỤ CẢI CÁCH ..."
        for index in range(1, len(names)):
            if _UNIT_START.match(fold(names[index])):
                found["issuer_name"] = " ".join(names[index:])
                return
    joined = " ".join(names)
    folded = fold(joined)
    if folded.startswith(_GOVERNING) and len(folded) == len(joined):
        # the governing agency's name is not the issuer's: cut where the unit's name starts
        starts = [m.start() for m in _UNIT_START.finditer(folded) if m.start() > 0]
        if starts:
            joined = joined[starts[0]:]
    found["issuer_name"] = joined


def _mostly_upper(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _read_type_and_subject(lines: list[str], start: int, number_at: int | None,
                           found: dict[str, str]) -> None:
    # an official letter: "V/v ..." under the number (possibly on the same line as the date)
    for index in range(number_at if number_at is not None else start, min(len(lines), start + 4)):
        match = re.search(r"\bV\s*[/|]\s*[vV]\b\.?:?\s*(.*)", lines[index])
        if match:
            found["doc_type"] = "cong_van"
            found["subject"] = _sentence(" ".join([match.group(1),
                                                   *_continued(lines, index + 1)]))
            return
    for index in range(start, min(len(lines), start + 6)):
        code = _type_code(lines[index])
        if code is None:
            continue
        found["doc_type"] = code
        first = next((i for i in range(index + 1, min(len(lines), index + 4)) if lines[i]), None)
        if first is not None and not fold(lines[first]).startswith(("can cu", "kinh gui")):
            found["subject"] = _sentence(" ".join([lines[first], *_continued(lines, first + 1)]))
        return


def _type_code(line: str) -> str | None:
    """The vocabulary's code of a line that is a type's name in capitals ("QUYẾT ĐỊNH"), read
    exactly or with one letter wrong ("BẢO CÁO"): the names are a closed list."""
    words = [w for w in line.split() if any(c.isalpha() for c in w)]
    if not words or not _mostly_upper(" ".join(words)):
        return None
    folded = fold(" ".join(words)).strip(" .:")
    for name, code in _TYPES:
        if folded == name:
            return code
    for name, code in _TYPES:
        if len(name) >= 6 and len(folded) == len(name) and \
                sum(a != b for a, b in zip(folded, name, strict=True)) <= 1:
            return code
    return None


def _continued(lines: list[str], start: int) -> list[str]:
    """The lines that carry a sentence on (wrapped lines start in lower case or with a
    digit), across one
    blank line the OCR may have put between them; at most three."""
    out: list[str] = []
    index, blanks = start, 0
    while index < len(lines) and len(out) < 3:
        line = lines[index]
        index += 1
        if not line:
            blanks += 1
            if blanks > 1:
                break
            continue
        first = next((c for c in line if c.isalnum()), "")
        if not (first.islower() or first.isdigit()) or fold(line).startswith(("kinh gui", "can cu")):
            break
        out.append(line)
        blanks = 0
    return out


def _sentence(text: str) -> str:
    """One line, without the specks of the scan (a word with no letter or digit)."""
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    return " ".join(words).strip(" .;,")


def _read_signer(lines: list[str]) -> tuple[int | None, str]:
    """The last line that is a person's name: two to six capitalised words, not all capitals
    (the positions above it are in capitals), no digits or punctuation; (its index in
    ``lines``, the name), or (None, "") among the last 12 lines that are not blank."""
    filled = [i for i, x in enumerate(lines) if x.strip()][-12:]
    for index in reversed(filled):
        words = [w for w in lines[index].split() if any(c.isalpha() for c in w)]  # specks
        if 2 <= len(words) <= 6 and all(_NAME_WORD.match(w) for w in words):
            return index, " ".join(words)
    return None, ""


def _position_part(line: str) -> str:
    """The signature block's part of a line: Tesseract puts the recipients (box 9a, left)
    and the block (right) on shared lines ("Nơi nhận: KT. GIÁM ĐỐC", "- Như trên; PHÓ GIÁM
    ĐỐC"), so the text after the last ``:``, ``;`` or ``,``, when it is in capitals."""
    tail = re.split(r"[:;,]", line)[-1]
    words = [w for w in tail.split() if any(c.isalpha() for c in w)]
    tail = " ".join(words)
    letters = sum(c.isalpha() for c in tail)
    return tail if letters >= 4 and len(words) <= 8 and _mostly_upper(tail) else ""


def _read_position(above: list[str]) -> str:
    """The position over the signer's name (box 7: "KT. GIÁM ĐỐC" over "PHÓ GIÁM ĐỐC", or
    "TM. ỦY BAN NHÂN DÂN" over "CHỦ TỊCH"): the lines in capitals next to each other among
    the 8 lines above the name (the space of the handwritten signature left out)."""
    found: list[str] = []
    for line in reversed([x for x in above if x.strip()][-8:]):
        part = _position_part(line)
        if part:
            found.append(part)
        elif found:
            break
    return ", ".join(reversed(found[:3]))


def _read_closing_date(above: list[str], found: dict[str, str]) -> None:
    """Place and date above the signature block ("Cà Mau, ngày 05 tháng 3 năm 2026"): only
    a line that is nothing but a place and a date, so that a date in the text ("Căn cứ Luật
    ... ngày 19 tháng 6 năm 2015") is never taken for the document's."""
    for line in reversed([x for x in above if x.strip()][-12:]):
        folded = fold(line)
        match = _DATE_RE.search(folded)
        if not match or folded[match.end():].strip(" .;"):
            continue
        place = line[:match.start()].strip()
        if not place.endswith(",") or not place[:1].isupper() or len(place.split()) > 6:
            continue
        try:
            day, month, year = (int(_digits(g)) for g in match.groups())
            date = dt.date(year, month, day).isoformat()
        except ValueError:
            continue
        found.setdefault("document_date", date)
        found.setdefault("place", place.rstrip(" ,"))
        return
