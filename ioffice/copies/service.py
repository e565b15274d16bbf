"""Copies of documents: a leader decides (or the clerk records the leader's decision), the
clerk makes the copy, numbered in the agency's copies register and sealed with the agency's
signature, the same seal key and TSA as an outgoing document's (Decree 30 articles 25-27,
Appendix I part II).

Every function takes ``(session, [blobs, pki, trust,] actor, ...)`` and is one business
operation in the caller's transaction. The original is loaded through the read rule of its
capability (``incoming.access``, ``outgoing.access``) and a copy through :func:`get_copy`, which
applies that rule to the copy's original: another agency's document or copy is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from pyhanko.pdf_utils.misc import PdfError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Membership, Role, User
from ioffice.agencies.permissions import Op
from ioffice.agencies.places import place_of
from ioffice.audit import record
from ioffice.copies import pdf as copy_pdf
from ioffice.copies.errors import CopyError, InvalidCopy, WrongState
from ioffice.copies.models import CopyKind, CopyStatus, DocumentCopy
from ioffice.db import utcnow
from ioffice.documents.vocabulary import doc_type
from ioffice.errors import NotFound
from ioffice.incoming import access as incoming_access
from ioffice.incoming.models import IncomingDocument
from ioffice.keys import service as keys
from ioffice.outgoing import access as outgoing_access
from ioffice.outgoing.errors import OutgoingError
from ioffice.outgoing.locks import end_reads
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.outgoing.signatures import AGENCY_LEVEL, check_next_signature
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import (
    NumberTaken,
    get_or_create_register,
    next_number,
    peek_next_number,
)
from ioffice.storage import BlobStore
from signing import (
    AttachmentStamp,
    Credential,
    PadesLevel,
    Pki,
    SigningError,
    TrustStore,
    sign_pdf,
)
from signing.archival import last_timestamp
from signing.tsa import TimestampUnavailable

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens

__all__ = ["CopyRequest", "copies_of", "get_copy", "list_copies", "make_copy", "request_copy"]

NOT_FOUND = "Không tìm thấy bản sao."
VN_TZ = dt.timezone(dt.timedelta(hours=7))
ISSUED = (OutgoingStatus.SEALED, OutgoingStatus.DISPATCHED)


@dataclass(frozen=True)
class CopyRequest:
    """The request form, as typed."""

    kind: str
    """``sao_y``, ``sao_luc`` or ``trich_sao``."""
    submission_id: str
    """The form's one-time id: a second submission of the same form finds the first copy."""
    recipients: str = ""
    """Nơi nhận, one per line."""
    pages: str = ""
    """Trích sao: the pages, e.g. "1-2, 4"."""
    decided_by_id: int | None = None
    """The leader who decided (article 27.1); a leader asking decides himself."""
    note: str = ""


def today_vn() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


# --- the original --------------------------------------------------------------------------

def _original(session: Session, actor: Actor, source: str, document_id: int
              ) -> IncomingDocument | OutgoingDocument:
    if source == "incoming":
        return incoming_access.get_document(session, actor, document_id)
    if source == "outgoing":
        return outgoing_access.get_document(session, actor, document_id)
    raise NotFound("Không tìm thấy văn bản.")


def _original_pdf(blobs: BlobStore, doc: IncomingDocument | OutgoingDocument) -> bytes:
    """The bytes of the original, or why there is nothing to copy."""
    if isinstance(doc, OutgoingDocument):
        if doc.status not in ISSUED:
            raise InvalidCopy(f"Chỉ sao được văn bản đi đã ký số của cơ quan (bản chính); văn "
                              f"bản này đang ở trạng thái «{doc.status.label}».")
        sha256 = doc.current_sha256
    else:
        files = [f for f in doc.files if f.content_type == "application/pdf"]
        if not files:
            raise InvalidCopy("Văn bản đến này không có tệp PDF (bản giấy chưa được số hóa), "
                              "nên chưa sao được: hãy quét văn bản và đính kèm tệp trước.")
        sha256 = files[0].sha256
    if not sha256:
        raise InvalidCopy("Văn bản này không có tệp để sao.")
    return blobs.read_bytes(sha256)


