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
# XML 1.0 forbids these characters even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def format_date(value: dt.date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def parse_date(text: str, path: str) -> dt.date:
    match = _DATE.fullmatch(text)
    if match is None:
        raise EdxmlError("invalid_date", path, f"ngày {text!r} không đúng định dạng yyyy/MM/dd")
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        raise EdxmlError("invalid_date", path, f"ngày {text!r} không tồn tại") from None


def format_timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(VIETNAM_TZ)
    return value.strftime("%Y/%m/%d %H:%M:%S")


def parse_timestamp(text: str, path: str) -> dt.datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise EdxmlError(
            "invalid_timestamp", path, f"thời điểm {text!r} không đúng định dạng yyyy/MM/dd HH:mm:ss"
        )
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=VIETNAM_TZ)
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


def check_document_rules(package: DocumentPackage) -> None:
    """Cross-field rules of a document package; raised with the wire path."""
    if not package.recipients:
        raise EdxmlError(
            "missing_element", MESSAGE_HEADER + "/To", "gói tin văn bản phải có ít nhất một nơi nhận (To)"
        )
    if not package.document_id:
        raise EdxmlError("missing_value", MESSAGE_HEADER + "/DocumentId", "thiếu mã văn bản (DocumentId)")
    kind = package.business.doc_type
    if kind is not BusinessDocType.NEW and not package.response_for:
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
