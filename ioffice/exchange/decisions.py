"""What a clerk does on the exchange page: decide on revoke/update/replace requests, retry
dead letters; and what the page (and the API) lists: packages out and in, by key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.edxml import StatusCode
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Department
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import NotFound
from ioffice.exchange.dispatch import (
    STATUS_LABELS,
    RecipientStatus,
    enqueue_status_for,
    known_organs,
    recipient_statuses,
)
from ioffice.exchange.errors import AlreadyDecided, ExchangeError, InvalidCursor, NotRetryable
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.exchange.requests import VERBS, describe
from ioffice.incoming import handling
from ioffice.incoming.models import DocumentStatus, IncomingDocument


def retry(session: Session, actor: Actor, outbox_id: int) -> ExchangeOutbox:
    """Put a dead letter back in the queue (attempts start again)."""
    actor.check(Op.RETRY_EXCHANGE)
    row = session.get(ExchangeOutbox, outbox_id, with_for_update=True)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy gói tin.")
    if row.state != OutboxState.DEAD:
        raise NotRetryable("Chỉ gửi lại được gói tin gửi không thành công; gói tin này "
                           + ("đang chờ gửi." if row.state == OutboxState.PENDING
                              else "đã được gửi lên trục."))
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
        raise AlreadyDecided("Yêu cầu này đã được xử lý."
                             if row.state in (InboxState.AGREED, InboxState.REFUSED)
                             else "Gói tin này không phải yêu cầu chờ quyết định.")
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


OUT_STATE_LABELS = {"pending": "Đang chờ gửi", "sent": "Đã gửi lên trục",
                    "dead": "Gửi không thành công"}
IN_STATE_LABELS = {"delivered": "Đã nhận, chờ vào sổ", "duplicate": "Trùng, đã bỏ qua",
                   "awaiting_decision": "Chờ quyết định", "agreed": "Đã đồng ý",
                   "refused": "Đã từ chối", "status": "Trạng thái đã ghi nhận",
                   "ignored": "Bỏ qua", "failed": "Bị từ chối"}
BUSINESS_LABELS = {"new": "Văn bản mới", "revoke": "Thu hồi", "update": "Cập nhật",
                   "replace": "Thay thế", "status": "Trạng thái"}
OUT_STATES = tuple(OUT_STATE_LABELS)
IN_STATES = tuple(IN_STATE_LABELS)
PAGE_SIZE = 100


def _after_id(after: str | None) -> int | None:
    """The keyset cursor of the package lists: the id of the last row shown (opaque to
    callers)."""
    if after is None:
        return None
    if not (after.isascii() and after.isdigit() and len(after) <= 18):
        raise InvalidCursor("after")
    return int(after)


def outbox_page(session: Session, actor: Actor, *, state: str | None = None,
                after: str | None = None, limit: int = PAGE_SIZE
                ) -> tuple[list[ExchangeOutbox], str | None]:
    """The agency's packages out, newest first, ``limit`` at a time after the cursor ``after``
    (the ``next_after`` of the previous page; None on the last page); ``state``: only those
    pending, sent or dead (the dead letters)."""
    actor.check(Op.VIEW_EXCHANGE)
    stmt = select(ExchangeOutbox).where(ExchangeOutbox.agency_id == actor.agency_id)
    if state is not None:
        stmt = stmt.where(ExchangeOutbox.state == state)
    last = _after_id(after)
    if last is not None:
        stmt = stmt.where(ExchangeOutbox.id < last)
    rows = list(session.scalars(stmt.order_by(ExchangeOutbox.id.desc()).limit(limit)))
    return rows, (str(rows[-1].id) if len(rows) == limit else None)


def inbox_page(session: Session, actor: Actor, *, state: str | None = None,
               after: str | None = None, limit: int = PAGE_SIZE
               ) -> tuple[list[ExchangeInbox], str | None]:
    """The agency's packages in, newest first, paged as :func:`outbox_page`; ``state``: one of
    :data:`IN_STATES` (``awaiting_decision``: the requests a clerk decides on)."""
    actor.check(Op.VIEW_EXCHANGE)
    stmt = select(ExchangeInbox).where(ExchangeInbox.agency_id == actor.agency_id)
    if state is not None:
        stmt = stmt.where(ExchangeInbox.state == state)
    last = _after_id(after)
    if last is not None:
        stmt = stmt.where(ExchangeInbox.id < last)
    rows = list(session.scalars(stmt.order_by(ExchangeInbox.id.desc()).limit(limit)))
    return rows, (str(rows[-1].id) if len(rows) == limit else None)


@dataclass(frozen=True)
class OutboxPackage:
    row: ExchangeOutbox
    recipients: list[RecipientStatus]
    """Per recipient agency: this package's delivery state and, for a document, the latest
    status the recipient sent back."""


def outbox_package(session: Session, actor: Actor, outbox_id: int) -> OutboxPackage:
    """One package out of the actor's agency, with its per-recipient states."""
    actor.check(Op.VIEW_EXCHANGE)
    row = session.get(ExchangeOutbox, outbox_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy gói tin.")
    said = ({s.organ_id: s for s in recipient_statuses(session, actor.agency_id,
                                                        row.document_identifier)}
            if row.kind == "edoc" else {})
    names = known_organs(session, list(row.recipients))
    recipients = []
    for organ in row.recipients:
        status = said.get(organ)
        if status is not None and status.code:
            # what the recipient said, with this package's own delivery
            recipients.append(dataclasses.replace(status, delivery=row.state, error=row.last_error))
            continue
        recipients.append(RecipientStatus(
            organ_id=organ, name=names.get(organ, row.payload.get("recipient_names", {}).get(organ, "")),
            code="", label=OUT_STATE_LABELS.get(row.state, row.state), at=row.sent_at, staff="",
            delivery=row.state, error=row.last_error))
    return OutboxPackage(row, recipients)


@dataclass(frozen=True)
class InboxPackage:
    row: ExchangeInbox
    request: str | None
    """A revoke / update / replace request in words (``requests.describe``); None otherwise."""


def inbox_package(session: Session, actor: Actor, inbox_id: int) -> InboxPackage:
    """One package in of the actor's agency; a request is described in words."""
    actor.check(Op.VIEW_EXCHANGE)
    row = session.get(ExchangeInbox, inbox_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy gói tin.")
    text = None
    if row.business_type in VERBS and row.messagetype != "status":
        target = (session.get(IncomingDocument, row.target_document_id)
                  if row.target_document_id else None)
        text = describe(row, target)
    return InboxPackage(row, text)


def status_label(code: str | None) -> str:
    return STATUS_LABELS.get(code or "", "")