def _page_count(data: bytes) -> int:
    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def _describe(doc: IncomingDocument | OutgoingDocument) -> str:
    kind = doc_type(doc.doc_type).name if doc.doc_type else "Văn bản"
    if isinstance(doc, OutgoingDocument):
        issued = doc.promulgation_date
        issuer = doc.agency.name
    else:
        issued, issuer = doc.document_date, doc.issuer_name
    when = f" ngày {issued:%d/%m/%Y}" if issued else ""
    subject = doc.subject.strip()
    about = (subject[:1].lower() + subject[1:] if subject.casefold().startswith("về ")
             else f"về {subject}")
    return f"{kind} số {doc.number_notation}{when} của {issuer} {about}"


# --- the leader's decision -----------------------------------------------------------------

def _leader(session: Session, actor: Actor, decided_by_id: int | None) -> tuple[User, str]:
    """The deciding leader and the position printed over the name."""
    if decided_by_id is None:
        if not actor.has(Role.LEADER):
            raise InvalidCopy("Chưa có quyết định sao của lãnh đạo: văn thư sao văn bản theo "
                              "quyết định của người đứng đầu cơ quan (Điều 27 Nghị định "
                              "30/2020); hãy chọn lãnh đạo đã quyết định sao.")
        decided_by_id = actor.user_id
    membership = session.scalars(select(Membership).where(
        Membership.user_id == decided_by_id, Membership.agency_id == actor.agency_id)).first()
    if (membership is None or Role.LEADER not in membership.roles
            or not membership.user.active):
        raise InvalidCopy("Người được chọn không phải là lãnh đạo đang làm việc của cơ quan; hãy "
                          "chọn lãnh đạo đã quyết định sao văn bản.")
    title = membership.position_title or membership.user.position_title or "Lãnh đạo"
    return membership.user, title


def leaders(session: Session, actor: Actor) -> list[User]:
    """Who may decide a copy: the agency's active leaders (the request form's choice)."""
    from ioffice.agencies import service as agencies

    return agencies.active_holders(session, actor.agency_id, (Role.LEADER,))


# --- request ---------------------------------------------------------------------------------

def request_copy(session: Session, blobs: BlobStore, actor: Actor, source: str, document_id: int,
                 data: CopyRequest) -> DocumentCopy:
    """Record the decision to copy ``source`` document ``document_id`` (``incoming`` or
    ``outgoing``). A second submission of the same form returns the first request."""
    actor.check(Op.REQUEST_COPY)
    doc = _original(session, actor, source, document_id)
    submission = data.submission_id.strip()[:64]
    if not submission:
        raise InvalidCopy("Biểu mẫu thiếu mã gửi; hãy tải lại trang rồi gửi lại.")
    earlier = session.scalars(select(DocumentCopy).where(
        DocumentCopy.agency_id == actor.agency_id,
        DocumentCopy.submission_id == submission)).one_or_none()
    if earlier is not None:
        return earlier
    try:
        kind = CopyKind(data.kind)
    except ValueError:
        raise InvalidCopy("Hãy chọn hình thức sao: sao y, sao lục hoặc trích sao.") from None
    leader, title = _leader(session, actor, data.decided_by_id)
    recipients = "\n".join(line.strip() for line in data.recipients.splitlines() if line.strip())
    if not recipients:
        raise InvalidCopy("Hãy ghi nơi nhận bản sao (mỗi nơi một dòng).")
    if len(recipients) > 2000:
        raise InvalidCopy("Nơi nhận quá dài (tối đa 2.000 ký tự).")
    original = _original_pdf(blobs, doc)
    from_copy = None
    pages = ""
    if kind is CopyKind.FROM_EXACT:
        from_copy = _newest_exact(session, actor, source, doc.id)
    elif kind is CopyKind.EXTRACT:
        try:
            chosen = copy_pdf.parse_pages(data.pages, _page_count(original))
        except ValueError as exc:
            raise InvalidCopy(str(exc)) from None
        pages = ",".join(str(p + 1) for p in chosen)
    elif data.pages.strip():
        raise InvalidCopy("Chỉ trích sao mới chọn trang; sao y và sao lục sao toàn bộ văn bản.")
    copy = DocumentCopy(
        agency_id=actor.agency_id, kind=kind, status=CopyStatus.REQUESTED,
        submission_id=submission, pages=pages, recipients=recipients,
        note=data.note.strip()[:2000], decided_by_id=leader.id, signer_title=title,
        requested_by_id=actor.user_id, from_copy=from_copy,
        incoming_id=doc.id if source == "incoming" else None,
        outgoing_id=doc.id if source == "outgoing" else None)
    try:
        with session.begin_nested():
            session.add(copy)
    except IntegrityError:  # the same form, submitted twice at once
        return session.scalars(select(DocumentCopy).where(
            DocumentCopy.agency_id == actor.agency_id,
            DocumentCopy.submission_id == submission)).one()
    record(session, actor.ctx, "copies:copy:request", subject_type=source, subject_id=doc.id,
           details={"copy_id": copy.id, "kind": kind.value, "pages": pages,
                    "decided_by": leader.id, "recorded_by_clerk": leader.id != actor.user_id})
    return copy


