"""Wire formats of single values (dates, timestamps, codes) and the rules shared by build and parse."""

from __future__ import annotations

import datetime as dt
import re

from .errors import EdxmlError
from .model import (
    MAX_ORGAN_ID_LENGTH,
    VIETNAM_TZ,
    BusinessDocType,
    DocumentPackage,
    StatusCode,
    StatusPackage,
)

HEADER = "/edXML/edXMLEnvelope/edXMLHeader"
MESSAGE_HEADER = HEADER + "/MessageHeader"
TRACE_LIST = HEADER + "/TraceHeaderList"
BUSINESS = TRACE_LIST + "/Bussiness"
MANIFEST = "/edXML/edXMLEnvelope/edXMLBody/edXMLManifest"
ATTACHMENTS = "/edXML/AttachmentEncoded"

_DATE = re.compile(r"(\d{4})/(\d{2})/(\d{2})")
_TIMESTAMP = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
# Tolerated on receipt only (rule ``date-day-first``): the year last, as some producers write.
_DATE_DAY_FIRST = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_TIMESTAMP_DAY_FIRST = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})")
# XML 1.0 forbids these characters even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def format_date(value: dt.date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def _date_fields(text: str, ours: re.Pattern[str], day_first: re.Pattern[str]) -> list[int] | None:
    """The fields (year, month, day[, h, m, s]) of ``yyyy/MM/dd...`` or ``dd/MM/yyyy...``.

    Unambiguous by construction: the four-digit year is at the start or at the end, so a text
    matches at most one of the two forms. A day-first text is always read day, month (the
    Vietnamese order, the one producers were seen writing); a month-first text such as
    ``03/25/2024`` is therefore not a real date and is refused, never re-read as month/day;
    two-digit years and one-digit fields are refused too.
    """
    match = ours.fullmatch(text)
    if match is not None:
        return [int(x) for x in match.groups()]
    match = day_first.fullmatch(text)
    if match is not None:
        day, month, year, *clock = (int(x) for x in match.groups())
        return [year, month, day, *clock]
    return None


def parse_date(text: str, path: str) -> dt.date:
    """``yyyy/MM/dd`` (what we write), or ``dd/MM/yyyy`` (tolerated, see :func:`_date_fields`)."""
    fields = _date_fields(text, _DATE, _DATE_DAY_FIRST)
    if fields is None:
        raise EdxmlError("invalid_date", path, f"ngày {text!r} không đúng định dạng yyyy/MM/dd")
    try:
        return dt.date(*fields)
    except ValueError:
        raise EdxmlError("invalid_date", path, f"ngày {text!r} không tồn tại") from None


def format_timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(VIETNAM_TZ)
    return value.strftime("%Y/%m/%d %H:%M:%S")


def parse_timestamp(text: str, path: str) -> dt.datetime:
    """``yyyy/MM/dd HH:mm:ss`` (what we write), or ``dd/MM/yyyy HH:mm:ss`` (tolerated)."""
    fields = _date_fields(text, _TIMESTAMP, _TIMESTAMP_DAY_FIRST)
    if fields is None:
        raise EdxmlError(
            "invalid_timestamp", path, f"thời điểm {text!r} không đúng định dạng yyyy/MM/dd HH:mm:ss"
        )
    try:
        return dt.datetime(*fields, tzinfo=VIETNAM_TZ)
    except ValueError:
        raise EdxmlError("invalid_timestamp", path, f"thời điểm {text!r} không tồn tại") from None


def check_organ_id(value: str, path: str) -> str:
    if not value:
        raise EdxmlError("missing_value", path, "thiếu mã định danh cơ quan (OrganId)")
    if len(value) > MAX_ORGAN_ID_LENGTH:
        raise EdxmlError(
            "invalid_organ_id",
            path,
            f"mã định danh cơ quan dài {len(value)} ký tự, tối đa {MAX_ORGAN_ID_LENGTH}",
        )
    if any(ch.isspace() for ch in value):
        raise EdxmlError("invalid_organ_id", path, f"mã định danh cơ quan {value!r} chứa khoảng trắng")
    return value


def check_xml_text(value: str, path: str) -> str:
    if _NOT_XML.search(value):
        raise EdxmlError("invalid_character", path, "giá trị chứa ký tự điều khiển không hợp lệ trong XML")
    return value


def check_document_rules(package: DocumentPackage, *, received: bool = False) -> None:
    """Cross-field rules of a document package; raised with the wire path.

    ``received`` (the parser): an update may come without ``ResponseFor`` (its target is
    ``Bussiness/DocumentId``), a replacement too (its targets are in ``ReplacementInfoList``),
    rule ``target-without-response-for``; a revocation still needs its ``ResponseFor``. What we
    build always carries one.
    """
    if not package.recipients:
        raise EdxmlError(
            "missing_element", MESSAGE_HEADER + "/To", "gói tin văn bản phải có ít nhất một nơi nhận (To)"
        )
    if not package.document_id:
        raise EdxmlError("missing_value", MESSAGE_HEADER + "/DocumentId", "thiếu mã văn bản (DocumentId)")
    kind = package.business.doc_type
    needs_response_for = (kind is BusinessDocType.REVOKE if received
                          else kind is not BusinessDocType.NEW)
    if needs_response_for and not package.response_for:
        raise EdxmlError(
            "missing_element",
            MESSAGE_HEADER + "/ResponseFor",
            f"gói tin loại {kind.value} ({kind.name.lower()}) phải có ResponseFor nêu văn bản bị tác động",
        )
    if kind is BusinessDocType.REPLACE and not package.business.replacements:
        raise EdxmlError(
            "missing_element",
            BUSINESS + "/ReplacementInfoList",
            "văn bản thay thế (BussinessDocType 3) phải có ReplacementInfoList",
        )
    seen: set[str] = set()
    for index, attachment in enumerate(package.attachments, 1):
        if not attachment.content_id:
            raise EdxmlError(
                "missing_value", f"{ATTACHMENTS}/Attachment[{index}]/ContentId", "thiếu ContentId"
            )
        if attachment.content_id in seen:
            raise EdxmlError(
                "duplicate_content_id",
                f"{ATTACHMENTS}/Attachment[{index}]/ContentId",
                f"ContentId {attachment.content_id!r} bị trùng",
            )
        seen.add(attachment.content_id)


def check_status_rules(package: StatusPackage) -> None:
    """Cross-field rules of a status package; raised with the wire path."""
    if package.status in (StatusCode.REJECTED, StatusCode.TAKE_BACK_REQUESTED) and not package.description:
        raise EdxmlError(
            "missing_value",
            MESSAGE_HEADER + "/Description",
            f"trạng thái {package.status.value} phải nêu lý do (Description)",
        )
