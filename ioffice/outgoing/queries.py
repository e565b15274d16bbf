"""Reading outgoing documents: who may see what, the lists, the register, the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    extract,
    false,
    inspect,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role, User
from ioffice.db import statements
from ioffice.documents.attached import Attached
from ioffice.documents.vocabulary import Urgency
from ioffice.incoming.queries import HistoryEntry, history_statement, read_history
from ioffice.notifications.service import unread_about
from ioffice.outgoing import review
from ioffice.outgoing.access import can_read, get_document  # noqa: F401  (can_read: re-exported)
from ioffice.outgoing.counts import review_turn
from ioffice.outgoing.errors import InvalidInput
from ioffice.outgoing.models import (
    DraftVersion,
    OutgoingComment,
    OutgoingDocument,
    OutgoingStatus,
    SignedRevision,
)
from ioffice.registers.models import Register, RegisterKind
from ioffice.text import MAX_INT

PAGE_SIZE = 100
CLERK_STATES = (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)


_SHOWN = (
    joinedload(OutgoingDocument.signer), joinedload(OutgoingDocument.created_by),
    joinedload(OutgoingDocument.drafting_department),
    selectinload(OutgoingDocument.versions).joinedload(DraftVersion.uploaded_by),
    selectinload(OutgoingDocument.recipients))
_COMMENTS = selectinload(OutgoingDocument.comments).joinedload(OutgoingComment.author)
_SIGNATURES = selectinload(OutgoingDocument.signatures).joinedload(SignedRevision.signer)
PAGE_OPTIONS = (*_SHOWN, _COMMENTS, _SIGNATURES)
"""What the document page shows of a document, loaded with it: a statement per collection,
however many versions, comments, recipients and signatures (and their people) it has."""

_PAGE_KNOWN = {
    (comments, signed): (*_SHOWN, *((_COMMENTS,) if comments else ()),
                         *((_SIGNATURES,) if signed else ()))
    for comments in (True, False) for signed in (True, False)}
"""The page's loader options by (has comments, has signed revisions): a collection known
empty is not asked for. Built once: the document's statement is cached per set of options
(``access._document_statement``)."""


def read_document(session: Session, actor: Actor, document_id: int,
                  attached: Attached | None = None) -> OutgoingDocument:
    """The document with what its page shows (:data:`PAGE_OPTIONS`), if the actor may read it.
    ``attached``: what the page already knows the document has (``documents.attached``): its
    comments and signed revisions are set empty, without their statements, when it has none.
    (The read rule may look at the comments first: then they are read, as they are.)"""
    if attached is None:
        return get_document(session, actor, document_id, options=PAGE_OPTIONS)
    doc = get_document(session, actor, document_id,
                       options=_PAGE_KNOWN[attached.comments, attached.signatures])
    loaded = inspect(doc).dict
    for name, has in (("comments", attached.comments), ("signatures", attached.signatures)):
        if not has and name not in loaded:
            set_committed_value(doc, name, [])
    return doc


@dataclass(frozen=True)
class Listing:
    """The outgoing page's three sections, a page of each (rows of the columns the list shows,
    not documents) and the key of the next page (None: no more)."""

    to_act: list[Row]
    mine: list[Row]
    recent: list[Row]
    to_act_next: str | None = None
    mine_next: str | None = None
    recent_next: str | None = None


def awaits(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    """Whether the next step of ``doc`` is the actor's (one document; :func:`awaits_clause`
    is the same rule in SQL, for lists)."""
    if doc.status is OutgoingStatus.IN_REVIEW:
        return review.can_review(session, actor, doc)
    if doc.status is OutgoingStatus.APPROVED:
        return doc.signer_id == actor.user_id
    if doc.status in CLERK_STATES:
        return actor.has(Role.CLERK)
    if doc.status is OutgoingStatus.DRAFT:
        return doc.created_by_id == actor.user_id
    return False


def awaits_clause(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL twin of :func:`awaits`: the document's next step is the actor's."""
    doc = OutgoingDocument
    return or_(
        and_(doc.status == OutgoingStatus.IN_REVIEW, review_turn(session, actor)),
        and_(doc.status == OutgoingStatus.APPROVED, doc.signer_id == actor.user_id),
        and_(doc.status.in_(CLERK_STATES), true() if actor.has(Role.CLERK) else false()),
        and_(doc.status == OutgoingStatus.DRAFT, doc.created_by_id == actor.user_id))


def _rows(actor: Actor) -> Select:
    """The columns a list shows, the signer's name joined: no document object is built."""
    doc = OutgoingDocument
    unread = unread_about("outgoing", doc.id, actor.user_id)  # each row shown bold or not
    return (select(doc.id, doc.number_notation, doc.doc_type, doc.subject, doc.urgency,
                   doc.confidentiality, doc.status, doc.dispatched_at,
                   User.full_name.label("signer_name"), unread.label("unread"))
            .outerjoin(User, User.id == doc.signer_id)
            .where(doc.agency_id == actor.agency_id))