def _newest_exact(session: Session, actor: Actor, source: str, document_id: int
                  ) -> DocumentCopy:
    column = DocumentCopy.incoming_id if source == "incoming" else DocumentCopy.outgoing_id
    copy = session.scalars(select(DocumentCopy).where(
        DocumentCopy.agency_id == actor.agency_id, column == document_id,
        DocumentCopy.kind == CopyKind.EXACT, DocumentCopy.status == CopyStatus.MADE)
        .order_by(DocumentCopy.id.desc())).first()
    if copy is None:
        raise InvalidCopy("Sao lục được thực hiện từ bản sao y (Điều 25 khoản 2 Nghị định "
                          "30/2020), mà văn bản này chưa có bản sao y nào đã thực hiện: hãy "
                          "sao y trước.")
    return copy


# --- reading ---------------------------------------------------------------------------------

def source_of(copy: DocumentCopy) -> tuple[str, int]:
    if copy.incoming_id is not None:
        return "incoming", copy.incoming_id
    assert copy.outgoing_id is not None
    return "outgoing", copy.outgoing_id


def get_copy(session: Session, actor: Actor, copy_id: int, *, for_update: bool = False
             ) -> DocumentCopy:
    """The copy, if the actor may read its original; otherwise NotFound, as for a missing one."""
    copy = session.get(DocumentCopy, copy_id, with_for_update=for_update,
                       populate_existing=for_update)
    if copy is None or copy.agency_id != actor.agency_id:
        raise NotFound(NOT_FOUND)
    try:
        _original(session, actor, *source_of(copy))
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    return copy


def original_of(session: Session, actor: Actor, copy: DocumentCopy
                ) -> IncomingDocument | OutgoingDocument:
    return _original(session, actor, *source_of(copy))


# read on every document page: built once, the values bound (docs/performance.md)
_COPIES_OF = {
    source: select(DocumentCopy).where(DocumentCopy.agency_id == bindparam("agency_id"),
                                       column == bindparam("document_id"))
    .order_by(DocumentCopy.id)
    for source, column in (("incoming", DocumentCopy.incoming_id),
                           ("outgoing", DocumentCopy.outgoing_id))}


def copies_of(session: Session, actor: Actor, source: str, document_id: int
              ) -> list[DocumentCopy]:
    """The copies of a document the actor may read (its page lists them)."""
    if not actor.may(Op.VIEW_COPIES):
        return []
    return list(session.scalars(_COPIES_OF["incoming" if source == "incoming" else "outgoing"],
                                {"agency_id": actor.agency_id, "document_id": document_id}))


def list_copies(session: Session, actor: Actor, year: int
                ) -> list[tuple[DocumentCopy, IncomingDocument | OutgoingDocument]]:
    """The copies register of a year, and the requests still to make (newest first), each
    with its original; copies of originals the actor may not read are left out."""
    actor.check(Op.VIEW_COPIES)
    start = dt.datetime(year, 1, 1, tzinfo=VN_TZ)
    end = dt.datetime(year + 1, 1, 1, tzinfo=VN_TZ)
    rows = session.scalars(select(DocumentCopy).where(
        DocumentCopy.agency_id == actor.agency_id,
        ((DocumentCopy.year == year) | ((DocumentCopy.year.is_(None))
                                        & (DocumentCopy.requested_at >= start)
                                        & (DocumentCopy.requested_at < end))))
        .order_by(DocumentCopy.id.desc()))
    listed = []
    for copy in rows:
        try:
            listed.append((copy, original_of(session, actor, copy)))
        except NotFound:
            continue
    return listed


