"""Sending: the dispatch API the outgoing capability calls, statuses out, what recipients said.

Everything here runs inside the caller's transaction and only writes rows; the worker
(``ioffice.exchange.worker``) builds, signs and sends them after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from axis_connector.edxml import STATUS_DESCRIPTIONS, StatusCode
from ioffice import events
from ioffice.agencies.models import Agency, Department
from ioffice.audit import AuditContext, record
from ioffice.db import utcnow
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.exchange.errors import ConfidentialRefused, ExchangeError, UnknownRecipients
from ioffice.exchange.models import DirectoryEntry, ExchangeOutbox, ExchangeStatus, OutboxState
from ioffice.exchange.wake import request_wake
from ioffice.incoming.models import IncomingDocument, Source

log = logging.getLogger(__name__)

BUSINESS_TYPES = ("new", "revoke", "update", "replace")

STATUS_LABELS: dict[str, str] = {code.value: text for code, text in STATUS_DESCRIPTIONS.items()}
STATUS_LABELS[""] = "Đang gửi"


@dataclass(frozen=True)
class OutgoingEdoc:
    """A signed outgoing document to send to other agencies over the axis."""

    sender_agency_id: int
    document_identifier: str
    """``<OrganId>,<yyyy/MM/dd>,<number/notation>``: the edXML DocumentId, opaque to receivers."""
    number: str
    notation: str
    promulgation_date: date
    place: str
    doc_type_code: str
    """A code of ``ioffice.documents.vocabulary`` (``cong_van``, ``quyet_dinh`` ...)."""
    subject: str
    content: str
    signer_full_name: str
    signer_position: str
    signer_competence: str
    urgency: Urgency
    confidentiality: Confidentiality
    due_date: date | None
    page_count: int
    recipients: tuple[str, ...]
    """Recipient OrganIds, in this deployment or anywhere the hubs' directory knows."""
    files: tuple[tuple[str, str], ...]
    """(file name, SHA-256 of a signed PDF in blob storage)."""
    staff_name: str
    staff_department: str
    business_type: str = "new"
    """new | revoke | update | replace."""
    response_for: str | None = None
    """DocumentId of the document this one revokes, updates, replaces or answers."""
    reason: str = ""
    """Why it is revoked, updated or replaced (``BussinessDocReason``)."""
    paper_follows: bool = False
    staff_email: str = ""
    staff_mobile: str = ""


@dataclass(frozen=True)
class StatusEvent:
    code: str
    label: str
    description: str
    at: dt.datetime
    staff: str
    department: str


@dataclass(frozen=True)
class RecipientStatus:
    organ_id: str
    name: str
    code: str
    """The latest status code ("" while nothing came back yet)."""
    label: str
    at: dt.datetime | None
    staff: str
    delivery: str
    """The outbox state of the package: pending, sent or dead."""
    error: str = ""
    history: tuple[StatusEvent, ...] = field(default_factory=tuple)


def _json_payload(edoc: OutgoingEdoc) -> dict[str, Any]:
    data = asdict(edoc)
    data["promulgation_date"] = edoc.promulgation_date.isoformat()
    data["due_date"] = edoc.due_date.isoformat() if edoc.due_date else None
    data["urgency"] = edoc.urgency.value
    data["confidentiality"] = edoc.confidentiality.value
    data["recipients"] = list(edoc.recipients)
    data["files"] = [list(f) for f in edoc.files]
    return data


def known_organs(session: Session, organ_ids: list[str]) -> dict[str, str]:
    """Names of the given agencies found locally or in the cached hub directory (the local
    name when both know one), in one statement."""
    rows = session.execute(union_all(
        select(DirectoryEntry.organ_id, DirectoryEntry.name, literal(0).label("local"))
        .where(DirectoryEntry.organ_id.in_(organ_ids)),
        select(Agency.code, Agency.name, literal(1).label("local"))
        .where(Agency.code.in_(organ_ids)))).all()
    return {organ: name for organ, name, _ in sorted(rows, key=lambda row: row[2])}


