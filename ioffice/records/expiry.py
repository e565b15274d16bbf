"""The archive is told when dossiers' retention ends (the worker's ``records-expiry`` job).

A dossier of the list (closed, not in a hand-over, or archived) or a restored dossier (not
destroyed), kept N years, whose end of work plus N years (``retention_end``) is today or
earlier: each agency's archivists (``Role.ARCHIVIST``) get one notification per run listing the
newly expired dossiers, linked to **Thời hạn bảo quản, tiêu hủy**, and each dossier is marked
(``expiry_notified_on``) so it is told once, not every day. An agency with no archivist is not
marked: its dossiers are told once someone holds the role. Each dossier told gets an audit
event on its history (``records:dossier:expiry-notify``, ``records:package:expiry-notify``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext, record
from ioffice.notifications import Kind, notify
from ioffice.records.handover import archivists
from ioffice.records.models import Dossier, DossierStatus, ImportedPackage

__all__ = ["EVERY_SECONDS", "notify_expired", "run"]

EVERY_SECONDS = 3600
LISTED = 10
"""Symbols named in one notification; the rest are counted."""

Holding = Dossier | ImportedPackage


def _years_back(today: dt.date, years: int) -> dt.date:
    """The latest end of work that can have expired by today with this retention (one day of
    slack for 29 February; ``retention_end`` decides)."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # today is 29 February
        day = dt.date(today.year - years, 2, 28)
    return day + dt.timedelta(days=1)


def _due(session: Session, model: type[Dossier] | type[ImportedPackage], today: dt.date,
         *criteria) -> list[Holding]:
    """Rows not yet told whose retention may have ended, narrowed in SQL per retention value
    (few distinct ones), then decided by ``retention_end``."""
    base = (model.retention_years.is_not(None), model.end_date.is_not(None),
            model.expiry_notified_on.is_(None), *criteria)
    years = [y for y in session.scalars(select(model.retention_years).where(*base).distinct())
             if y is not None]
    if not years:
        return []
    rows = session.scalars(select(model).where(*base, or_(*(
        and_(model.retention_years == y, model.end_date <= _years_back(today, y))
        for y in years))).order_by(model.agency_id, model.id))
    return [r for r in rows if r.retention_end is not None and r.retention_end <= today]


def notify_expired(session: Session, today: dt.date) -> int:
    """Tell each agency's archivists of the dossiers whose retention ended since the last run.
    Returns the number of dossiers told."""
    due = _due(session, Dossier, today,
               Dossier.status.in_([DossierStatus.CLOSED, DossierStatus.ARCHIVED]))
    due += _due(session, ImportedPackage, today, ImportedPackage.destruction_id.is_(None))
    by_agency: dict[int, list[Holding]] = defaultdict(list)
    for row in due:
        by_agency[row.agency_id].append(row)
    told = 0
    for agency_id, rows in by_agency.items():
        people = archivists(session, agency_id)
        if not people:
            continue
        names = [_name(r) for r in rows]
        more = f" và {len(names) - LISTED} hồ sơ khác" if len(names) > LISTED else ""
        notify(session, people, Kind.RECORDS, agency_id=agency_id, subject_type="retention",
               text=f"{len(rows)} hồ sơ đã hết thời hạn bảo quản: {', '.join(names[:LISTED])}"
                    f"{more}. Xem «Thời hạn bảo quản, tiêu hủy» để đề nghị tiêu hủy.")
        ctx = AuditContext(None, agency_id, "worker")
        for r in rows:
            r.expiry_notified_on = today
            record(session, ctx, f"records:{'dossier' if isinstance(r, Dossier) else 'package'}"
                   ":expiry-notify", subject_type="dossier" if isinstance(r, Dossier)
                   else "imported_package", subject_id=r.id,
                   details={"symbol": r.symbol, "retention_end": r.retention_end.isoformat(),
                            "archivists": people})
        told += len(rows)
    session.flush()
    return told


def _name(row: Holding) -> str:
    if isinstance(row, Dossier):
        return f"{row.symbol} ({row.file_list.year}, hết hạn {row.retention_end:%d/%m/%Y})"
    return (f"{row.symbol} ({row.year}, nhập từ {row.organ_id}, hết hạn "
            f"{row.retention_end:%d/%m/%Y})")


def run(rt) -> None:
    """The worker's periodic job (``PERIODIC_JOBS``)."""
    from ioffice.incoming.registration import today_vn

    with rt.session_factory() as session:
        notify_expired(session, today_vn())
        session.commit()
