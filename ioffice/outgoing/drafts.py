"""Drafts: creation, uploaded versions (PDF, or DOCX converted by LibreOffice), comments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.identifiers import AgencyIdentifier, InvalidAgencyIdentifier
from ioffice.agencies.models import Agency, Department, Membership, Role, User
from ioffice.agencies.permissions import Op
from ioffice.agencies.service import post_title
from ioffice.audit import record
from ioffice.documents.pdf import InvalidPdf, extract_text, inspect_pdf, make_signable
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.errors import Forbidden, NotFound
from ioffice.incoming import access as incoming_access
from ioffice.incoming.models import IncomingDocument
from ioffice.outgoing import convert
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import InvalidInput, UnsafePdf, WrongState
from ioffice.outgoing.locks import end_reads
from ioffice.outgoing.models import (
    DraftVersion,
    OutgoingComment,
    OutgoingDocument,
    OutgoingRecipient,
    OutgoingStatus,
    RecipientKind,
)
from ioffice.search import index_outgoing
from ioffice.storage import BlobStore

DRAFTERS = (Role.SPECIALIST, Role.DEPARTMENT_HEAD, Role.CLERK, Role.LEADER)
SIGNER_ROLES = (Role.LEADER,)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class DraftInput:
    doc_type: str
    subject: str
    signer_id: int | None
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    signer_position: str = ""
    department_ids: tuple[int, ...] = field(default_factory=tuple)
    agency_codes: tuple[str, ...] = field(default_factory=tuple)
    reply_to_id: int | None = None
    due_date: dt.date | None = None
    copies: int = 1
    notes: str = ""


def signers(session: Session, agency_id: int) -> list[User]:
    """Who may be designated to sign: the agency's leaders."""
    from ioffice.agencies.models import MembershipRole

    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .join(MembershipRole, MembershipRole.membership_id == Membership.id)
        .where(Membership.agency_id == agency_id, MembershipRole.role.in_(SIGNER_ROLES),
               User.active).order_by(User.full_name).distinct()))


