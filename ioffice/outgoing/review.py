"""The review chain: content by the drafting department's head, format by the office, approval
by a leader (configurable per agency); each step approves or sends back with a comment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, event, select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Department, Membership, MembershipRole, Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import Forbidden
from ioffice.notifications import events as notifications
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


@dataclass(frozen=True)
class Rules:
    """What the review rule needs of an agency: its chain and its office (``VP``) department."""

    steps: tuple[ReviewStepKind, ...]
    office_id: int | None


_RULES = "ioffice.outgoing.review.rules"


_AGENCY = bindparam("agency_id", type_=Integer)
_RULES_STATEMENT = select(
    select(ReviewChain.steps).where(ReviewChain.agency_id == _AGENCY).scalar_subquery(),
    select(Department.id).where(Department.agency_id == _AGENCY,
                                Department.short_name == OFFICE_SHORT_NAME)
    .limit(1).scalar_subquery())


def rules(session: Session, agency_id: int) -> Rules:
    """The agency's chain and office, read in one statement and remembered by the session
    until its transaction ends or it writes a chain or a department: a page asks for them
    several times (the read rule, the current step, the chain shown, whose turn it is)."""
    memo = session.info.setdefault(_RULES, {})
    if agency_id in memo and not _changing(session):
        return memo[agency_id]
    steps, office = session.execute(_RULES_STATEMENT, {"agency_id": agency_id}).one()
    found = Rules(tuple(ReviewStepKind(s) for s in steps.split(",")) if steps else DEFAULT_CHAIN,
                  office)
    session.info.setdefault(_RULES, {})[agency_id] = found
    return found


def _changing(session: Session) -> bool:
    """Whether the session holds an unflushed chain or department (read again, flushed)."""
    return any(isinstance(o, (ReviewChain, Department))
               for o in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "after_flush")
def _forget_on_flush(session: Session, _context: object) -> None:
    if any(isinstance(o, (ReviewChain, Department))
           for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_RULES, None)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, _transaction: object) -> None:
    session.info.pop(_RULES, None)


def chain(session: Session, agency_id: int) -> tuple[ReviewStepKind, ...]:
    return rules(session, agency_id).steps


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
    return rules(session, agency_id).office_id


def may_act_on(session: Session, actor: Actor, doc: OutgoingDocument, step: ReviewStepKind) -> bool:
    if doc.assigned_reviewer_id is not None:  # the admin gave this step to one person
        return actor.user_id == doc.assigned_reviewer_id
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


# -- who can take each step: the system never routes a draft to nobody ------------------------

@dataclass(frozen=True)
class RouteStep:
    """One step of a draft's way through review, as it would go now."""

    kind: ReviewStepKind
    people: tuple[User, ...]
    """The active users who can take the step."""
    skip: str = ""
    """Why the step will be skipped (empty: it will not be)."""
    blocked: str = ""
    """Why nobody can take the step and it cannot be skipped (the approval by a leader)."""

    @property
    def label(self) -> str:
        return self.kind.label


ROUTE_ROLES = (Role.DEPARTMENT_HEAD, Role.CLERK, Role.LEADER)
"""The roles that can take a review step (:func:`holders`)."""


def holders(session: Session, doc: OutgoingDocument, step: ReviewStepKind,
            people: agencies.Holders | None = None) -> list[User]:
    """The active users of the agency who may act on ``step`` of ``doc`` (by their roles);
    ``people``: the agency's :data:`ROUTE_ROLES` holders when already read."""
    if people is None:
        people = agencies.role_holders(session, doc.agency_id, ROUTE_ROLES)
    if step is ReviewStepKind.DEPARTMENT_HEAD:
        if doc.drafting_department_id is None:
            return []
        return people.of((Role.DEPARTMENT_HEAD,), department_id=doc.drafting_department_id)
    if step is ReviewStepKind.OFFICE:
        found = people.of((Role.CLERK,))
        office = _office_id(session, doc.agency_id)
        if office is not None:
            found += [u for u in people.of((Role.DEPARTMENT_HEAD,), department_id=office)
                      if u not in found]
        return found
    return people.of((Role.LEADER,))


