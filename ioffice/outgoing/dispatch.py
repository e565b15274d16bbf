"""Dispatch (phát hành): internal departments directly, other agencies through the exchange;
then revoke / update / replace. A dispatched reply finishes the incoming document it answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Department, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.documents.vocabulary import Confidentiality
from ioffice.incoming import handling
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import InvalidInput, OutgoingError, WrongState
from ioffice.outgoing.models import (
    OutgoingDocument,
    OutgoingRecipient,
    OutgoingStatus,
    RecipientKind,
    RecipientStatus,
)
from ioffice.search import index_outgoing

CONFIDENTIAL_REFUSED = ("Văn bản có độ mật «{label}» không được gửi qua trục liên thông văn bản. "
                        "Nơi nhận ngoài cơ quan ({names}) phải nhận theo đường văn bản mật (giấy, "
                        "giao trực tiếp); chỉ phát hành điện tử cho các phòng trong cơ quan.")


def _exchange() -> Any:
    try:
        from ioffice import exchange
        exchange.dispatch  # noqa: B018 - the API this module needs
    except (ImportError, AttributeError) as exc:
        raise OutgoingError("Chưa kết nối được trục liên thông văn bản: không gửi được cho cơ "
                            "quan khác. Hãy thử lại sau hoặc báo quản trị.") from exc
    return exchange


def _edoc(session: Session, actor: Actor, doc: OutgoingDocument, recipients: list[str], *,
          business_type: str = "new", reason: str = "", response_for: str | None = None) -> Any:
    exchange = _exchange()
    agency = session.get(Agency, doc.agency_id)
    staff = session.get(User, actor.user_id)
    dept = session.get(Department, actor.department_id) if actor.department_id else None
    assert agency is not None and staff is not None and doc.promulgation_date is not None
    return exchange.OutgoingEdoc(
        sender_agency_id=doc.agency_id, document_identifier=doc.document_identifier,
        number=doc.number_text, notation=doc.notation, promulgation_date=doc.promulgation_date,
        place=_place(agency), doc_type_code=doc.doc_type, subject=doc.subject, content="",
        signer_full_name=doc.signer.full_name, signer_position=doc.signer_position,
        signer_competence=_competence(doc), urgency=doc.urgency,
        confidentiality=doc.confidentiality, due_date=doc.due_date, page_count=doc.page_count,
        recipients=tuple(recipients),
        files=((f"{doc.number_notation.replace('/', '-')}.pdf", doc.current_sha256),),
        staff_name=staff.full_name, staff_department=dept.name if dept else "",
        business_type=business_type, response_for=response_for, reason=reason)


def _place(agency: Agency) -> str:
    return agency.name.split(" tỉnh ")[-1] if " tỉnh " in agency.name else agency.name


def _competence(doc: OutgoingDocument) -> str:
    """TM. (on behalf of the collective body) for a chairman, KT. for a deputy, else none."""
    position = doc.signer_position.lower()
    if "phó" in position:
        return "KT."
    if "chủ tịch" in position:
        return "TM."
    return ""


def dispatch(session: Session, actor: Actor, document_id: int) -> OutgoingDocument:
    actor.check(Op.DISPATCH)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.status is OutgoingStatus.DISPATCHED:
        raise WrongState(f"Văn bản {doc.number_notation} đã được phát hành.")
    if doc.status is not OutgoingStatus.SEALED:
        raise WrongState("Văn bản chưa có chữ ký số của cơ quan: phải cấp số và ký số cơ quan "
                         f"trước khi phát hành (hiện: «{doc.status.label}»).")
    internal = [r for r in doc.recipients if r.kind is RecipientKind.DEPARTMENT]
    external = [r for r in doc.recipients if r.kind is RecipientKind.AGENCY]
    if external and doc.confidentiality is not Confidentiality.NORMAL:
        raise OutgoingError(CONFIDENTIAL_REFUSED.format(
            label=doc.confidentiality.label, names=", ".join(r.name for r in external)))
    now = utcnow()
    if external:
        old = session.get(OutgoingDocument, doc.replaces_id) if doc.replaces_id else None
        _exchange().dispatch(session, actor.ctx, _edoc(
            session, actor, doc, [r.agency_code for r in external],
            business_type="replace" if old is not None else "new",
            response_for=old.document_identifier if old is not None else None,
            reason=f"Thay thế văn bản số {old.number_notation}" if old is not None else ""))
        for r in external:
            r.status, r.sent_at = RecipientStatus.SENT, now
    for r in internal:
        r.status, r.sent_at = RecipientStatus.DELIVERED, now
    doc.status, doc.dispatched_at = OutgoingStatus.DISPATCHED, now
    session.flush()
    record(session, actor.ctx, "outgoing:document:dispatch", subject_type="outgoing",
           subject_id=doc.id, details={"number_notation": doc.number_notation,
                                       "internal": [r.name for r in internal],
                                       "external": [r.agency_code for r in external]})
    index_outgoing(session, doc)
    if doc.reply_to_id is not None:
        handling.finish_with_reply(session, actor, doc.reply_to_id, doc.number_notation)
    if doc.replaces_id is not None:
        _mark_replaced(session, actor, doc)
    return doc


def recipient_statuses(session: Session, actor: Actor, doc: OutgoingDocument) -> list[Any]:
    """What each agency said (from the exchange); empty if nothing went over the axis."""
    if not doc.document_identifier or not any(r.kind is RecipientKind.AGENCY for r in doc.recipients):
        return []
    try:
        exchange = _exchange()
    except OutgoingError:
        return []
    return list(exchange.recipient_statuses(session, actor.agency_id, doc.document_identifier))


def _require_dispatched(session: Session, actor: Actor, document_id: int, op: Op
                        ) -> OutgoingDocument:
    actor.check(op)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.status is not OutgoingStatus.DISPATCHED:
        raise WrongState(f"Chỉ thu hồi, cập nhật, thay thế văn bản đã phát hành "
                         f"(hiện: «{doc.status.label}»).")
    return doc


def _external(doc: OutgoingDocument) -> list[OutgoingRecipient]:
    return [r for r in doc.recipients if r.kind is RecipientKind.AGENCY]


def revoke(session: Session, actor: Actor, document_id: int, reason: str) -> OutgoingDocument:
    """Thu hồi: recipients delete their copy (keeping what happened); ours is frozen."""
    doc = _require_dispatched(session, actor, document_id, Op.REVOKE)
    if not reason.strip():
        raise InvalidInput({"reason": "Phải nêu lý do thu hồi."})
    if _external(doc):
        _exchange().dispatch(session, actor.ctx, _edoc(
            session, actor, doc, [r.agency_code for r in _external(doc)], business_type="revoke",
            reason=reason.strip(), response_for=doc.document_identifier))
    for r in doc.recipients:
        r.status = RecipientStatus.REVOKED
    doc.status = OutgoingStatus.REVOKED
    record(session, actor.ctx, "outgoing:document:revoke", subject_type="outgoing",
           subject_id=doc.id, details={"reason": reason.strip()})
    return doc


def send_update(session: Session, actor: Actor, document_id: int, reason: str) -> OutgoingDocument:
    """Cập nhật: the metadata (subject, due date, urgency) changed; recipients are told."""
    doc = _require_dispatched(session, actor, document_id, Op.SEND_UPDATE)
    if not reason.strip():
        raise InvalidInput({"reason": "Phải nêu nội dung cập nhật."})
    if not _external(doc):
        raise WrongState("Văn bản không gửi cơ quan nào qua trục: không có gì để cập nhật.")
    _exchange().dispatch(session, actor.ctx, _edoc(
        session, actor, doc, [r.agency_code for r in _external(doc)], business_type="update",
        reason=reason.strip(), response_for=doc.document_identifier))
    record(session, actor.ctx, "outgoing:document:update", subject_type="outgoing",
           subject_id=doc.id, details={"reason": reason.strip()})
    return doc


def start_replacement(session: Session, actor: Actor, document_id: int) -> OutgoingDocument:
    """Thay thế: a new draft with the same metadata and recipients; when it is dispatched the
    recipients are told it replaces this one, which is then marked replaced."""

    actor.check(Op.REPLACE)
    old = get_document(session, actor, document_id)
    if old.status is not OutgoingStatus.DISPATCHED:
        raise WrongState("Chỉ thay thế được văn bản đã phát hành.")
    new = OutgoingDocument(
        agency_id=old.agency_id, status=OutgoingStatus.DRAFT, doc_type=old.doc_type,
        subject=old.subject, urgency=old.urgency, confidentiality=old.confidentiality,
        due_date=old.due_date, drafting_department_id=actor.department_id or old.drafting_department_id,
        created_by_id=actor.user_id, signer_id=old.signer_id, signer_position=old.signer_position,
        reply_to_id=None, replaces_id=old.id, copies=old.copies, notes=old.notes)
    for r in old.recipients:
        new.recipients.append(OutgoingRecipient(kind=r.kind, department_id=r.department_id,
                                                agency_code=r.agency_code, name=r.name))
    session.add(new)
    session.flush()
    record(session, actor.ctx, "outgoing:draft:create", subject_type="outgoing", subject_id=new.id,
           details={"replaces": old.id, "subject": new.subject})
    index_outgoing(session, new)
    return new


def _mark_replaced(session: Session, actor: Actor, doc: OutgoingDocument) -> None:
    old = session.get(OutgoingDocument, doc.replaces_id)
    if old is None or old.agency_id != doc.agency_id:
        return
    old.status = OutgoingStatus.REPLACED
    record(session, actor.ctx, "outgoing:document:replace", subject_type="outgoing",
           subject_id=old.id, details={"by": doc.number_notation})