# --- making the copy -----------------------------------------------------------------------

ATTEMPTS = 5
"""Copies made before giving up when other clerks keep taking the expected number."""


@dataclass(frozen=True)
class _Made:
    """A copy made and stored as a blob, before any lock: what :func:`_keep` writes."""

    year: int
    number: int
    notation: str
    date: dt.date
    sha256: str
    size: int
    page_count: int
    serial: str
    level: str
    without_timestamp: str
    timestamp_at: dt.datetime | None
    timestamp_expires: dt.datetime | None


def make_copy(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, actor: Actor,
              copy_id: int, *, tsa: TimestampPolicy, tokens: SealTokens | None = None
              ) -> DocumentCopy:
    """The clerk makes a requested copy: its number in the copies register, the PDF (the
    original's pages and the copy form), the agency's signature (PAdES B-LTA, top right of
    page 1, no image: Appendix I part II.I.3). A copy already made is returned as it is (a
    second click makes no second copy).

    As the outgoing seal (``outgoing/issue.py``): the copy is made and signed over the number
    the register would give now, with no lock held; then the copy and the register are locked
    and the number taken if it is still that one (else the copy is made again with the next)."""
    actor.check(Op.MAKE_COPY)
    copy = get_copy(session, actor, copy_id)
    for _attempt in range(ATTEMPTS):
        if copy.status is CopyStatus.MADE:
            return copy
        made = _make(session, blobs, pki, trust, actor, copy, tsa, tokens)
        try:
            with session.begin_nested():  # rolled back on a conflict: its row locks go with it
                return _keep(session, actor, copy_id, made)
        except NumberTaken:
            session.expire_all()  # see what the other clerk committed
            copy = get_copy(session, actor, copy_id)
    raise WrongState("Sổ đăng ký bản sao đang được cấp số liên tục cho bản sao khác; chưa cấp "
                     "số bản sao này. Hãy thử lại.")


def _make(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, actor: Actor,
          copy: DocumentCopy, tsa: TimestampPolicy, tokens: SealTokens | None) -> _Made:
    """Reads, then (no lock held) the PDF, its signature and its blob."""
    decider = session.get(User, copy.decided_by_id)
    if decider is None:
        raise WrongState("Bản sao chưa có quyết định của lãnh đạo; không thực hiện được.")
    doc = original_of(session, actor, copy)
    if copy.from_copy is not None:
        if copy.from_copy.status is not CopyStatus.MADE:
            raise WrongState("Bản sao y dùng để sao lục chưa được thực hiện.")
        source_pdf = blobs.read_bytes(copy.from_copy.sha256)
        pages = None
    else:
        source_pdf = _original_pdf(blobs, doc)
        pages = (tuple(int(p) - 1 for p in copy.pages.split(",")) if copy.pages else None)
        if pages and max(pages) >= _page_count(source_pdf):
            raise InvalidCopy("Các trang đã chọn để trích sao không còn trong văn bản.")
    agency = session.get(Agency, actor.agency_id)
    today = today_vn()
    number = peek_next_number(session, agency.id, RegisterKind.COPIES, today.year)
    notation = f"{number:02d}/{copy.kind.abbreviation}-{agency.short_name}"
    form = copy_pdf.CopyForm(
        heading=copy.kind.heading, agency_name=agency.name,
        parent_name=agency.parent.name if agency.parent is not None else "",
        number_notation=notation, place=place_of(agency), date=today,
        signer_title=copy.signer_title, signer_name=decider.full_name,
        recipients=tuple(copy.recipient_lines),
        original=("Sao lục từ bản sao y số " + copy.from_copy.number_notation + " - "
                  if copy.from_copy is not None else "Sao từ ") + _describe(doc))
    credential = keys.seal_credential(session, pki, actor.agency_id, tokens)
    end_reads(session)  # the last read: nothing below touches the database
    try:
        unsigned = copy_pdf.build_copy(source_pdf, pages, copy_pdf.form_page(form))
    except copy_pdf.PdfToolError as exc:
        raise CopyError(f"Không tạo được tệp bản sao từ tệp của văn bản ({exc}); chưa có gì "
                        "thay đổi. Hãy báo quản trị hệ thống.") from exc
    signed, level, without = _seal(credential, trust, agency, unsigned, copy.kind, notation, tsa)
    info = blobs.put_bytes(signed)
    last = last_timestamp(signed)  # its expiry: when the re-timestamp job renews it
    return _Made(today.year, number, notation, today, info.sha256, info.size,
                 _page_count(signed), str(credential.serial), level, without,
                 last.time if last else None, last.expires if last else None)


