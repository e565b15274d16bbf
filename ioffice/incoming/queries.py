"""Reading: a document with its history, queues and counts, the register, the follow-up list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Exists,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record_read
from ioffice.audit.models import AuditEvent
from ioffice.db import UTCDateTime
from ioffice.documents.vocabulary import Urgency
from ioffice.errors import NotFound
from ioffice.incoming.access import can_read
from ioffice.incoming.models import (
    OPEN_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentStatus,
    IncomingDocument,
)
from ioffice.notifications.service import unread_about
from ioffice.text import MAX_INT

PAGE_SIZE = 50
VN = ZoneInfo("Asia/Ho_Chi_Minh")
URGENCY_RANK = case({u.value: u.rank for u in Urgency}, value=IncomingDocument.urgency)


# Statements read on every page are built once (per shape) with their values as bound
# parameters: building a SELECT and its cache key costs more CPU than running it on SQLite
# (docs/performance.md, "Statements built once").
_READ_DOCUMENT = (
    select(IncomingDocument).where(IncomingDocument.id == bindparam("document_id", type_=BigInteger))
    # the assignments with their assignee and parent in one statement, however many
    .options(joinedload(IncomingDocument.files),  # a few rows: one statement fewer
             selectinload(IncomingDocument.assignments).options(
                 joinedload(Assignment.assignee_user), joinedload(Assignment.assignee_department),
                 joinedload(Assignment.parent))))


def read_document(session: Session, actor: Actor, document_id: int) -> IncomingDocument:
    """Load a document for display; the read is an audit event."""
    doc = session.scalars(_READ_DOCUMENT, {"document_id": document_id}).unique().one_or_none()
    if doc is None or not can_read(session, actor, doc):
        raise NotFound("Không tìm thấy văn bản.")
    record_read(session, actor.ctx, "incoming:document:read", subject_type="incoming", subject_id=doc.id)
    return doc


def people_to_assign(session: Session, agency_id: int) -> list[Row]:
    """The active members of the agency as the assignment forms list them (user id, full
    name, department, post), by name: one statement of plain rows, no member objects."""

    return list(session.execute(_people_statement(), {"agency_id": agency_id}))


@lru_cache(maxsize=1)
def _people_statement() -> Select:
    from ioffice.agencies.models import Membership

    title = func.coalesce(func.nullif(Membership.position_title, ""), User.position_title)
    return (select(Membership.user_id, User.full_name, Membership.department_id,
                   title.label("title"))
            .join(User, User.id == Membership.user_id)
            .where(Membership.agency_id == bindparam("agency_id"), User.active)
            .order_by(func.lower(User.full_name)))


def departments_to_assign(session: Session, agency_id: int) -> list[Row]:
    """The agency's departments as the distribution form lists them (id, name), by name."""
    return list(session.execute(_departments_statement(), {"agency_id": agency_id}))


@lru_cache(maxsize=1)
def _departments_statement() -> Select:
    from ioffice.agencies.models import Department

    return (select(Department.id, Department.name)
            .where(Department.agency_id == bindparam("agency_id"))
            .order_by(Department.name))


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    tag: str
    details: dict


def history_statement(subject_type: str, *where: Any) -> Select:
    """A document's timeline from the audit log, oldest first: the columns shown, not the
    events (no object built per row); built once per page (module level), values bound."""
    return (select(AuditEvent.occurred_at, User.full_name, AuditEvent.tag, AuditEvent.details)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.agency_id == bindparam("agency_id", type_=Integer),
                   AuditEvent.subject_type == subject_type,
                   AuditEvent.subject_id == bindparam("subject_id"), *where)
            .order_by(AuditEvent.seq))


def read_history(session: Session, statement: Select, agency_id: int, document_id: int
                 ) -> list[HistoryEntry]:
    """The entries of a :func:`history_statement` for one document."""
    rows = session.execute(statement, {"agency_id": agency_id, "subject_id": str(document_id)})
    return [HistoryEntry(at, name or "Hệ thống", tag, details) for at, name, tag, details in rows]


_HISTORY = history_statement("incoming", AuditEvent.tag != "incoming:document:read")


def history(session: Session, document: IncomingDocument) -> list[HistoryEntry]:
    """The document's timeline: every action on it (reads left out), from the audit log."""
    return read_history(session, _HISTORY, document.agency_id, document.id)


def _heads_department(actor: Actor) -> bool:
    return actor.has(Role.DEPARTMENT_HEAD) and actor.department_id is not None