def dispatch(session: Session, ctx: AuditContext, edoc: OutgoingEdoc) -> list[ExchangeOutbox]:
    """Queue ``edoc`` for sending, in the caller's transaction. Refuses confidential documents
    and unknown recipients (naming them)."""
    if edoc.confidentiality is not Confidentiality.NORMAL:
        raise ConfidentialRefused(edoc.confidentiality.label)
    if edoc.business_type not in BUSINESS_TYPES:
        raise ExchangeError(f"Loại nghiệp vụ không hợp lệ: {edoc.business_type}.")
    if edoc.business_type != "new" and not edoc.response_for:
        raise ExchangeError("Thu hồi, cập nhật hoặc thay thế phải nêu văn bản bị tác động.")
    if edoc.doc_type_code not in DOC_TYPES_BY_CODE:
        raise ExchangeError(f"Loại văn bản không hợp lệ: {edoc.doc_type_code}.")
    if not edoc.document_identifier.strip():
        raise ExchangeError("Thiếu mã định danh văn bản (DocumentId).")
    sender = session.get(Agency, edoc.sender_agency_id)
    if sender is None:
        raise ExchangeError("Không tìm thấy cơ quan gửi.")
    recipients = list(dict.fromkeys(r.strip() for r in edoc.recipients if r.strip()))
    recipients = [r for r in recipients if r != sender.code]
    if not recipients:
        raise ExchangeError("Chưa chọn cơ quan nhận.")
    names = known_organs(session, recipients)
    unknown = [r for r in recipients if r not in names]
    if unknown:
        raise UnknownRecipients(unknown)
    if not edoc.files:
        raise ExchangeError("Văn bản điện tử phải có tệp PDF đã ký số.")
    payload = _json_payload(edoc)
    payload["recipient_names"] = names
    row = ExchangeOutbox(agency_id=sender.id, kind="edoc",
                         document_identifier=edoc.document_identifier.strip(),
                         business_type=edoc.business_type, recipients=recipients, payload=payload,
                         state=OutboxState.PENDING, next_attempt_at=utcnow(), created_at=utcnow())
    session.add(row)
    session.flush()
    request_wake(session)  # the worker sends it as soon as this commits, not at its next poll
    record(session, ctx, "exchange:edoc:dispatch", subject_type="exchange_outbox",
           subject_id=row.id, agency_id=sender.id,
           details={"document_identifier": row.document_identifier, "recipients": recipients,
                    "business_type": edoc.business_type})
    return [row]


def recipient_statuses(session: Session, agency_id: int, document_identifier: str
                       ) -> list[RecipientStatus]:
    """Per recipient of the document: the latest status, its time and staff, and the history."""
    rows = list(session.scalars(select(ExchangeOutbox).where(
        ExchangeOutbox.agency_id == agency_id, ExchangeOutbox.kind == "edoc",
        ExchangeOutbox.document_identifier == document_identifier).order_by(ExchangeOutbox.id)))
    if not rows:
        return []
    statuses = list(session.scalars(select(ExchangeStatus).where(
        ExchangeStatus.agency_id == agency_id,
        ExchangeStatus.document_identifier == document_identifier)
        .order_by(ExchangeStatus.occurred_at, ExchangeStatus.code, ExchangeStatus.id)))
    organs: dict[str, ExchangeOutbox] = {}
    for row in rows:
        for organ in row.recipients:
            organs[organ] = row
    names = known_organs(session, list(organs))
    result = []
    for organ, row in organs.items():
        history = tuple(StatusEvent(s.code, STATUS_LABELS.get(s.code, s.code), s.description,
                                    s.occurred_at, s.staff, s.department)
                        for s in statuses if s.organ_id == organ)
        latest = history[-1] if history else None
        result.append(RecipientStatus(
            organ_id=organ, name=names.get(organ, row.payload.get("recipient_names", {}).get(organ, "")),
            code=latest.code if latest else "", label=latest.label if latest else
            {"pending": "Đang gửi", "sent": "Đã gửi lên trục", "dead": "Gửi không thành công"}[row.state],
            at=latest.at if latest else row.sent_at, staff=latest.staff if latest else "",
            delivery=row.state, error=row.last_error, history=history))
    return result


