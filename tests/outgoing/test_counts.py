"""The home page's outgoing counts are one statement whose review rule is the SQL twin of
``review.can_review``: checked against it for every user of the agency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership
from ioffice.outgoing import counts, review
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from tests.outgoing.conftest import CLERK, HEAD, SPECIALIST, approve_all, new_draft
from tests.support.factories import actor, user_id


def _everyone(db: Session, agency_id: int) -> list[Actor]:
    return [Actor.of(m) for m in db.scalars(select(Membership).where(
        Membership.agency_id == agency_id))]


def _twin_agrees(db: Session, docs: list[OutgoingDocument], before: dict[int, int]) -> None:
    for who in _everyone(db, docs[0].agency_id):
        expected = sum(review.can_review(db, who, d) for d in docs)
        assert counts.counts(db, who).to_review - before[who.user_id] == expected, who


def test_to_review_counts_the_steps_each_user_can_take(db: Session, blobs: BlobStore) -> None:
    agency_id = actor(db, SPECIALIST).agency_id
    before = {a.user_id: counts.counts(db, a).to_review for a in _everyone(db, agency_id)}
    at_head, at_office, at_leader = (new_draft(db, blobs) for _ in range(3))
    for doc in (at_head, at_office, at_leader):
        review.submit(db, actor(db, SPECIALIST), doc.id)
    for doc in (at_office, at_leader):
        review.approve(db, actor(db, HEAD), doc.id)
    review.approve(db, actor(db, CLERK), at_leader.id)
    approved = approve_all(db, new_draft(db, blobs))  # not in review any more
    _twin_agrees(db, [at_head, at_office, at_leader, approved], before)
    assert approved.status is OutgoingStatus.APPROVED
    assert counts.counts(db, actor(db, HEAD)).to_review - before[user_id(db, HEAD)] == 1


def test_a_step_given_to_one_person_counts_for_that_person_only(db: Session,
                                                                blobs: BlobStore) -> None:
    agency_id = actor(db, SPECIALIST).agency_id
    before = {a.user_id: counts.counts(db, a).to_review for a in _everyone(db, agency_id)}
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    review.approve(db, actor(db, HEAD), doc.id)  # at the office step: any clerk
    doc.assigned_reviewer_id = user_id(db, HEAD)  # what the admin's reassignment sets
    db.flush()
    _twin_agrees(db, [doc], before)
    assert counts.counts(db, actor(db, CLERK)).to_review == before[user_id(db, CLERK)]
