"""What a clerk does on the exchange page: decide on revoke/update/replace requests, retry
dead letters."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.edxml import StatusCode
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Department
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import NotFound
from ioffice.exchange.dispatch import enqueue_status_for
from ioffice.exchange.errors import ExchangeError
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.incoming import handling
from ioffice.incoming.models import DocumentStatus, IncomingDocument


def retry(session: Session, actor: Actor, outbox_id: int) -> ExchangeOutbox:
    """Put a dead letter back in the queue (attempts start again)."""
    actor.check(Op.RETRY_EXCHANGE)
    row = session.get(ExchangeOutbox, outbox_id, with_for_update=True)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy gói tin.")
    if row.state != OutboxState.DEAD:
        raise ExchangeError("Chỉ gửi lại được gói tin gửi không thành công.")
    row.state, row.attempts, row.next_attempt_at = OutboxState.PENDING, 0, utcnow()
    record(session, actor.ctx, "exchange:outbox:retry", subject_type="exchange_outbox",
           subject_id=row.id, details={"last_error": row.last_error[:500]})
    return row


def decide(session: Session, actor: Actor, inbox_id: int, agree: bool, reason: str = ""
           ) -> ExchangeInbox:
    """Agree (15) or refuse (16) a sender's revoke / update / replace request.

    Agreeing to a revoke marks the received copy REVOKED (metadata kept, out of use, its open
    handling closed, the register's note set: ``handling.close_on_revocation``); agreeing
    to an update or replace marks it REPLACED by the new document. Refusing a replacement
    rejects the new copy instead.
    """
    actor.check(Op.DECIDE_EXCHANGE_REQUEST)
    row = session.get(ExchangeInbox, inbox_id, with_for_update=True)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy yêu cầu.")
    if row.state != InboxState.AWAITING_DECISION:
        raise ExchangeError("Yêu cầu này đã được xử lý.")
    if not agree and not reason.strip():
        raise ExchangeError("Phải nêu lý do từ chối.")
    agency = session.get(Agency, actor.agency_id)
    target = session.get(IncomingDocument, row.target_document_id) if row.target_document_id else None
    new = session.get(IncomingDocument, row.incoming_document_id) if row.incoming_document_id else None
    if agree:
        if target is not None and row.business_type == "revoke":
            handling.close_on_revocation(session, actor, target,
                                         row.sender_name or row.sender_organ_id, row.reason)
        elif target is not None:
            target.status = DocumentStatus.REPLACED
            target.notes = (target.notes + "\n" if target.notes else "") + (
                f"Được thay thế theo yêu cầu của {row.sender_name or row.sender_organ_id}: "
                f"{row.reason}").strip()
    elif new is not None and new.status is DocumentStatus.AWAITING_REGISTRATION:
        new.status, new.rejection_reason = DocumentStatus.REJECTED, reason.strip()
    row.state = InboxState.AGREED if agree else InboxState.REFUSED
    row.decided_at, row.decided_by_id = utcnow(), actor.user_id
    ref = target or new
    department = ""
    if actor.department_id:
        dept = session.get(Department, actor.department_id)
        department = dept.name if dept else ""
    enqueue_status_for(
        session, agency, to=row.sender_organ_id,
        document_identifier=row.response_for or row.document_identifier,
        code=StatusCode.AGREED if agree else StatusCode.REFUSED,
        number_notation=ref.number_notation if ref else row.document_identifier,
        promulgation_date=ref.document_date if ref else utcnow().date(),
        staff=actor.full_name, department=department,
        description="" if agree else f"Từ chối: {reason.strip()}")
    record(session, actor.ctx, "exchange:request:" + ("agree" if agree else "refuse"),
           subject_type="exchange_inbox", subject_id=row.id,
           details={"business_type": row.business_type, "target": row.target_document_id,
                    "reason": reason.strip()})
    return row


def inbox_rows(session: Session, agency_id: int, limit: int = 100) -> list[ExchangeInbox]:
    return list(session.scalars(select(ExchangeInbox).where(ExchangeInbox.agency_id == agency_id)
                                .order_by(ExchangeInbox.id.desc()).limit(limit)))


def outbox_rows(session: Session, agency_id: int, limit: int = 100) -> list[ExchangeOutbox]:
    return list(session.scalars(select(ExchangeOutbox).where(ExchangeOutbox.agency_id == agency_id)
                                .order_by(ExchangeOutbox.id.desc()).limit(limit)))
