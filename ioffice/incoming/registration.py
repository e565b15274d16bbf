"""Registering incoming documents: paper scans and electronic documents awaiting registration."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ioffice import events
from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.documents.pdf import InvalidPdf, extract_text, inspect_pdf, make_signable
from ioffice.documents.vocabulary import (
    DOC_TYPES_BY_CODE,
    Confidentiality,
    Urgency,
    notation_text,
)
from ioffice.incoming import access
from ioffice.incoming.errors import (
    AlreadySubmitted,
    DuplicateSuspected,
    IncomingError,
    InvalidInput,
)
from ioffice.incoming.models import (
    DocumentFile,
    DocumentStatus,
    DocumentText,
    IncomingDocument,
    Source,
)
from ioffice.ocr.fields import LABELS
from ioffice.ocr.images import image_to_pdf, is_image, pdf_name
from ioffice.ocr.service import attach_scans
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register, next_number
from ioffice.search import index_incoming, index_new_incoming
from ioffice.storage import BlobStore
from signing import TrustStore, validate_pdf

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_FILES = 20


def today_vn() -> dt.date:
    return dt.datetime.now(VN).date()


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class IncomingInput:
    """The metadata of Appendix VI for an incoming document."""

    issuer_name: str
    number: str
    document_date: dt.date | None
    doc_type: str
    subject: str
    notation: str = ""
    issuer_code: str = ""
    signer: str = ""
    page_count: int | None = None
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    due_date: dt.date | None = None
    notes: str = ""
    document_identifier: str = ""
    submission_id: str = ""
    confirm_duplicate: bool = False
    files: tuple[UploadedFile, ...] = field(default_factory=tuple)
    scan_tokens: tuple[str, ...] = ()
    """The held files' tokens the form's scans came from, in file order (their OCR jobs)."""
    machine_read: tuple[str, ...] = ()
    """Fields the OCR filled that the clerk has not confirmed yet (registration refuses)."""


def validate(data: IncomingInput, today: dt.date, *, need_files: bool = True) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.issuer_name.strip():
        errors["issuer_name"] = "Chưa nhập cơ quan ban hành."
    if not data.number.strip():
        errors["number"] = "Chưa nhập số văn bản."
    elif len(data.number.strip()) > 20:
        errors["number"] = "Số văn bản quá dài."
    if data.document_date is None:
        errors["document_date"] = "Chưa nhập ngày văn bản."
    elif data.document_date > today:
        errors["document_date"] = "Ngày văn bản không thể ở tương lai."
    if data.doc_type not in DOC_TYPES_BY_CODE:
        errors["doc_type"] = "Chưa chọn loại văn bản hợp lệ."
    if not data.subject.strip():
        errors["subject"] = "Chưa nhập trích yếu nội dung."
    if data.due_date and data.document_date and data.due_date < data.document_date:
        errors["due_date"] = "Hạn xử lý không thể trước ngày văn bản."
    if data.page_count is not None and data.page_count < 0:
        errors["page_count"] = "Số trang không hợp lệ."
    if need_files and not data.files:
        errors["files"] = "Chưa đính kèm tệp PDF của văn bản."
    if len(data.files) > MAX_FILES:
        errors["files"] = f"Tối đa {MAX_FILES} tệp cho một văn bản."
    unconfirmed = [LABELS[name] for name in data.machine_read if name in LABELS]
    if unconfirmed:
        errors["machine_read"] = ("Các ô do máy đọc từ bản quét chưa được xác nhận: "
                                  f"{', '.join(unconfirmed)}. Đối chiếu với bản giấy rồi bấm "
                                  "«Đúng» ở từng ô (hoặc sửa lại).")
    return errors


def find_duplicates(session: Session, agency_id: int, *, document_identifier: str,
                    number_notation: str, issuer_code: str, issuer_name: str,
                    exclude_id: int | None = None) -> list[IncomingDocument]:
    """Same identifier, or same number + notation + issuing agency (Appendix VI III.1.h)."""
    same_issuer = (IncomingDocument.issuer_code == issuer_code if issuer_code
                   else IncomingDocument.issuer_name == issuer_name)
    conditions = [(IncomingDocument.number_notation == number_notation) & same_issuer]
    if document_identifier:
        conditions.append(IncomingDocument.document_identifier == document_identifier)
    stmt = (select(IncomingDocument).where(IncomingDocument.agency_id == agency_id, or_(*conditions))
            .order_by(IncomingDocument.id).limit(5))
    if exclude_id is not None:
        stmt = stmt.where(IncomingDocument.id != exclude_id)
    return list(session.scalars(stmt))


def register_paper(session: Session, blobs: BlobStore, actor: Actor, data: IncomingInput,
                   *, today: dt.date | None = None,
                   trust: TrustStore | None = None) -> IncomingDocument:
    """A clerk registers a scanned or electronic PDF: numbered at once in the year's register.
    With ``trust``, each file that carries a digital signature gets the verdict on it (as a
    received file does); a file without one gets none."""
    actor.check(Op.REGISTER_INCOMING)
    today = today or today_vn()
    if data.submission_id:
        earlier = session.scalars(select(IncomingDocument).where(
            IncomingDocument.agency_id == actor.agency_id,
            IncomingDocument.submission_id == data.submission_id)).one_or_none()
        if earlier is not None:
            raise AlreadySubmitted(earlier)
    errors = validate(data, today)
    checked = _check_files(data.files, errors, repair=True)
    if errors:
        raise InvalidInput(errors)
    number_notation = notation_text(data.number, data.notation)
    _refuse_unconfirmed_duplicates(session, actor.agency_id, data, number_notation)
    verdicts = _upload_verdicts(checked, trust) if trust is not None else None
    doc = IncomingDocument(
        agency_id=actor.agency_id, status=DocumentStatus.REGISTERED, source=Source.PAPER,
        submission_id=data.submission_id or None, arrived_at=utcnow())
    _apply_metadata(doc, data, number_notation)
    session.add(doc)
    _attach_files(session, blobs, doc, checked, verdicts,
                  scans=lambda texts: attach_scans(session, actor, doc, data.scan_tokens, texts))
    if data.page_count is None:
        doc.page_count = sum(facts for _, facts in checked)
    _number_and_announce(session, doc, actor, today)
    return doc


def register_received(session: Session, actor: Actor, document_id: int, data: IncomingInput,
                      *, today: dt.date | None = None) -> IncomingDocument:
    """A clerk registers an electronic document that arrived over the axis (metadata may be
    corrected); it gets its number now."""
    actor.check(Op.REGISTER_INCOMING)
    today = today or today_vn()
    doc = access.get_document(session, actor, document_id, for_update=True)
    if doc.status is not DocumentStatus.AWAITING_REGISTRATION:
        raise IncomingError(f"Văn bản đã được xử lý ({doc.status.label}); không vào sổ lại được.")
    errors = validate(data, today, need_files=False)
    if errors:
        raise InvalidInput(errors)
    number_notation = notation_text(data.number, data.notation)
    _refuse_unconfirmed_duplicates(session, actor.agency_id, data, number_notation,
                                   exclude_id=doc.id)
    _apply_metadata(doc, data, number_notation, keep_identifier=True)
    doc.status = DocumentStatus.REGISTERED
    _number_and_announce(session, doc, actor, today)
    return doc


def reject_received(session: Session, actor: Actor, document_id: int, reason: str) -> IncomingDocument:
    """A clerk refuses an electronic document (status 02 goes back to the sender)."""
    actor.check(Op.REJECT_INCOMING)
    doc = access.get_document(session, actor, document_id, for_update=True)
    if not reason.strip():
        raise InvalidInput({"reason": "Phải nêu lý do từ chối."})
    if doc.status is not DocumentStatus.AWAITING_REGISTRATION:
        raise IncomingError("Chỉ từ chối được văn bản đang chờ vào sổ.")
    doc.status = DocumentStatus.REJECTED
    doc.rejection_reason = reason.strip()
    record(session, actor.ctx, "incoming:document:reject", subject_type="incoming",
           subject_id=doc.id, details={"reason": doc.rejection_reason})
    events.emit(session, events.INCOMING_REJECTED, document=doc, actor=actor, reason=reason)
    return doc


def _refuse_unconfirmed_duplicates(session: Session, agency_id: int, data: IncomingInput,
                                   number_notation: str, exclude_id: int | None = None) -> None:
    if data.confirm_duplicate:
        return
    matches = find_duplicates(session, agency_id, document_identifier=data.document_identifier,
                              number_notation=number_notation, issuer_code=data.issuer_code.strip(),
                              issuer_name=data.issuer_name.strip(), exclude_id=exclude_id)
    if matches:
        raise DuplicateSuspected(matches)


def _apply_metadata(doc: IncomingDocument, data: IncomingInput, number_notation: str,
                    keep_identifier: bool = False) -> None:
    doc.issuer_name = data.issuer_name.strip()
    doc.issuer_code = data.issuer_code.strip()
    doc.number = data.number.strip()
    doc.notation = data.notation.strip()
    doc.number_notation = number_notation
    assert data.document_date is not None
    doc.document_date = data.document_date
    doc.doc_type = data.doc_type
    doc.subject = " ".join(data.subject.split())
    doc.signer = data.signer.strip()
    if data.page_count is not None:
        doc.page_count = data.page_count
    doc.urgency = data.urgency
    doc.confidentiality = data.confidentiality
    doc.due_date = data.due_date
    doc.notes = data.notes.strip()
    if not (keep_identifier and doc.document_identifier):
        doc.document_identifier = data.document_identifier.strip() or None


def _upload_verdicts(checked: list[tuple[UploadedFile, int]],
                     trust: TrustStore) -> list[tuple[str, str]]:
    """The signature verdict of each uploaded file as stored (``("", "")``: no signature)."""
    verdicts = []
    for upload, _pages in checked:
        report = validate_pdf(upload.data, trust)
        verdicts.append(("", "") if report.reason == "no_signature"
                        else (report.verdict.value, report.explanation))
    return verdicts


def _check_files(files: tuple[UploadedFile, ...], errors: dict[str, str], *,
                 repair: bool = False) -> list[tuple[UploadedFile, int]]:
    """Each file's page count; with ``repair`` (a clerk's upload, not the exchange's signed
    files, which must stay byte for byte what was signed) a broken cross-reference table is
    rebuilt by qpdf and a truncated file refused (:func:`make_signable`)."""
    checked: list[tuple[UploadedFile, int]] = []
    for upload in files:
        try:
            if repair and is_image(upload.data):  # a photo of the paper: a one-page PDF
                upload = UploadedFile(pdf_name(upload.filename),
                                      image_to_pdf(upload.data, upload.filename))
            facts = inspect_pdf(upload.data, upload.filename)
            if repair:
                fixed = make_signable(upload.data, upload.filename)
                if fixed.repaired:
                    upload = dataclasses.replace(upload, data=fixed.data)
                    facts = inspect_pdf(upload.data, upload.filename)
        except InvalidPdf as exc:
            errors["files"] = exc.message
            continue
        checked.append((upload, facts.page_count))
    return checked


def _attach_files(session: Session, blobs: BlobStore, doc: IncomingDocument,
                  checked: list[tuple[UploadedFile, int]],
                  verdicts: list[tuple[str, str]] | None = None, *,
                  scans: Callable[[list[str]], str] | None = None) -> str:
    """Blobs are written before the transaction commits; content addressing makes a blob left
    by a rolled-back registration harmless (the next upload of the same bytes reuses it).
    ``scans``: given each file's text, run once the files have their ids (their OCR jobs,
    :func:`attach_scans`); the OCR text it returns joins the extracted text. Returns the text
    stored with the document."""
    texts = _stage_files(blobs, doc, checked, verdicts)
    text = "\n".join(texts)
    if doc.id is None or any(f.id is None for f in doc.files):
        session.flush()
    if scans is not None:
        text = "\n".join(t for t in (text.strip(), scans(texts)) if t)
    session.add(DocumentText(document_id=doc.id, content=text))
    return text


def check_files(files: tuple[UploadedFile, ...]) -> list[tuple[UploadedFile, int]]:
    """Files for a document the exchange creates, checked as a clerk's upload is (each with its
    page count); :class:`InvalidInput` if one is refused."""
    errors: dict[str, str] = {}
    checked = _check_files(files, errors)
    if errors:
        raise InvalidInput(errors)
    return checked


def stage_files(blobs: BlobStore, doc: IncomingDocument, checked: list[tuple[UploadedFile, int]],
                verdicts: list[tuple[str, str]] | None = None) -> str:
    """Store checked files' bytes and add their rows to ``doc.files`` (written with the
    document, by the caller's next flush); return their extracted text, which
    :func:`finish_files` stores once the document has its id."""
    return "\n".join(_stage_files(blobs, doc, checked, verdicts))


def _stage_files(blobs: BlobStore, doc: IncomingDocument, checked: list[tuple[UploadedFile, int]],
                 verdicts: list[tuple[str, str]] | None = None) -> list[str]:
    """:func:`stage_files`, the text of each file apart."""
    texts: list[str] = []
    verdicts = list(verdicts or [])
    for position, (upload, pages) in enumerate(checked):
        info = blobs.put_bytes(upload.data)
        verdict, summary = verdicts[position] if position < len(verdicts) else (None, None)
        extra = {"signature_verdict": verdict, "signature_summary": summary} if verdict else {}
        doc.files.append(DocumentFile(position=position, filename=_safe_name(upload.filename),
                                      content_type="application/pdf", sha256=info.sha256,
                                      size=info.size, page_count=pages, **extra))
        texts.append(extract_text(upload.data))
    return texts


def stage_received_file(blobs: BlobStore, doc: IncomingDocument, filename: str, data: bytes,
                        content_type: str, verdict: tuple[str, str] | None = None) -> None:
    """A file the exchange received that is not a PDF (a zip, an office file), stored as
    received after the PDFs: no pages, no text; ``verdict`` on the signatures of what it
    holds."""
    info = blobs.put_bytes(data)
    extra = {"signature_verdict": verdict[0], "signature_summary": verdict[1]} if verdict else {}
    doc.files.append(DocumentFile(position=len(doc.files), filename=_safe_name(filename, "tep-nen.zip"),
                                  content_type=content_type[:100], sha256=info.sha256,
                                  size=info.size, page_count=0, **extra))


def finish_files(session: Session, staged: list[tuple[IncomingDocument, str]]) -> None:
    """The extracted text and the search entry of documents created in this transaction, once
    a flush gave them their ids: several documents' rows in one statement each."""
    session.add_all([DocumentText(document_id=doc.id, content=text) for doc, text in staged])
    index_new_incoming(session, staged)


def _safe_name(name: str, default: str = "van-ban.pdf") -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or default
    return "".join(c for c in base if c.isprintable())[:200]


def _number_and_announce(session: Session, doc: IncomingDocument, actor: Actor,
                         today: dt.date) -> None:
    """Give the document its number, then record, announce (status 03 goes out) and index it."""
    _number(session, doc, actor, today)
    session.flush()
    record(session, actor.ctx, "incoming:document:register", subject_type="incoming",
           subject_id=doc.id, details={"incoming_number": doc.incoming_number,
                                       "number_notation": doc.number_notation,
                                       "source": doc.source.value})
    events.emit(session, events.INCOMING_REGISTERED, document=doc, actor=actor)
    index_incoming(session, doc)


def _number(session: Session, doc: IncomingDocument, actor: Actor, today: dt.date) -> None:
    register = get_or_create_register(session, actor.agency_id, RegisterKind.INCOMING, today.year)
    doc.register_id = register.id
    doc.incoming_number = next_number(session, register)
    doc.registered_at = utcnow()
    doc.registered_by_id = actor.user_id