def _mine_bound(heads_department: bool) -> ColumnElement[bool]:
    """The actor's open assignments (their own, and their department's for its head), the
    actor's ids as bound parameters (``agency_id``, ``user_id``, ``department_id``)."""
    mine = Assignment.assignee_user_id == bindparam("user_id", type_=Integer)
    if heads_department:
        mine = or_(mine, Assignment.assignee_department_id == bindparam("department_id", type_=Integer))
    return and_(Assignment.agency_id == bindparam("agency_id", type_=Integer), mine,
                Assignment.status.in_(OPEN_STATUSES))


def _mine_values(actor: Actor) -> dict[str, int | None]:
    return {"agency_id": actor.agency_id, "user_id": actor.user_id,
            "department_id": actor.department_id}


def to_handle(session: Session, actor: Actor, *, today: dt.date, which: str = "all",
              after: str | None = None, limit: int = PAGE_SIZE) -> list[Assignment]:
    """Open assignments of the actor: ``all``, ``overdue`` or ``due_soon`` (within 3 days),
    soonest deadline first, paginated by key (``after`` is :func:`queue_cursor` of the last row)."""
    stmt, values = _queue(actor, today, which, after, limit, rows=False)
    return list(session.scalars(stmt, values))


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue page: an assignment with what it shows of its document."""

    id: int
    document_id: int
    number_notation: str
    issuer_name: str
    subject: str
    role: AssignmentRole
    deadline: dt.date | None
    status: AssignmentStatus
    unread: bool = False
    """The actor has unread notifications about the document (the row is shown bold)."""

    def is_overdue(self, today: dt.date) -> bool:
        return self.status.is_open and self.deadline is not None and self.deadline < today


def to_handle_rows(session: Session, actor: Actor, *, today: dt.date, which: str = "all",
                   after: str | None = None, limit: int = PAGE_SIZE) -> list[QueueRow]:
    """:func:`to_handle` as the queue page shows it: one statement of the shown columns, no
    assignment or document objects."""
    stmt, values = _queue(actor, today, which, after, limit, rows=True)
    return [QueueRow(*row) for row in session.execute(stmt, values)]


def _queue(actor: Actor, today: dt.date, which: str, after: str | None, limit: int, *,
           rows: bool) -> tuple[Select, dict]:
    """The queue's statement (built once per shape) and its values."""
    values: dict = {**_mine_values(actor), "today": today, "soon": today + dt.timedelta(days=3)}
    cursor_kind = None
    if after:
        last_day, last_id = _parse_cursor(after)
        cursor_kind = "none" if last_day is None else "day"
        values.update(last_day=last_day, last_id=last_id)
    return _queue_statement(_heads_department(actor), which, cursor_kind, limit, rows), values


def _unread(document_id: Any) -> Exists:
    """Whether the reader (``user_id`` bound) has unread notifications about the document:
    asked in a list's own statement (each row shown bold or not)."""
    return unread_about("incoming", document_id, bindparam("user_id", type_=Integer))


@lru_cache(maxsize=64)
def _queue_statement(heads_department: bool, which: str, cursor_kind: str | None, limit: int,
                     rows: bool) -> Select:
    """``rows``: the columns of :class:`QueueRow`, the document joined; else assignments with
    their document and assigner loaded."""
    if rows:
        stmt = (select(Assignment.id, Assignment.document_id, IncomingDocument.number_notation,
                       IncomingDocument.issuer_name, IncomingDocument.subject, Assignment.role,
                       Assignment.deadline, Assignment.status,
                       _unread(Assignment.document_id))
                .join(IncomingDocument, IncomingDocument.id == Assignment.document_id))
    else:
        stmt = select(Assignment).options(selectinload(Assignment.document),
                                          selectinload(Assignment.assigned_by))
    stmt = stmt.where(_mine_bound(heads_department))
    today, soon = bindparam("today", type_=Date), bindparam("soon", type_=Date)
    if which == "overdue":
        stmt = stmt.where(Assignment.deadline < today)
    elif which == "due_soon":
        stmt = stmt.where(Assignment.deadline >= today, Assignment.deadline <= soon)
    last_id = bindparam("last_id", type_=BigInteger)
    if cursor_kind == "none":
        stmt = stmt.where(and_(Assignment.deadline.is_(None), Assignment.id > last_id))
    elif cursor_kind == "day":
        last_day = bindparam("last_day", type_=Date)
        stmt = stmt.where(or_(Assignment.deadline > last_day,
                              and_(Assignment.deadline == last_day, Assignment.id > last_id),
                              Assignment.deadline.is_(None)))
    return stmt.order_by(Assignment.deadline.is_(None), Assignment.deadline,
                         Assignment.id).limit(limit)


