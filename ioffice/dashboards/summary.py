"""Daily partial sums of the dashboards, kept ahead of the request (docs/dashboards.md
"Summaries").

The worker's ``dashboard-sums`` job (:func:`run`, one line in ``PERIODIC_JOBS``, every minute)
stores, per agency and local day, the grouped rows ("parts") the live queries of
:mod:`ioffice.dashboards.stats` produce: incoming documents, outgoing documents, assignments no
longer open. Its first run, a change of time zone and once a day (``FULL_EVERY``) it computes
every day; other runs only the (agency, day) pairs *touched* since the last one: a row of
``incoming_documents``, ``assignments`` or ``outgoing_documents`` whose ``updated_at`` (set on
every insert and update) is at or after the ``watermark``.

A dashboard adds the stored parts of the days of its period not touched since the watermark
(grouped by month in the database) and computes the touched days live, so its figures are always
those of the live computation (the tests compare both). Days, not months: finishing an
assignment touches the day it was given, and a few days read live cost little where a month
would not.

The watermark is the run's start minus ``MARGIN``, and on PostgreSQL no later than the start of
the oldest transaction then open (``pg_stat_activity``): a transaction that wrote a row before
the run but committed after it read the tables is still seen as touched by the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, not_, or_, select, text
from sqlalchemy.orm import Session

from ioffice.dashboards.models import DashboardDay, DashboardSumsState
from ioffice.dashboards.period import Period
from ioffice.dashboards.stats import (
    InPart,
    OutPart,
    Ranges,
    WorkPart,
    _month,
    _pg,
    incoming_parts,
    outgoing_parts,
    work_parts,
)
from ioffice.db import utcnow
from ioffice.incoming.models import Assignment, IncomingDocument
from ioffice.outgoing.models import OutgoingDocument

__all__ = ["EVERY_SECONDS", "MARGIN", "read", "refresh", "run", "touched", "usable_state"]

log = logging.getLogger(__name__)

EVERY_SECONDS = 60.0
MARGIN = dt.timedelta(minutes=2)
FULL_EVERY = dt.timedelta(hours=24)
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the worker's; a dashboard in another zone reads live

KINDS = ("in", "out", "work")
_MOMENTS = ((IncomingDocument, IncomingDocument.arrived_at),
            (OutgoingDocument, OutgoingDocument.dispatched_at),
            (Assignment, Assignment.assigned_at))


def _probe(tz: ZoneInfo, now: dt.datetime) -> Period:
    first = now.astimezone(tz).date().replace(day=1)
    return Period(first, first, tz)


def _offset(period: Period) -> int:
    return int(period.offset.total_seconds())


def _date(day: str) -> dt.date:
    return dt.date(int(day[:4]), int(day[5:7]), int(day[8:10]))


# --- the reading side ---------------------------------------------------------------------------

def usable_state(session: Session, period: Period) -> DashboardSumsState | None:
    """The summaries' state when they can serve ``period`` (made, with its days cut at the
    same offset from UTC), else None: the dashboard computes everything live."""
    state = session.scalars(select(DashboardSumsState)).first()
    if state is None or state.offset_s != _offset(period):
        return None
    return state


def touched(session: Session, agency_ids: list[int] | None, period: Period | None,
            watermark: dt.datetime, probe: Period | None = None) -> dict[str, set[tuple[int, str]]]:
    """Per kind (``in``, ``out``, ``work``: the table whose parts they are), the (agency, local
    day ``YYYY-MM-DD``) with a row written at or after ``watermark``, in ``period`` (None: any
    day, every agency), over the ``updated_at`` indexes."""
    cut = period or probe
    assert cut is not None
    out: dict[str, set[tuple[int, str]]] = {}
    for kind, (table, moment) in zip(KINDS, _MOMENTS, strict=True):
        day, group = _month(session, moment, cut, "day")
        where = [table.updated_at >= watermark, moment.is_not(None)]
        if agency_ids is not None:
            where.append(table.agency_id.in_(agency_ids))
        if period is not None:
            where += [moment >= period.start, moment < period.end]
        out[kind] = {(a, d) for a, d in session.execute(
            select(table.agency_id, day.label("d")).where(*where)
            .group_by(table.agency_id, group))}
    return out


def _union(by_kind: dict[str, set[tuple[int, str]]]) -> set[tuple[int, str]]:
    return set().union(*by_kind.values())


def ranges(days: set[tuple[int, str]], period: Period) -> Ranges:
    """The (agency, day) pairs as UTC ranges: each agency's consecutive days one range,
    agencies with the same range together."""
    per_agency: dict[int, list[dt.date]] = defaultdict(list)
    for agency_id, day in days:
        per_agency[agency_id].append(_date(day))
    spans: dict[tuple[dt.date, dt.date], list[int]] = defaultdict(list)
    for agency_id, dates in per_agency.items():
        dates.sort()
        first = last = dates[0]
        for day in dates[1:]:
            if day == last + dt.timedelta(days=1):
                last = day
                continue
            spans[(first, last)].append(agency_id)
            first = last = day
        spans[(first, last)].append(agency_id)
    out = []
    for (first, last), agencies in sorted(spans.items()):
        start = dt.datetime.combine(first, dt.time(), tzinfo=period.tz).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(),
                                  tzinfo=period.tz).astimezone(dt.UTC)
        out.append((tuple(sorted(agencies)), start, end))
    return out


def read(session: Session, agency_ids: list[int], period: Period,
         skip: dict[str, set[tuple[int, str]]]
         ) -> tuple[list[InPart], list[OutPart], list[WorkPart]]:
    """The stored parts of the agencies' days of ``period`` except the ``skip`` ones (per kind),
    added up per month in the database."""
    s = DashboardDay
    months = period.months
    where = [s.agency_id.in_(agency_ids), s.day >= f"{months[0]}-01", s.day <= f"{months[-1]}-31"]
    skipped: dict[tuple[str, int], list[str]] = defaultdict(list)
    for kind, pairs in skip.items():
        for agency_id, day in pairs:
            skipped[(kind, agency_id)].append(day)
    if skipped:
        where.append(not_(or_(*(and_(s.kind == k, s.agency_id == a, s.day.in_(sorted(days)))
                                for (k, a), days in skipped.items()))))
    month = func.substr(s.day, 1, 7)
    rows = session.execute(
        select(s.agency_id, month, s.kind, s.source, s.department_id, s.user_id, func.sum(s.n),
               func.sum(s.signed), func.sum(s.axis), func.sum(s.on_time), func.sum(s.late),
               func.sum(s.seconds), func.sum(s.timed))
        .where(*where)
        .group_by(s.agency_id, month, s.kind, s.source, s.department_id, s.user_id)).all()
    ins: list[InPart] = []
    outs: list[OutPart] = []
    works: list[WorkPart] = []
    for (agency_id, m, kind, source, dept, user, n, signed, axis, on_time, late, seconds,
         timed) in rows:
        if kind == "in":
            ins.append(InPart(agency_id, m, source, int(n), int(signed), float(seconds),
                              int(timed)))
        elif kind == "out":
            outs.append(OutPart(agency_id, m, int(n), int(axis), int(signed)))
        else:
            works.append(WorkPart(agency_id, m, dept, user, int(n), int(on_time), int(late),
                                  float(seconds), int(timed)))
    return ins, outs, works


# --- the job ------------------------------------------------------------------------------------

def refresh(session: Session, *, tz: ZoneInfo = TIMEZONE, now: dt.datetime | None = None,
            full: bool = False) -> int:
    """Recompute the days touched since the last run (every day the first time, after a change
    of offset, once every ``FULL_EVERY``, or with ``full``); the number of (agency, day)
    recomputed. The caller commits."""
    now = now or utcnow()
    watermark = _watermark(session, now)
    probe = _probe(tz, now)
    query = select(DashboardSumsState)
    if _pg(session):
        query = query.with_for_update()  # two workers: one after the other
    state = session.scalars(query).first()
    if state is None:
        state = DashboardSumsState(id=1, watermark=watermark, offset_s=_offset(probe),
                                   refreshed_at=now, full_at=now)
        session.add(state)
        full = True
    elif state.offset_s != _offset(probe) or now - state.full_at >= FULL_EVERY:
        full = True
    if full:
        session.execute(delete(DashboardDay))
        scope: Ranges = None
        days: set[tuple[int, str]] | None = None
        state.full_at = now
    else:
        days = _union(touched(session, None, None, state.watermark, probe))
        for agency_id, some in _by_agency(days).items():
            session.execute(delete(DashboardDay).where(DashboardDay.agency_id == agency_id,
                                                       DashboardDay.day.in_(some)))
        scope = ranges(days, probe) if days else []
    rows = ([_in_row(p) for p in incoming_parts(session, scope, probe, "day")]
            + [_out_row(p) for p in outgoing_parts(session, scope, probe, "day")]
            + [_work_row(p) for p in work_parts(session, scope, probe, "day")])
    if rows:
        session.execute(insert(DashboardDay), rows)
    state.watermark = watermark
    state.offset_s = _offset(probe)
    state.refreshed_at = now
    state.days = len({(r["agency_id"], r["day"]) for r in rows}) if days is None else len(days)
    session.flush()
    return state.days


def _watermark(session: Session, now: dt.datetime) -> dt.datetime:
    """``now`` minus ``MARGIN``; on PostgreSQL no later than the start of the oldest other
    transaction open on the database (minus the margin too, for clocks apart)."""
    mark = now - MARGIN
    if _pg(session):
        oldest = session.execute(text(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")).scalar()
        if oldest is not None:
            mark = min(mark, oldest - MARGIN)
    return mark


def _by_agency(pairs: set[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for agency_id, day in sorted(pairs):
        out[agency_id].append(day)
    return out


def _in_row(p: InPart) -> dict:
    return {"agency_id": p.agency_id, "day": p.month, "kind": "in", "source": p.source,
            "department_id": None, "user_id": None, "n": p.n, "signed": p.signed, "axis": 0,
            "on_time": 0, "late": 0, "seconds": p.seconds, "timed": p.timed}


def _out_row(p: OutPart) -> dict:
    return {"agency_id": p.agency_id, "day": p.month, "kind": "out", "source": "",
            "department_id": None, "user_id": None, "n": p.n, "signed": p.signed,
            "axis": p.axis, "on_time": 0, "late": 0, "seconds": 0.0, "timed": 0}


def _work_row(p: WorkPart) -> dict:
    return {"agency_id": p.agency_id, "day": p.month, "kind": "work", "source": "",
            "department_id": p.department_id, "user_id": p.user_id, "n": p.n, "signed": 0,
            "axis": 0, "on_time": p.on_time, "late": p.late, "seconds": p.seconds,
            "timed": p.timed}


def run(rt) -> int:
    """The worker's ``dashboard-sums`` job (``rt``: the exchange runtime, its
    ``session_factory``); logs and swallows its failures (the dashboards then read live)."""
    t0 = time.perf_counter()
    try:
        with rt.session_factory() as session:
            days = refresh(session)
            session.commit()
    except Exception:
        log.exception("dashboard summaries failed")
        return 0
    if days:
        log.info("dashboard summaries: %d agency-day(s) recomputed in %.1f s", days,
                 time.perf_counter() - t0)
    return days

