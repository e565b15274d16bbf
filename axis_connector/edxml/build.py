"""Build edXML packages (bytes) from typed objects.

The XML is written directly rather than through an lxml tree: it gives exact
control of the prefixes (every element ``edXML:``, the root also declaring the
namespace as default, as the national axis expects) and lets the base64 of each
attachment go into the output with one copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pybase64

from .errors import EdxmlError
from .model import (
    NAMESPACE,
    Attachment,
    Business,
    DocumentPackage,
    Organization,
    OtherInfo,
    ResponseFor,
    StaffInfo,
    StatusPackage,
    TraceHeader,
)
from .values import (
    ATTACHMENTS,
    BUSINESS,
    MESSAGE_HEADER,
    TRACE_LIST,
    check_document_rules,
    check_organ_id,
    check_status_rules,
    check_xml_text,
    format_date,
    format_timestamp,
)

__all__ = ["build_document_package", "build_package", "build_status_package"]

_PROLOG = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXML xmlns:edXML="{NAMESPACE}" xmlns="{NAMESPACE}">'
)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


class _Writer:
    """Accumulates the package as a list of str pieces (and bytes for attachments)."""

    def __init__(self) -> None:
        self.parts: list[str] = [_PROLOG]

    def open(self, tag: str, attrs: str = "") -> None:
        self.parts.append(f"<edXML:{tag}{attrs}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</edXML:{tag}>")

    def leaf(self, tag: str, value: object, path: str) -> None:
        text = value if isinstance(value, str) else str(value)
        check_xml_text(text, f"{path}/{tag}")
        self.parts.append(f"<edXML:{tag}>{text.translate(_ESCAPES)}</edXML:{tag}>")

    def leaves(self, path: str, pairs: Iterable[tuple[str, object]]) -> None:
        for tag, value in pairs:
            if value is not None:
                self.leaf(tag, value, path)


def _organization(w: _Writer, tag: str, org: Organization, path: str) -> None:
    check_organ_id(org.organ_id, f"{path}/OrganId")
    w.open(tag)
    w.leaves(
        path,
        [
            ("OrganId", org.organ_id),
            ("OrganizationInCharge", org.organization_in_charge),
            ("OrganName", org.organ_name),
            ("OrganAdd", org.address),
            ("Email", org.email),
            ("Telephone", org.telephone),
            ("Fax", org.fax),
            ("Website", org.website),
        ],
    )
    w.close(tag)


def _response_for(w: _Writer, ref: ResponseFor, path: str) -> None:
    check_organ_id(ref.organ_id, f"{path}/OrganId")
    w.open("ResponseFor")
    w.leaves(
        path,
        [
            ("OrganId", ref.organ_id),
            ("Code", ref.code),
            ("PromulgationDate", format_date(ref.promulgation_date)),
            ("DocumentId", ref.document_id),
        ],
    )
    w.close("ResponseFor")


def _staff(w: _Writer, staff: StaffInfo, path: str) -> None:
    w.open("StaffInfo")
    w.leaves(
        path,
        [
            ("Department", staff.department),
            ("Staff", staff.staff),
            ("Email", staff.email),
            ("Mobile", staff.mobile),
        ],
    )
    w.close("StaffInfo")


def _other(w: _Writer, other: OtherInfo, path: str) -> None:
    w.open("OtherInfo")
    w.leaves(
        path,
        [
            ("Priority", int(other.priority)),
            ("SphereOfPromulgation", other.sphere_of_promulgation),
            ("TyperNotation", other.typer_notation),
            ("PromulgationAmount", other.promulgation_amount),
            ("PageAmount", other.page_amount),
            ("Direction", None if other.direction is None else str(other.direction).lower()),
        ],
    )
    if other.appendixes:
        w.open("Appendixes")
        w.leaves(path + "/Appendixes", [("Appendix", name) for name in other.appendixes])
        w.close("Appendixes")
    w.close("OtherInfo")


def _trace_headers(w: _Writer, trace: tuple[TraceHeader, ...]) -> None:
    for index, header in enumerate(trace, 1):
        path = f"{TRACE_LIST}/TraceHeader[{index}]"
        check_organ_id(header.organ_id, f"{path}/OrganId")
        w.open("TraceHeader")
        w.leaves(path, [("OrganId", header.organ_id), ("Timestamp", format_timestamp(header.timestamp))])
        w.close("TraceHeader")


def _business(w: _Writer, business: Business) -> None:
    w.open("Bussiness")
    w.leaves(
        BUSINESS,
        [
            ("DocumentId", business.document_id),
            ("BussinessDocType", int(business.doc_type)),
            ("BussinessDocReason", business.reason),
            ("Paper", int(business.paper)),
        ],
    )
    info = business.document_info
    if info is not None:
        path = BUSINESS + "/BussinessDocumentInfo"
        w.open("BussinessDocumentInfo")
        w.leaves(
            path,
            [("DocumentInfo", int(info.document_info)), ("DocumentReceiver", int(info.document_receiver))],
        )
        if info.receivers:
            w.open("ReceiverList")
            for index, organ_id in enumerate(info.receivers, 1):
                check_organ_id(organ_id, f"{path}/ReceiverList/Receiver[{index}]/OrganId")
                w.open("Receiver")
                w.leaf("OrganId", organ_id, path)
                w.close("Receiver")
            w.close("ReceiverList")
        w.close("BussinessDocumentInfo")
    if business.replacements:
        w.open("ReplacementInfoList")
        for index, replacement in enumerate(business.replacements, 1):
            path = f"{BUSINESS}/ReplacementInfoList/ReplacementInfo[{index}]"
            w.open("ReplacementInfo")
            w.leaf("DocumentId", replacement.document_id, path)
            w.open("OrganIdList")
            for number, organ_id in enumerate(replacement.organ_ids, 1):
                check_organ_id(organ_id, f"{path}/OrganIdList/OrganId[{number}]")
                w.leaf("OrganId", organ_id, path)
            w.close("OrganIdList")
            w.close("ReplacementInfo")
        w.close("ReplacementInfoList")
    if business.staff is not None:
        _staff(w, business.staff, BUSINESS + "/StaffInfo")
    w.close("Bussiness")


_Encode = Callable[[int, Attachment], bytes]
"""The base64 text of the n-th attachment (from 0); :mod:`.stream` passes one that returns a
placeholder, to write the text itself from a file."""


def _base64(index: int, attachment: Attachment) -> bytes:
    return pybase64.b64encode(attachment.data)


def _finish(w: _Writer, attachments: tuple[Attachment, ...], encode: _Encode = _base64) -> bytes:
    if not attachments:
        w.parts.append("</edXML:edXML>")
        return "".join(w.parts).encode("utf-8")
    w.open("AttachmentEncoded")
    chunks: list[bytes] = []
    for index, attachment in enumerate(attachments, 1):
        path = f"{ATTACHMENTS}/Attachment[{index}]"
        w.open("Attachment")
        w.leaves(
            path,
            [
                ("ContentId", attachment.content_id),
                ("AttachmentName", attachment.name),
                ("Description", attachment.description),
                ("ContentType", attachment.content_type),
            ],
        )
        w.open("ContentTransferEncoded")
        chunks.append("".join(w.parts).encode("utf-8"))
        chunks.append(encode(index - 1, attachment))
        w.parts = []
        w.close("ContentTransferEncoded")
        w.close("Attachment")
    w.close("AttachmentEncoded")
    w.parts.append("</edXML:edXML>")
    chunks.append("".join(w.parts).encode("utf-8"))
    return b"".join(chunks)


def build_document_package(package: DocumentPackage) -> bytes:
    """Serialize a document package (new, revoke, update, replace) to edXML bytes (UTF-8).

    Raises :class:`EdxmlError` with the wire path if the package breaks a rule
    (no recipient, an ``OrganId`` over 35 characters, a revoke without
    ``ResponseFor``, duplicate ``ContentId``, a control character in a value...).
    """
    return _document(package, _base64)


def _document(package: DocumentPackage, encode: _Encode) -> bytes:
    check_document_rules(package)
    w = _Writer()
    w.open("edXMLEnvelope")
    w.open("edXMLHeader")
    w.open("MessageHeader")
    _organization(w, "From", package.sender, MESSAGE_HEADER + "/From")
    for index, recipient in enumerate(package.recipients, 1):
        _organization(w, "To", recipient, f"{MESSAGE_HEADER}/To[{index}]")
    w.leaf("DocumentId", package.document_id, MESSAGE_HEADER)
    w.open("Code")
    w.leaves(
        MESSAGE_HEADER + "/Code",
        [("CodeNumber", package.code.number), ("CodeNotation", package.code.notation)],
    )
    w.close("Code")
    w.open("PromulgationInfo")
    w.leaves(
        MESSAGE_HEADER + "/PromulgationInfo",
        [
            ("Place", package.promulgation.place),
            ("PromulgationDate", format_date(package.promulgation.date)),
        ],
    )
    w.close("PromulgationInfo")
    w.open("DocumentType")
    w.leaves(
        MESSAGE_HEADER + "/DocumentType",
        [
            ("Type", package.document_type.type),
            ("TypeDetail", package.document_type.type_detail),
            ("TypeName", package.document_type.type_name),
        ],
    )
    w.close("DocumentType")
    w.leaf("Subject", package.subject, MESSAGE_HEADER)
    w.leaf("Content", package.content, MESSAGE_HEADER)
    if package.signer is not None:
        w.open("SignerInfo")
        w.leaves(
            MESSAGE_HEADER + "/SignerInfo",
            [
                ("Competence", package.signer.competence),
                ("Position", package.signer.position),
                ("FullName", package.signer.full_name),
            ],
        )
        w.close("SignerInfo")
    if package.due_date is not None:
        w.leaf("DueDate", format_date(package.due_date), MESSAGE_HEADER)
    _other(w, package.other, MESSAGE_HEADER + "/OtherInfo")
    for index, ref in enumerate(package.response_for, 1):
        _response_for(w, ref, f"{MESSAGE_HEADER}/ResponseFor[{index}]")
    if package.steering_type is not None:
        w.leaf("SteeringType", package.steering_type, MESSAGE_HEADER)
    if package.to_places:
        w.open("ToPlaces")
        w.leaves(MESSAGE_HEADER + "/ToPlaces", [("Place", place) for place in package.to_places])
        w.close("ToPlaces")
    w.close("MessageHeader")
    w.open("TraceHeaderList")
    _trace_headers(w, package.trace)
    _business(w, package.business)
    w.close("TraceHeaderList")
    w.close("edXMLHeader")
    w.open("edXMLBody")
    w.open("edXMLManifest", ' version="1.0"')
    for index, attachment in enumerate(package.attachments, 1):
        path = f"/edXML/edXMLEnvelope/edXMLBody/edXMLManifest/Reference[{index}]"
        w.open("Reference")
        w.leaves(
            path,
            [
                ("ContentId", attachment.content_id),
                ("ContentType", attachment.content_type),
                ("Description", attachment.description),
                ("AttachmentName", attachment.name),
            ],
        )
        w.close("Reference")
    w.close("edXMLManifest")
    w.close("edXMLBody")
    w.close("edXMLEnvelope")
    return _finish(w, package.attachments, encode)


def build_status_package(package: StatusPackage) -> bytes:
    """Serialize a status package (01, 02, 03, 04, 05, 06, 13, 15, 16) to edXML bytes (UTF-8)."""
    check_status_rules(package)
    w = _Writer()
    w.open("edXMLEnvelope")
    w.open("edXMLHeader")
    w.open("MessageHeader")
    _organization(w, "From", package.sender, MESSAGE_HEADER + "/From")
    for index, recipient in enumerate(package.recipients, 1):
        _organization(w, "To", recipient, f"{MESSAGE_HEADER}/To[{index}]")
    _response_for(w, package.response_for, MESSAGE_HEADER + "/ResponseFor")
    _staff(w, package.staff, MESSAGE_HEADER + "/StaffInfo")
    w.leaves(
        MESSAGE_HEADER,
        [
            ("StatusCode", package.status.value),
            ("Description", package.description),
            ("Timestamp", format_timestamp(package.timestamp)),
        ],
    )
    w.close("MessageHeader")
    if package.trace:
        w.open("TraceHeaderList")
        _trace_headers(w, package.trace)
        w.close("TraceHeaderList")
    w.close("edXMLHeader")
    w.close("edXMLEnvelope")
    return _finish(w, ())


def build_package(package: DocumentPackage | StatusPackage) -> bytes:
    """Serialize either kind of package."""
    if isinstance(package, DocumentPackage):
        return build_document_package(package)
    if isinstance(package, StatusPackage):
        return build_status_package(package)
    raise EdxmlError("invalid_package", "", f"không phải gói tin edXML: {type(package).__name__}")