def _keep(session: Session, actor: Actor, copy_id: int, made: _Made) -> DocumentCopy:
    """The short locked part: take the number the copy was made with and keep the copy."""
    copy = get_copy(session, actor, copy_id, for_update=True)
    if copy.status is CopyStatus.MADE:
        return copy  # made by another click meanwhile: ours is not needed
    register = get_or_create_register(session, actor.agency_id, RegisterKind.COPIES, made.year)
    next_number(session, register, expect=made.number)
    copy.status, copy.register_id, copy.year, copy.number = (CopyStatus.MADE, register.id,
                                                             made.year, made.number)
    copy.number_notation, copy.copy_date = made.notation, made.date
    copy.sha256, copy.size, copy.page_count = made.sha256, made.size, made.page_count
    copy.level, copy.certificate_serial = made.level, made.serial
    copy.timestamp_at, copy.timestamp_expires = made.timestamp_at, made.timestamp_expires
    copy.made_by_id, copy.made_at = actor.user_id, utcnow()
    session.flush()
    source, document_id = source_of(copy)
    details = {"copy_id": copy.id, "kind": copy.kind.value, "number_notation": made.notation,
               "sha256": made.sha256, "certificate": made.serial, "level": made.level}
    if made.without_timestamp:
        details["without_timestamp"] = made.without_timestamp
    record(session, actor.ctx, "copies:copy:make", subject_type=source, subject_id=document_id,
           details=details)
    return copy


NO_TIMESTAMP = ("Chưa ký số bản sao được: {reason} Chưa có gì thay đổi; hãy thử lại sau ít "
                "phút, nếu vẫn lỗi hãy báo quản trị hệ thống.")


def _seal(credential: Credential, trust: TrustStore, agency: Agency, unsigned: bytes,
          kind: CopyKind, notation: str, tsa: TimestampPolicy) -> tuple[bytes, str, str]:
    """The agency's signature on the copy, with the seal key outgoing documents are sealed
    with: (signed bytes, PAdES level, why there is no timestamp or "")."""
    stamp = AttachmentStamp(f"{kind.heading} - {agency.name}", notation, width=250.0, height=46.0)
    without = ""
    try:
        try:
            signed = sign_pdf(unsigned, credential, trust=trust, stamp=stamp, level=AGENCY_LEVEL,
                              timestamper=tsa.timestamper(trust),
                              reason=f"{kind.label} văn bản", location=place_of(agency))
            level = AGENCY_LEVEL.value
        except TimestampUnavailable as exc:
            if not tsa.fallback_bb:
                raise CopyError(NO_TIMESTAMP.format(reason=str(exc).rstrip(".") + ".")) from exc
            without = str(exc)
            signed = sign_pdf(unsigned, credential, trust=trust, stamp=stamp,
                              level=PadesLevel.B_B)
            level = PadesLevel.B_B.value
    except SigningError as exc:
        raise CopyError(str(exc)) from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise CopyError(f"Không ký số được tệp bản sao ({exc}); chưa có gì thay đổi. Hãy báo "
                        "quản trị hệ thống.") from exc
    try:
        check_next_signature(unsigned, signed, 1, str(credential.serial))
    except OutgoingError as exc:
        raise CopyError(exc.message) from exc
    return signed, level, without