def route_step(session: Session, doc: OutgoingDocument, step: ReviewStepKind,
               known: agencies.Holders | None = None) -> RouteStep:
    if doc.assigned_reviewer_id is not None and step is current_step(session, doc):
        user = doc.assigned_reviewer
        if agencies.active_membership(session, doc.agency_id, user.id) is not None:
            return RouteStep(step, (user,))
        return RouteStep(step, (), blocked=f"{user.full_name} (được giao bước này) không còn "
                                           "hoạt động trong cơ quan")
    people = tuple(holders(session, doc, step, known))
    if step is ReviewStepKind.DEPARTMENT_HEAD:
        if doc.drafting_department_id is None:
            return RouteStep(step, people, skip="người soạn thảo không thuộc đơn vị nào")
        if any(u.id == doc.created_by_id for u in people):
            return RouteStep(step, people, skip="người soạn thảo là trưởng đơn vị")
        if not people:
            return RouteStep(step, people, skip="đơn vị soạn thảo không có trưởng đơn vị "
                                                "đang hoạt động")
    elif step is ReviewStepKind.OFFICE and not people:
        return RouteStep(step, people, skip="cơ quan không có văn thư hay trưởng văn phòng "
                                            "đang hoạt động")
    elif step is ReviewStepKind.LEADER and not people:
        return RouteStep(step, people, blocked="cơ quan không có lãnh đạo nào đang hoạt động "
                                               "để duyệt")
    return RouteStep(step, people)


def route(session: Session, doc: OutgoingDocument, people: agencies.Holders | None = None
          ) -> list[RouteStep]:
    """The steps still ahead of the draft (all of them before it is submitted): who can take
    each, which will be skipped and why, which nobody can take. ``people``: the agency's
    :data:`ROUTE_ROLES` holders when already read."""
    steps = chain(session, doc.agency_id)
    if doc.status is OutgoingStatus.DRAFT:
        ahead = steps
    elif doc.status is OutgoingStatus.IN_REVIEW:
        ahead = steps[doc.review_step:]
    else:
        return []
    if people is None and ahead:
        people = agencies.role_holders(session, doc.agency_id, ROUTE_ROLES)
    return [route_step(session, doc, s, people) for s in ahead]


def signer_problem(session: Session, doc: OutgoingDocument,
                   people: agencies.Holders | None = None) -> str:
    """Why the designated signer cannot sign (empty when they can). ``people``: the agency's
    :data:`ROUTE_ROLES` holders when already read (the drafter's page reads them for
    :func:`route`): an active leader among them needs no statement of its own."""
    if people is not None and any(u.id == doc.signer_id for u in people.of((Role.LEADER,))):
        return ""
    # the signer's roles in the agency if the account is active, in one statement
    rows = session.execute(
        select(MembershipRole.role).select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .outerjoin(MembershipRole, MembershipRole.membership_id == Membership.id)
        .where(Membership.agency_id == doc.agency_id, Membership.user_id == doc.signer_id,
               User.active)).all()
    if not rows:
        return (f"Người ký được giao ({doc.signer.full_name}) không còn hoạt động trong cơ quan.")
    if Role.LEADER not in {role for role, in rows}:
        return f"Người ký được giao ({doc.signer.full_name}) không còn là lãnh đạo của cơ quan."
    return ""


ASK_ADMIN = " Hãy báo quản trị của cơ quan (trang «Việc bị kẹt») để giao cho người khác."


def submit(session: Session, actor: Actor, document_id: int, comment: str = "") -> OutgoingDocument:
    """The drafter sends the draft (back) into review, from the first step; steps nobody can
    take are skipped, and a draft nobody could approve or sign is refused."""
    actor.check(Op.SUBMIT_DRAFT)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.created_by_id != actor.user_id:
        raise Forbidden("Chỉ người soạn thảo trình được dự thảo.")
    if doc.status is not OutgoingStatus.DRAFT:
        raise WrongState(f"Văn bản đang ở trạng thái «{doc.status.label}».")
    if not doc.versions:
        raise WrongState("Chưa có tệp dự thảo: hãy tải lên bản PDF hoặc DOCX trước khi trình.")
    if problem := signer_problem(session, doc):
        raise WrongState(f"Không trình được: {problem}" + ASK_ADMIN)
    doc.assigned_reviewer_id = None
    blocked = [s for s in route(session, doc) if s.blocked]
    if blocked:
        raise WrongState(f"Không trình được: bước «{blocked[0].label}» không có ai thực hiện "
                         f"({blocked[0].blocked})." + ASK_ADMIN)
    doc.status, doc.review_step = OutgoingStatus.IN_REVIEW, 0
    _comment(doc, actor, "submit", "", comment)
    record(session, actor.ctx, "outgoing:review:submit", subject_type="outgoing",
           subject_id=doc.id, details={"version": len(doc.versions), "comment": comment.strip()})
    _advance(session, actor, doc)
    return doc


