"""Dossiers restored from imported packages under the same retention rules as the list's
dossiers: in the expired list (end date plus N years; permanent ones never), held, proposed by
the archive, approved by a leader; destruction deletes the package, its table of contents and
its documents' files (those nothing else references), keeps the record and the metadata, and
the downloads answer 410; found by the main search box."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden, Gone, NotFound
from ioffice.records import package, retention
from ioffice.records import service as records
from ioffice.records.models import (
    DestructionStatus,
    DossierItem,
    ImportedPackage,
    LegalHold,
)
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from signing import TrustStore
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, TODAY, make_year
from tests.records.test_web import _as, _post
from tests.support.factories import actor, register

OTHER_LEADER = "lanhdao.uminh"
"""A leader of another agency (Phòng ... U Minh): may hold, but not another agency's dossiers."""
OWN_BYTES = b"own file of the restored dossier, nowhere else in this database"


def _refused(words: str, call, *args, **kw) -> None:
    with pytest.raises(RecordsError) as info:
        call(*args, **kw)
    assert words in info.value.message, info.value.message


def restored_pair(db: Session, blobs: BlobStore, trust: TrustStore, number: int = 2000
                  ) -> tuple[ImportedPackage, ImportedPackage]:
    """Two dossiers of ``number`` (2000) closed on 1 March, exported and imported by the
    archive: 01.TCCB permanent, 02.TCCB 20 years (expired on 01/03/2020). Both hold a
    registered incoming document; 02.TCCB also a file whose bytes are nowhere else here (the
    package came from another installation: its source item is not in this database)."""
    year = make_year(db, number)
    keeper, archive = actor(db, KEEPER), actor(db, ARCHIVIST)
    doc = register(db, blobs, actor(db, CLERK), subject="Về việc tuyển dụng viên chức")
    for d in (year.dossier, year.other):
        records.open_dossier(db, keeper, d.id, f"{number}-01-05", TODAY)
        records.add_document(db, keeper, d.id, "incoming", doc.id)
    item = records.add_file(db, blobs, keeper, year.other.id, "Bảng kê riêng", "bang-ke.txt",
                            OWN_BYTES)
    for d in (year.dossier, year.other):
        records.close_dossier(db, keeper, d.id, f"{number}-03-01", "3", TODAY)
    perm = package.import_package(db, blobs, trust, archive, "tccb-01.zip",
                                  package.export_package(db, blobs, keeper, year.dossier.id))
    short = package.import_package(db, blobs, trust, archive, "tccb-02.zip",
                                   package.export_package(db, blobs, keeper, year.other.id))
    db.delete(db.get(DossierItem, item.id))
    db.flush()
    return perm, short


def test_a_restored_dossier_expires_is_proposed_approved_and_its_files_go(
        db: Session, blobs: BlobStore, trust: TrustStore) -> None:
    perm, short = restored_pair(db, blobs, trust)
    archive, leader = actor(db, ARCHIVIST), actor(db, LEADER)
    assert short.retention_end == dt.date(2020, 3, 1) and perm.retention_end is None
    assert retention.expired_restored(db, archive, dt.date(2020, 2, 29)) == []
    assert retention.expired_restored(db, archive, TODAY) == [short]
    files = {f["sha256"]: f["name"] for d in short.items for f in d.files}
    own = next(h for h, n in files.items() if n.endswith(".txt"))
    shared = set(files) - {own}
    assert shared and blobs.exists(own) and blobs.exists(short.sha256)
    proposal = retention.propose(db, archive, [], "Hội đồng: hết giá trị", TODAY,
                                 package_ids=[short.id])
    assert proposal.packages == [short] and proposal.dossiers == []
    _refused(f"đã nằm trong đề nghị tiêu hủy số {proposal.id}", retention.propose, db, archive,
             [], "lần hai", TODAY, package_ids=[short.id])
    done = retention.approve(db, leader, proposal.id, "Quyết định số 7/QĐ-UBND ngày 04/12/2026",
                             TODAY)
    assert done.status is DestructionStatus.DESTROYED
    assert short.destruction_id == done.id and short.destroyed and not perm.destroyed
    # the record: what was destroyed, by whose decision; the metadata rows stay
    [entry] = done.record["dossiers"]
    assert entry["kind"] == "restored" and entry["symbol"] == "02.TCCB"
    assert entry["organ_id"] == short.organ_id and entry["retention"] == "20 năm"
    assert [i["ordinal"] for i in entry["items"]] == [d.ordinal for d in short.items]
    assert set(done.record["files_to_delete"]) == set(files) | {short.sha256, short.toc_sha256}
    assert db.get(ImportedPackage, short.id).items, "the table of contents stays"
    event = db.scalar(select(AuditEvent).where(AuditEvent.tag == "records:package:destroy"))
    assert event.subject_id == str(short.id) and event.details["decision"].startswith("Quyết định")
    # blob cleanup no longer keeps them, except what a live row still references
    referenced = maintenance.referenced_blobs(db)
    assert own not in referenced and short.sha256 not in referenced
    assert short.toc_sha256 not in referenced
    assert shared <= referenced, "the registered incoming document still uses those bytes"
    assert perm.sha256 in referenced
    gone = retention.purge(db, blobs, done.id)
    assert set(gone) == {own, short.sha256, short.toc_sha256}
    assert not blobs.exists(own) and not blobs.exists(short.sha256)
    assert all(blobs.exists(h) for h in shared)
    assert set(done.record["kept_shared"]) == shared
    # downloads answer 410 naming the decision; the permanent one still downloads
    with pytest.raises(Gone) as info:
        package.imported_file(db, blobs, archive, short.id, 1, 1)
    assert "Quyết định số 7/QĐ-UBND ngày 04/12/2026" in info.value.message
    assert "đề nghị tiêu hủy số" in info.value.message
    assert package.imported_file(db, blobs, archive, perm.id, 1, 1)[1]
    # destroyed: not expired any more, not held, not proposed again
    assert retention.expired_restored(db, archive, TODAY) == []
    _refused("Hồ sơ 02.TCCB đã bị tiêu hủy; không tạm giữ được nữa.", retention.hold, db,
             leader, short.id, "Thanh tra", kind="restored")
    _refused("Hồ sơ 02.TCCB đã bị tiêu hủy.", retention.propose, db, archive, [], "x", TODAY,
             package_ids=[short.id])


