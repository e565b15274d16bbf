"""Outgoing work nobody can do, for the agency admin: drafts whose current review step or
designated signer no active person can take, documents waiting for a clerk when the agency has
none; and the admin's remedies (give the step to a named person, change the signer)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role, User
from ioffice.agencies.permissions import RULES, Op
from ioffice.audit import record
from ioffice.errors import NotFound
from ioffice.outgoing import review
from ioffice.outgoing.errors import InvalidInput, WrongState
from ioffice.outgoing.models import OutgoingComment, OutgoingDocument, OutgoingStatus, ReviewStepKind

__all__ = ["StuckOutgoing", "candidates", "change_signer", "reassign_step", "stuck_documents"]

CLERK_STATES = (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)
SIGNER_STATES = (OutgoingStatus.DRAFT, OutgoingStatus.IN_REVIEW, OutgoingStatus.APPROVED)


@dataclass(frozen=True)
class StuckOutgoing:
    document: OutgoingDocument
    reason: str
    step: ReviewStepKind | None = None
    """The review step to give to someone (None: not a review step)."""
    signer: bool = False
    """The designated signer must be changed."""


def stuck_documents(session: Session, actor: Actor) -> list[StuckOutgoing]:
    """The agency's open outgoing documents whose next step no active person can take."""
    actor.check(Op.ADMIN_STUCK_WORK)
    docs = session.scalars(select(OutgoingDocument).where(
        OutgoingDocument.agency_id == actor.agency_id,
        OutgoingDocument.status.in_(SIGNER_STATES + CLERK_STATES)).order_by(OutgoingDocument.id))
    no_clerk = not agencies.active_holders(session, actor.agency_id, (Role.CLERK,))
    result = []
    for doc in docs:
        if doc.status in SIGNER_STATES and (problem := review.signer_problem(session, doc)):
            result.append(StuckOutgoing(doc, problem, signer=True))
        if doc.status is OutgoingStatus.IN_REVIEW:
            step = review.route_step(session, doc, review.current_step(session, doc))
            if not step.people:
                result.append(StuckOutgoing(doc, f"Bước «{step.label}»: không có ai đang hoạt "
                                                 f"động thực hiện được"
                                                 f"{' (' + step.blocked + ')' if step.blocked else ''}.",
                                            step=step.kind))
        elif doc.status is OutgoingStatus.DRAFT and agencies.active_membership(
                session, doc.agency_id, doc.created_by_id) is None:
            result.append(StuckOutgoing(doc, f"Người soạn thảo ({doc.created_by.full_name}) không "
                                             "còn hoạt động: không ai trình được dự thảo này."))
        elif doc.status in CLERK_STATES and no_clerk:
            result.append(StuckOutgoing(doc, "Cơ quan không có văn thư nào đang hoạt động để cấp "
                                             "số, ký số cơ quan và phát hành."))
    return result


def candidates(session: Session, actor: Actor, item: StuckOutgoing) -> list[User]:
    """Who the admin may give the stuck step (or the signature) to."""
    if item.signer or item.step is ReviewStepKind.LEADER:
        return agencies.active_holders(session, actor.agency_id, (Role.LEADER,))
    if item.step is not None:
        return agencies.active_holders(session, actor.agency_id, tuple(RULES[Op.REVIEW]))
    return []


def _document(session: Session, actor: Actor, document_id: int) -> OutgoingDocument:
    """The admin acts on the routing, not the content: any document of the agency, locked."""
    doc = session.scalars(select(OutgoingDocument).where(OutgoingDocument.id == document_id)
                          .with_for_update().execution_options(populate_existing=True)
                          ).one_or_none()
    if doc is None or doc.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy văn bản đi.")
    return doc


def _member(session: Session, actor: Actor, user_id: int | None) -> tuple[User, frozenset[Role]]:
    if user_id is None:
        raise InvalidInput({"user_id": "Chưa chọn người nhận việc."})
    membership = agencies.active_membership(session, actor.agency_id, user_id)
    if membership is None:
        raise InvalidInput({"user_id": "Người được chọn không phải người đang hoạt động của "
                                       "cơ quan."})
    return membership.user, membership.roles


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput({"reason": "Phải ghi lý do chuyển việc."})
    return reason.strip()


def reassign_step(session: Session, actor: Actor, document_id: int, user_id: int | None,
                  reason: str) -> OutgoingDocument:
    """Give the current review step of a draft to a named person, who alone may then act on
    it. The approval step goes only to a leader; the others to anyone who may review."""
    actor.check(Op.ADMIN_STUCK_WORK)
    doc = _document(session, actor, document_id)
    step = review.current_step(session, doc)
    if step is None:
        raise WrongState(f"Văn bản không ở bước duyệt nào (trạng thái «{doc.status.label}»).")
    user, roles = _member(session, actor, user_id)
    allowed = {Role.LEADER} if step is ReviewStepKind.LEADER else RULES[Op.REVIEW]
    if allowed.isdisjoint(roles):
        names = ", ".join(r.label.lower() for r in Role if r in allowed)
        raise InvalidInput({"user_id": f"Bước «{step.label}» chỉ giao được cho người có vai trò: "
                                       f"{names}."})
    why = _need_reason(reason)
    doc.assigned_reviewer_id = user.id
    doc.comments.append(OutgoingComment(
        author_id=actor.user_id, kind="reassign", step=step.value, version_no=len(doc.versions),
        body=f"Quản trị giao bước «{step.label}» cho {user.full_name}: {why}"))
    record(session, actor.ctx, "outgoing:review:reassign", subject_type="outgoing",
           subject_id=doc.id, details={"step": step.value, "to": user.id,
                                       "to_name": user.full_name, "reason": why})
    return doc


def change_signer(session: Session, actor: Actor, document_id: int, user_id: int | None,
                  reason: str) -> OutgoingDocument:
    """Designate another leader to sign a document not signed yet."""
    actor.check(Op.ADMIN_STUCK_WORK)
    doc = _document(session, actor, document_id)
    if doc.status not in SIGNER_STATES:
        raise WrongState(f"Văn bản đã ký hoặc đã kết thúc (trạng thái «{doc.status.label}»): "
                         "không đổi người ký được.")
    user, roles = _member(session, actor, user_id)
    if Role.LEADER not in roles:
        raise InvalidInput({"user_id": "Người ký phải là lãnh đạo của cơ quan."})
    why = _need_reason(reason)
    before = doc.signer.full_name
    doc.signer_id = user.id
    doc.signer = user
    doc.signer_position = user.position_title or doc.signer_position
    doc.comments.append(OutgoingComment(
        author_id=actor.user_id, kind="reassign", step="signer", version_no=len(doc.versions),
        body=f"Quản trị đổi người ký từ {before} sang {user.full_name}: {why}"))
    record(session, actor.ctx, "outgoing:signer:reassign", subject_type="outgoing",
           subject_id=doc.id, details={"from_name": before, "to": user.id,
                                       "to_name": user.full_name, "reason": why})
    return doc
