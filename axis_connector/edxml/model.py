"""Typed objects for edXML packages (QCVN 102:2016/BTTTT, amended 1:2022).

All objects are frozen dataclasses; sequences are tuples so that packages can
be compared, hashed and shared between threads.  Field names are English;
the wire names are given in each docstring where they differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

__all__ = [
    "LEGACY_NAMESPACES",
    "MAX_ORGAN_ID_LENGTH",
    "NAMESPACE",
    "STATUS_DESCRIPTIONS",
    "VIETNAM_TZ",
    "Attachment",
    "Business",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "Code",
    "DocumentPackage",
    "DocumentType",
    "Organization",
    "OtherInfo",
    "Package",
    "Priority",
    "PromulgationInfo",
    "ReplacementInfo",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusPackage",
    "TraceHeader",
]

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
"""The QCVN 102:2016 namespace; everything we emit is in it, prefixed ``edXML:``."""

LEGACY_NAMESPACES = ("http://www.e-doc.vn/Schema/",)
"""Older namespaces still seen in the wild; accepted on input, never emitted."""

VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")
"""Timestamps on the wire are Vietnam wall-clock time (UTC+7, no daylight saving)."""

MAX_ORGAN_ID_LENGTH = 35
"""Amendment 1:2022 widened ``OrganId`` to a string of up to 35 characters."""


class BusinessDocType(IntEnum):
    """``BussinessDocType``: what a document package does."""

    NEW = 0
    """Văn bản điện tử mới."""
    REVOKE = 1
    """Thu hồi văn bản điện tử."""
    UPDATE = 2
    """Cập nhật văn bản điện tử."""
    REPLACE = 3
    """Văn bản thay thế."""


class Priority(IntEnum):
    """``OtherInfo/Priority``: độ khẩn."""

    NORMAL = 0
    """Thường."""
    URGENT = 1
    """Khẩn."""
    VERY_URGENT = 2
    """Thượng khẩn."""
    FLASH = 3
    """Hỏa tốc."""
    TIMED_FLASH = 4
    """Hỏa tốc hẹn giờ."""


class StatusCode(StrEnum):
    """``StatusCode`` of a status package (always two digits on the wire)."""

    ARRIVED = "01"
    REJECTED = "02"
    REGISTERED = "03"
    ASSIGNED = "04"
    HANDLING = "05"
    FINISHED = "06"
    TAKE_BACK_REQUESTED = "13"
    AGREED = "15"
    REFUSED = "16"


STATUS_DESCRIPTIONS: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận",
    StatusCode.REGISTERED: "Đã tiếp nhận, vào sổ văn bản đến",
    StatusCode.ASSIGNED: "Đã phân công xử lý",
    StatusCode.HANDLING: "Đang xử lý",
    StatusCode.FINISHED: "Hoàn thành xử lý",
    StatusCode.TAKE_BACK_REQUESTED: "Đề nghị lấy lại, cập nhật văn bản",
    StatusCode.AGREED: "Đồng ý lấy lại, cập nhật văn bản",
    StatusCode.REFUSED: "Từ chối lấy lại, cập nhật văn bản",
}
"""Default Vietnamese descriptions, for when the caller gives none."""


@dataclass(frozen=True, slots=True)
class Organization:
    """``From`` or ``To``: an agency (or a connected system) on the axis."""

    organ_id: str
    """``OrganId``: up to 35 characters, usually a Decision 20 code such as ``000.00.00.H12``."""
    organ_name: str = ""
    """``OrganName``."""
    organization_in_charge: str = ""
    """``OrganizationInCharge``: the managing body's name."""
    address: str = ""
    """``OrganAdd``."""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Code:
    """``Code``: số và ký hiệu, e.g. ``7816`` / ``VPCP-TTĐT``."""

    number: str
    """``CodeNumber``."""
    notation: str
    """``CodeNotation``."""


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    """``PromulgationInfo``: nơi và ngày ban hành."""

    place: str
    """``Place``."""
    date: dt.date
    """``PromulgationDate`` (``yyyy/MM/dd`` on the wire)."""


@dataclass(frozen=True, slots=True)
class DocumentType:
    """``DocumentType``."""

    type: int
    """``Type``: the document family code."""
    type_detail: int
    """``TypeDetail``: the document type code within the family."""
    type_name: str
    """``TypeName``: the Vietnamese type name (Công văn, Quyết định, ...)."""


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """``SignerInfo``: who signed the document on paper / in PDF."""

    competence: str = ""
    """``Competence``: thẩm quyền, e.g. ``TL. BỘ TRƯỞNG``."""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True, slots=True)
