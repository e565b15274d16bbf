"""Incoming work nobody can do, for the agency admin: open assignments whose handler left (an
inactive account, no longer in the agency or in the department that passed the work on), a
department's work with no active head to take it, documents waiting for a clerk or a leader
the agency no longer has; and the admin's remedy (give an assignment to another person)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.errors import NotFound
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.models import OPEN_STATUSES, Assignment, DocumentStatus, IncomingDocument

__all__ = ["StuckAssignment", "StuckIncoming", "reassign", "stuck_assignments", "stuck_documents"]


@dataclass(frozen=True)
class StuckAssignment:
    assignment: Assignment
    reason: str


@dataclass(frozen=True)
class StuckIncoming:
    document: IncomingDocument
    reason: str


def _why_stuck(session: Session, assignment: Assignment) -> str | None:
    agency_id = assignment.agency_id
    if assignment.assignee_user_id is not None:
        user = assignment.assignee_user
        membership = agencies.load_membership(session, user.id, agency_id)
        if not user.active:
            return f"Tài khoản của {user.full_name} đã ngừng hoạt động."
        if membership is None:
            return f"{user.full_name} không còn thuộc cơ quan."
        parent = assignment.parent
        if (parent is not None and parent.assignee_department_id is not None
                and membership.department_id != parent.assignee_department_id):
            return (f"{user.full_name} đã rời {parent.assignee_department.name} "
                    "(đơn vị đã giao tiếp việc).")
        return None
    dept = assignment.assignee_department
    if dept is not None and not agencies.active_holders(session, agency_id, (Role.DEPARTMENT_HEAD,),
                                                        department_id=dept.id):
        return f"{dept.name} không có trưởng đơn vị đang hoạt động để nhận việc."
    return None


def stuck_assignments(session: Session, actor: Actor) -> list[StuckAssignment]:
    """The agency's open assignments that nobody active can handle."""
    actor.check(Op.ADMIN_STUCK_WORK)
    rows = session.scalars(
        select(Assignment).where(Assignment.agency_id == actor.agency_id,
                                 Assignment.status.in_(OPEN_STATUSES))
        .options(selectinload(Assignment.document), selectinload(Assignment.assignee_user),
                 selectinload(Assignment.assignee_department))
        .order_by(Assignment.deadline.is_(None), Assignment.deadline, Assignment.id))
    return [StuckAssignment(a, why) for a in rows if (why := _why_stuck(session, a))]


def stuck_documents(session: Session, actor: Actor) -> list[StuckIncoming]:
    """Documents waiting for a role the agency has nobody active in (to register, to
    distribute): the admin gives the role to someone on the users page."""
    actor.check(Op.ADMIN_STUCK_WORK)
    waiting = ((DocumentStatus.AWAITING_REGISTRATION, Role.CLERK,
                "Chờ vào sổ, nhưng cơ quan không có văn thư nào đang hoạt động."),
               (DocumentStatus.REGISTERED, Role.LEADER,
                "Chờ phân phối, nhưng cơ quan không có lãnh đạo nào đang hoạt động."))
    result = []
    for status, role, reason in waiting:
        if agencies.active_holders(session, actor.agency_id, (role,)):
            continue
        result += [StuckIncoming(d, reason) for d in session.scalars(
            select(IncomingDocument).where(IncomingDocument.agency_id == actor.agency_id,
                                           IncomingDocument.status == status)
            .order_by(IncomingDocument.id).limit(200))]
    return result


def reassign(session: Session, actor: Actor, assignment_id: int, user_id: int | None,
             reason: str) -> Assignment:
    """Give an open assignment to another active person of the agency, who then handles it."""
    actor.check(Op.ADMIN_STUCK_WORK)
    assignment = session.get(Assignment, assignment_id, with_for_update=True)
    if assignment is None or assignment.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy phân công xử lý.")
    if not assignment.status.is_open:
        raise IncomingError(f"Việc này đã ở trạng thái «{assignment.status.label}»: không "
                            "chuyển được.")
    errors = {}
    membership = (agencies.active_membership(session, actor.agency_id, user_id)
                  if user_id is not None else None)
    if membership is None:
        errors["user_id"] = ("Chưa chọn người nhận việc." if user_id is None else
                             "Người được chọn không phải người đang hoạt động của cơ quan.")
    if not reason.strip():
        errors["reason"] = "Phải ghi lý do chuyển việc."
    if errors:
        raise InvalidInput(errors)
    user: User = membership.user
    before = assignment.assignee_label
    assignment.assignee_user_id, assignment.assignee_department_id = user.id, None
    assignment.assignee_user, assignment.assignee_department = user, None
    record(session, actor.ctx, "incoming:assignment:reassign", subject_type="incoming",
           subject_id=assignment.document_id, details={
               "assignment": assignment.id, "from": before, "to": user.id,
               "note": f"từ {before} sang {user.full_name}; lý do: {reason.strip()}"})
    return assignment