# --- statuses out ---------------------------------------------------------------------------

def enqueue_status_for(session: Session, agency: Agency, *, to: str, document_identifier: str,
                       code: StatusCode, number_notation: str, promulgation_date: dt.date,
                       staff: str = "", department: str = "", description: str = "",
                       at: dt.datetime | None = None) -> ExchangeOutbox:
    """Queue a status package from ``agency`` to ``to`` about ``document_identifier``."""
    at = (at or utcnow()).replace(microsecond=0)
    payload = {
        "organ_id": agency.code, "organ_name": agency.name, "to": to,
        "response_for": {"organ_id": to, "code": number_notation,
                         "promulgation_date": promulgation_date.isoformat(),
                         "document_id": document_identifier},
        "code": code.value, "description": description or STATUS_DESCRIPTIONS[code],
        "staff": staff, "department": department, "timestamp": at.isoformat(),
    }
    row = ExchangeOutbox(agency_id=agency.id, kind="status", document_identifier=document_identifier,
                         business_type="status", status_code=code.value, recipients=[to],
                         payload=payload, state=OutboxState.PENDING, next_attempt_at=utcnow(),
                         created_at=utcnow())
    session.add(row)
    request_wake(session)
    return row


def enqueue_status(session: Session, document: IncomingDocument, code: StatusCode, *,
                   staff: str = "", department: str = "", description: str = "",
                   at: dt.datetime | None = None) -> ExchangeOutbox | None:
    """Queue a status package about an electronic document received over the axis."""
    if document.source is not Source.AXIS or not document.document_identifier \
            or not document.issuer_code:
        return None
    agency = document.agency or session.get(Agency, document.agency_id)
    return enqueue_status_for(session, agency, to=document.issuer_code,
                              document_identifier=document.document_identifier, code=code,
                              number_notation=document.number_notation,
                              promulgation_date=document.document_date, staff=staff,
                              department=department, description=description, at=at)


def _staff(session: Session, actor: Any) -> tuple[str, str]:
    if actor is None:
        return "", ""
    department = ""
    if getattr(actor, "department_id", None):
        dept = session.get(Department, actor.department_id)
        department = dept.name if dept else ""
    return getattr(actor, "full_name", "") or "", department


def _listener(code: StatusCode, describe=None):
    def on_event(session: Session, document: IncomingDocument, actor: Any = None, **data: Any) -> None:
        staff, department = _staff(session, actor)
        description = describe(document, data) if describe else ""
        enqueue_status(session, document, code, staff=staff, department=department,
                       description=description)
    on_event.__name__ = f"exchange_status_{code.value}"
    return on_event


def _rejected(document: IncomingDocument, data: dict[str, Any]) -> str:
    reason = str(data.get("reason") or document.rejection_reason or "").strip()
    return f"Từ chối tiếp nhận: {reason}" if reason else "Từ chối tiếp nhận"


def _finished(document: IncomingDocument, _data: dict[str, Any]) -> str:
    reply = (document.reply_number or "").strip()
    return f"Hoàn thành xử lý; văn bản trả lời số {reply}" if reply else STATUS_DESCRIPTIONS[
        StatusCode.FINISHED]


_LISTENERS = {
    events.INCOMING_REGISTERED: _listener(StatusCode.REGISTERED),
    events.INCOMING_REJECTED: _listener(StatusCode.REJECTED, _rejected),
    events.INCOMING_DISTRIBUTED: _listener(StatusCode.ASSIGNED),
    events.INCOMING_HANDLING_STARTED: _listener(StatusCode.HANDLING),
    events.INCOMING_FINISHED: _listener(StatusCode.FINISHED, _finished),
}


def install_listeners() -> None:
    """Write a status outbox row on each incoming-document event (idempotent)."""
    for name, listener in _LISTENERS.items():
        events.listen(name, listener)
