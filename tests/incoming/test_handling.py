from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from ioffice.errors import Forbidden, NotFound
from ioffice.incoming import handling, queries
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.models import AssignmentRole, AssignmentStatus, DocumentStatus
from ioffice.incoming.registration import today_vn
from ioffice.storage import BlobStore
from tests.support.factories import actor, department, register, user_id


@pytest.fixture
def doc(db: Session, blobs: BlobStore):
    return register(db, blobs, actor(db, "vanthu.camau"))


def _distribute(db: Session, doc, deadline: dt.date | None = None):
    leader = actor(db, "lanhdao.camau")
    tttt = department(db, leader, "TTTT")
    vp = department(db, leader, "VP")
    return handling.distribute(db, leader, doc.id, DistributionInput(
        lead=Target("department", tttt.id, deadline or today_vn() + dt.timedelta(days=8)),
        co_handlers=(Target("user", user_id(db, "vanthu.camau"), today_vn() + dt.timedelta(days=6)),),
        for_information=(Target("department", vp.id),),
        instruction="Sở TTTT chủ trì, tham mưu báo cáo Bộ Nội vụ."))


def test_full_handling_flow(db: Session, doc) -> None:
    lead, co, info = _distribute(db, doc)
    assert (lead.role, co.role, info.role) == (AssignmentRole.LEAD, AssignmentRole.CO, AssignmentRole.INFO)
    assert info.status is AssignmentStatus.DONE  # for information needs no handling
    assert doc.status is DocumentStatus.DISTRIBUTED
    head = actor(db, "truongphong.camau")
    assert [a.id for a in queries.to_handle(db, head, today=today_vn())] == [lead.id]
    child = handling.pass_on(db, head, lead.id, user_id(db, "chuyenvien.camau"), None,
                             "Đồng chí Khôi soạn báo cáo.")
    assert lead.status is AssignmentStatus.DELEGATED and child.deadline == lead.deadline
    specialist = actor(db, "chuyenvien.camau")
    assert [a.id for a in queries.to_handle(db, specialist, today=today_vn())] == [child.id]
    handling.record_progress(db, specialist, child.id, "Đã tổng hợp số liệu các huyện.")
    assert doc.status is DocumentStatus.IN_PROGRESS
    handling.finish(db, specialist, child.id, "Đã trình báo cáo.", "45/BC-UBND")
    assert child.status is AssignmentStatus.DONE and lead.status is AssignmentStatus.DONE
    assert doc.status is DocumentStatus.DONE and doc.reply_number == "45/BC-UBND"
    tags = [h.tag for h in queries.history(db, doc)]
    assert tags == ["incoming:document:register", "incoming:document:distribute",
                    "incoming:assignment:pass-on", "incoming:assignment:progress",
                    "incoming:assignment:finish"]


def test_specialist_cannot_distribute(db: Session, doc) -> None:
    specialist = actor(db, "chuyenvien.camau")
    with pytest.raises(Forbidden):
        handling.distribute(db, specialist, doc.id, DistributionInput(
            lead=Target("user", specialist.user_id)))


def test_deadline_before_the_document_date_is_refused(db: Session, doc) -> None:
    with pytest.raises(InvalidInput) as exc:
        _distribute(db, doc, deadline=doc.document_date - dt.timedelta(days=1))
    assert "trước ngày văn bản" in exc.value.fields["deadline_lead"]


def test_another_agencys_leader_cannot_distribute_by_id(db: Session, doc) -> None:
    other = actor(db, "lanhdao.uminh")
    with pytest.raises(NotFound):
        handling.distribute(db, other, doc.id, DistributionInput(
            lead=Target("user", other.user_id)))


def test_targets_must_belong_to_the_agency(db: Session, doc) -> None:
    leader = actor(db, "lanhdao.camau")
    foreign = department(db, actor(db, "vanthu.uminh"), "NV")
    with pytest.raises(NotFound):
        handling.distribute(db, leader, doc.id, DistributionInput(
            lead=Target("department", foreign.id)))


