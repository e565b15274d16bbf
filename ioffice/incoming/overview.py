"""Agency-wide figures a leader watches: open assignments past their deadline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.incoming.models import OPEN_STATUSES, Assignment

__all__ = ["agency_overdue"]


def agency_overdue(session: Session, actor: Actor, today: dt.date) -> int | None:
    """Open assignments of the whole agency (as the leader gave them, not the passes-on within
    a department) whose deadline is past; None for those who may not follow up the agency.
    The same rows as the follow-up page with "quá hạn" ticked."""
    if not actor.may(Op.FOLLOW_UP):
        return None
    return session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.agency_id == actor.agency_id, Assignment.parent_id.is_(None),
        Assignment.status.in_(OPEN_STATUSES), Assignment.deadline < today)) or 0