def queue_cursor(assignment: Assignment) -> str:
    day = assignment.deadline.isoformat() if assignment.deadline else "-"
    return f"{day}_{assignment.id}"


def _parse_cursor(cursor: str) -> tuple[dt.date | None, int]:
    day, _, ident = cursor.partition("_")
    try:
        last_id = int(ident)
        if abs(last_id) > MAX_INT:
            raise ValueError(ident)
        last_day = None if day == "-" else dt.date.fromisoformat(day)
    except ValueError as exc:
        from ioffice.incoming.errors import InvalidInput

        raise InvalidInput({"after": "Con trỏ phân trang không hợp lệ."}) from exc
    return last_day, last_id


QUEUE_COLUMNS = (IncomingDocument.id, IncomingDocument.incoming_number,
                 IncomingDocument.number_notation, IncomingDocument.issuer_name,
                 IncomingDocument.declared_issuer_name, IncomingDocument.subject,
                 IncomingDocument.urgency, IncomingDocument.arrived_at,
                 IncomingDocument.receipt_flags)
"""What the queue page shows of a document waiting for registration or distribution."""


def to_distribute(session: Session, actor: Actor, limit: int = PAGE_SIZE, *,
                  rows: bool = False, after: str | None = None) -> list[IncomingDocument] | list[Row]:
    """Registered documents waiting for the leader: the most urgent first, then the oldest.
    ``rows``: only :data:`QUEUE_COLUMNS`, as plain rows (the page's list). ``after``: the
    :func:`waiting_cursor` of the last document of the previous page."""
    actor.check(Op.VIEW_TO_DISTRIBUTE)
    return _waiting(session, actor, DocumentStatus.REGISTERED, limit, rows, after)


def to_register(session: Session, actor: Actor, limit: int = PAGE_SIZE, *,
                rows: bool = False, after: str | None = None) -> list[IncomingDocument] | list[Row]:
    """Electronic documents waiting for the clerk to register them (``rows``, ``after``: as
    :func:`to_distribute`)."""
    actor.check(Op.VIEW_TO_REGISTER)
    return _waiting(session, actor, DocumentStatus.AWAITING_REGISTRATION, limit, rows, after)


def _waiting(session: Session, actor: Actor, status: DocumentStatus, limit: int, rows: bool,
             after: str | None) -> list[IncomingDocument] | list[Row]:
    values: dict = {"agency_id": actor.agency_id, "user_id": actor.user_id}
    if after:
        values.update(zip(("last_rank", "last_at", "last_id"), _parse_waiting_cursor(after),
                          strict=True))
    stmt = _waiting_statement(status, rows, limit, bool(after))
    return list(session.execute(stmt, values) if rows else session.scalars(stmt, values))


def waiting_cursor(doc: IncomingDocument | Row) -> str:
    """The key of a document in the waiting queues' order: urgency, arrival, id."""
    return f"{Urgency(doc.urgency).value}_{doc.arrived_at.isoformat()}_{doc.id}"


def _parse_waiting_cursor(cursor: str) -> tuple[int, dt.datetime, int]:
    rest, _, ident = cursor.rpartition("_")
    urgency, _, arrived = rest.rpartition("_")
    try:
        last_id = int(ident)
        if not 0 < last_id <= MAX_INT:
            raise ValueError(ident)
        last_at = dt.datetime.fromisoformat(arrived)
        if last_at.tzinfo is None:
            raise ValueError(arrived)
        return Urgency(urgency).rank, last_at, last_id
    except ValueError as exc:
        from ioffice.incoming.errors import InvalidInput

        raise InvalidInput({"after": "Con trỏ phân trang không hợp lệ."}) from exc


@lru_cache(maxsize=32)
def _waiting_statement(status: DocumentStatus, rows: bool, limit: int, cursor: bool = False
                       ) -> Select:
    stmt = (select(*QUEUE_COLUMNS, _unread(IncomingDocument.id).label("unread")) if rows
            else select(IncomingDocument)).where(
        IncomingDocument.agency_id == bindparam("agency_id", type_=Integer),
        IncomingDocument.status == status)
    if cursor:  # after the last one in (urgency desc, arrived_at, id) order
        rank, at = bindparam("last_rank", type_=Integer), bindparam("last_at", type_=UTCDateTime())
        last_id = bindparam("last_id", type_=BigInteger)
        stmt = stmt.where(or_(rank > URGENCY_RANK, and_(rank == URGENCY_RANK, or_(
            IncomingDocument.arrived_at > at,
            and_(IncomingDocument.arrived_at == at, IncomingDocument.id > last_id)))))
    return stmt.order_by(URGENCY_RANK.desc(), IncomingDocument.arrived_at,
                         IncomingDocument.id).limit(limit)


