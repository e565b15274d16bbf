"""The dashboards' daily summaries (issue 21, < 300 ms at 1M documents): a dashboard read
from the summaries has exactly the figures of the live computation on the same rows, for an
agency and for the province's admin across agencies, after the job's first run, after new
documents arrive and handling moves on (those days read live until the next run), and after
the job runs again (only the touched days recomputed)."""

from __future__ import annotations

import datetime as dt
import math
import random
from types import SimpleNamespace

import pytest
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.dashboards import summary
from ioffice.dashboards.models import DashboardDay, DashboardSumsState
from ioffice.dashboards.period import parse_period
from ioffice.dashboards.stats import HANDLING_COLUMNS, Dashboard, compute
from ioffice.db import utcnow
from ioffice.incoming.models import Assignment, IncomingDocument
from ioffice.outgoing.models import OutgoingDocument
from tests.dashboards.test_dashboards import TODAY, VN, _assign, _at, _doc, _outgoing
from tests.support.factories import actor, department

LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
STATUSES = ("done", "done", "done", "in_progress", "pending", "extension_requested", "returned",
            "delegated", "closed")


def _figures(d: Dashboard) -> dict:
    """Every figure of a dashboard, in the order the page shows them."""
    def handling(rows):
        return [(r.name, r.agency, *(getattr(r, a) for a, _ in HANDLING_COLUMNS)) for r in rows]

    return {
        "incoming": [(r.month, r.axis, r.other, r.signed) for r in d.incoming],
        "outgoing": [(r.month, r.axis, r.other, r.signed) for r in d.outgoing],
        "departments": handling(d.departments),
        "people": handling(d.people),
        "by_agency": [(r.name, r.incoming, r.outgoing, r.overdue) for r in d.by_agency],
        "exchange": (d.exchange.pending, d.exchange.dead, d.exchange.sent),
        "averages": (d.register_avg_s, d.finish_avg_s),
        "shares": (d.incoming_signed_share, d.outgoing_signed_share),
    }


def _assert_same(summed: Dashboard, live: Dashboard) -> None:
    a, b = _figures(summed), _figures(live)
    for key in a:
        if key == "averages":  # sums of seconds added in another order
            (reg_a, fin_a), (reg_b, fin_b) = a[key], b[key]
            assert reg_a.keys() == reg_b.keys()
            for k in reg_a:
                assert (reg_a[k] is None) == (reg_b[k] is None), k
                assert reg_a[k] is None or math.isclose(reg_a[k], reg_b[k], rel_tol=1e-9), k
            assert (fin_a is None) == (fin_b is None)
            assert fin_a is None or math.isclose(fin_a, fin_b, rel_tol=1e-9)
        else:
            assert a[key] == b[key], key


def _load(db: Session, rng: random.Random, agencies: list[int], people: dict[int, tuple],
          months: list[tuple[int, int]], n: int) -> None:
    """``n`` incoming documents (each with one to three assignments) and outgoing documents
    over ``months`` in ``agencies``, of every source, status and outcome."""
    for _ in range(n):
        agency = rng.choice(agencies)
        by, user, dept = people[agency]
        y, m = rng.choice(months)
        arrived = _at(y, m, rng.randint(1, 28), rng.randint(0, 23))
        doc = _doc(db, agency, arrived, source=rng.choice(("axis", "paper")),
                   status=rng.choice(("registered", "registered", "awaiting_registration",
                                      "rejected", "done")),
                   flags=rng.choice(("", "", "no_valid_pdf_signature")),
                   registered_after_s=rng.choice((None, 60, 3600, 86400 * 2)))
        for _ in range(rng.randint(1, 3)):
            status = rng.choice(STATUSES)
            assigned = arrived + dt.timedelta(hours=rng.randint(1, 72))
            deadline = rng.choice((None, (assigned + dt.timedelta(days=rng.randint(-5, 40))).date()))
            finished = assigned + dt.timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23)) \
                if status == "done" else None
            _assign(db, doc, by, user=user if rng.random() < 0.6 else None,
                    dept=dept if rng.random() < 0.5 else None, role=rng.choice(("lead", "co", "info")),
                    status=status, deadline=deadline, assigned=assigned, finished=finished)
        if rng.random() < 0.4:
            _outgoing(db, agency, by, arrived + dt.timedelta(days=1), axis=rng.random() < 0.5,
                      signed=rng.random() < 0.7)
    db.flush()
    # an assignment has a person or a department
    db.execute(update(Assignment).where(Assignment.assignee_user_id.is_(None),
                                        Assignment.assignee_department_id.is_(None))
               .values(assignee_user_id=people[agencies[0]][1]))
    db.flush()


