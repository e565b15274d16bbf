"""Revoke, update and replace requests received over the axis, in words a clerk reads: which
agency asks what about which document (number and date), and why. The answer a clerk gives
goes back as status 15 (agreed) or 16 (refused); neither code is shown to people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.exchange.models import ExchangeInbox, InboxState
from ioffice.incoming.models import IncomingDocument

__all__ = ["RequestView", "count_pending", "describe", "for_document", "pending"]

VERBS = {"revoke": "thu hồi", "update": "cập nhật", "replace": "thay thế"}
OUTCOMES = {InboxState.AWAITING_DECISION: "chờ văn thư quyết định",
            InboxState.AGREED: "đã đồng ý", InboxState.REFUSED: "đã từ chối"}


@dataclass(frozen=True)
class RequestView:
    row: ExchangeInbox
    text: str
    """"Cơ quan X đề nghị thu hồi văn bản số 12/UBND-VP ngày 01/12/2026: lý do"."""
    outcome: str
    """Where the request stands, in words."""
    document_id: int | None
    """The received copy it is about, when this agency has it."""


def _from_identifier(identifier: str) -> tuple[str, dt.date | None]:
    """Number/notation and date out of an edXML DocumentId ``<organ>,<yyyy/MM/dd>,<n/notation>``."""
    parts = identifier.split(",", 2)
    if len(parts) != 3:
        return "", None
    try:
        day = dt.datetime.strptime(parts[1], "%Y/%m/%d").date()
    except ValueError:
        day = None
    return parts[2].strip(), day


def describe(row: ExchangeInbox, target: IncomingDocument | None) -> str:
    sender = row.sender_name or (f"Cơ quan mã {row.sender_organ_id}" if row.sender_organ_id
                                 else "Cơ quan gửi")
    number, day = ((target.number_notation, target.document_date) if target is not None
                   else _from_identifier(row.response_for or row.document_identifier))
    what = f"văn bản số {number}" if number else "một văn bản đã gửi"
    if day is not None:
        what += f" ngày {day:%d/%m/%Y}"
    verb = VERBS.get(row.business_type, row.business_type)
    text = f"{sender} đề nghị {verb} {what}"
    if row.business_type == "replace" and row.subject:
        text += f" bằng văn bản mới «{row.subject}»"
    reason = row.reason.strip()
    return f"{text}: {reason}" if reason else f"{text}."


# read on every received document's page: built once, the values bound (docs/performance.md)
_FOR_DOCUMENT = (
    select(ExchangeInbox)
    .where(ExchangeInbox.agency_id == bindparam("agency_id"),
           ExchangeInbox.business_type.in_(tuple(VERBS)),
           (ExchangeInbox.target_document_id == bindparam("document_id"))
           | (ExchangeInbox.incoming_document_id == bindparam("document_id")))
    .order_by(ExchangeInbox.id))


def _views(session: Session, rows: list[ExchangeInbox]) -> list[RequestView]:
    ids = {r.target_document_id for r in rows if r.target_document_id}
    targets = {d.id: d for d in session.scalars(
        select(IncomingDocument).where(IncomingDocument.id.in_(ids)))} if ids else {}
    return [RequestView(r, describe(r, targets.get(r.target_document_id)),
                        OUTCOMES.get(r.state, r.state), r.target_document_id)
            for r in rows]


def _awaiting(agency_id: int):
    return (ExchangeInbox.agency_id == agency_id,
            ExchangeInbox.state == InboxState.AWAITING_DECISION)


def count_pending(session: Session, actor: Actor) -> int:
    """Requests waiting for a decision, for those who see the exchange (0 for others)."""
    if not actor.may(Op.VIEW_EXCHANGE):
        return 0
    return session.scalar(select(func.count()).select_from(ExchangeInbox)
                          .where(*_awaiting(actor.agency_id))) or 0


def pending(session: Session, actor: Actor, limit: int = 10) -> list[RequestView]:
    """The oldest requests waiting for a decision, in words (those who see the exchange)."""
    if not actor.may(Op.VIEW_EXCHANGE):
        return []
    rows = list(session.scalars(select(ExchangeInbox).where(*_awaiting(actor.agency_id))
                                .order_by(ExchangeInbox.id).limit(limit)))
    return _views(session, rows)


def for_document(session: Session, document: IncomingDocument) -> list[RequestView]:
    """Every request about a received document (as the copy revoked or replaced, or as the new
    copy of a replacement), oldest first. The caller has checked the document may be read."""
    rows = list(session.scalars(_FOR_DOCUMENT, {"agency_id": document.agency_id,
                                                "document_id": document.id}))
    return _views(session, rows) if rows else []
