"""Monthly partial sums of the dashboards, kept ahead of the request (docs/dashboards.md
"Summaries").

The worker's ``dashboard-sums`` job (:func:`run`, one line in ``PERIODIC_JOBS``) stores, per
agency and local month, the grouped rows ("parts") the live queries of
:mod:`ioffice.dashboards.stats` produce: incoming documents, outgoing documents, assignments no
longer open. Its first run (or a change of time zone) computes every month; later runs only the
(agency, month) pairs *touched* since the last one: a row of ``incoming_documents``,
``assignments`` or ``outgoing_documents`` whose ``updated_at`` (set on every insert and update)
is at or after the ``watermark``.

A dashboard reads the stored parts of the months of its period not touched since the watermark,
and computes the touched months live, so its figures are always those of the live computation
(the tests compare both). The watermark is the run's start minus ``MARGIN``: a transaction that
wrote a row before the run started but committed after the run read the tables is still seen as
touched by the next run, as long as it lasted less than ``MARGIN``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ioffice.dashboards.models import DashboardMonth, DashboardSumsState
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

EVERY_SECONDS = 300.0
MARGIN = dt.timedelta(minutes=15)
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the worker's; a dashboard in another zone reads live

_MOMENTS = ((IncomingDocument, IncomingDocument.arrived_at),
            (OutgoingDocument, OutgoingDocument.dispatched_at),
            (Assignment, Assignment.assigned_at))


def _probe(tz: ZoneInfo, now: dt.datetime) -> Period:
    first = now.astimezone(tz).date().replace(day=1)
    return Period(first, first, tz)


def _offset(period: Period) -> int:
    return int(period.offset.total_seconds())


# --- the reading side ---------------------------------------------------------------------------

def usable_state(session: Session, period: Period) -> DashboardSumsState | None:
    """The summaries' state when they can serve ``period`` (made, with its months cut at the
    same offset from UTC), else None: the dashboard computes everything live."""
    state = session.scalars(select(DashboardSumsState)).first()
    if state is None or state.offset_s != _offset(period):
        return None
    return state


def touched(session: Session, agency_ids: list[int] | None, period: Period | None,
            watermark: dt.datetime, probe: Period | None = None) -> set[tuple[int, str]]:
    """(agency, ``YYYY-MM``) with a row written at or after ``watermark``, in ``period`` (None:
    any month, every agency), over the ``updated_at`` indexes."""
    cut = period or probe
    assert cut is not None
    out: set[tuple[int, str]] = set()
    for table, moment in _MOMENTS:
        month, group = _month(session, moment, cut)
        where = [table.updated_at >= watermark, moment.is_not(None)]
        if agency_ids is not None:
            where.append(table.agency_id.in_(agency_ids))
        if period is not None:
            where += [moment >= period.start, moment < period.end]
        out.update((a, m) for a, m in session.execute(
            select(table.agency_id, month.label("m")).where(*where)
            .group_by(table.agency_id, group)))
    return out


def ranges(months: set[tuple[int, str]], period: Period) -> Ranges:
    """The (agency, month) pairs as UTC ranges: each agency's consecutive months one range,
    agencies with the same range together."""
    per_agency: dict[int, list[dt.date]] = defaultdict(list)
    for agency_id, m in months:
        per_agency[agency_id].append(dt.date(int(m[:4]), int(m[5:7]), 1))
    spans: dict[tuple[dt.date, dt.date], list[int]] = defaultdict(list)
    for agency_id, days in per_agency.items():
        days.sort()
        first = last = days[0]
        for day in days[1:]:
            if day == dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1):
                last = day
                continue
            spans[(first, last)].append(agency_id)
            first = last = day
        spans[(first, last)].append(agency_id)
    out = []
    for (first, last), agencies in sorted(spans.items()):
        span = Period(first, last, period.tz)
        out.append((tuple(sorted(agencies)), span.start, span.end))
    return out


def read(session: Session, agency_ids: list[int], period: Period,
         skip: set[tuple[int, str]]) -> tuple[list[InPart], list[OutPart], list[WorkPart]]:
    """The stored parts of the agencies' months of ``period``, except the ``skip`` ones."""
    s = DashboardMonth
    months = period.months
    rows = session.execute(
        select(s.agency_id, s.month, s.kind, s.source, s.department_id, s.user_id, s.n, s.signed,
               s.axis, s.on_time, s.late, s.seconds, s.timed)
        .where(s.agency_id.in_(agency_ids), s.month >= months[0], s.month <= months[-1])).all()
    ins: list[InPart] = []
    outs: list[OutPart] = []
    works: list[WorkPart] = []
    for (agency_id, month, kind, source, dept, user, n, signed, axis, on_time, late, seconds,
         timed) in rows:
        if (agency_id, month) in skip:
            continue
        if kind == "in":
            ins.append(InPart(agency_id, month, source, n, signed, seconds, timed))
        elif kind == "out":
            outs.append(OutPart(agency_id, month, n, axis, signed))
        else:
            works.append(WorkPart(agency_id, month, dept, user, n, on_time, late, seconds, timed))
    return ins, outs, works