def _advance(session: Session, actor: Actor, doc: OutgoingDocument) -> None:
    """Skip the steps ahead that nobody can take, each with its reason in the history; the
    draft is approved when no step is left. A step nobody can take and that cannot be skipped
    (the leader's) stays: the admin's list of stuck work shows it."""
    steps = chain(session, doc.agency_id)
    doc.assigned_reviewer_id = None
    while doc.review_step < len(steps):
        step = route_step(session, doc, steps[doc.review_step])
        if not step.skip:
            break
        reason = f"Bỏ qua bước «{step.label}»: {step.skip}."
        _comment(doc, actor, "skip", step.kind.value, reason)
        record(session, actor.ctx, "outgoing:review:skip", subject_type="outgoing",
               subject_id=doc.id, details={"step": step.kind.value, "reason": reason})
        doc.review_step += 1
    if doc.review_step >= len(steps):
        doc.status = OutgoingStatus.APPROVED
    notifications.review_step(session, actor, doc)


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
    record(session, actor.ctx, "outgoing:review:approve", subject_type="outgoing",
           subject_id=doc.id, details={"step": step.value, "comment": comment.strip(),
                                       "version": len(doc.versions)})
    _advance(session, actor, doc)
    return doc


def acted_since_submit(doc: OutgoingDocument) -> OutgoingComment | None:
    """The first approval since the draft was last submitted, if any (a step skipped by the
    system is not an action)."""
    submitted = max((c.id for c in doc.comments if c.kind == "submit"), default=None)
    if submitted is None:
        return None
    return next((c for c in doc.comments if c.id > submitted and c.kind == "approve"), None)


def withdraw(session: Session, actor: Actor, document_id: int, comment: str = "") -> OutgoingDocument:
    """The drafter takes a submitted draft back, as long as nobody has acted on it."""
    actor.check(Op.WITHDRAW_DRAFT)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.created_by_id != actor.user_id:
        raise Forbidden("Chỉ người soạn thảo rút lại được dự thảo của mình.")
    if doc.status is not OutgoingStatus.IN_REVIEW:
        raise WrongState(f"Chỉ rút lại được dự thảo đang trình duyệt; văn bản đang ở trạng thái "
                         f"«{doc.status.label}».")
    acted = acted_since_submit(doc)
    if acted is not None:
        raise WrongState(f"Không rút lại được: {acted.author.full_name} đã duyệt dự thảo "
                         f"(bước «{ReviewStepKind(acted.step).label}»). Hãy đề nghị người đang "
                         "duyệt trả lại dự thảo.")
    where = doc.review_step
    doc.status, doc.review_step, doc.assigned_reviewer_id = OutgoingStatus.DRAFT, 0, None
    _comment(doc, actor, "withdraw", "", comment)
    record(session, actor.ctx, "outgoing:review:withdraw", subject_type="outgoing",
           subject_id=doc.id, details={"step": where, "comment": comment.strip()})
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
    doc.status, doc.review_step, doc.assigned_reviewer_id = OutgoingStatus.DRAFT, 0, None
    record(session, actor.ctx, "outgoing:review:send-back", subject_type="outgoing",
           subject_id=doc.id, details={"step": where, "comment": comment.strip()})
    notifications.returned(session, actor, doc, comment)
    return doc


def _comment(doc: OutgoingDocument, actor: Actor, kind: str, step: str, body: str) -> None:
    doc.comments.append(OutgoingComment(author_id=actor.user_id, kind=kind, step=step,
                                        body=body.strip(), version_no=len(doc.versions)))