class OtherInfo:
    """``OtherInfo``."""

    priority: Priority = Priority.NORMAL
    sphere_of_promulgation: str = ""
    """``SphereOfPromulgation``: phạm vi ban hành."""
    typer_notation: str = ""
    """``TyperNotation``: ký hiệu người đánh máy."""
    promulgation_amount: int | None = None
    """``PromulgationAmount``: số bản phát hành."""
    page_amount: int | None = None
    """``PageAmount``: số trang."""
    direction: bool | None = None
    """``Direction``: whether the document is a steering (chỉ đạo) document."""
    appendixes: tuple[str, ...] = ()
    """``Appendixes/Appendix``: names of the appendices."""


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """``ResponseFor``: the document this package answers, revokes, updates or replaces."""

    organ_id: str
    """``OrganId`` of the agency that issued that document."""
    code: str
    """``Code``: its number and notation as one string (``7816/VPCP-TTĐT``)."""
    promulgation_date: dt.date
    document_id: str
    """``DocumentId``: opaque; compare it, never parse it."""


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """``TraceHeader``: one system the package passed through."""

    organ_id: str
    """Empty when read from the national axis's own trace header, which has no ``OrganId``
    (never built so: :func:`build_package` refuses an empty one)."""
    timestamp: dt.datetime
    """Aware datetime; written in Vietnam time."""


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """``StaffInfo``: the person handling the package at the sending agency."""

    department: str = ""
    staff: str = ""
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True, slots=True)
class ReplacementInfo:
    """``ReplacementInfoList/ReplacementInfo``: a document replaced, and for which recipients."""

    document_id: str
    organ_ids: tuple[str, ...] = ()
    """``OrganIdList/OrganId``."""


@dataclass(frozen=True, slots=True)
class BusinessDocumentInfo:
    """``BussinessDocumentInfo``: for updates, what changed."""

    document_info: bool = False
    """``DocumentInfo``: 1 if the document's metadata or files changed."""
    document_receiver: bool = False
    """``DocumentReceiver``: 1 if the list of recipients changed."""
    receivers: tuple[str, ...] = ()
    """``ReceiverList/Receiver/OrganId``: the recipients concerned."""


@dataclass(frozen=True, slots=True)
class Business:
    """``Bussiness`` (sic, as on the wire): the business meaning of a document package."""

    document_id: str
    doc_type: BusinessDocType = BusinessDocType.NEW
    """``BussinessDocType``."""
    reason: str = ""
    """``BussinessDocReason``: why the document is revoked, updated or replaced."""
    paper: bool = False
    """``Paper``: True (1) if a paper copy follows."""
    document_info: BusinessDocumentInfo | None = None
    replacements: tuple[ReplacementInfo, ...] = ()
    """``ReplacementInfoList``."""
    staff: StaffInfo | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attached file: a manifest ``Reference`` plus its ``Attachment`` (base64 on the wire)."""

    content_id: str
    """``ContentId``, e.g. ``cid:1``; unique within the package."""
    name: str
    """``AttachmentName``: the file name."""
    content_type: str
    """``ContentType``: a MIME type, e.g. ``application/pdf``."""
    data: bytes = field(repr=False)
    """The decoded file content. In a package read by :mod:`.stream` (``read_package_file``,
    ``open_package_file``) a ``SpooledFile`` instead (a temporary file); ``build_package_file``
    also takes any object with ``open()`` (an ``AttachmentSource``)."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class DocumentPackage:
    """A document package (messagetype ``edoc``): new, revoke, update or replace."""

    sender: Organization
    """``From``."""
    recipients: tuple[Organization, ...]
    """``To``: at least one."""
    document_id: str
    """``DocumentId``: opaque key for deduplication (``<OrganId>,<yyyy/MM/dd>,<number/notation>`` usually)."""
    code: Code
    promulgation: PromulgationInfo
    document_type: DocumentType
    subject: str
    """``Subject``: trích yếu."""
    business: Business
    """``TraceHeaderList/Bussiness``."""
    content: str = ""
    signer: SignerInfo | None = None
    due_date: dt.date | None = None
    other: OtherInfo = OtherInfo()
    response_for: tuple[ResponseFor, ...] = ()
    """Required (at least one) for revoke, update and replace."""
    steering_type: int | None = None
    """``SteeringType``: loại chỉ đạo."""
    to_places: tuple[str, ...] = ()
    """``ToPlaces/Place``: nơi nhận as printed on the document."""
    trace: tuple[TraceHeader, ...] = ()
    """``TraceHeaderList/TraceHeader``: one per system passed so far."""
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusPackage:
    """A status package (messagetype ``status``): header only, no body."""

    sender: Organization
    """``From``: the agency reporting the status (usually the document's recipient)."""
    response_for: ResponseFor
    """The document whose status this is."""
    status: StatusCode
    timestamp: dt.datetime
    """When the status was reached; aware, written in Vietnam time."""
    staff: StaffInfo = StaffInfo()
    description: str = ""
    """Required (the reason) for 02 (rejected) and 13 (take-back request)."""
    recipients: tuple[Organization, ...] = ()
    """``To``: optional; the axis routes by ``ResponseFor/OrganId`` when absent."""
    trace: tuple[TraceHeader, ...] = ()


Package = DocumentPackage | StatusPackage
