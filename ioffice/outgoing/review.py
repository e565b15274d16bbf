"""The review chain: content by the drafting department's head, format by the office, approval
by a leader (configurable per agency); each step approves or sends back with a comment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Department, Role
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import Forbidden
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import InvalidInput, WrongState
from ioffice.outgoing.models import (
    DEFAULT_CHAIN,
    OutgoingComment,
    OutgoingDocument,
    OutgoingStatus,
    ReviewChain,
    ReviewStepKind,
)

OFFICE_SHORT_NAME = "VP"


def chain(session: Session, agency_id: int) -> tuple[ReviewStepKind, ...]:
    row = session.get(ReviewChain, agency_id)
    if row is None or not row.steps:
        return DEFAULT_CHAIN
    return tuple(ReviewStepKind(s) for s in row.steps.split(","))


def set_chain(session: Session, actor: Actor, steps: list[ReviewStepKind]) -> ReviewChain:
    """An administrator sets the agency's chain (order matters; at least one step)."""
    actor.check(Op.ADMIN_REVIEW_CHAIN)
    if not steps:
        raise InvalidInput({"steps": "Quy trình duyệt phải có ít nhất một bước."})
    if len(set(steps)) != len(steps):
        raise InvalidInput({"steps": "Mỗi bước chỉ xuất hiện một lần."})
    row = session.get(ReviewChain, actor.agency_id)
    if row is None:
        row = ReviewChain(agency_id=actor.agency_id, steps="")
        session.add(row)
    row.steps = ",".join(s.value for s in steps)
    row.updated_at = utcnow()
    record(session, actor.ctx, "outgoing:review-chain:update", subject_type="agency",
           subject_id=actor.agency_id, details={"steps": row.steps})
    return row


def current_step(session: Session, doc: OutgoingDocument) -> ReviewStepKind | None:
    if doc.status is not OutgoingStatus.IN_REVIEW:
        return None
    steps = chain(session, doc.agency_id)
    return steps[min(doc.review_step, len(steps) - 1)]


def _office_id(session: Session, agency_id: int) -> int | None:
    return session.scalar(select(Department.id).where(
        Department.agency_id == agency_id, Department.short_name == OFFICE_SHORT_NAME))


def may_act_on(session: Session, actor: Actor, doc: OutgoingDocument, step: ReviewStepKind) -> bool:
    if step is ReviewStepKind.DEPARTMENT_HEAD:
        return (actor.has(Role.DEPARTMENT_HEAD) and actor.department_id is not None
                and actor.department_id == doc.drafting_department_id)
    if step is ReviewStepKind.OFFICE:
        office = _office_id(session, doc.agency_id)
        return actor.has(Role.CLERK) or (actor.has(Role.DEPARTMENT_HEAD)
                                         and office is not None and actor.department_id == office)
    return actor.has(Role.LEADER)


def can_review(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    step = current_step(session, doc)
    return step is not None and may_act_on(session, actor, doc, step)


def submit(session: Session, actor: Actor, document_id: int, comment: str = "") -> OutgoingDocument:
    """The drafter sends the draft (back) into review, from the first step."""
    actor.check(Op.SUBMIT_DRAFT)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.created_by_id != actor.user_id:
        raise Forbidden("Chỉ người soạn thảo trình được dự thảo.")
    if doc.status is not OutgoingStatus.DRAFT:
        raise WrongState(f"Văn bản đang ở trạng thái «{doc.status.label}».")
    if not doc.versions:
        raise WrongState("Chưa có tệp dự thảo: hãy tải lên bản PDF hoặc DOCX trước khi trình.")
    doc.status, doc.review_step = OutgoingStatus.IN_REVIEW, 0
    _comment(doc, actor, "submit", "", comment)
    record(session, actor.ctx, "outgoing:review:submit", subject_type="outgoing",
           subject_id=doc.id, details={"version": len(doc.versions), "comment": comment.strip()})
    _skip_steps_nobody_can_take(session, actor, doc)
    return doc


def _skip_steps_nobody_can_take(session: Session, actor: Actor, doc: OutgoingDocument) -> None:
    """A draft written by the department head has had its content check already."""
    steps = chain(session, doc.agency_id)
    while (doc.review_step < len(steps) and steps[doc.review_step] is ReviewStepKind.DEPARTMENT_HEAD
           and may_act_on(session, actor, doc, steps[doc.review_step])):
        _comment(doc, actor, "approve", steps[doc.review_step].value, "Người soạn thảo là trưởng đơn vị.")
        doc.review_step += 1


def approve(session: Session, actor: Actor, document_id: int, comment: str = "") -> OutgoingDocument:
    actor.check(Op.REVIEW)
    doc = get_document(session, actor, document_id, for_update=True)
    step = current_step(session, doc)
    if step is None:
        raise WrongState(f"Văn bản không chờ duyệt (trạng thái «{doc.status.label}»).")
    if not may_act_on(session, actor, doc, step):
        raise Forbidden(f"Bước hiện tại ({step.label}) không phải của bạn.")
    _comment(doc, actor, "approve", step.value, comment)
    doc.review_step += 1
    if doc.review_step >= len(chain(session, doc.agency_id)):
        doc.status = OutgoingStatus.APPROVED
    record(session, actor.ctx, "outgoing:review:approve", subject_type="outgoing",
           subject_id=doc.id, details={"step": step.value, "comment": comment.strip(),
                                       "version": len(doc.versions)})
    return doc


def send_back(session: Session, actor: Actor, document_id: int, comment: str) -> OutgoingDocument:
    """Any reviewer at their step, or the designated signer before signing, returns the draft
    to its drafter with a comment (required)."""
    actor.check(Op.REVIEW)
    doc = get_document(session, actor, document_id, for_update=True)
    if not comment.strip():
        raise InvalidInput({"comment": "Phải ghi ý kiến khi trả lại dự thảo."})
    step = current_step(session, doc)
    if step is not None:
        if not may_act_on(session, actor, doc, step):
            raise Forbidden(f"Bước hiện tại ({step.label}) không phải của bạn.")
        where = step.value
    elif doc.status is OutgoingStatus.APPROVED and actor.user_id == doc.signer_id:
        where = "signer"
    else:
        raise WrongState(f"Văn bản đang ở trạng thái «{doc.status.label}»: không trả lại được.")
    _comment(doc, actor, "send_back", where, comment)
    doc.status, doc.review_step = OutgoingStatus.DRAFT, 0
    record(session, actor.ctx, "outgoing:review:send-back", subject_type="outgoing",
           subject_id=doc.id, details={"step": where, "comment": comment.strip()})
    return doc


def _comment(doc: OutgoingDocument, actor: Actor, kind: str, step: str, body: str) -> None:
    doc.comments.append(OutgoingComment(author_id=actor.user_id, kind=kind, step=step,
                                        body=body.strip(), version_no=len(doc.versions)))
