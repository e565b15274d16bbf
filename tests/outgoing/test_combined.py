"""The leader's one-step actions: "Duyệt và ký" (approve the last step and sign with the PIN)
and signing several documents with one PIN entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Role
from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.keys.stores import DbAttemptStore
from ioffice.outgoing import combined, drafts, review
from ioffice.outgoing.drafts import DraftInput, Upload
from ioffice.outgoing.errors import OutgoingError, PinRefused, WrongState
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from signing import PinProtectedKey, Pki, TrustStore
from signing.demo import make_demo_pdf
from tests.outgoing.conftest import (
    CLERK,
    HEAD,
    LEADER,
    PIN,
    SPECIALIST,
    approve_all,
    new_draft,
    pdf_bytes,
)
from tests.signing import mdp_files
from tests.support.factories import actor, user_id


def at_leader_step(db: Session, doc: OutgoingDocument) -> OutgoingDocument:
    review.submit(db, actor(db, SPECIALIST), doc.id)
    review.approve(db, actor(db, HEAD), doc.id, "Nội dung đạt.")
    review.approve(db, actor(db, CLERK), doc.id, "Đúng thể thức.")
    return doc


def tags(db: Session, doc_id: int) -> list[str]:
    return list(db.scalars(select(AuditEvent.tag).where(
        AuditEvent.subject_type == "outgoing", AuditEvent.subject_id == str(doc_id))
        .order_by(AuditEvent.seq)))


def failures(db: Session) -> int:
    leader = actor(db, LEADER)
    row = keys.personal_certificate(db, leader.user_id, leader.agency_id, KeyHolder.PIN)
    return DbAttemptStore(db).failures(PinProtectedKey.from_bytes(row.protected_key).key_id)


# --- Duyệt và ký ------------------------------------------------------------------------------

def test_approve_and_sign_approves_then_signs_each_step_audited(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    doc = at_leader_step(db, new_draft(db, blobs))
    leader = actor(db, LEADER)
    assert combined.can_approve_and_sign(db, leader, doc)
    combined.approve_and_sign_with_pin(db, blobs, trust, leader, doc.id, PIN, "Đồng ý ban hành.")
    assert doc.status is OutgoingStatus.SIGNED and len(doc.signatures) == 1
    assert doc.signatures[0].method == "pin"
    assert [c.kind for c in doc.comments][-1] == "approve" and doc.comments[-1].body == "Đồng ý ban hành."
    events = tags(db, doc.id)
    assert events[-2:] == ["outgoing:review:approve", "outgoing:signature:personal"]


def test_approve_and_sign_with_a_wrong_pin_approves_nothing_and_counts_one_attempt(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    doc = at_leader_step(db, new_draft(db, blobs))
    step = doc.review_step
    with pytest.raises(PinRefused, match="Mã PIN không đúng"):
        combined.approve_and_sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, "000000")
    assert doc.status is OutgoingStatus.IN_REVIEW and doc.review_step == step
    assert failures(db) == 1
    assert tags(db, doc.id)[-1] == "outgoing:signature:wrong-pin"


def test_approve_and_sign_keeps_no_approval_when_the_signature_fails(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key) -> None:
    author = pki.issue_personal("Lê Văn Tác", "CHÁNH VĂN PHÒNG", "000.00.00.H12",
                                "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    certified = mdp_files.certify(make_demo_pdf(2), author, 1)  # "no changes": cannot be signed
    doc = at_leader_step(db, new_draft(db, blobs, data=certified))
    comments, events = len(doc.comments), tags(db, doc.id)
    # the savepoint does what the page's handler does: roll the operation back
    with pytest.raises(OutgoingError, match="P=1"), db.begin_nested():
        combined.approve_and_sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    db.refresh(doc)
    assert doc.status is OutgoingStatus.IN_REVIEW and len(doc.comments) == comments
    assert tags(db, doc.id) == events  # neither the approval nor the signature was recorded
    assert review.can_review(db, actor(db, LEADER), doc)  # still at the leader's step


def test_approve_and_sign_only_at_the_last_step_for_the_designated_signer(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)  # at the department head's step
    with pytest.raises(WrongState, match="Duyệt và ký"):
        combined.approve_and_sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    assert doc.status is OutgoingStatus.IN_REVIEW and failures(db) == 0
    other = at_leader_step(db, new_draft(db, blobs, signer_id=user_id(db, "lanhdao.camau")))
    assert combined.can_approve_and_sign(db, actor(db, LEADER), other)
    assert not combined.can_approve_and_sign(db, actor(db, CLERK), other)


# --- batch signing ----------------------------------------------------------------------------

def other_agency_draft(db: Session, blobs: BlobStore) -> OutgoingDocument:
    drafter = actor(db, "chuyenvien.uminh")
    return drafts.create_draft(db, blobs, drafter, DraftInput(
        doc_type="bao_cao", subject="Báo cáo của huyện U Minh",
        signer_id=user_id(db, "lanhdao.uminh"), department_ids=(drafter.department_id,)),
        Upload("du-thao.pdf", pdf_bytes()))


def test_batch_signs_every_waiting_document_and_refuses_the_rest_one_by_one(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    ready = [approve_all(db, new_draft(db, blobs, subject=f"Báo cáo số {i}")) for i in range(3)]
    in_review = at_leader_step(db, new_draft(db, blobs, subject="Còn đang trình"))
    foreign = other_agency_draft(db, blobs)
    ids = [ready[0].id, foreign.id, ready[1].id, in_review.id, 10**9, ready[2].id]
    results = combined.sign_many_with_pin(db, blobs, trust, actor(db, LEADER), ids, PIN)
    by_id = {r.document_id: r for r in results}
    assert [r.document_id for r in results] == ids
    assert all(by_id[d.id].signed for d in ready)
    assert all(d.status is OutgoingStatus.SIGNED for d in ready)
    assert all(tags(db, d.id)[-1] == "outgoing:signature:personal" for d in ready)
    assert not by_id[foreign.id].signed and by_id[foreign.id].message == "Không tìm thấy văn bản đi."
    assert by_id[foreign.id].label == ""  # nothing of another agency's document shows
    assert not by_id[10**9].signed and by_id[10**9].message == by_id[foreign.id].message
    assert not by_id[in_review.id].signed and "không chờ ký" in by_id[in_review.id].message
    assert in_review.status is OutgoingStatus.IN_REVIEW and foreign.status is OutgoingStatus.DRAFT
    assert "outgoing:signature:personal" not in tags(db, foreign.id)


def test_batch_with_a_wrong_pin_signs_none_and_counts_one_attempt(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    ready = [approve_all(db, new_draft(db, blobs, subject=f"Báo cáo số {i}")) for i in range(3)]
    with pytest.raises(PinRefused, match="Còn 4 lần thử"):
        combined.sign_many_with_pin(db, blobs, trust, actor(db, LEADER), [d.id for d in ready],
                                    "000000")
    assert failures(db) == 1
    assert all(d.status is OutgoingStatus.APPROVED and not d.signatures for d in ready)
    assert all(tags(db, d.id)[-1] == "outgoing:signature:wrong-pin" for d in ready)


def test_batch_refuses_a_document_of_another_signer_and_the_empty_choice(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    mine = approve_all(db, new_draft(db, blobs))
    with pytest.raises(OutgoingError, match="Chưa chọn văn bản"):
        combined.sign_many_with_pin(db, blobs, trust, actor(db, LEADER), [], PIN)
    with pytest.raises(OutgoingError, match="tối đa"):
        combined.sign_many_with_pin(db, blobs, trust, actor(db, LEADER),
                                    list(range(1, combined.MAX_BATCH + 2)), PIN)
    with pytest.raises(Forbidden):  # a clerk may not sign at all
        combined.sign_many_with_pin(db, blobs, trust, actor(db, CLERK), [mine.id], PIN)
    leader = actor(db, LEADER)
    deputy = agencies.create_user(db, leader.ctx, agency_id=leader.agency_id,
                                  username="phochutich.camau", full_name="Trần Văn Phó",
                                  password="Mat-khau-dai-1!", roles=[Role.LEADER])
    theirs = approve_all(db, new_draft(db, blobs, signer_id=deputy.id))
    assert combined.awaiting_my_signature(db, leader) == [mine]
    results = combined.sign_many_with_pin(db, blobs, trust, leader, [theirs.id, mine.id], PIN)
    assert [r.signed for r in results] == [False, True]
    assert results[0].message == "Chỉ người được giao ký (Trần Văn Phó) mới ký được."
    assert theirs.status is OutgoingStatus.APPROVED and mine.status is OutgoingStatus.SIGNED