def test_a_document_has_one_open_lead(db: Session, doc) -> None:
    _distribute(db, doc)
    leader = actor(db, "lanhdao.camau")
    with pytest.raises(InvalidInput) as exc:
        handling.distribute(db, leader, doc.id, DistributionInput(
            lead=Target("user", user_id(db, "chuyenvien.camau"))))
    assert "chủ trì" in exc.value.fields["lead"]


def test_only_the_assignee_handles(db: Session, doc) -> None:
    lead, _co, _info = _distribute(db, doc)
    with pytest.raises(Forbidden):
        handling.record_progress(db, actor(db, "chuyenvien.camau"), lead.id, "Tôi làm luôn")
    with pytest.raises(NotFound):
        handling.record_progress(db, actor(db, "truongphong.uminh"), lead.id, "x")


def test_return_sends_the_document_back_to_the_leader(db: Session, doc) -> None:
    lead, _co, _info = _distribute(db, doc)
    head = actor(db, "truongphong.camau")
    handling.return_assignment(db, head, lead.id, "Không thuộc chức năng của Sở.")
    assert doc.status is DocumentStatus.REGISTERED
    assert doc.id in [d.id for d in queries.to_distribute(db, actor(db, "lanhdao.camau"))]
    with pytest.raises(IncomingError):
        handling.finish(db, head, lead.id, "xong")


def test_extension_request_and_approval(db: Session, doc) -> None:
    lead, _co, _info = _distribute(db, doc)
    head = actor(db, "truongphong.camau")
    new = lead.deadline + dt.timedelta(days=5)
    with pytest.raises(InvalidInput):
        handling.request_extension(db, head, lead.id, lead.deadline, "Chờ số liệu")
    handling.request_extension(db, head, lead.id, new, "Chờ số liệu các huyện")
    leader = actor(db, "lanhdao.camau")
    assert [a.id for a in queries.extension_requests(db, leader)] == [lead.id]
    handling.decide_extension(db, leader, lead.id, approve=True)
    assert lead.deadline == new and lead.status is AssignmentStatus.PENDING


def test_overdue_and_due_soon_queues_and_counts(db: Session, doc, blobs: BlobStore) -> None:
    today = today_vn()
    leader = actor(db, "lanhdao.camau")
    specialist = actor(db, "chuyenvien.camau")
    old = register(db, blobs, actor(db, "vanthu.camau"),
                   document_date=today - dt.timedelta(days=30))
    late = handling.distribute(db, leader, old.id, DistributionInput(
        lead=Target("user", specialist.user_id, today - dt.timedelta(days=2))))[0]
    soon = handling.distribute(db, leader, doc.id, DistributionInput(
        lead=Target("user", specialist.user_id, today + dt.timedelta(days=2))))[0]
    assert [a.id for a in queries.to_handle(db, specialist, today=today, which="overdue")] == [late.id]
    assert [a.id for a in queries.to_handle(db, specialist, today=today, which="due_soon")] == [soon.id]
    counts = queries.counts(db, specialist, today)
    assert (counts.to_handle, counts.overdue, counts.due_soon) == (2, 1, 1)
    rows = queries.follow_up(db, leader, queries.FollowUpFilter(only_overdue=True), today)
    assert [a.id for a in rows] == [late.id]


def test_queue_pages_by_key_without_gaps(db: Session, blobs: BlobStore) -> None:
    today = today_vn()
    leader = actor(db, "lanhdao.camau")
    specialist = actor(db, "chuyenvien.camau")
    clerk = actor(db, "vanthu.camau")
    made = []
    for i in range(7):
        d = register(db, blobs, clerk)
        deadline = None if i % 3 == 0 else today + dt.timedelta(days=i % 2)
        made += handling.distribute(db, leader, d.id, DistributionInput(
            lead=Target("user", specialist.user_id, deadline)))
    seen, after = [], None
    while True:
        page = queries.to_handle(db, specialist, today=today, after=after, limit=3)
        if not page:
            break
        seen += page
        after = queries.queue_cursor(page[-1])
    assert sorted(a.id for a in seen) == sorted(a.id for a in made)
    keys = [(a.deadline is None, a.deadline or today, a.id) for a in seen]
    assert keys == sorted(keys)