def test_refused_permanent_held_specialist_other_agency(db: Session, blobs: BlobStore,
                                                        trust: TrustStore) -> None:
    perm, short = restored_pair(db, blobs, trust)
    archive, leader = actor(db, ARCHIVIST), actor(db, LEADER)
    # a permanent restored dossier is never destroyed
    _refused("Hồ sơ 01.TCCB có thời hạn bảo quản vĩnh viễn; không bao giờ được tiêu hủy.",
             retention.propose, db, archive, [], "x", TODAY, package_ids=[perm.id])
    # not yet expired
    _refused("Hồ sơ 02.TCCB chưa hết thời hạn bảo quản (20 năm, đến ngày 01/03/2020)",
             retention.propose, db, archive, [], "x", dt.date(2020, 2, 1),
             package_ids=[short.id])
    # a specialist proposing: 403
    with pytest.raises(Forbidden):
        retention.propose(db, actor(db, KEEPER), [], "x", TODAY, package_ids=[short.id])
    # a specialist holding: 403
    with pytest.raises(Forbidden):
        retention.hold(db, actor(db, KEEPER), short.id, "x", kind="restored")
    # another agency's leader: 404, as a missing one; an unknown id too
    with pytest.raises(NotFound):
        retention.hold(db, actor(db, OTHER_LEADER), short.id, "Thanh tra", kind="restored")
    with pytest.raises(NotFound):
        retention.hold(db, leader, 999999, "Thanh tra", kind="restored")
    with pytest.raises(NotFound):
        retention.hold(db, leader, short.id, "Thanh tra", kind="bogus")
    _refused("Không có hồ sơ đã nhập mã 999999 trong cơ quan của bạn", retention.propose, db,
             archive, [], "x", TODAY, package_ids=[999999])
    # a hold: no reason; a second one; then it stops the proposal and the approval
    _refused("Hãy ghi lý do tạm giữ", retention.hold, db, leader, short.id, "  ", kind="restored")
    _refused("Hồ sơ 02.TCCB không bị tạm giữ.", retention.lift_hold, db, leader, short.id, "x",
             kind="restored")
    held = retention.hold(db, leader, short.id, "Thanh tra tỉnh yêu cầu giữ", kind="restored")
    assert (held.package_id, held.dossier_id) == (short.id, None)
    assert retention.active_hold(db, short.id, "restored") is held
    assert retention.active_hold(db, short.id) is None, "not a hold on dossier of the same id"
    _refused("Hồ sơ 02.TCCB đang bị tạm giữ rồi.", retention.hold, db, archive, short.id, "x",
             kind="restored")
    _refused("Hồ sơ 02.TCCB đang bị tạm giữ theo yêu cầu pháp lý («Thanh tra tỉnh yêu cầu giữ»)",
             retention.propose, db, archive, [], "x", TODAY, package_ids=[short.id])
    retention.lift_hold(db, archive, short.id, "Thanh tra đã kết luận", kind="restored")
    proposal = retention.propose(db, archive, [], "Hội đồng: hết giá trị", TODAY,
                                 package_ids=[short.id])
    retention.hold(db, archive, short.id, "Tòa án yêu cầu cung cấp", kind="restored")
    _refused("đang bị tạm giữ theo yêu cầu pháp lý («Tòa án yêu cầu cung cấp»)",
             retention.approve, db, leader, proposal.id, "QĐ 1", TODAY)
    assert not short.destroyed
    tags = db.scalars(select(AuditEvent.tag).where(
        AuditEvent.subject_type == "imported_package", AuditEvent.subject_id == str(short.id))).all()
    assert tags.count("records:hold:set") == 2 and tags.count("records:hold:lift") == 1
    # refusing leaves it kept
    retention.reject(db, leader, proposal.id, "Còn cần cho vụ kiện")
    assert not short.destroyed and db.scalar(select(LegalHold).where(
        LegalHold.package_id == short.id, LegalHold.lifted_at.is_(None)))


