"""Reminding handlers of deadlines: ``days_before`` days before an assignment's deadline
(per agency, ``reminder_settings``) and once the deadline has passed. Each reminder is given
once per assignment, kind and deadline (``reminders_sent``): run the job as often as you like."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.incoming.errors import InvalidInput
from ioffice.incoming.models import OPEN_STATUSES, Assignment, IncomingDocument
from ioffice.notifications.models import Kind, ReminderSent, ReminderSettings
from ioffice.notifications.service import Notice, notify_many

DEFAULT_DAYS_BEFORE = 2
MAX_DAYS_BEFORE = 30


def days_before(session: Session, agency_id: int) -> int:
    row = session.get(ReminderSettings, agency_id)
    return row.days_before if row is not None else DEFAULT_DAYS_BEFORE


def set_days_before(session: Session, actor: Actor, days: int | None) -> ReminderSettings:
    """The agency admin sets how many days before a deadline handlers are reminded."""
    actor.check(Op.ADMIN_NOTIFICATIONS)
    if days is None or not 0 <= days <= MAX_DAYS_BEFORE:
        raise InvalidInput({"days_before": f"Số ngày nhắc trước hạn phải từ 0 đến "
                                           f"{MAX_DAYS_BEFORE}."})
    row = session.get(ReminderSettings, actor.agency_id)
    if row is None:
        row = ReminderSettings(agency_id=actor.agency_id, days_before=days)
        session.add(row)
    was = row.days_before
    row.days_before = days
    session.flush()
    record(session, actor.ctx, "notifications:reminders:update", subject_type="agency",
           subject_id=actor.agency_id, details={"days_before": days, "was": was})
    return row


def _not_sent(kind: Kind):
    return ~exists().where(ReminderSent.assignment_id == Assignment.id,
                           ReminderSent.kind == kind, ReminderSent.deadline == Assignment.deadline)


def remind(session: Session, today: dt.date, *, limit: int = 500) -> int:
    """Write the reminders due ``today`` (the agency's local date); returns how many
    assignments were reminded. The caller commits."""
    days = func.coalesce(ReminderSettings.days_before, DEFAULT_DAYS_BEFORE)
    base = (select(Assignment.id, Assignment.agency_id, Assignment.deadline,
                   Assignment.assignee_user_id, Assignment.assignee_department_id,
                   IncomingDocument.id.label("document_id"), IncomingDocument.number_notation)
            .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
            .where(Assignment.status.in_(OPEN_STATUSES), Assignment.deadline.is_not(None)))
    overdue = session.execute(base.where(Assignment.deadline < today, _not_sent(Kind.OVERDUE))
                              .order_by(Assignment.id).limit(limit)).all()
    soon = session.execute(
        base.outerjoin(ReminderSettings, ReminderSettings.agency_id == Assignment.agency_id)
        .where(Assignment.deadline >= today,
               Assignment.deadline <= today + dt.timedelta(days=MAX_DAYS_BEFORE),
               _not_sent(Kind.DUE_SOON), _not_sent(Kind.OVERDUE))
        .add_columns(days.label("days")).order_by(Assignment.id).limit(limit)).all()
    soon = [r for r in soon if (r.deadline - today).days <= r.days]
    heads: dict[int, agencies.Holders] = {}
    notices = []
    for kind, rows in ((Kind.OVERDUE, overdue), (Kind.DUE_SOON, soon)):
        for row in rows:
            if row.assignee_user_id is not None:
                told = [row.assignee_user_id]
            else:
                if row.agency_id not in heads:
                    heads[row.agency_id] = agencies.role_holders(
                        session, row.agency_id, (Role.DEPARTMENT_HEAD,))
                told = [u.id for u in heads[row.agency_id].of(
                    (Role.DEPARTMENT_HEAD,), department_id=row.assignee_department_id)]
            session.add(ReminderSent(assignment_id=row.id, kind=kind, deadline=row.deadline))
            notices.append(Notice(tuple(told), kind, row.agency_id, _text(kind, row, today),
                                  "incoming", row.document_id))
    notify_many(session, notices)
    session.flush()
    return len(notices)


def _text(kind: Kind, row, today: dt.date) -> str:
    when = f"{row.deadline:%d/%m/%Y}"
    if kind is Kind.OVERDUE:
        return f"Văn bản {row.number_notation} đã quá hạn xử lý (hạn {when})."
    left = (row.deadline - today).days
    return (f"Văn bản {row.number_notation} đến hạn xử lý hôm nay ({when})." if left == 0 else
            f"Văn bản {row.number_notation} còn {left} ngày đến hạn xử lý ({when}).")


