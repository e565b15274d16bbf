"""The figures of the dashboards, each one SQL aggregate over an index (docs/dashboards.md).

A dashboard covers a set of agencies (one for a leader or a clerk, every agency of the province
for its admin) and a :class:`~ioffice.dashboards.period.Period`. Each query scans the rows of
the period once, grouped in the database; nothing is counted in Python.

Adding a column to the handling tables: one more aggregate (as :func:`_chases` counts the
leaders' chases) and one entry in :data:`HANDLING_COLUMNS`; the page, the XLSX and the PDF all
read that list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import (
    Date,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ioffice.agencies.models import Agency, Department, User
from ioffice.dashboards.period import Period
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox, InboxState, OutboxState
from ioffice.incoming.models import (
    OPEN_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentStatus,
    IncomingDocument,
    ReceiptFlag,
    Source,
)
from ioffice.notifications.models import Chase
from ioffice.outgoing.models import OutgoingDocument, OutgoingRecipient, RecipientKind

__all__ = ["HANDLING_COLUMNS", "Dashboard", "HandlingRow", "compute", "incoming_parts",
           "open_parts", "outgoing_parts", "work_parts"]


@dataclass
class HandlingRow:
    """One department's or person's assignments given in the period (not "for information",
    not closed by a revocation)."""

    name: str
    agency: str = ""
    total: int = 0
    on_time: int = 0
    late: int = 0
    open_in_time: int = 0
    overdue: int = 0
    other: int = 0
    chases: int = 0

    @property
    def on_time_rate(self) -> float | None:
        done = self.on_time + self.late
        return self.on_time / done if done else None


# (attribute, heading): the handling tables' columns, on the page, in the XLSX and the PDF
HANDLING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("total", "Tổng số việc"),
    ("on_time", "Xong đúng hạn"),
    ("late", "Xong trễ hạn"),
    ("open_in_time", "Đang xử lý, trong hạn"),
    ("overdue", "Quá hạn, chưa xong"),
    ("other", "Đã giao tiếp hoặc trả lại"),
    ("chases", "Số lần đôn đốc"),
)


@dataclass
class MonthRow:
    month: str
    axis: int = 0
    other: int = 0
    signed: int = 0

    @property
    def total(self) -> int:
        return self.axis + self.other


@dataclass
class AgencyRow:
    name: str
    incoming: int = 0
    outgoing: int = 0
    overdue: int = 0


@dataclass
class Exchange:
    pending: int = 0
    dead: int = 0
    sent: int = 0
    mean_delivery_s: float | None = None
    inbox_failed: int = 0


@dataclass
class Dashboard:
    period: Period
    today: dt.date
    agencies: dict[int, str]
    incoming: list[MonthRow]
    outgoing: list[MonthRow]
    departments: list[HandlingRow]
    people: list[HandlingRow]
    register_avg_s: dict[str, float | None]
    finish_avg_s: float | None
    exchange: Exchange
    by_agency: list[AgencyRow] = field(default_factory=list)

    @property
    def incoming_total(self) -> int:
        return sum(r.total for r in self.incoming)

    @property
    def outgoing_total(self) -> int:
        return sum(r.total for r in self.outgoing)

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def incoming_signed_share(self) -> float | None:
        return self._share(sum(r.signed for r in self.incoming), self.incoming_total)

    @property
    def outgoing_signed_share(self) -> float | None:
        return self._share(sum(r.signed for r in self.outgoing), self.outgoing_total)

    @property
    def totals(self) -> HandlingRow:
        row = HandlingRow("Toàn cơ quan" if len(self.agencies) == 1 else "Tất cả cơ quan")
        for r in self.departments + self.people:
            for attr, _ in HANDLING_COLUMNS:
                setattr(row, attr, getattr(row, attr) + getattr(r, attr))
        return row


# --- SQL pieces that differ between PostgreSQL and SQLite ---------------------------------------

def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _shift(session: Session, column, period: Period) -> ColumnElement:
    """A moment as the agency's local wall-clock time. PostgreSQL: a fixed offset added to the
    UTC time (Vietnam keeps no summer time), twice as fast per row as a zone name lookup."""
    seconds = int(period.offset.total_seconds())
    return func.timezone("UTC", column) + literal_column(f"interval '{seconds} seconds'")


def _month(session: Session, column, period: Period, unit: str = "month"
           ) -> tuple[ColumnElement, ColumnElement]:
    """(``YYYY-MM`` of a moment in the agency's time zone, the expression to group by): on
    PostgreSQL the text is made once per group, not per row. ``unit="day"``: ``YYYY-MM-DD``
    (the summaries' days)."""
    if _pg(session):
        trunc = func.date_trunc(unit, _shift(session, column, period))
        return func.to_char(trunc, "YYYY-MM" if unit == "month" else "YYYY-MM-DD"), trunc
    hours = int(period.offset.total_seconds() // 3600)
    month = func.strftime("%Y-%m" if unit == "month" else "%Y-%m-%d", column, f"{hours:+d} hours")
    return month, month


def _local_date(session: Session, column, period: Period) -> ColumnElement:
    if _pg(session):
        return cast(_shift(session, column, period), Date)
    hours = int(period.offset.total_seconds() // 3600)
    return func.date(column, f"{hours:+d} hours")


def _seconds(session: Session, later, earlier) -> ColumnElement:
    if _pg(session):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _count_if(condition) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


# --- the figures --------------------------------------------------------------------------------
#
# Each live query returns its grouped rows as "parts" (one per agency, month and group); the
# summaries (ioffice/dashboards/summary.py) store the same parts per month, so a dashboard adds
# parts from either and the sums are the same figures (docs/dashboards.md "Summaries").

Ranges = list[tuple[tuple[int, ...], dt.datetime, dt.datetime]] | None
"""Which rows a live query reads: (agency ids, UTC start, end excluded) pieces; None: all."""


class InPart(NamedTuple):
    agency_id: int
    month: str  # YYYY-MM; YYYY-MM-DD in the summary job's parts
    source: str
    n: int
    signed: int
    seconds: float
    timed: int


class OutPart(NamedTuple):
    agency_id: int
    month: str
    n: int
    axis: int
    signed: int


class WorkPart(NamedTuple):
    """Assignments no longer open (their figures no longer change with the date)."""

    agency_id: int
    month: str | None
    department_id: int | None
    user_id: int | None
    n: int
    on_time: int
    late: int
    seconds: float
    timed: int


class OpenPart(NamedTuple):
    """Open assignments, always read live: in time or overdue depends on today."""

    agency_id: int
    department_id: int | None
    user_id: int | None
    open_in_time: int
    overdue: int


def _within(agency, moment, ranges: Ranges) -> ColumnElement:
    if ranges is None:
        return moment.is_not(None)
    pieces = [and_(agency.in_(ids), moment >= start, moment < end) for ids, start, end in ranges]
    return pieces[0] if len(pieces) == 1 else or_(*pieces)


def incoming_parts(session: Session, ranges: Ranges, period: Period, unit: str = "month"
                   ) -> list[InPart]:
    """Documents arrived (rejected ones excepted), per agency, local month and source; signed:
    received over the axis with at least one valid PDF signature; the sum of the times from
    arrival to registration over the registered ones."""
    if ranges == []:
        return []
    d = IncomingDocument
    month, group = _month(session, d.arrived_at, period, unit)
    wait = _seconds(session, d.registered_at, d.arrived_at)
    signed = and_(d.source == Source.AXIS,
                  ~d.receipt_flags.contains(ReceiptFlag.NO_VALID_PDF_SIGNATURE.value))
    rows = session.execute(
        select(d.agency_id, month.label("m"), d.source, func.count(), _count_if(signed),
               func.sum(wait), func.count(d.registered_at))
        .where(_within(d.agency_id, d.arrived_at, ranges), d.status != DocumentStatus.REJECTED)
        .group_by(d.agency_id, group, d.source)).all()
    return [InPart(a, m, Source(s).value, n, signed_n or 0, float(secs or 0), timed or 0)
            for a, m, s, n, signed_n, secs, timed in rows]


def outgoing_parts(session: Session, ranges: Ranges, period: Period, unit: str = "month"
                   ) -> list[OutPart]:
    """Documents dispatched per agency and local month: over the axis (at least one recipient
    is another agency) or not; signed: with the competent person's digital signature."""
    if ranges == []:
        return []
    o = OutgoingDocument
    month, group = _month(session, o.dispatched_at, period, unit)
    axis = exists().where(OutgoingRecipient.document_id == o.id,
                          OutgoingRecipient.kind == RecipientKind.AGENCY)
    rows = session.execute(
        select(o.agency_id, month.label("m"), func.count(), _count_if(axis),
               func.count(o.signed_at))
        .where(_within(o.agency_id, o.dispatched_at, ranges))
        .group_by(o.agency_id, group)).all()
    return [OutPart(a, m, n, n_axis or 0, n_signed or 0) for a, m, n, n_axis, n_signed in rows]


def _counted(session: Session):
    """Assignments the handling tables count: not "for information", not closed by a
    revocation."""
    a = Assignment
    return and_(a.role != AssignmentRole.INFO, a.status != AssignmentStatus.CLOSED)


def work_parts(session: Session, ranges: Ranges, period: Period, unit: str | None = None
               ) -> list[WorkPart]:
    """Assignments no longer open per agency, department, person (and local month of
    day of ``assigned_at`` if ``unit``): done on time (no deadline, or the local date of
    ``finished_at`` on or before it), done late, the sum of the times from assignment to done."""
    if ranges == []:
        return []
    a = Assignment
    done = a.status == AssignmentStatus.DONE
    in_time = (a.deadline.is_(None)) | (_local_date(session, a.finished_at, period) <= a.deadline)
    month, group = _month(session, a.assigned_at, period, unit) if unit else (None, None)
    keys = [a.agency_id] + ([month.label("m"), ] if unit else []) + [
        a.assignee_department_id, a.assignee_user_id]
    groups = [a.agency_id] + ([group] if unit else []) + [
        a.assignee_department_id, a.assignee_user_id]
    rows = session.execute(
        select(*keys, func.count(), _count_if(and_(done, in_time)),
               _count_if(and_(done, ~in_time)),
               func.sum(case((done, _seconds(session, a.finished_at, a.assigned_at)), else_=None)),
               _count_if(done))
        .where(_within(a.agency_id, a.assigned_at, ranges), _counted(session),
               a.status.not_in(OPEN_STATUSES))
        .group_by(*groups)).all()
    if not unit:
        rows = [(r[0], None, *r[1:]) for r in rows]
    return [WorkPart(ag, m, dept, user, n, on_time or 0, late or 0, float(secs or 0), n_done or 0)
            for ag, m, dept, user, n, on_time, late, secs, n_done in rows]


def open_parts(session: Session, agency_ids: list[int], period: Period, today: dt.date
               ) -> list[OpenPart]:
    """Open assignments (pending, in progress, extension requested) given in the period, per
    agency, department and person: the deadline today or later or absent, or passed (the
    follow-up page's rule). Over ``ix_assignments_agency_deadline``."""
    a = Assignment
    rows = session.execute(
        select(a.agency_id, a.assignee_department_id, a.assignee_user_id,
               _count_if(~(a.deadline < today) | a.deadline.is_(None)),
               _count_if(a.deadline < today))
        .where(a.agency_id.in_(agency_ids), a.status.in_(OPEN_STATUSES),
               a.assigned_at >= period.start, a.assigned_at < period.end,
               a.role != AssignmentRole.INFO)
        .group_by(a.agency_id, a.assignee_department_id, a.assignee_user_id)).all()
    return [OpenPart(ag, dept, user, ok or 0, late or 0) for ag, dept, user, ok, late in rows]


def compute(session: Session, agency_ids: list[int], period: Period, *, today: dt.date,
            live: bool = False) -> Dashboard:
    """Every figure of the dashboard of ``agency_ids`` over ``period``: the daily summaries
    where they hold (every day whose rows of that kind were not touched since the summary job's
    last run), live queries for the rest, open assignments and the exchange always live.
    ``live``: no summaries (the reference the tests compare with)."""
    from ioffice.dashboards import summary

    state = None if live else summary.usable_state(session, period)
    if state is None:
        whole = [(tuple(agency_ids), period.start, period.end)]
        ins = incoming_parts(session, whole, period)
        outs = outgoing_parts(session, whole, period)
        works = work_parts(session, whole, period)
    else:
        touched = summary.touched(session, agency_ids, period, state.watermark)
        ins, outs, works = summary.read(session, agency_ids, period, skip=touched)
        ins += incoming_parts(session, summary.ranges(touched["in"], period), period)
        outs += outgoing_parts(session, summary.ranges(touched["out"], period), period)
        works += work_parts(session, summary.ranges(touched["work"], period), period)
    return assemble(session, agency_ids, period, today, ins, outs, works,
                    open_parts(session, agency_ids, period, today))


def assemble(session: Session, agency_ids: list[int], period: Period, today: dt.date,
             ins: list[InPart], outs: list[OutPart], works: list[WorkPart],
             opens: list[OpenPart]) -> Dashboard:
    names = dict(session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))
                                 .order_by(Agency.code)).all())
    by_agency = {a: AgencyRow(n) for a, n in names.items()}
    incoming, register_avg = _incoming(ins, period, by_agency)
    outgoing = _outgoing(outs, period, by_agency)
    departments, people, finish_avg = _handling(session, agency_ids, period, works, opens, names,
                                                by_agency)
    return Dashboard(period=period, today=today, agencies=names, incoming=incoming,
                     outgoing=outgoing, departments=departments, people=people,
                     register_avg_s=register_avg, finish_avg_s=finish_avg,
                     exchange=_exchange(session, agency_ids, period),
                     by_agency=list(by_agency.values()))


def _incoming(parts: list[InPart], period: Period, by_agency: dict[int, AgencyRow]
              ) -> tuple[list[MonthRow], dict[str, float | None]]:
    months = {m: MonthRow(m) for m in period.months}
    waits: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for p in parts:
        row = months.get(p.month)
        if row is None:  # pragma: no cover - the bounds are the months' bounds
            continue
        if p.source == Source.AXIS.value:
            row.axis += p.n
        else:
            row.other += p.n
        row.signed += p.signed
        by_agency[p.agency_id].incoming += p.n
        for key in (p.source, "all"):
            waits[key][0] += p.seconds
            waits[key][1] += p.timed
    averages = {key: (waits[key][0] / waits[key][1] if waits[key][1] else None)
                for key in ("axis", "paper", "all")}
    return list(months.values()), averages


def _outgoing(parts: list[OutPart], period: Period, by_agency: dict[int, AgencyRow]
              ) -> list[MonthRow]:
    months = {m: MonthRow(m) for m in period.months}
    for p in parts:
        row = months.get(p.month)
        if row is None:  # pragma: no cover - the bounds are the months' bounds
            continue
        row.axis += p.axis
        row.other += p.n - p.axis
        row.signed += p.signed
        by_agency[p.agency_id].outgoing += p.n
    return list(months.values())


def _handling(session: Session, agency_ids: list[int], period: Period, works: list[WorkPart],
              opens: list[OpenPart], agency_names: dict[int, str],
              by_agency: dict[int, AgencyRow]
              ) -> tuple[list[HandlingRow], list[HandlingRow], float | None]:
    """Assignments given in the period, per department (given to the department) and per
    person (given or passed on to them); and the mean time from assignment to done."""
    # (agency, department, user) -> total, on time, late, open in time, overdue, seconds, done
    groups: dict[tuple[int, int | None, int | None], list] = defaultdict(
        lambda: [0, 0, 0, 0, 0, 0.0, 0])
    for w in works:
        g = groups[(w.agency_id, w.department_id, w.user_id)]
        g[0] += w.n
        g[1] += w.on_time
        g[2] += w.late
        g[5] += w.seconds
        g[6] += w.timed
    for o in opens:
        g = groups[(o.agency_id, o.department_id, o.user_id)]
        g[0] += o.open_in_time + o.overdue
        g[3] += o.open_in_time
        g[4] += o.overdue
    dept_ids = {d for (_, d, u) in groups if d is not None and u is None}
    user_ids = {u for (_, _, u) in groups if u is not None}
    dept_names = dict(session.execute(select(Department.id, Department.name)
                                      .where(Department.id.in_(dept_ids))).all()) if dept_ids else {}
    user_names = dict(session.execute(select(User.id, User.full_name)
                                      .where(User.id.in_(user_ids))).all()) if user_ids else {}
    chases = _chases(session, agency_ids, period)
    departments: dict[tuple[int, int], HandlingRow] = {}
    people: dict[tuple[int, int], HandlingRow] = {}
    finish_sum, finish_n = 0.0, 0
    several = len(agency_names) > 1
    for (agency_id, dept, user), (n, on_time, late, open_ok, overdue, secs, n_done) in sorted(
            groups.items(), key=lambda kv: tuple(-1 if k is None else k for k in kv[0])):
        if user is not None:
            key, target, name = (agency_id, user), people, user_names.get(user, "")
        elif dept is not None:
            key, target, name = (agency_id, dept), departments, dept_names.get(dept, "")
        else:  # pragma: no cover - an assignment has a department or a person
            continue
        row = target.setdefault(key, HandlingRow(
            name, agency_names[agency_id] if several else "",
            chases=chases.get((agency_id, "user" if target is people else "department",
                               key[1]), 0)))
        row.total += n
        row.on_time += on_time
        row.late += late
        row.open_in_time += open_ok
        row.overdue += overdue
        row.other += n - on_time - late - open_ok - overdue
        by_agency[agency_id].overdue += overdue
        finish_sum += secs
        finish_n += n_done

    def ordered(d: dict) -> list[HandlingRow]:
        return sorted(d.values(), key=lambda r: (-r.total, r.agency, r.name))

    return ordered(departments), ordered(people), (finish_sum / finish_n if finish_n else None)


def _chases(session: Session, agency_ids: list[int], period: Period
            ) -> dict[tuple[int, str, int], int]:
    """Chases (đôn đốc) made in the period per (agency, "department"|"user", id): a chase of
    an assignment counts for whom it was given to (the person, else the department), a chase
    of a department's open work for the department. One grouped statement over
    ``ix_chases_agency_created``."""
    a = Assignment
    rows = session.execute(
        select(Chase.agency_id, a.assignee_user_id,
               func.coalesce(a.assignee_department_id, Chase.department_id), func.count())
        .select_from(Chase).outerjoin(a, a.id == Chase.assignment_id)
        .where(Chase.agency_id.in_(agency_ids), Chase.created_at >= period.start,
               Chase.created_at < period.end)
        .group_by(Chase.agency_id, a.assignee_user_id,
                  func.coalesce(a.assignee_department_id, Chase.department_id))).all()
    counts: dict[tuple[int, str, int], int] = defaultdict(int)
    for agency_id, user_id, department_id, n in rows:
        if user_id is not None:
            counts[(agency_id, "user", user_id)] += n
        elif department_id is not None:
            counts[(agency_id, "department", department_id)] += n
    return dict(counts)


def _exchange(session: Session, agency_ids: list[int], period: Period) -> Exchange:
    """Packages waiting to go and given up (now), sent in the period and their mean time from
    written to accepted by the hub, received packages refused in the period."""
    out = ExchangeOutbox
    pending, dead = session.execute(
        select(_count_if(out.state == OutboxState.PENDING), _count_if(out.state == OutboxState.DEAD))
        .where(out.agency_id.in_(agency_ids),
               out.state.in_((OutboxState.PENDING, OutboxState.DEAD)))).one()
    sent, delivery = session.execute(
        select(func.count(), func.avg(_seconds(session, out.sent_at, out.created_at)))
        .where(out.agency_id.in_(agency_ids), out.sent_at >= period.start,
               out.sent_at < period.end)).one()
    failed = session.scalar(
        select(func.count()).select_from(ExchangeInbox)
        .where(ExchangeInbox.agency_id.in_(agency_ids), ExchangeInbox.state == InboxState.FAILED,
               ExchangeInbox.received_at >= period.start, ExchangeInbox.received_at < period.end))
    return Exchange(pending=pending or 0, dead=dead or 0, sent=sent or 0,
                    mean_delivery_s=float(delivery) if delivery is not None else None,
                    inbox_failed=failed or 0)