URGENCY_RANK = case({u.value: u.rank for u in Urgency}, value=OutgoingDocument.urgency)
"""Hỏa tốc first, then thượng khẩn, khẩn, thường (the values' text order would put hỏa tốc,
``flash``, last)."""


def _bad_cursor() -> InvalidInput:
    return InvalidInput({"after": "Con trỏ phân trang không hợp lệ."})


def _page(session: Session, stmt: Select, limit: int, key) -> tuple[list[Row], str | None]:
    """``stmt`` selects ``limit + 1`` rows (the statements are kept with their LIMIT: adding
    it here would make a new statement, and its cache key, per request)."""
    rows = list(session.execute(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, key(rows[-1]) if more and rows else None


def to_act(session: Session, actor: Actor, *, after: str | None = None,
           limit: int = PAGE_SIZE) -> tuple[list[Row], str | None]:
    """Documents whose next step is the actor's, the most urgent then the newest first; the
    key is ``<urgency>_<id>`` of the last row."""
    doc = OutgoingDocument
    stmt = statements.get(
        ("outgoing.to_act", actor.agency_id, actor.user_id, actor.department_id, actor.roles,
         review.rules(session, actor.agency_id), limit),
        lambda: _rows(actor).where(awaits_clause(session, actor))
        .order_by(URGENCY_RANK.desc(), doc.id.desc()).limit(limit + 1))
    if after:
        urgency, _, ident = after.rpartition("_")
        try:
            last_rank, last_id = Urgency(urgency).rank, _ident(ident)
        except ValueError as exc:
            raise _bad_cursor() from exc
        stmt = stmt.where(or_(last_rank > URGENCY_RANK,
                              and_(last_rank == URGENCY_RANK, doc.id < last_id)))
    return _page(session, stmt, limit, lambda r: f"{r.urgency.value}_{r.id}")


def mine(session: Session, actor: Actor, *, after: str | None = None,
         limit: int = PAGE_SIZE) -> tuple[list[Row], str | None]:
    """Documents the actor drafted or signs, the newest first; the key is the last id."""
    doc = OutgoingDocument
    stmt = statements.get(
        ("outgoing.mine", actor.agency_id, actor.user_id, limit),
        lambda: _rows(actor).where(or_(doc.created_by_id == actor.user_id,
                                       doc.signer_id == actor.user_id))
        .order_by(doc.id.desc()).limit(limit + 1))
    if after:
        try:
            stmt = stmt.where(doc.id < _ident(after))
        except ValueError as exc:
            raise _bad_cursor() from exc
    return _page(session, stmt, limit, lambda r: str(r.id))


def recent(session: Session, actor: Actor, *, after: str | None = None,
           limit: int = PAGE_SIZE) -> tuple[list[Row], str | None]:
    """Dispatched documents the actor may read (the read rule in SQL), the latest dispatched
    first; the key is ``<dispatched_at ISO>_<id>`` of the last row."""
    # the search service reads this module's neighbours; its twin of the read rule is needed here
    from ioffice.search.service import readable_outgoing

    doc = OutgoingDocument
    stmt = statements.get(
        ("outgoing.recent", actor.agency_id, actor.user_id, actor.department_id, actor.roles,
         review.rules(session, actor.agency_id), limit),
        lambda: _rows(actor).where(doc.status == OutgoingStatus.DISPATCHED,
                                   readable_outgoing(session, actor))
        .order_by(doc.dispatched_at.desc(), doc.id.desc()).limit(limit + 1))
    if after:
        when, _, ident = after.rpartition("_")
        try:
            last_at, last_id = dt.datetime.fromisoformat(when), _ident(ident)
        except ValueError as exc:
            raise _bad_cursor() from exc
        stmt = stmt.where(or_(doc.dispatched_at < last_at,
                              and_(doc.dispatched_at == last_at, doc.id < last_id)))
    return _page(session, stmt, limit, lambda r: f"{r.dispatched_at.isoformat()}_{r.id}")


def _ident(value: str) -> int:
    ident = int(value)
    if not 0 < ident <= MAX_INT:
        raise ValueError(value)
    return ident


def listing(session: Session, actor: Actor, *, to_act_after: str | None = None,
            mine_after: str | None = None, recent_after: str | None = None) -> Listing:
    """The outgoing page: one statement per section, whatever the number of documents."""
    acting, acting_next = to_act(session, actor, after=to_act_after)
    own, own_next = mine(session, actor, after=mine_after)
    sent, sent_next = recent(session, actor, after=recent_after)
    return Listing(acting, own, sent, acting_next, own_next, sent_next)


_HISTORY = history_statement("outgoing")


def history(session: Session, doc: OutgoingDocument) -> list[HistoryEntry]:
    return read_history(session, _HISTORY, doc.agency_id, doc.id)


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
