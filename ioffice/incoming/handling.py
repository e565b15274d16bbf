"""Distribution by a leader, passing on by a department head, and handling by the assignees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import events
from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Department, Membership, Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import Forbidden, NotFound
from ioffice.incoming.access import can_handle, get_assignment, get_document
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentStatus,
    IncomingDocument,
)
from ioffice.incoming.registration import today_vn
from ioffice.notifications import events as notifications

DISTRIBUTABLE = (DocumentStatus.REGISTERED, DocumentStatus.DISTRIBUTED, DocumentStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Target:
    """A department (``kind='department'``) or a person (``kind='user'``) of the agency."""

    kind: str
    id: int
    deadline: dt.date | None = None


@dataclass(frozen=True)
class DistributionInput:
    lead: Target | None
    co_handlers: tuple[Target, ...] = field(default_factory=tuple)
    for_information: tuple[Target, ...] = field(default_factory=tuple)
    instruction: str = ""


def distribute(session: Session, actor: Actor, document_id: int, data: DistributionInput
               ) -> list[Assignment]:
    actor.check(Op.DISTRIBUTE)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.status not in DISTRIBUTABLE:
        raise IncomingError(f"Văn bản đang ở trạng thái «{doc.status.label}», không phân phối được.")
    errors: dict[str, str] = {}
    has_open_lead = any(a.role is AssignmentRole.LEAD and a.parent_id is None and a.status.is_open
                        for a in doc.assignments)
    if data.lead is None and not has_open_lead:
        errors["lead"] = "Phải chọn một đơn vị hoặc cá nhân chủ trì."
    if data.lead is not None and has_open_lead:
        errors["lead"] = "Văn bản đã có đơn vị chủ trì đang xử lý."
    planned = ([(AssignmentRole.LEAD, data.lead)] if data.lead else []) + \
        [(AssignmentRole.CO, t) for t in data.co_handlers] + \
        [(AssignmentRole.INFO, t) for t in data.for_information]
    seen: set[tuple[str, int]] = set()
    for role, target in planned:
        key = (target.kind, target.id)
        if key in seen:
            errors["targets"] = "Một đơn vị hoặc cá nhân chỉ được giao một vai trò."
        seen.add(key)
        if (problem := _nobody_there(session, actor, role, target)) is not None:
            errors[f"target_{role.value}_{target.kind}_{target.id}"] = problem
        if target.deadline is not None and target.deadline < doc.document_date:
            errors[f"deadline_{role.value}"] = (f"Hạn xử lý ({target.deadline:%d/%m/%Y}) không thể "
                                                f"trước ngày văn bản ({doc.document_date:%d/%m/%Y}).")
    if errors:
        raise InvalidInput(errors)
    created = []
    for role, target in planned:
        with session.no_autoflush:
            assignment = Assignment(agency_id=actor.agency_id, document=doc, role=role,
                                    deadline=target.deadline,
                                    instruction=data.instruction.strip(),
                                    assigned_by_id=actor.user_id,
                                    status=AssignmentStatus.DONE if role is AssignmentRole.INFO
                                    else AssignmentStatus.PENDING)
            _set_target(session, actor, assignment, target)
        session.add(assignment)
        created.append(assignment)
    if doc.status is DocumentStatus.REGISTERED:
        doc.status = DocumentStatus.DISTRIBUTED
    doc.distributed_at = utcnow()
    session.flush()
    record(session, actor.ctx, "incoming:document:distribute", subject_type="incoming",
           subject_id=doc.id, details={
               "instruction": data.instruction.strip(),
               "assignments": [{"id": a.id, "role": a.role.value, "to": a.assignee_label,
                                "deadline": a.deadline.isoformat() if a.deadline else None}
                               for a in created]})
    notifications.assigned(session, actor, doc, created)
    events.emit(session, events.INCOMING_DISTRIBUTED, document=doc, actor=actor)
    return created


def _nobody_there(session: Session, actor: Actor, role: AssignmentRole, target: Target
                  ) -> str | None:
    """Why nobody could act on work given to ``target`` (None: someone can). A department's
    work is taken by its head (a department only informed needs someone to read it); a person
    must be an active member of the agency."""
    if target.kind == "department":
        dept = session.get(Department, target.id)
        if dept is None or dept.agency_id != actor.agency_id:
            return None  # _set_target answers "not found"
        if not agencies.active_holders(session, actor.agency_id, tuple(Role), department_id=dept.id):
            return (f"{dept.name} không có ai đang hoạt động: không giao cho đơn vị này được. "
                    "Hãy chọn đơn vị hoặc người khác.")
        if role is AssignmentRole.INFO or agencies.active_holders(
                session, actor.agency_id, (Role.DEPARTMENT_HEAD,), department_id=dept.id):
            return None
        return (f"{dept.name} không có trưởng đơn vị đang hoạt động để nhận và giao tiếp việc: "
                "hãy giao trực tiếp cho một người của đơn vị.")
    if target.kind == "user":
        user = session.get(User, target.id)
        if user is not None and not user.active and _is_member(session, actor.agency_id, user.id):
            return f"Tài khoản của {user.full_name} đã ngừng hoạt động: không giao việc được."
    return None


def _set_target(session: Session, actor: Actor, assignment: Assignment, target: Target) -> None:
    if target.kind == "department":
        dept = session.get(Department, target.id)
        if dept is None or dept.agency_id != actor.agency_id:
            raise NotFound("Không tìm thấy phòng ban được giao.")
        assignment.assignee_department = dept
    elif target.kind == "user":
        if not _is_member(session, actor.agency_id, target.id):
            raise NotFound("Không tìm thấy người được giao.")
        assignment.assignee_user = session.get(User, target.id)
    else:
        raise InvalidInput({"targets": "Đối tượng giao không hợp lệ."})


def _is_member(session: Session, agency_id: int, user_id: int,
               department_id: int | None = None) -> bool:
    stmt = select(Membership.id).where(Membership.agency_id == agency_id,
                                       Membership.user_id == user_id)
    if department_id is not None:
        stmt = stmt.where(Membership.department_id == department_id)
    return session.scalar(stmt) is not None


def _require_handler(actor: Actor, assignment: Assignment) -> None:
    actor.check(Op.HANDLE_ASSIGNMENT)
    if not can_handle(actor, assignment):
        raise Forbidden("Bạn không phải người được giao xử lý việc này.")
    if not assignment.status.is_open:
        raise IncomingError(f"Việc này đã ở trạng thái «{assignment.status.label}».")


def pass_on(session: Session, actor: Actor, assignment_id: int, user_id: int,
            deadline: dt.date | None, instruction: str = "") -> Assignment:
    """A department head hands an assignment of the department to one of its people."""
    actor.check(Op.PASS_ON)
    parent = get_assignment(session, actor, assignment_id)
    _require_handler(actor, parent)
    if actor.department_id is None or not _is_member(session, actor.agency_id, user_id,
                                                     actor.department_id):
        raise NotFound("Người nhận không thuộc phòng của bạn.")
    receiver = session.get(User, user_id)
    assert receiver is not None  # the membership references it
    if not receiver.active:
        raise InvalidInput({"user_id": f"Tài khoản của {receiver.full_name} đã ngừng hoạt động: "
                                       "không giao việc được."})
    if deadline is not None and parent.deadline is not None and deadline > parent.deadline:
        raise InvalidInput({"deadline": "Hạn giao tiếp không được sau hạn của lãnh đạo "
                                        f"({parent.deadline:%d/%m/%Y})."})
    if deadline is not None and deadline < parent.document.document_date:
        raise InvalidInput({"deadline": "Hạn xử lý không thể trước ngày văn bản."})
    child = Assignment(agency_id=actor.agency_id, document_id=parent.document_id, parent=parent,
                       role=parent.role, assignee_user_id=user_id,
                       deadline=deadline or parent.deadline, instruction=instruction.strip(),
                       assigned_by_id=actor.user_id)
    parent.status = AssignmentStatus.DELEGATED
    session.add(child)
    session.flush()
    record(session, actor.ctx, "incoming:assignment:pass-on", subject_type="incoming",
           subject_id=parent.document_id, details={"assignment": parent.id, "child": child.id,
                                                   "to": session.get(User, user_id).full_name,
                                                   "instruction": instruction.strip()})
    notifications.assigned(session, actor, parent.document, [child])
    return child


def record_progress(session: Session, actor: Actor, assignment_id: int, note: str) -> Assignment:
    assignment = get_assignment(session, actor, assignment_id)
    _require_handler(actor, assignment)
    if not note.strip():
        raise InvalidInput({"note": "Chưa nhập nội dung tiến độ."})
    first_start = assignment.started_at is None
    assignment.progress_note = note.strip()
    if assignment.status is AssignmentStatus.PENDING:
        assignment.status = AssignmentStatus.IN_PROGRESS
    if first_start:
        assignment.started_at = utcnow()
    doc = assignment.document
    if doc.status is DocumentStatus.DISTRIBUTED:
        doc.status = DocumentStatus.IN_PROGRESS
    record(session, actor.ctx, "incoming:assignment:progress", subject_type="incoming",
           subject_id=doc.id, details={"assignment": assignment.id, "note": note.strip()})
    if first_start:
        events.emit(session, events.INCOMING_HANDLING_STARTED, document=doc, actor=actor)
    return assignment


def request_extension(session: Session, actor: Actor, assignment_id: int, new_deadline: dt.date,
                      reason: str) -> Assignment:
    assignment = get_assignment(session, actor, assignment_id)
    _require_handler(actor, assignment)
    errors = {}
    if not reason.strip():
        errors["reason"] = "Phải nêu lý do xin gia hạn."
    if assignment.deadline is not None and new_deadline <= assignment.deadline:
        errors["new_deadline"] = "Hạn mới phải sau hạn hiện tại."
    if errors:
        raise InvalidInput(errors)
    assignment.status = AssignmentStatus.EXTENSION_REQUESTED
    assignment.requested_deadline = new_deadline
    assignment.extension_reason = reason.strip()
    record(session, actor.ctx, "incoming:assignment:extension-request", subject_type="incoming",
           subject_id=assignment.document_id, details={
               "assignment": assignment.id, "deadline": new_deadline.isoformat(),
               "reason": reason.strip()})
    return assignment


def decide_extension(session: Session, actor: Actor, assignment_id: int, approve: bool) -> Assignment:
    actor.check(Op.DECIDE_EXTENSION)
    assignment = get_assignment(session, actor, assignment_id)
    if assignment.status is not AssignmentStatus.EXTENSION_REQUESTED:
        raise IncomingError("Không có yêu cầu gia hạn nào đang chờ.")
    only_head = actor.has(Role.DEPARTMENT_HEAD) and not actor.has(Role.LEADER)
    if only_head and (assignment.parent is None or not can_handle(actor, assignment.parent)):
        raise Forbidden("Chỉ người đã giao việc mới duyệt được gia hạn.")
    if approve:
        assignment.deadline = assignment.requested_deadline
    assignment.status = (AssignmentStatus.IN_PROGRESS if assignment.started_at
                         else AssignmentStatus.PENDING)
    record(session, actor.ctx, "incoming:assignment:extension-" + ("approve" if approve else "refuse"),
           subject_type="incoming", subject_id=assignment.document_id,
           details={"assignment": assignment.id,
                    "deadline": assignment.deadline.isoformat() if assignment.deadline else None})
    assignment.requested_deadline = None
    return assignment


def finish(session: Session, actor: Actor, assignment_id: int, result: str,
           reply_number: str = "") -> Assignment:
    assignment = get_assignment(session, actor, assignment_id)
    _require_handler(actor, assignment)
    if not result.strip():
        raise InvalidInput({"result": "Chưa nhập kết quả xử lý."})
    now = utcnow()
    assignment.status = AssignmentStatus.DONE
    assignment.result = result.strip()
    assignment.reply_number = reply_number.strip()
    assignment.finished_at = now
    assignment.started_at = assignment.started_at or now
    parent = assignment.parent
    while parent is not None and parent.status is AssignmentStatus.DELEGATED:
        parent.status, parent.finished_at = AssignmentStatus.DONE, now
        parent.result, parent.reply_number = assignment.result, assignment.reply_number
        parent = parent.parent
    doc = assignment.document
    record(session, actor.ctx, "incoming:assignment:finish", subject_type="incoming",
           subject_id=doc.id, details={"assignment": assignment.id, "result": assignment.result,
                                       "reply_number": assignment.reply_number})
    if assignment.role is AssignmentRole.LEAD:
        doc.status = DocumentStatus.DONE
        doc.finished_at = now
        doc.reply_number = assignment.reply_number
        events.emit(session, events.INCOMING_FINISHED, document=doc, actor=actor)
    return assignment


def return_assignment(session: Session, actor: Actor, assignment_id: int, reason: str) -> Assignment:
    """Give the work back (wrong unit, not our remit): the leader distributes again."""
    assignment = get_assignment(session, actor, assignment_id)
    _require_handler(actor, assignment)
    if not reason.strip():
        raise InvalidInput({"reason": "Phải nêu lý do trả lại."})
    assignment.status = AssignmentStatus.RETURNED
    assignment.return_reason = reason.strip()
    assignment.finished_at = utcnow()
    parent = assignment.parent
    if parent is not None and parent.status is AssignmentStatus.DELEGATED:
        # back to the department head who passed it on
        parent.status = AssignmentStatus.IN_PROGRESS if parent.started_at else AssignmentStatus.PENDING
    elif assignment.role is AssignmentRole.LEAD:
        assignment.document.status = DocumentStatus.REGISTERED
    record(session, actor.ctx, "incoming:assignment:return", subject_type="incoming",
           subject_id=assignment.document_id, details={"assignment": assignment.id,
                                                       "reason": assignment.return_reason})
    return assignment


def finish_with_reply(session: Session, actor: Actor, document_id: int, reply_number: str,
                      result: str = "") -> IncomingDocument:
    """The reply to this document was dispatched: close its open handling with the reply's
    number (called by the outgoing capability, in its dispatch transaction)."""
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.status in (DocumentStatus.REJECTED, DocumentStatus.REVOKED,
                      DocumentStatus.AWAITING_REGISTRATION):
        raise IncomingError(f"Văn bản đến đang ở trạng thái «{doc.status.label}»: không ghi nhận "
                            "văn bản trả lời được.")
    now = utcnow()
    result = result.strip() or f"Đã trả lời bằng văn bản số {reply_number}."
    for assignment in doc.assignments:
        if assignment.status.is_open or assignment.status is AssignmentStatus.DELEGATED:
            assignment.status, assignment.finished_at = AssignmentStatus.DONE, now
            assignment.started_at = assignment.started_at or now
            assignment.result, assignment.reply_number = result, reply_number
    doc.status, doc.finished_at, doc.reply_number = DocumentStatus.DONE, now, reply_number
    record(session, actor.ctx, "incoming:document:reply", subject_type="incoming",
           subject_id=doc.id, details={"reply_number": reply_number})
    events.emit(session, events.INCOMING_FINISHED, document=doc, actor=actor)
    return doc


def close_on_revocation(session: Session, actor: Actor, doc: IncomingDocument, sender: str,
                        reason: str) -> IncomingDocument:
    """The agency agreed (status 15) to its sender's revocation of ``doc``: the document leaves
    use (and the "Chờ vào sổ" queue, if it was never registered), its open handling closes,
    and the register shows why. Called by the exchange in the clerk's decision transaction."""
    now = utcnow()
    note = f"Đã thu hồi theo yêu cầu của {sender} ngày {today_vn():%d/%m/%Y}"
    if reason.strip():
        note += f" (lý do: {reason.strip()})"
    closed = []
    for assignment in doc.assignments:
        if assignment.status.is_open or assignment.status is AssignmentStatus.DELEGATED:
            assignment.status, assignment.finished_at = AssignmentStatus.CLOSED, now
            assignment.result = note + "."
            closed.append(assignment.id)
    was = doc.status
    doc.status, doc.revocation_note = DocumentStatus.REVOKED, note + "."
    record(session, actor.ctx, "incoming:document:revoke", subject_type="incoming",
           subject_id=doc.id, details={"from": sender, "note": note + ".",
                                       "previous_status": was.value,
                                       "closed_assignments": closed})
    return doc