# --- the job ------------------------------------------------------------------------------------

def refresh(session: Session, *, tz: ZoneInfo = TIMEZONE, now: dt.datetime | None = None,
            full: bool = False) -> int:
    """Recompute the months touched since the last run (every month the first time, after a
    change of offset, or with ``full``); the number of (agency, month) recomputed. The caller
    commits."""
    now = now or utcnow()
    probe = _probe(tz, now)
    query = select(DashboardSumsState)
    if _pg(session):
        query = query.with_for_update()  # two workers: one after the other
    state = session.scalars(query).first()
    if state is None:
        state = DashboardSumsState(id=1, watermark=now, offset_s=_offset(probe), refreshed_at=now)
        session.add(state)
        full = True
    elif state.offset_s != _offset(probe):
        full = True
    if full:
        session.execute(delete(DashboardMonth))
        scope: Ranges = None
        count_from: set[tuple[int, str]] | None = None
    else:
        count_from = touched(session, None, None, state.watermark, probe)
        for agency_id, months in _by_agency(count_from).items():
            session.execute(delete(DashboardMonth).where(DashboardMonth.agency_id == agency_id,
                                                         DashboardMonth.month.in_(months)))
        scope = ranges(count_from, probe) if count_from else []
    rows = ([_in_row(p) for p in incoming_parts(session, scope, probe)]
            + [_out_row(p) for p in outgoing_parts(session, scope, probe)]
            + [_work_row(p) for p in work_parts(session, scope, probe, by_month=True)])
    if rows:
        session.execute(insert(DashboardMonth), rows)
    state.watermark = now - MARGIN
    state.offset_s = _offset(probe)
    state.refreshed_at = now
    state.months = (len({(r["agency_id"], r["month"]) for r in rows}) if count_from is None
                    else len(count_from))
    session.flush()
    return state.months


def _by_agency(pairs: set[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for agency_id, month in sorted(pairs):
        out[agency_id].append(month)
    return out


def _in_row(p: InPart) -> dict:
    return {"agency_id": p.agency_id, "month": p.month, "kind": "in", "source": p.source,
            "department_id": None, "user_id": None, "n": p.n, "signed": p.signed, "axis": 0,
            "on_time": 0, "late": 0, "seconds": p.seconds, "timed": p.timed}


def _out_row(p: OutPart) -> dict:
    return {"agency_id": p.agency_id, "month": p.month, "kind": "out", "source": "",
            "department_id": None, "user_id": None, "n": p.n, "signed": p.signed,
            "axis": p.axis, "on_time": 0, "late": 0, "seconds": 0.0, "timed": 0}


def _work_row(p: WorkPart) -> dict:
    return {"agency_id": p.agency_id, "month": p.month, "kind": "work", "source": "",
            "department_id": p.department_id, "user_id": p.user_id, "n": p.n, "signed": 0,
            "axis": 0, "on_time": p.on_time, "late": p.late, "seconds": p.seconds,
            "timed": p.timed}


def run(rt) -> int:
    """The worker's ``dashboard-sums`` job (``rt``: the exchange runtime, its
    ``session_factory``); logs and swallows its failures (the dashboards then read live)."""
    t0 = time.perf_counter()
    try:
        with rt.session_factory() as session:
            months = refresh(session)
            session.commit()
    except Exception:
        log.exception("dashboard summaries failed")
        return 0
    if months:
        log.info("dashboard summaries: %d agency-month(s) recomputed in %.1f s", months,
                 time.perf_counter() - t0)
    return months