def test_through_the_pages_and_the_main_search(app: Flask, db: Session, blobs: BlobStore,
                                               trust: TrustStore) -> None:
    perm, short = restored_pair(db, blobs, trust)
    db.commit()
    archive, at = _as(app, ARCHIVIST)
    leader, lt = _as(app, LEADER)
    # the main search box finds restored dossiers, diacritics and case ignored
    page = leader.get("/tim-kiem?q=BAO CAO thong ke").get_data(as_text=True)
    assert f'data-restored="{short.id}"' in page and "Nhập từ hệ thống khác" in page
    assert f'data-restored="{perm.id}"' not in page
    page = leader.get("/tim-kiem?q=tuyển dụng công chức").get_data(as_text=True)
    assert f'data-restored="{perm.id}"' in page
    keeper, kt = _as(app, KEEPER)
    assert 'data-restored="' not in keeper.get("/tim-kiem?q=thong ke").get_data(as_text=True)
    # the retention page lists the expired one with a tick box, not the permanent one
    page = archive.get("/ho-so/bao-quan").get_data(as_text=True)
    assert f'data-restored="{short.id}"' in page and f'name="package_id" value="{short.id}"' in page
    assert f'data-restored="{perm.id}"' not in page
    # refused: a specialist, a permanent one, another agency's hold (404)
    resp = keeper.post("/ho-so/tieu-huy", data={"csrf_token": kt, "package_id": str(short.id),
                                                "reason": "x"})
    assert resp.status_code == 403
    page = _post(archive, at, "/ho-so/tieu-huy", package_id=str(perm.id), reason="x")
    assert "Hồ sơ 01.TCCB có thời hạn bảo quản vĩnh viễn" in page
    other, ot = _as(app, OTHER_LEADER)
    resp = other.post(f"/ho-so/da-nhap/{short.id}/tam-giu", data={"csrf_token": ot,
                                                                  "reason": "x"})
    assert resp.status_code == 404
    # hold, then lift, then propose, then approve
    page = _post(leader, lt, f"/ho-so/da-nhap/{short.id}/tam-giu", reason="Thanh tra tỉnh")
    assert "Đã tạm giữ hồ sơ" in page and 'id="hold"' in page
    page = archive.get("/ho-so/bao-quan").get_data(as_text=True)
    assert f'name="package_id" value="{short.id}"' not in page and "Thanh tra tỉnh" in page
    page = _post(archive, at, "/ho-so/tieu-huy", package_id=str(short.id), reason="x")
    assert "đang bị tạm giữ theo yêu cầu pháp lý («Thanh tra tỉnh»)" in page
    page = _post(archive, at, f"/ho-so/da-nhap/{short.id}/bo-tam-giu", reason="Đã kết luận")
    assert "Đã bỏ tạm giữ hồ sơ" in page
    page = _post(archive, at, "/ho-so/tieu-huy", package_id=str(short.id),
                 reason="Hội đồng xác định giá trị tài liệu: hết giá trị")
    assert "Đã gửi đề nghị tiêu hủy" in page and "nhập từ" in page
    row_id = db.scalar(select(ImportedPackage.id).where(ImportedPackage.id == short.id))
    from ioffice.records.models import Destruction

    proposal = db.scalars(select(Destruction)).one()
    page = _post(leader, lt, f"/ho-so/tieu-huy/{proposal.id}/duyet",
                 decision="Quyết định số 9/QĐ-UBND ngày 04/12/2026")
    assert "Đã quyết định tiêu hủy; đã xóa 3 tệp" in page
    assert "Biên bản hồ sơ đã tiêu hủy" in page and "Báo cáo thống kê số lượng cán bộ" in page
    assert "Đã xóa tệp; giữ mục lục" in page and "Giữ tệp (hồ sơ khác còn dùng cùng tệp)" in page
    assert "bang-ke.txt" in page
    page = archive.get(f"/ho-so/da-nhap/{row_id}").get_data(as_text=True)
    assert 'id="restored-destroyed"' in page and "Quyết định số 9/QĐ-UBND" in page
    assert "bang-ke.txt (đã xóa)" in page
    assert "(không còn tải được; cùng tệp còn dùng ở nơi khác)" in page
    assert 'id="legal-hold"' not in page
    resp = archive.get(f"/ho-so/da-nhap/{row_id}/van-ban/2/1")
    assert resp.status_code == 410
    assert "Quyết định số 9/QĐ-UBND ngày 04/12/2026" in resp.get_data(as_text=True)
    page = archive.get("/ho-so/da-nhap").get_data(as_text=True)
    assert page.count("Đã tiêu hủy") == 1, "the destroyed one is marked, the permanent one not"
    # still found by the main search, marked destroyed
    page = leader.get("/tim-kiem?q=thong ke").get_data(as_text=True)
    assert f'data-restored="{short.id}"' in page and "Đã tiêu hủy" in page
