"""Reading outgoing documents: who may see what, the lists, the register, the history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import extract, or_, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role, User
from ioffice.audit.models import AuditEvent
from ioffice.incoming.queries import HistoryEntry
from ioffice.outgoing import review
from ioffice.outgoing.access import can_read, get_document
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.registers.models import Register, RegisterKind

PAGE_SIZE = 100
CLERK_STATES = (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)


def read_document(session: Session, actor: Actor, document_id: int) -> OutgoingDocument:
    return get_document(session, actor, document_id)


@dataclass(frozen=True)
class Listing:
    to_act: list[OutgoingDocument]
    mine: list[OutgoingDocument]
    recent: list[OutgoingDocument]


def awaits(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    """Whether the next step of ``doc`` is the actor's."""
    if doc.status is OutgoingStatus.IN_REVIEW:
        return review.can_review(session, actor, doc)
    if doc.status is OutgoingStatus.APPROVED:
        return doc.signer_id == actor.user_id
    if doc.status in CLERK_STATES:
        return actor.has(Role.CLERK)
    if doc.status is OutgoingStatus.DRAFT:
        return doc.created_by_id == actor.user_id
    return False


def listing(session: Session, actor: Actor) -> Listing:
    open_docs = list(session.scalars(
        select(OutgoingDocument).where(
            OutgoingDocument.agency_id == actor.agency_id,
            OutgoingDocument.status.notin_((OutgoingStatus.DISPATCHED, OutgoingStatus.REVOKED,
                                            OutgoingStatus.REPLACED)))
        .order_by(OutgoingDocument.urgency.desc(), OutgoingDocument.id.desc()).limit(500)))
    to_act = [d for d in open_docs if awaits(session, actor, d)]
    mine = list(session.scalars(select(OutgoingDocument).where(
        OutgoingDocument.agency_id == actor.agency_id,
        or_(OutgoingDocument.created_by_id == actor.user_id,
            OutgoingDocument.signer_id == actor.user_id))
        .order_by(OutgoingDocument.id.desc()).limit(PAGE_SIZE)))
    recent = [d for d in session.scalars(select(OutgoingDocument).where(
        OutgoingDocument.agency_id == actor.agency_id,
        OutgoingDocument.status == OutgoingStatus.DISPATCHED)
        .order_by(OutgoingDocument.dispatched_at.desc()).limit(PAGE_SIZE))
        if can_read(session, actor, d)]
    return Listing(to_act, mine, recent)


def history(session: Session, doc: OutgoingDocument) -> list[HistoryEntry]:
    rows = session.execute(
        select(AuditEvent, User.full_name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.agency_id == doc.agency_id, AuditEvent.subject_type == "outgoing",
               AuditEvent.subject_id == str(doc.id))
        .order_by(AuditEvent.seq)).all()
    return [HistoryEntry(ev.occurred_at, name or "Hệ thống", ev.tag, ev.details) for ev, name in rows]


def register_rows(session: Session, actor: Actor, year: int, *, confidential: bool = False,
                  after_number: int | None = None, limit: int | None = None
                  ) -> list[OutgoingDocument]:
    """The outgoing register of a year, by number (the confidential one is a separate book)."""
    kind = RegisterKind.OUTGOING_CONFIDENTIAL if confidential else RegisterKind.OUTGOING
    stmt = (select(OutgoingDocument).join(Register, Register.id == OutgoingDocument.register_id)
            .where(Register.agency_id == actor.agency_id, Register.kind == kind,
                   Register.year == year).order_by(OutgoingDocument.number))
    if after_number is not None:
        stmt = stmt.where(OutgoingDocument.number > after_number)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def years(session: Session, actor: Actor) -> list[int]:
    return sorted({int(y) for y in session.scalars(
        select(extract("year", OutgoingDocument.promulgation_date)).where(
            OutgoingDocument.agency_id == actor.agency_id,
            OutgoingDocument.promulgation_date.is_not(None)).distinct())}, reverse=True)
