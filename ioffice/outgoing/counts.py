"""How many outgoing documents wait for the actor, per kind of step: one counting statement
(the home page's counters)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, ReviewStepKind

__all__ = ["OutgoingCounts", "counts"]


@dataclass(frozen=True)
class OutgoingCounts:
    drafts: int = 0
    """The actor's own drafts not (or no longer) in review: to finish and submit."""
    to_review: int = 0
    """Drafts at a review step the actor may take."""
    to_sign: int = 0
    """Approved documents whose designated signer is the actor."""
    to_number: int = 0
    to_seal: int = 0
    to_dispatch: int = 0
    """Clerks: signed (to number), numbered (to seal), sealed (to dispatch)."""


def review_turn(session: Session, actor: Actor):
    """SQL twin of ``review.can_review``: the document's current step of the agency's chain is
    one the actor may take."""
    rules = review.rules(session, actor.agency_id)
    steps, office = rules.steps, rules.office_id
    last = len(steps) - 1
    turns = []
    for index, kind in enumerate(steps):
        at = (OutgoingDocument.review_step == index if index < last
              else OutgoingDocument.review_step >= last)
        if kind is ReviewStepKind.DEPARTMENT_HEAD:
            mine = (OutgoingDocument.drafting_department_id == actor.department_id
                    if actor.has(Role.DEPARTMENT_HEAD) and actor.department_id is not None
                    else false())
        elif kind is ReviewStepKind.OFFICE:
            mine = true() if actor.has(Role.CLERK) or (
                actor.has(Role.DEPARTMENT_HEAD) and office is not None
                and actor.department_id == office) else false()
        else:
            mine = true() if actor.has(Role.LEADER) else false()
        turns.append(and_(at, mine))
    turn = or_(*turns) if turns else false()
    # a step the agency admin gave to one person is that person's alone (review.may_act_on)
    assigned = OutgoingDocument.assigned_reviewer_id
    return or_(assigned == actor.user_id, and_(assigned.is_(None), turn))


def counts(session: Session, actor: Actor) -> OutgoingCounts:
    """Every count is of documents the actor may read (a reviewer at their step, the signer,
    a clerk, the drafter all are), so no per-document read check is needed."""
    doc = OutgoingDocument
    clerk = actor.has(Role.CLERK)

    def n(condition):
        return func.count().filter(condition)

    row = session.execute(select(
        n(and_(doc.status == OutgoingStatus.DRAFT, doc.created_by_id == actor.user_id)),
        n(and_(doc.status == OutgoingStatus.IN_REVIEW, review_turn(session, actor))),
        n(and_(doc.status == OutgoingStatus.APPROVED, doc.signer_id == actor.user_id)),
        n(and_(doc.status == OutgoingStatus.SIGNED, true() if clerk else false())),
        n(and_(doc.status == OutgoingStatus.NUMBERED, true() if clerk else false())),
        n(and_(doc.status == OutgoingStatus.SEALED, true() if clerk else false())),
    ).where(doc.agency_id == actor.agency_id, doc.status.in_((
        OutgoingStatus.DRAFT, OutgoingStatus.IN_REVIEW, OutgoingStatus.APPROVED,
        OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)))).one()
    return OutgoingCounts(*row)
