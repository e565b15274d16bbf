"""Building edXML packages from outbox rows (deterministically: a resend posts the same bytes,
so the hub answers with the same message id)."""

from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
from collections.abc import Sequence
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from axis_connector.edxml import (
    Attachment,
    Business,
    BusinessDocType,
    Code,
    DocumentPackage,
    DocumentType,
    Organization,
    OtherInfo,
    ParseLimits,
    Priority,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPackage,
    build_package,
    sign_package,
)
from axis_connector.edxml.stream import build_package_file, sign_package_file
from ioffice.agencies.models import Agency
from ioffice.documents.vocabulary import DOC_TYPES, DOC_TYPES_BY_CODE, doc_type_by_name
from ioffice.storage import BlobStore

_BUSINESS = {"new": BusinessDocType.NEW, "revoke": BusinessDocType.REVOKE,
             "update": BusinessDocType.UPDATE, "replace": BusinessDocType.REPLACE}
BUSINESS_NAMES = {v: k for k, v in _BUSINESS.items()}
_PRIORITY = {"normal": Priority.NORMAL, "urgent": Priority.URGENT,
             "very_urgent": Priority.VERY_URGENT, "flash": Priority.FLASH}
URGENCY_OF_PRIORITY = {Priority.NORMAL: "normal", Priority.URGENT: "urgent",
                       Priority.VERY_URGENT: "very_urgent", Priority.FLASH: "flash",
                       Priority.TIMED_FLASH: "flash"}
_TYPE_INDEX = {t.code: i + 1 for i, t in enumerate(DOC_TYPES)}


def organization(agency: Agency) -> Organization:
    return Organization(organ_id=agency.code, organ_name=agency.name, address=agency.address,
                        email=agency.email, telephone=agency.phone, website=agency.website)


def doc_type_code(document_type: DocumentType) -> str:
    found = doc_type_by_name(document_type.type_name)
    if found is not None:
        return found.code
    if 1 <= document_type.type_detail <= len(DOC_TYPES):
        return DOC_TYPES[document_type.type_detail - 1].code
    return "cong_van"


STREAM_FILES_ABOVE = 4 * 1024 * 1024
"""Files larger than this in all are read from the blob store while the package is written to a
temporary file, and signed from there (``build_signed_document``)."""

_OWN_PACKAGE = ParseLimits(max_bytes=sys.maxsize, allow_huge_text=True)
"""Our own package, signed: no limit of an untrusted input applies."""


class _BlobFile:
    """An attachment read from the blob store while the package is written (verified against its
    key as it is read)."""

    def __init__(self, blobs: BlobStore, sha256: str) -> None:
        self.blobs = blobs
        self.sha256 = sha256

    def open(self) -> BinaryIO:
        return self.blobs.open(self.sha256)  # type: ignore[return-value]  # a context manager


def build_document(agency: Agency, payload: dict[str, Any], blobs: BlobStore) -> bytes:
    return build_package(document_package(agency, payload, blobs))


def build_signed_document(agency: Agency, payload: dict[str, Any], blobs: BlobStore,
                          key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                          chain: Sequence[x509.Certificate]) -> bytes:
    """The signed package (the bytes ``sign_package(build_document(...))`` gives). When its files
    are large, in memory about the package's size: the files are base64-encoded from the blob
    store into a temporary file and the package signed from there (``axis_connector.edxml.stream``)."""
    if sum(blobs.size(sha256) for _, sha256 in payload["files"]) <= STREAM_FILES_ABOVE:
        return sign_package(build_document(agency, payload, blobs), key, chain, limits=_OWN_PACKAGE)
    with tempfile.TemporaryFile() as unsigned:
        build_package_file(document_package(agency, payload, blobs, stream=True), unsigned)
        unsigned.seek(0)
        out = io.BytesIO()
        sign_package_file(unsigned, out, key, chain, limits=_OWN_PACKAGE)
        return out.getvalue()


def document_package(agency: Agency, payload: dict[str, Any], blobs: BlobStore, *,
                     stream: bool = False) -> DocumentPackage:
    """The package of an outbox row; ``stream``: its attachments' data read from the blob store
    only when written (for ``build_package_file``), else their bytes."""
    doc_type = DOC_TYPES_BY_CODE[payload["doc_type_code"]]
    names = payload.get("recipient_names") or {}
    business_type = _BUSINESS[payload.get("business_type") or "new"]
    promulgation = dt.date.fromisoformat(payload["promulgation_date"])
    number_notation = f"{payload['number']}/{payload['notation']}" if payload["notation"] \
        else payload["number"]
    response_for: tuple[ResponseFor, ...] = ()
    replacements: tuple[ReplacementInfo, ...] = ()
    if payload.get("response_for"):
        response_for = (ResponseFor(organ_id=agency.code, code=number_notation,
                                    promulgation_date=promulgation,
                                    document_id=payload["response_for"]),)
        if business_type is BusinessDocType.REPLACE:
            replacements = (ReplacementInfo(payload["response_for"],
                                            tuple(payload["recipients"])),)
    attachments = tuple(
        Attachment(content_id=f"cid:{i + 1}", name=name, content_type="application/pdf",
                   data=_BlobFile(blobs, sha256) if stream else blobs.read_bytes(sha256))  # type: ignore[arg-type]
        for i, (name, sha256) in enumerate(payload["files"]))
    return DocumentPackage(
        sender=organization(agency),
        recipients=tuple(Organization(organ_id=r, organ_name=names.get(r, ""))
                         for r in payload["recipients"]),
        document_id=payload["document_identifier"],
        code=Code(payload["number"], payload["notation"]),
        promulgation=PromulgationInfo(payload["place"], promulgation),
        document_type=DocumentType(1, _TYPE_INDEX[doc_type.code], doc_type.name),
        subject=payload["subject"], content=payload.get("content") or "",
        signer=SignerInfo(payload.get("signer_competence") or "",
                          payload.get("signer_position") or "",
                          payload.get("signer_full_name") or ""),
        due_date=dt.date.fromisoformat(payload["due_date"]) if payload.get("due_date") else None,
        other=OtherInfo(priority=_PRIORITY.get(payload.get("urgency") or "normal", Priority.NORMAL),
                        page_amount=int(payload.get("page_count") or 0) or None),
        response_for=response_for,
        business=Business(document_id=payload["document_identifier"], doc_type=business_type,
                          reason=payload.get("reason") or "", paper=bool(payload.get("paper_follows")),
                          replacements=replacements,
                          staff=StaffInfo(payload.get("staff_department") or "",
                                          payload.get("staff_name") or "",
                                          payload.get("staff_email") or "",
                                          payload.get("staff_mobile") or "")),
        attachments=attachments,
    )


def build_status(payload: dict[str, Any]) -> bytes:
    rf = payload["response_for"]
    package = StatusPackage(
        sender=Organization(organ_id=payload["organ_id"], organ_name=payload.get("organ_name") or ""),
        response_for=ResponseFor(organ_id=rf["organ_id"], code=rf["code"],
                                 promulgation_date=dt.date.fromisoformat(rf["promulgation_date"]),
                                 document_id=rf["document_id"]),
        status=StatusCode(payload["code"]),
        timestamp=dt.datetime.fromisoformat(payload["timestamp"]),
        staff=StaffInfo(payload.get("department") or "", payload.get("staff") or ""),
        description=payload.get("description") or "",
        recipients=(Organization(organ_id=payload["to"]),),
    )
    return build_package(package)
