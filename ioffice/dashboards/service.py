"""Who sees which dashboard: a leader or a clerk their agency's, the admin of the province (the
admin of the agency at the top of a tree, see docs/agencies.md) every agency of the province,
together or one by one. Another agency's id answers 404, as a missing one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency
from ioffice.agencies.permissions import Op
from ioffice.agencies.provisioning import tree_admin
from ioffice.dashboards.period import Period
from ioffice.dashboards.stats import Dashboard, compute
from ioffice.errors import Forbidden, NotFound

__all__ = ["agency_dashboard", "province_agencies", "province_dashboard"]


def agency_dashboard(session: Session, actor: Actor, period: Period, *, today: dt.date) -> Dashboard:
    actor.check(Op.VIEW_DASHBOARD)
    return compute(session, [actor.agency_id], period, today=today)


def province_agencies(session: Session, actor: Actor) -> list[Agency]:
    """The agencies of the actor's province (its tree), the root first; 403 for anyone but the
    admin of the tree's root."""
    actor.check(Op.VIEW_PROVINCE_DASHBOARD)
    try:
        scope = tree_admin(session, actor)
    except Forbidden as exc:
        raise Forbidden("Chỉ quản trị của cơ quan cấp cao nhất (ví dụ Ủy ban nhân dân tỉnh) mới "
                        "xem được thống kê của toàn tỉnh.") from exc
    agencies = session.scalars(select(Agency).where(Agency.code.like(f"%.{scope.level1}"))
                               .order_by(Agency.parent_id.is_not(None), Agency.code)).all()
    return [a for a in agencies if scope.covers(a.code)]


def province_dashboard(session: Session, actor: Actor, period: Period, *, today: dt.date,
                       agency_id: int | None = None) -> tuple[Dashboard, list[Agency]]:
    """Every agency of the province together, or the one ``agency_id`` of it (404 outside)."""
    agencies = province_agencies(session, actor)
    ids = [a.id for a in agencies]
    if agency_id is not None:
        if agency_id not in ids:
            raise NotFound("Không tìm thấy cơ quan này trong tỉnh của bạn.")
        ids = [agency_id]
    return compute(session, ids, period, today=today), agencies
