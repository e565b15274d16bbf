"""Chasing («đôn đốc»): a leader presses the handlers of an assignment, or of a department's
open work, with a note. Each chase is a row of ``chases`` (the statistics count them), a
notification to the handlers and an audit event on the document(s)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership
from ioffice.agencies.permissions import Op
from ioffice.audit import Entry, record, record_many
from ioffice.incoming.access import get_assignment
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.models import OPEN_STATUSES, Assignment
from ioffice.notifications.models import Chase, Kind
from ioffice.notifications.service import department_heads, handlers, notify

NOTE_MAX = 2000


def _note(note: str) -> str:
    note = note.strip()
    if not note:
        raise InvalidInput({"note": "Phải ghi nội dung đôn đốc."})
    if len(note) > NOTE_MAX:
        raise InvalidInput({"note": f"Nội dung đôn đốc dài quá {NOTE_MAX} ký tự."})
    return note


def chase_assignment(session: Session, actor: Actor, assignment_id: int, note: str) -> Chase:
    """Chase one assignment; refused when it is no longer open (finished, returned...)."""
    actor.check(Op.CHASE)
    assignment = get_assignment(session, actor, assignment_id)
    if not assignment.status.is_open:
        raise IncomingError(f"Việc giao cho {assignment.assignee_label} đã ở trạng thái "
                            f"«{assignment.status.label}»: không đôn đốc được.")
    note = _note(note)
    department_id = assignment.assignee_department_id
    if department_id is None and assignment.assignee_user_id is not None:
        department_id = session.scalar(select(Membership.department_id).where(
            Membership.agency_id == actor.agency_id,
            Membership.user_id == assignment.assignee_user_id))
    chase = Chase(agency_id=actor.agency_id, assignment_id=assignment.id,
                  department_id=department_id, by_id=actor.user_id, note=note)
    session.add(chase)
    doc = assignment.document
    notify(session, handlers(session, assignment), Kind.CHASED, agency_id=actor.agency_id,
           text=f"{actor.full_name} đôn đốc xử lý văn bản {doc.number_notation}: {note}",
           subject_type="incoming", subject_id=doc.id, exclude=actor.user_id)
    session.flush()
    record(session, actor.ctx, "incoming:assignment:chase", subject_type="incoming",
           subject_id=doc.id, details={"assignment": assignment.id, "chase": chase.id,
                                       "to": assignment.assignee_label, "note": note})
    return chase


def chase_department(session: Session, actor: Actor, department_id: int, note: str) -> Chase:
    """Chase a department's open work (given to it, or to one of its people)."""
    actor.check(Op.CHASE)
    dept = agencies.department_in_agency(session, actor.agency_id, department_id)
    note = _note(note)
    members = select(Membership.user_id).where(Membership.agency_id == actor.agency_id,
                                                Membership.department_id == dept.id)
    open_work = list(session.scalars(
        select(Assignment).where(Assignment.agency_id == actor.agency_id,
                                 Assignment.status.in_(OPEN_STATUSES),
                                 or_(Assignment.assignee_department_id == dept.id,
                                     Assignment.assignee_user_id.in_(members)))
        .order_by(Assignment.id)))
    if not open_work:
        raise IncomingError(f"{dept.name} không có việc nào đang xử lý: không có gì để đôn đốc.")
    chase = Chase(agency_id=actor.agency_id, assignment_id=None, department_id=dept.id,
                  by_id=actor.user_id, note=note)
    session.add(chase)
    told = department_heads(session, actor.agency_id, dept.id) + [
        a.assignee_user_id for a in open_work if a.assignee_user_id is not None]
    notify(session, told, Kind.CHASED, agency_id=actor.agency_id,
           text=f"{actor.full_name} đôn đốc {dept.name} xử lý {len(open_work)} việc đang "
                f"giao: {note}", subject_type="incoming",
           subject_id=open_work[0].document_id if len(open_work) == 1 else None,
           exclude=actor.user_id)
    session.flush()
    documents = sorted({a.document_id for a in open_work})
    record_many(session, [Entry(actor.ctx, "incoming:assignment:chase", subject_type="incoming",
                                subject_id=doc_id, details={
                                    "department": dept.name, "chase": chase.id, "note": note,
                                    "assignments": [a.id for a in open_work
                                                    if a.document_id == doc_id]})
                          for doc_id in documents])
    return chase


def chases_of_document(session: Session, document_id: int) -> list[Chase]:
    return list(session.scalars(
        select(Chase).join(Assignment, Assignment.id == Chase.assignment_id)
        .where(Assignment.document_id == document_id).order_by(Chase.id)))