def _age(db: Session) -> None:
    """Every row as written long before (the job's runs come later)."""
    for table in (IncomingDocument, Assignment, OutgoingDocument):
        db.execute(update(table).values(updated_at=LONG_AGO))
    db.flush()


@pytest.fixture
def province(db: Session) -> dict:
    rng = random.Random(21)
    camau_clerk, uminh_clerk = actor(db, "vanthu.camau"), actor(db, "vanthu.uminh")
    camau, uminh = camau_clerk.agency_id, uminh_clerk.agency_id
    other = db.scalars(select(Agency.id).where(Agency.code == "000.00.00.G09")).one()
    people = {
        camau: (actor(db, "lanhdao.camau").user_id, actor(db, "chuyenvien.camau").user_id,
                department(db, camau_clerk, "TTTT").id),
        uminh: (uminh_clerk.user_id, uminh_clerk.user_id, department(db, uminh_clerk, "VP").id),
        other: (actor(db, "vanthu.bnv").user_id, actor(db, "vanthu.bnv").user_id, None),
    }
    months = [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5),
              (2026, 6)]
    _load(db, rng, [camau, uminh, other], people, months, 90)
    db.commit()
    return {"camau": camau, "uminh": uminh, "other": other, "people": people, "rng": rng,
            "months": months}


def _views(db: Session, p: dict) -> list[tuple[list[int], object]]:
    whole = parse_period("2026-01", "2026-06", today=TODAY, tz=VN)
    return [([p["camau"]], whole),
            ([p["uminh"]], whole),
            ([p["camau"], p["uminh"]], whole),  # the province's admin, across its agencies
            ([p["camau"], p["uminh"]], parse_period("2025-11", "2026-03", today=TODAY, tz=VN)),
            ([p["other"]], parse_period("2026-04", "2026-04", today=TODAY, tz=VN))]


def _check(db: Session, p: dict) -> None:
    for ids, period in _views(db, p):
        _assert_same(compute(db, ids, period, today=TODAY),
                     compute(db, ids, period, today=TODAY, live=True))


