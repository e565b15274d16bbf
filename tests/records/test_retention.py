"""Retention and destruction (issue 22): expired dossiers, the archive's proposal, the leader's
decision, the files deleted and the record kept, the legal hold; each refusal's message."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden
from ioffice.notifications.models import Kind, Notification
from ioffice.records import retention
from ioffice.records import service as records
from ioffice.records.models import DestructionStatus, Dossier, DossierItem, DossierStatus
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, TODAY, make_year
from tests.support.factories import actor, register, user_id

LATER = dt.date(2032, 1, 1)
"""When the 5-year dossier closed in March 2026 has expired; the 20-year one has not."""


def _refused(words: str, call, *args, **kw) -> None:
    with pytest.raises(RecordsError) as info:
        call(*args, **kw)
    assert words in info.value.message, info.value.message


def expired_year(db: Session, blobs: BlobStore, number: int = 2026):
    """``number`` (2026): 01.TCCB permanent, 02.TCCB 20 years, 03.VP 5 years; all closed on 1
    March. 03.VP holds an incoming document (also filed in the others), a file and a note."""
    year = make_year(db, number, approve=False)
    clerk, keeper = actor(db, CLERK), actor(db, KEEPER)
    vp = next(h for h in year.file_list.headings if h.code == "VP")
    short = records.add_dossier(db, clerk, year.file_list.id, records.DossierInput(
        heading_id=str(vp.id), number="3", title="Sổ theo dõi công văn thường",
        retention="5", keeper_id=str(user_id(db, KEEPER))))
    records.approve_list(db, actor(db, LEADER), year.file_list.id, "QĐ 1")
    doc = register(db, blobs, clerk)
    for d in (year.dossier, year.other, short):
        records.open_dossier(db, keeper, d.id, f"{number}-01-05", TODAY)
        records.add_document(db, keeper, d.id, "incoming", doc.id)
    item = records.add_file(db, blobs, keeper, short.id, "Bảng theo dõi", "bang.xlsx",
                            b"own file of 03.VP")
    records.add_note(db, keeper, short.id, "Ghi chú")
    for d in (year.dossier, year.other, short):
        records.close_dossier(db, keeper, d.id, f"{number}-03-01", "3", TODAY)
    db.flush()
    return year, short, doc, item


def test_archive_proposes_leader_approves_files_go_record_stays(db: Session,
                                                                blobs: BlobStore) -> None:
    _year, short, doc, item = expired_year(db, blobs)
    archive, leader = actor(db, ARCHIVIST), actor(db, LEADER)
    assert retention.expired_dossiers(db, archive, TODAY) == []
    assert [d.symbol for d in retention.expired_dossiers(db, archive, LATER)] == ["03.VP"]
    assert short.retention_end == dt.date(2031, 3, 1)
    proposal = retention.propose(db, archive, [short.id], "Hội đồng xác định giá trị tài liệu: "
                                 "hết giá trị", LATER)
    assert proposal.status is DestructionStatus.PROPOSED
    told = db.scalars(select(Notification.text).where(
        Notification.user_id == leader.user_id, Notification.kind == Kind.RECORDS)).all()
    assert any(f"đề nghị số {proposal.id}" in t for t in told)
    own_sha = item.sha256
    done = retention.approve(db, leader, proposal.id, "Quyết định số 15/QĐ-UBND ngày 01/01/2032",
                             LATER)
    assert done.status is DestructionStatus.DESTROYED and done.decided_by_id == leader.user_id
    db.expire_all()
    short = db.get(Dossier, short.id)
    assert short.status is DossierStatus.DESTROYED and short.items == []
    assert db.scalars(select(DossierItem).where(DossierItem.dossier_id == short.id)).all() == []
    [entry] = done.record["dossiers"]
    assert entry["symbol"] == "03.VP" and entry["title"] == "Sổ theo dõi công văn thường"
    kinds = [i["kind"] for i in entry["items"]]
    assert kinds == ["incoming", "file", "note"]
    assert entry["items"][0]["number_notation"] == doc.number_notation
    assert entry["items"][1]["sha256"] == [own_sha]
    assert done.record["files_to_delete"] == [own_sha]
    # blob cleanup agrees: the own file is referenced no more, the document's files still are
    referenced = maintenance.referenced_blobs(db)
    assert own_sha not in referenced and doc.files[0].sha256 in referenced
    assert retention.purge(db, blobs, done.id) == [own_sha]
    assert not blobs.exists(own_sha) and blobs.exists(doc.files[0].sha256)
    assert done.record["deleted"] == [own_sha]
    # the document stays in the 02.TCCB dossier and in the register
    assert [d.symbol for d in records.dossiers_holding(db, leader, "incoming", doc.id).dossiers
            ] == ["01.TCCB", "02.TCCB"]
    tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("records:destr%"))))
    assert tags == {"records:destruction:propose", "records:destruction:approve",
                    "records:destruction:purge"}
    _refused("Đề nghị tiêu hủy số", retention.approve, db, leader, done.id, "QĐ 2", LATER)
    _refused("đã được quyết định ngày", retention.approve, db, leader, done.id, "QĐ 2", LATER)


def test_a_file_shared_with_a_live_dossier_is_kept(db: Session, blobs: BlobStore) -> None:
    year, short, _doc, item = expired_year(db, blobs)
    keeper = actor(db, KEEPER)
    records.reopen_dossier(db, keeper, year.other.id)
    records.add_file(db, blobs, keeper, year.other.id, "Bản sao bảng", "b.xlsx",
                     b"own file of 03.VP")  # same bytes, same blob
    proposal = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", LATER)
    done = retention.approve(db, actor(db, LEADER), proposal.id, "QĐ 3", LATER)
    assert retention.purge(db, blobs, done.id) == []
    assert blobs.exists(item.sha256) and done.record["kept_shared"] == [item.sha256]


def test_bad_destruction_input_is_refused(db: Session, blobs: BlobStore) -> None:
    year, short, _doc, _item = expired_year(db, blobs)
    archive, leader = actor(db, ARCHIVIST), actor(db, LEADER)
    _refused("Hồ sơ 01.TCCB có thời hạn bảo quản vĩnh viễn; không bao giờ được tiêu hủy",
             retention.propose, db, archive, [year.dossier.id], "Lý do", LATER)
    _refused("Hồ sơ 02.TCCB chưa hết thời hạn bảo quản (20 năm, đến ngày 01/03/2046)",
             retention.propose, db, archive, [year.other.id], "Lý do", LATER)
    _refused("Hồ sơ 03.VP chưa hết thời hạn bảo quản (5 năm, đến ngày 01/03/2031)",
             retention.propose, db, archive, [short.id], "Lý do", TODAY)
    _refused("Hãy ghi lý do", retention.propose, db, archive, [short.id], " ", LATER)
    _refused("Hãy chọn ít nhất một hồ sơ", retention.propose, db, archive, [], "Lý do", LATER)
    # another agency's dossier
    bnv_dossier = bnv_dossier_id(db)
    _refused(f"Không có hồ sơ mã {bnv_dossier} trong cơ quan của bạn", retention.propose, db,
             archive, [bnv_dossier], "Lý do", LATER)
    # a specialist proposing; a specialist holding; the archive approving
    with pytest.raises(Forbidden) as info:
        retention.propose(db, actor(db, KEEPER), [short.id], "Lý do", LATER)
    assert info.value.message == ("Bạn không có quyền thực hiện thao tác «Đề nghị tiêu hủy hồ sơ "
                                  "hết thời hạn bảo quản (Lưu trữ cơ quan)» (dành cho: Lưu trữ).")
    with pytest.raises(Forbidden):
        retention.hold(db, actor(db, KEEPER), short.id, "Lý do")
    # a hold: cannot be proposed; set after the proposal, it blocks the approval
    hold = retention.hold(db, leader, short.id, "Thanh tra tỉnh yêu cầu giữ (Công văn 7/TTr)")
    _refused("Hồ sơ 03.VP đang bị tạm giữ theo yêu cầu pháp lý («Thanh tra tỉnh", retention.propose,
             db, archive, [short.id], "Lý do", LATER)
    _refused("đang bị tạm giữ rồi", retention.hold, db, archive, short.id, "Lần nữa")
    retention.lift_hold(db, archive, short.id, "Thanh tra đã kết luận")
    assert hold.lifted_at is not None
    _refused("không bị tạm giữ", retention.lift_hold, db, archive, short.id, "Lý do")
    proposal = retention.propose(db, archive, [short.id], "Hết giá trị", LATER)
    _refused("đã nằm trong đề nghị tiêu hủy số", retention.propose, db, archive, [short.id],
             "Lý do", LATER)
    retention.hold(db, archive, short.id, "Tòa án yêu cầu cung cấp")
    _refused("Hồ sơ 03.VP đang bị tạm giữ theo yêu cầu pháp lý («Tòa án yêu cầu cung cấp»)",
             retention.approve, db, leader, proposal.id, "QĐ 5", LATER)
    _refused("Hãy ghi số, ngày của quyết định tiêu hủy", retention.approve, db, leader,
             proposal.id, "", LATER)
    with pytest.raises(Forbidden):
        retention.approve(db, archive, proposal.id, "QĐ", LATER)
    rejected = retention.reject(db, leader, proposal.id, "Còn cần cho thanh tra")
    assert rejected.status is DestructionStatus.REJECTED
    _refused("(«Lãnh đạo không đồng ý»); không quyết định lại được", retention.reject, db,
             leader, proposal.id, "Lần nữa")
    tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("records:%"))))
    assert {"records:hold:set", "records:hold:lift", "records:destruction:reject"} <= tags


def bnv_dossier_id(db: Session) -> int:
    """A dossier of the Bộ Nội vụ (another agency)."""
    from ioffice.records.models import FileList, FileListHeading

    bnv = actor(db, "vanthu.bnv")
    flist = FileList(agency_id=bnv.agency_id, year=2026)
    db.add(flist)
    db.flush()
    heading = FileListHeading(agency_id=bnv.agency_id, list_id=flist.id, position=1, code="VP",
                              title="Văn phòng")
    db.add(heading)
    db.flush()
    dossier = Dossier(agency_id=bnv.agency_id, list_id=flist.id, heading_id=heading.id,
                      number=1, symbol="01.VP", title="Hồ sơ Bộ", retention_years=1,
                      keeper_id=bnv.user_id, status=DossierStatus.CLOSED,
                      end_date=dt.date(2020, 1, 1))
    db.add(dossier)
    db.flush()
    return dossier.id


def test_the_blob_cleanup_removes_what_a_lost_purge_left(db: Session,
                                                        blobs: BlobStore) -> None:
    """The purge never ran (a crash after the decision committed): the cleanup removes the
    destroyed dossier's own file, and nothing of the documents it held."""
    _year, short, doc, item = expired_year(db, blobs)
    proposal = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", LATER)
    retention.approve(db, actor(db, LEADER), proposal.id, "QĐ 9", LATER)
    db.flush()
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    removed = {r.key for r in maintenance.cleanup(db, blobs, now=far) if r.kind == "blob"}
    assert item.sha256 in removed and doc.files[0].sha256 not in removed
    assert blobs.exists(doc.files[0].sha256)
