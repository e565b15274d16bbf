"""Work nobody can do (issue 16): a review step nobody can take is skipped with its reason, a
draft nobody could approve or sign is refused at submit, the drafter withdraws a draft nobody
acted on, the admin sees stuck drafts and gives the step (or the signature) to someone."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Membership, MembershipRole, Role, User
from ioffice.audit import AuditContext
from ioffice.errors import Forbidden
from ioffice.outgoing import queries, review, stuck
from ioffice.outgoing.errors import InvalidInput, WrongState
from ioffice.outgoing.models import OutgoingStatus, ReviewStepKind
from ioffice.storage import BlobStore
from tests.outgoing.conftest import CLERK, HEAD, LEADER, SPECIALIST, new_draft
from tests.support.factories import actor, user_id

ADMIN = CLERK  # the demo's clerk is also the agency's admin
CTX = AuditContext(None, None, "test")
SKIP_HEAD = "Bỏ qua bước «Trưởng đơn vị soạn thảo duyệt nội dung»: "
SKIP_OFFICE = "Bỏ qua bước «Văn phòng kiểm tra thể thức»: "


def _deactivate(db: Session, username: str) -> None:
    db.get(User, user_id(db, username)).active = False
    db.flush()


def _draft_by(db: Session, blobs: BlobStore, username: str):
    """A draft written by ``username`` (the helper writes as the specialist)."""
    doc = new_draft(db, blobs)
    doc.created_by_id = user_id(db, username)
    doc.drafting_department_id = actor(db, username).department_id
    db.flush()
    return doc


def _tags(db: Session, doc) -> list[str]:
    return [h.tag for h in queries.history(db, doc)]


def test_a_clerk_s_draft_skips_the_head_its_department_lacks(db: Session, blobs: BlobStore) -> None:
    doc = _draft_by(db, blobs, CLERK)  # the office (VP) has no department head
    review.submit(db, actor(db, CLERK), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.OFFICE
    skip = [c for c in doc.comments if c.kind == "skip"]
    assert [(c.step, c.body) for c in skip] == [
        ("department_head", SKIP_HEAD + "đơn vị soạn thảo không có trưởng đơn vị đang hoạt động.")]
    assert "outgoing:review:skip" in _tags(db, doc)


def test_a_leader_s_own_draft_reaches_approval(db: Session, blobs: BlobStore) -> None:
    doc = _draft_by(db, blobs, LEADER)  # demo leaders belong to no department
    assert doc.drafting_department_id is None
    review.submit(db, actor(db, LEADER), doc.id)
    assert [c.body for c in doc.comments if c.kind == "skip"] == [
        SKIP_HEAD + "người soạn thảo không thuộc đơn vị nào."]
    review.approve(db, actor(db, CLERK), doc.id, "Đúng thể thức.")
    review.approve(db, actor(db, LEADER), doc.id)
    assert doc.status is OutgoingStatus.APPROVED


def test_the_head_s_own_draft_skips_its_content_check(db: Session, blobs: BlobStore) -> None:
    doc = _draft_by(db, blobs, HEAD)
    review.submit(db, actor(db, HEAD), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.OFFICE
    assert [c.body for c in doc.comments if c.kind == "skip"] == [
        SKIP_HEAD + "người soạn thảo là trưởng đơn vị."]


def test_an_office_without_anyone_is_skipped_after_the_head_approves(db: Session,
                                                                     blobs: BlobStore) -> None:
    _deactivate(db, CLERK)  # VP has no head either
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.DEPARTMENT_HEAD
    review.approve(db, actor(db, HEAD), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.LEADER
    assert [c.body for c in doc.comments if c.kind == "skip"] == [
        SKIP_OFFICE + "cơ quan không có văn thư hay trưởng văn phòng đang hoạt động."]


def test_a_submit_is_refused_when_the_signer_left(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    _deactivate(db, LEADER)
    with pytest.raises(WrongState, match=r"Người ký được giao .* không còn hoạt động"):
        review.submit(db, actor(db, SPECIALIST), doc.id)
    assert doc.status is OutgoingStatus.DRAFT


def test_a_submit_is_refused_when_the_signer_is_no_longer_a_leader(db: Session,
                                                                    blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    membership = db.scalars(select(Membership).where(Membership.user_id == user_id(db, LEADER))).one()
    db.execute(MembershipRole.__table__.update().where(
        MembershipRole.membership_id == membership.id).values(role=Role.SPECIALIST.value))
    db.expire_all()
    with pytest.raises(WrongState, match="không còn là lãnh đạo"):
        review.submit(db, actor(db, SPECIALIST), doc.id)


def test_the_route_shows_the_approval_nobody_could_give(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    _deactivate(db, LEADER)
    route = review.route(db, doc)
    assert [s.kind for s in route] == list(review.chain(db, doc.agency_id))
    assert route[0].people and not route[0].skip  # the TTTT head
    assert route[-1].blocked == "cơ quan không có lãnh đạo nào đang hoạt động để duyệt"


def test_the_drafter_withdraws_until_someone_acts(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    specialist = actor(db, SPECIALIST)
    review.submit(db, specialist, doc.id)
    with pytest.raises(Forbidden):
        review.withdraw(db, actor(db, HEAD), doc.id)
    review.withdraw(db, specialist, doc.id, "Còn thiếu số liệu.")
    assert doc.status is OutgoingStatus.DRAFT and doc.review_step == 0
    assert doc.comments[-1].kind == "withdraw" and "outgoing:review:withdraw" in _tags(db, doc)
    with pytest.raises(WrongState, match="Chỉ rút lại được dự thảo đang trình duyệt"):
        review.withdraw(db, specialist, doc.id)
    review.submit(db, specialist, doc.id)
    review.approve(db, actor(db, HEAD), doc.id)
    with pytest.raises(WrongState, match="Nguyễn Hoàng Phúc đã duyệt dự thảo"):
        review.withdraw(db, specialist, doc.id)
    assert doc.status is OutgoingStatus.IN_REVIEW


def test_a_skipped_step_does_not_stop_a_withdrawal(db: Session, blobs: BlobStore) -> None:
    doc = _draft_by(db, blobs, LEADER)
    leader = actor(db, LEADER)
    review.submit(db, leader, doc.id)
    review.withdraw(db, leader, doc.id)
    assert doc.status is OutgoingStatus.DRAFT


def test_the_admin_gives_a_stuck_step_to_someone(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    admin = actor(db, ADMIN)
    assert not [i for i in stuck.stuck_documents(db, admin) if i.document.id == doc.id]
    _deactivate(db, HEAD)
    [item] = [i for i in stuck.stuck_documents(db, admin) if i.document.id == doc.id]
    assert item.step is ReviewStepKind.DEPARTMENT_HEAD and "không có ai" in item.reason
    with pytest.raises(InvalidInput, match="Phải ghi lý do"):
        stuck.reassign_step(db, admin, doc.id, user_id(db, CLERK), " ")
    with pytest.raises(InvalidInput, match="chỉ giao được cho người có vai trò"):
        stuck.reassign_step(db, admin, doc.id, user_id(db, SPECIALIST), "Trưởng phòng nghỉ hưu")
    with pytest.raises(InvalidInput, match="không phải người đang hoạt động"):
        stuck.reassign_step(db, admin, doc.id, user_id(db, HEAD), "Trưởng phòng nghỉ hưu")
    stuck.reassign_step(db, admin, doc.id, user_id(db, CLERK), "Trưởng phòng nghỉ hưu")
    assert not [i for i in stuck.stuck_documents(db, admin) if i.document.id == doc.id]
    assert review.can_review(db, actor(db, CLERK), doc)
    assert "outgoing:review:reassign" in _tags(db, doc)
    review.approve(db, actor(db, CLERK), doc.id, "Nội dung đạt.")
    assert review.current_step(db, doc) is ReviewStepKind.OFFICE
    assert doc.assigned_reviewer_id is None


def test_the_approval_step_goes_only_to_a_leader(db: Session, blobs: BlobStore) -> None:
    doc = _draft_by(db, blobs, HEAD)
    review.submit(db, actor(db, HEAD), doc.id)
    review.approve(db, actor(db, CLERK), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.LEADER
    with pytest.raises(InvalidInput, match="chỉ giao được cho người có vai trò: lãnh đạo"):
        stuck.reassign_step(db, actor(db, ADMIN), doc.id, user_id(db, CLERK), "Thử")


def test_the_admin_changes_a_signer_who_left(db: Session, blobs: BlobStore) -> None:
    admin = actor(db, ADMIN)
    deputy = agencies.create_user(db, CTX, agency_id=admin.agency_id, username="phochutich.camau",
                                  full_name="Lê Thị Mai", password="Mat-khau-dai-2026!",
                                  roles=[Role.LEADER], position_title="Phó Chủ tịch")
    doc = _draft_by(db, blobs, HEAD)
    review.submit(db, actor(db, HEAD), doc.id)
    review.approve(db, actor(db, CLERK), doc.id)
    review.approve(db, actor(db, "phochutich.camau"), doc.id)
    assert doc.status is OutgoingStatus.APPROVED
    _deactivate(db, LEADER)
    [item] = [i for i in stuck.stuck_documents(db, admin) if i.document.id == doc.id]
    assert item.signer and "không còn hoạt động" in item.reason
    with pytest.raises(InvalidInput, match="Người ký phải là lãnh đạo"):
        stuck.change_signer(db, admin, doc.id, user_id(db, HEAD), "Chủ tịch nghỉ")
    stuck.change_signer(db, admin, doc.id, deputy.id, "Chủ tịch nghỉ")
    assert doc.signer_id == deputy.id and doc.signer_position == "Phó Chủ tịch"
    assert queries.awaits(db, actor(db, "phochutich.camau"), doc)
    assert "outgoing:signer:reassign" in _tags(db, doc)
    assert not [i for i in stuck.stuck_documents(db, admin) if i.document.id == doc.id]


def test_only_the_admin_sees_and_moves_stuck_work(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    for who in (LEADER, HEAD):
        with pytest.raises(Forbidden):
            stuck.stuck_documents(db, actor(db, who))
        with pytest.raises(Forbidden):
            stuck.reassign_step(db, actor(db, who), doc.id, user_id(db, CLERK), "Thử")