def test_summaries_give_the_live_figures_before_and_after_new_work(db: Session,
                                                                   province: dict) -> None:
    p = province
    _age(db)
    assert summary.usable_state(db, parse_period("2026-01", "2026-06", today=TODAY, tz=VN)) is None
    first = summary.refresh(db)  # first run: every day
    db.commit()
    assert first >= 3 * 8
    assert db.scalar(select(func.count()).select_from(DashboardDay)) > 0
    whole = parse_period("2026-01", "2026-06", today=TODAY, tz=VN)
    state = summary.usable_state(db, whole)
    assert state is not None
    assert summary.touched(db, [p["camau"], p["uminh"]], whole, state.watermark) == {
        "in": set(), "out": set(), "work": set()}
    _check(db, p)

    # the summaries are what the dashboard reads: a stored part changed shows on the page
    part = db.scalars(select(DashboardDay).where(DashboardDay.agency_id == p["camau"],
                                                   DashboardDay.kind == "in",
                                                   DashboardDay.day.like("2026-03-%"))).first()
    part.n += 1000
    db.flush()
    assert compute(db, [p["camau"]], whole, today=TODAY).incoming_total == compute(
        db, [p["camau"]], whole, today=TODAY, live=True).incoming_total + 1000
    part.n -= 1000
    db.commit()

    # new documents arrive in March and June, an assignment of April is finished, one of
    # February is returned: those days read live until the job runs again
    _load(db, p["rng"], [p["camau"], p["uminh"]], p["people"], [(2026, 3), (2026, 6)], 12)
    april = db.scalars(select(Assignment).where(
        Assignment.agency_id == p["camau"], Assignment.status == "in_progress",
        Assignment.assigned_at >= _at(2026, 4, 1, 0), Assignment.assigned_at < _at(2026, 5, 1, 0))
    ).first()
    april.status, april.finished_at = "done", _at(2026, 6, 10)
    february = db.scalars(select(Assignment).where(
        Assignment.agency_id == p["uminh"], Assignment.status == "pending",
        Assignment.assigned_at >= _at(2026, 2, 1, 0), Assignment.assigned_at < _at(2026, 3, 1, 0))
    ).first()
    if february is not None:
        february.status = "returned"
    db.commit()
    by_kind = summary.touched(db, [p["camau"], p["uminh"]], whole, state.watermark)
    touched = set().union(*by_kind.values())
    assert {(a, d[:7]) for a, d in by_kind["in"]} >= {(p["camau"], "2026-03"),
                                                      (p["camau"], "2026-06")}
    assert (p["camau"], april.assigned_at.astimezone(VN).strftime("%Y-%m-%d")) in by_kind["work"]
    assert not any(d.startswith("2026-01") for a, d in touched)
    _check(db, p)

    # the job runs again: only the touched days are recomputed, and the figures still match
    before = {(r.agency_id, r.day, r.kind, r.source, r.department_id, r.user_id): r.n
              for r in db.scalars(select(DashboardDay).where(DashboardDay.day.like("2026-01-%")))}
    recomputed = summary.refresh(db)
    db.commit()
    assert 3 <= recomputed < first
    _age(db)  # nothing touched since: every month from the summaries
    db.commit()
    assert not any(summary.touched(db, [p["camau"], p["uminh"]], whole,
                                   summary.usable_state(db, whole).watermark).values())
    assert {(r.agency_id, r.day, r.kind, r.source, r.department_id, r.user_id): r.n
            for r in db.scalars(select(DashboardDay)
                                .where(DashboardDay.day.like("2026-01-%")))} == before
    _check(db, p)


def test_a_dashboard_in_another_time_zone_reads_live(db: Session, province: dict) -> None:
    from zoneinfo import ZoneInfo

    _age(db)
    summary.refresh(db)
    db.commit()
    tokyo = parse_period("2026-01", "2026-06", today=TODAY, tz=ZoneInfo("Asia/Tokyo"))
    assert summary.usable_state(db, tokyo) is None
    ids = [province["camau"], province["uminh"]]
    _assert_same(compute(db, ids, tokyo, today=TODAY), compute(db, ids, tokyo, today=TODAY,
                                                                live=True))


def test_every_day_is_recomputed_once_a_day(db: Session, province: dict) -> None:
    _age(db)
    first = summary.refresh(db)
    db.commit()
    assert summary.refresh(db) == 0  # nothing touched
    later = utcnow() + summary.FULL_EVERY + dt.timedelta(minutes=1)
    assert summary.refresh(db, now=later) == first
    assert db.scalars(select(DashboardSumsState)).one().full_at == later


def test_the_worker_job(db: Session, connection: Connection, province: dict, caplog) -> None:
    from ioffice.exchange.worker import PERIODIC_JOBS

    [job] = [j for j in PERIODIC_JOBS if j.name == "dashboard-sums"]
    assert job.run is summary.run and job.every == summary.EVERY_SECONDS
    sessions = lambda: Session(bind=connection, join_transaction_mode="create_savepoint",  # noqa: E731
                               expire_on_commit=False)
    assert summary.run(SimpleNamespace(session_factory=sessions)) > 0
    db.expire_all()
    state = db.scalars(select(DashboardSumsState)).one()
    assert state.watermark <= utcnow() - summary.MARGIN + dt.timedelta(seconds=5)

    def broken():
        raise RuntimeError("database down")

    assert summary.run(SimpleNamespace(session_factory=broken)) == 0
    assert "dashboard summaries failed" in caplog.text