def extension_requests(session: Session, actor: Actor) -> list[Assignment]:
    if not actor.has(Role.LEADER):
        return []
    stmt = (select(Assignment).where(Assignment.agency_id == actor.agency_id,
                                     Assignment.status == AssignmentStatus.EXTENSION_REQUESTED,
                                     Assignment.parent_id.is_(None))
            .options(selectinload(Assignment.document)).order_by(Assignment.id))
    return list(session.scalars(stmt))


def extension_request_rows(session: Session, actor: Actor) -> list[Row]:
    """:func:`extension_requests` as the queue page shows them, in one statement: the
    document's number, who asks (the assigned person, else department), until when, why."""
    if not actor.has(Role.LEADER):
        return []
    return list(session.execute(_extension_request_statement(),
                                {"agency_id": actor.agency_id}))


@lru_cache(maxsize=1)
def _extension_request_statement() -> Select:
    """Built once (docs/performance.md, "Statements built once"): the leader's queue page
    reads it on every tab."""
    from ioffice.agencies.models import Department

    return (select(Assignment.id, Assignment.document_id, IncomingDocument.number_notation,
                   func.coalesce(User.full_name, Department.name, "").label("assignee_label"),
                   Assignment.requested_deadline, Assignment.extension_reason)
            .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
            .outerjoin(User, User.id == Assignment.assignee_user_id)
            .outerjoin(Department, Department.id == Assignment.assignee_department_id)
            .where(Assignment.agency_id == bindparam("agency_id", type_=Integer),
                   Assignment.status == AssignmentStatus.EXTENSION_REQUESTED,
                   Assignment.parent_id.is_(None))
            .order_by(Assignment.id))


@dataclass(frozen=True)
class Counts:
    to_register: int = 0
    to_distribute: int = 0
    to_handle: int = 0
    overdue: int = 0
    due_soon: int = 0


def counts(session: Session, actor: Actor, today: dt.date) -> Counts:
    """The queue tabs' counts, in one statement."""
    waiting = []
    if actor.has(Role.CLERK):
        waiting.append("to_register")
    if actor.has(Role.LEADER):
        waiting.append("to_distribute")
    stmt = _counts_statement(_heads_department(actor), tuple(waiting))
    row = session.execute(stmt, {**_mine_values(actor), "today": today,
                                 "soon": today + dt.timedelta(days=3)}).one()
    return Counts(to_handle=row[0], overdue=row[1], due_soon=row[2],
                  **{name: n or 0 for name, n in zip(waiting, row[3:], strict=True)})


_WAITING_STATUS = {"to_register": DocumentStatus.AWAITING_REGISTRATION,
                   "to_distribute": DocumentStatus.REGISTERED}


@lru_cache(maxsize=16)
def _counts_statement(heads_department: bool, waiting: tuple[str, ...]) -> Select:
    sub = select(Assignment).where(_mine_bound(heads_department)).subquery()
    today, soon = bindparam("today", type_=Date), bindparam("soon", type_=Date)
    columns = [func.count(), func.count().filter(sub.c.deadline < today),
               func.count().filter(and_(sub.c.deadline >= today, sub.c.deadline <= soon))]
    columns += [select(func.count()).select_from(IncomingDocument).where(
        IncomingDocument.agency_id == bindparam("agency_id", type_=Integer),
        IncomingDocument.status == _WAITING_STATUS[name]).scalar_subquery() for name in waiting]
    return select(*columns).select_from(sub)


@dataclass(frozen=True)
class RegisterFilter:
    year: int
    month: int | None = None
    doc_type: str | None = None
    issuer: str | None = None


def register_page(session: Session, actor: Actor, flt: RegisterFilter, *,
                  after_number: int | None = None, limit: int = PAGE_SIZE) -> list[IncomingDocument]:
    """The incoming register of a year, in number order, paginated by number (keyset)."""
    actor.check(Op.VIEW_INCOMING_REGISTER)
    stmt = _register_query(session, actor, flt)
    if stmt is None:
        return []
    if after_number is not None:
        stmt = stmt.where(IncomingDocument.incoming_number > after_number)
    stmt = stmt.options(selectinload(IncomingDocument.assignments)
                        .selectinload(Assignment.assignee_department),
                        selectinload(IncomingDocument.assignments)
                        .selectinload(Assignment.assignee_user))
    return list(session.scalars(stmt.order_by(IncomingDocument.incoming_number).limit(limit)))


