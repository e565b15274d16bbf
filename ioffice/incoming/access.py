"""The object rule for incoming documents: who may read one, and so act on it.

Every service operation on an incoming document or one of its assignments loads it through
:func:`get_document` or :func:`get_assignment`, so an action is refused exactly where reading
is: what the actor may not read answers "not found", like another agency's document.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.documents.vocabulary import Confidentiality
from ioffice.errors import NotFound
from ioffice.incoming.models import Assignment, IncomingDocument

__all__ = ["can_handle", "can_read", "get_assignment", "get_document"]


def can_handle(actor: Actor, assignment: Assignment) -> bool:
    """The assigned person, or the head of the assigned department."""
    if assignment.assignee_user_id is not None:
        return assignment.assignee_user_id == actor.user_id
    return (assignment.assignee_department_id is not None
            and assignment.assignee_department_id == actor.department_id
            and actor.has(Role.DEPARTMENT_HEAD))


def can_read(session: Session, actor: Actor, doc: IncomingDocument) -> bool:
    """Everyone of the agency reads an ordinary document; a confidential or secret one only
    clerks, leaders and the people it was assigned to."""
    if doc.agency_id != actor.agency_id:
        return False
    if doc.confidentiality is Confidentiality.NORMAL or actor.has(Role.CLERK, Role.LEADER):
        return True
    return any(can_handle(actor, a) for a in doc.assignments)


def get_document(session: Session, actor: Actor, document_id: int, *,
                 for_update: bool = False) -> IncomingDocument:
    """The document, if the actor may read it; otherwise NotFound, as for a missing one."""
    doc = session.get(IncomingDocument, document_id, with_for_update=for_update)
    if doc is None or not can_read(session, actor, doc):
        raise NotFound("Không tìm thấy văn bản.")
    return doc


def get_assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    """The assignment (locked), if the actor may read its document; otherwise NotFound."""
    assignment = session.get(Assignment, assignment_id, with_for_update=True)
    if (assignment is None or assignment.agency_id != actor.agency_id
            or not can_read(session, actor, assignment.document)):
        raise NotFound("Không tìm thấy phân công xử lý.")
    return assignment