def _validate(session: Session, actor: Actor, data: DraftInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.doc_type not in DOC_TYPES_BY_CODE:
        errors["doc_type"] = "Chưa chọn loại văn bản hợp lệ."
    if not data.subject.strip():
        errors["subject"] = "Chưa nhập trích yếu nội dung."
    if data.signer_id is None:
        errors["signer_id"] = "Chưa chọn người ký."
    elif data.signer_id not in {u.id for u in signers(session, actor.agency_id)}:
        errors["signer_id"] = "Người ký phải là lãnh đạo của cơ quan."
    if not data.department_ids and not data.agency_codes:
        errors["recipients"] = "Chưa chọn nơi nhận (phòng ban trong cơ quan hoặc cơ quan khác)."
    if data.copies < 1 or data.copies > 999:
        errors["copies"] = "Số lượng bản phải từ 1 đến 999."
    for code in data.agency_codes:
        try:
            AgencyIdentifier.parse(code)
        except InvalidAgencyIdentifier as exc:
            errors["agency_codes"] = str(exc)
        if code == _agency(session, actor).code:
            errors["agency_codes"] = "Không gửi văn bản cho chính cơ quan mình qua trục."
    if data.agency_codes and data.confidentiality is not Confidentiality.NORMAL:
        errors["agency_codes"] = CONFIDENTIAL_OUTSIDE.format(label=data.confidentiality.label)
    return errors


CONFIDENTIAL_OUTSIDE = (
    "Văn bản độ mật «{label}» không được gửi cho cơ quan khác qua trục liên thông: bỏ các cơ "
    "quan ngoài khỏi nơi nhận (gửi họ theo đường văn bản mật: giấy, giao trực tiếp), hoặc "
    "chọn độ mật «Thường» nếu văn bản không mật.")
"""Refused when the recipients are chosen: the clerk would otherwise find out only at
dispatch, after the number was taken and the seal applied."""


def validate(session: Session, actor: Actor, data: DraftInput) -> dict[str, str]:
    """Every error of a draft's fields, for a form that lists them all at once (the file is
    checked when it is stored)."""
    return _validate(session, actor, data)


def _agency(session: Session, actor: Actor) -> Agency:
    agency = session.get(Agency, actor.agency_id)
    assert agency is not None
    return agency


def create_draft(session: Session, blobs: BlobStore, actor: Actor, data: DraftInput,
                 upload: Upload) -> OutgoingDocument:
    """A drafter starts a draft with its first version."""
    actor.check(Op.DRAFT_OUTGOING)
    errors = _validate(session, actor, data)
    if data.reply_to_id is not None:
        incoming = session.get(IncomingDocument, data.reply_to_id)
        if incoming is None or not incoming_access.can_read(session, actor, incoming):
            errors["reply_to_id"] = "Không tìm thấy văn bản đến được trả lời."
    if errors:
        raise InvalidInput(errors)
    end_reads(session)
    prepared = _prepare_version(blobs, upload, note="Bản dự thảo đầu tiên")  # before any write
    signer = session.get(User, data.signer_id)
    assert signer is not None
    doc = OutgoingDocument(
        agency_id=actor.agency_id, status=OutgoingStatus.DRAFT, doc_type=data.doc_type,
        subject=" ".join(data.subject.split()), urgency=data.urgency,
        confidentiality=data.confidentiality, due_date=data.due_date,
        drafting_department_id=actor.department_id, created_by_id=actor.user_id,
        signer_id=signer.id, signer_position=(data.signer_position.strip()
                                              or post_title(session, signer, actor.agency_id)
                                              or "Lãnh đạo"),
        reply_to_id=data.reply_to_id, copies=data.copies, notes=data.notes.strip())
    session.add(doc)
    _set_recipients(session, actor, doc, data)
    session.flush()
    record(session, actor.ctx, "outgoing:draft:create", subject_type="outgoing",
           subject_id=doc.id, details={"subject": doc.subject, "doc_type": doc.doc_type,
                                       "signer_id": doc.signer_id,
                                       "reply_to_id": doc.reply_to_id})
    _keep_version(session, actor, doc, prepared)
    return doc


def _set_recipients(session: Session, actor: Actor, doc: OutgoingDocument, data: DraftInput) -> None:
    for dept_id in dict.fromkeys(data.department_ids):
        dept = session.get(Department, dept_id)
        if dept is None or dept.agency_id != actor.agency_id:
            raise NotFound("Không tìm thấy phòng ban nhận.")
        doc.recipients.append(OutgoingRecipient(kind=RecipientKind.DEPARTMENT,
                                                department_id=dept.id, name=dept.name))
    for code in dict.fromkeys(c.strip() for c in data.agency_codes):
        known = session.scalars(select(Agency).where(Agency.code == code)).one_or_none()
        doc.recipients.append(OutgoingRecipient(kind=RecipientKind.AGENCY, agency_code=code,
                                                name=known.name if known else code))


def can_upload(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    from ioffice.outgoing import review

    if doc.status is OutgoingStatus.DRAFT:
        return actor.user_id == doc.created_by_id
    if doc.status is OutgoingStatus.IN_REVIEW:
        return review.can_review(session, actor, doc)
    return False


def upload_version(session: Session, blobs: BlobStore, actor: Actor, document_id: int,
                   upload: Upload, note: str = "") -> DraftVersion:
    """A new version: by the drafter while a draft, or by the reviewer whose turn it is."""
    actor.check(Op.UPLOAD_VERSION)
    _require_upload(session, actor, get_document(session, actor, document_id))
    end_reads(session)
    prepared = _prepare_version(blobs, upload, note)  # converted and checked before the lock
    doc = get_document(session, actor, document_id, for_update=True)
    _require_upload(session, actor, doc)
    return _keep_version(session, actor, doc, prepared)


def _require_upload(session: Session, actor: Actor, doc: OutgoingDocument) -> None:
    if doc.status not in (OutgoingStatus.DRAFT, OutgoingStatus.IN_REVIEW):
        raise WrongState("Văn bản đã được duyệt để ký: không thay đổi nội dung được nữa.")
    if not can_upload(session, actor, doc):
        raise Forbidden("Chỉ người soạn thảo (hoặc người đang duyệt) được tải lên phiên bản mới.")


UNSAFE = ("Tệp PDF «{name}» có chứa {what}. Văn bản sẽ được ký số, nên không được chứa nội dung "
          "có thể tự thay đổi khi hiển thị hay tệp ẩn đi kèm: hãy xuất lại PDF từ trình soạn "
          "thảo (hoặc tải lên bản .docx) rồi thử lại. Tệp đính kèm gửi thành tệp riêng.")


def check_pdf(data: bytes, filename: str) -> int:
    """Page count of a PDF fit to be signed; refuses JavaScript and embedded files."""
    try:
        facts = inspect_pdf(data, filename)
    except InvalidPdf as exc:
        raise InvalidInput({"file": exc.message}) from exc
    what = [w for w, present in (("mã JavaScript", facts.has_javascript),
                                 ("tệp đính kèm nhúng bên trong", facts.has_attachments)) if present]
    if what:
        raise UnsafePdf(UNSAFE.format(name=filename, what=" và ".join(what)))
    return facts.page_count


REPAIRED_NOTE = "tệp PDF có bảng tham chiếu chéo hỏng, đã được sửa tự động khi tải lên"


def signable(data: bytes, filename: str) -> tuple[bytes, bool]:
    """The PDF a signature can later be added to (repaired if its cross-reference table was
    broken) and whether it was repaired; a damaged or truncated file is refused now, not at
    the signature (:func:`ioffice.documents.pdf.make_signable`)."""
    try:
        result = make_signable(data, filename)
    except InvalidPdf as exc:
        raise InvalidInput({"file": exc.message}) from exc
    return result.data, result.repaired


@dataclass(frozen=True)
class _Prepared:
    """An uploaded version converted, checked and stored as blobs, with no session at all: the
    slow part (LibreOffice, pdfium, text extraction) runs before anything is written or locked."""

    filename: str
    sha256: str
    size: int
    pages: int
    source_filename: str
    source_sha256: str
    note: str
    repaired: bool
    text: str


def _prepare_version(blobs: BlobStore, upload: Upload, note: str) -> _Prepared:
    if not upload.data:
        raise InvalidInput({"file": "Chưa chọn tệp dự thảo (PDF hoặc DOCX)."})
    name = _safe_name(upload.filename)
    source_name, source_sha = "", ""
    pdf = upload.data
    if convert.is_docx(name, upload.data):
        source_name, source_sha = name, blobs.put_bytes(upload.data).sha256
        pdf = convert.docx_to_pdf(upload.data, name)
        name = name.rsplit(".", 1)[0] + ".pdf"
    pages = check_pdf(pdf, name)
    pdf, repaired = signable(pdf, name)
    if repaired:
        pages = check_pdf(pdf, name)
        note = f"{note.strip()} ({REPAIRED_NOTE})" if note.strip() else REPAIRED_NOTE
    info = blobs.put_bytes(pdf)
    return _Prepared(name, info.sha256, info.size, pages, source_name, source_sha, note.strip(),
                     repaired, extract_text(pdf))


def _keep_version(session: Session, actor: Actor, doc: OutgoingDocument, prepared: _Prepared
                  ) -> DraftVersion:
    version = DraftVersion(version_no=len(doc.versions) + 1, filename=prepared.filename,
                           sha256=prepared.sha256, size=prepared.size, page_count=prepared.pages,
                           source_filename=prepared.source_filename,
                           source_sha256=prepared.source_sha256, note=prepared.note,
                           uploaded_by_id=actor.user_id)
    doc.versions.append(version)
    doc.current_sha256, doc.page_count = prepared.sha256, prepared.pages
    session.flush()
    record(session, actor.ctx, "outgoing:draft:upload", subject_type="outgoing",
           subject_id=doc.id, details={"version": version.version_no, "sha256": prepared.sha256,
                                       "converted_from": prepared.source_filename or None,
                                       "repaired": prepared.repaired})
    index_outgoing(session, doc, prepared.text)
    return version


def add_comment(session: Session, actor: Actor, document_id: int, body: str) -> OutgoingComment:
    """Anyone who may read the document may comment on it."""
    actor.check(Op.COMMENT_OUTGOING)
    doc = get_document(session, actor, document_id)
    if not body.strip():
        raise InvalidInput({"body": "Chưa nhập nội dung ý kiến."})
    comment = OutgoingComment(author_id=actor.user_id, kind="comment", body=body.strip(),
                              version_no=len(doc.versions))
    doc.comments.append(comment)
    session.flush()
    record(session, actor.ctx, "outgoing:draft:comment", subject_type="outgoing",
           subject_id=doc.id, details={"body": comment.body})
    return comment


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "du-thao.pdf"
    return "".join(c for c in base if c.isprintable())[:200]