def register_rows(session: Session, actor: Actor, flt: RegisterFilter):
    """Every document of the filtered register, streamed (for exports)."""
    actor.check(Op.EXPORT_INCOMING_REGISTER)
    stmt = _register_query(session, actor, flt)
    if stmt is None:
        return
    stmt = (stmt.order_by(IncomingDocument.incoming_number)
            .options(selectinload(IncomingDocument.assignments)
                     .selectinload(Assignment.assignee_department),
                     selectinload(IncomingDocument.assignments)
                     .selectinload(Assignment.assignee_user))
            .execution_options(yield_per=500))
    yield from session.scalars(stmt)


def _register_query(session: Session, actor: Actor, flt: RegisterFilter) -> Select | None:
    """Documents of the year's register; None when the agency has no register that year.

    A month is turned into a range of incoming numbers: numbers are handed out under the
    register row's lock and stamped with the time after taking it, so number order is
    registration order, and the month's first number bounds an index range scan.
    """
    from ioffice.registers.models import Register, RegisterKind

    register_id = session.scalar(select(Register.id).where(
        Register.agency_id == actor.agency_id, Register.kind == RegisterKind.INCOMING,
        Register.year == flt.year))
    if register_id is None:
        return None
    stmt = select(IncomingDocument).where(IncomingDocument.register_id == register_id)
    if flt.month:
        start = dt.datetime(flt.year, flt.month, 1, tzinfo=VN)
        end = dt.datetime(flt.year + (flt.month == 12), flt.month % 12 + 1, 1, tzinfo=VN)
        first = session.scalar(
            select(IncomingDocument.incoming_number)
            .where(IncomingDocument.register_id == register_id,
                   IncomingDocument.registered_at >= start)
            .order_by(IncomingDocument.registered_at).limit(1))
        if first is None:
            return None
        stmt = stmt.where(IncomingDocument.incoming_number >= first,
                          IncomingDocument.registered_at < end)
    if flt.doc_type:
        stmt = stmt.where(IncomingDocument.doc_type == flt.doc_type)
    if flt.issuer:
        stmt = stmt.where(IncomingDocument.issuer_name.ilike(f"%{flt.issuer.strip()}%"))
    return stmt


@dataclass(frozen=True)
class FollowUpFilter:
    department_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    only_overdue: bool = False


def follow_up(session: Session, actor: Actor, flt: FollowUpFilter, today: dt.date,
              limit: int = 200, *, after: str | None = None) -> list[Assignment]:
    """Leader's view: assignments of the agency, by department and period, overdue flagged.
    Soonest deadline first (none last); ``after``: :func:`queue_cursor` of the previous page's
    last assignment."""
    actor.check(Op.FOLLOW_UP)
    stmt = (select(Assignment).where(Assignment.agency_id == actor.agency_id,
                                     Assignment.parent_id.is_(None))
            .options(selectinload(Assignment.document), selectinload(Assignment.assignee_user),
                     selectinload(Assignment.assignee_department)))
    if flt.department_id:
        from ioffice.agencies.models import Membership

        members = select(Membership.user_id).where(Membership.department_id == flt.department_id)
        stmt = stmt.where(or_(Assignment.assignee_department_id == flt.department_id,
                              Assignment.assignee_user_id.in_(members)))
    if flt.start:
        stmt = stmt.where(Assignment.deadline >= flt.start)
    if flt.end:
        stmt = stmt.where(Assignment.deadline <= flt.end)
    if flt.only_overdue:
        stmt = stmt.where(Assignment.status.in_(OPEN_STATUSES), Assignment.deadline < today)
    if after:
        last_day, last_id = _parse_cursor(after)
        if last_day is None:  # in the no-deadline tail
            stmt = stmt.where(Assignment.deadline.is_(None), Assignment.id > last_id)
        else:
            stmt = stmt.where(or_(Assignment.deadline.is_(None), Assignment.deadline > last_day,
                                  and_(Assignment.deadline == last_day, Assignment.id > last_id)))
    stmt = stmt.order_by(Assignment.deadline.is_(None), Assignment.deadline, Assignment.id)
    return list(session.scalars(stmt.limit(limit)))


def years_with_registers(session: Session, actor: Actor) -> list[int]:
    from ioffice.registers.models import Register, RegisterKind

    rows = session.scalars(select(Register.year).where(Register.agency_id == actor.agency_id,
                                                       Register.kind == RegisterKind.INCOMING)
                           .order_by(Register.year.desc()))
    return list(rows)
