"""The retention pages: the archive's list of expired dossiers, a proposal, a legal hold that
blocks it, the leader's decision and the record of what was destroyed; each refusal's message."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from ioffice.records.models import Destruction, DossierStatus
from ioffice.storage import BlobStore
from tests.records.conftest import ARCHIVIST, KEEPER, LEADER
from tests.records.test_retention import bnv_dossier_id, expired_year
from tests.records.test_web import _as, _post


def test_archive_proposes_leader_decides_through_the_pages(app: Flask, db: Session,
                                                           blobs: BlobStore) -> None:
    year, short, _doc, item = expired_year(db, blobs, 2020)  # 03.VP expired on 01/03/2025
    bnv = bnv_dossier_id(db)
    db.commit()
    archive, at = _as(app, ARCHIVIST)
    page = archive.get("/ho-so/bao-quan").get_data(as_text=True)
    assert "03.VP" in page and "01/03/2025" in page
    assert "01.TCCB" not in page and "02.TCCB" not in page
    # refused: a specialist, a permanent dossier, one not expired, another agency's
    keeper, kt = _as(app, KEEPER)
    resp = keeper.post("/ho-so/tieu-huy", data={"csrf_token": kt, "dossier_id": str(short.id),
                                                "reason": "x"})
    assert resp.status_code == 403
    assert "Bạn không có quyền thực hiện thao tác «Đề nghị tiêu hủy hồ sơ hết thời hạn bảo " \
           "quản" in resp.get_data(as_text=True)
    page = _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(year.dossier.id), reason="x")
    assert "Hồ sơ 01.TCCB có thời hạn bảo quản vĩnh viễn; không bao giờ được tiêu hủy." in page
    page = _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(year.other.id), reason="x")
    assert "Hồ sơ 02.TCCB chưa hết thời hạn bảo quản (20 năm, đến ngày 01/03/2040)" in page
    page = _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(bnv), reason="x")
    assert f"Không có hồ sơ mã {bnv} trong cơ quan của bạn" in page
    # a leader's hold stops the proposal
    leader, lt = _as(app, LEADER)
    page = _post(leader, lt, f"/ho-so/{short.id}/tam-giu", reason="Thanh tra tỉnh yêu cầu giữ")
    assert "Đã tạm giữ hồ sơ" in page and 'id="hold"' in page
    page = _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(short.id), reason="x")
    assert "Hồ sơ 03.VP đang bị tạm giữ theo yêu cầu pháp lý («Thanh tra tỉnh yêu cầu giữ»)" \
        in page
    page = _post(archive, at, f"/ho-so/{short.id}/bo-tam-giu", reason="Thanh tra đã kết luận")
    assert "Đã bỏ tạm giữ hồ sơ" in page
    page = _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(short.id),
                 reason="Hội đồng xác định giá trị tài liệu: hết giá trị")
    assert "Đã gửi đề nghị tiêu hủy" in page and "Chờ lãnh đạo quyết định" in page
    row = db.query(Destruction).one()
    # a hold set after the proposal blocks the decision
    _post(archive, at, f"/ho-so/{short.id}/tam-giu", reason="Tòa án yêu cầu cung cấp")
    page = _post(leader, lt, f"/ho-so/tieu-huy/{row.id}/duyet", decision="QĐ số 15/QĐ-UBND")
    assert "Hồ sơ 03.VP đang bị tạm giữ theo yêu cầu pháp lý («Tòa án yêu cầu cung cấp»)" in page
    _post(leader, lt, f"/ho-so/{short.id}/bo-tam-giu", reason="Tòa án đã trả")
    page = _post(leader, lt, f"/ho-so/tieu-huy/{row.id}/duyet",
                 decision="Quyết định số 15/QĐ-UBND ngày 04/12/2026")
    assert "Đã quyết định tiêu hủy; đã xóa 1 tệp" in page
    assert "Biên bản hồ sơ đã tiêu hủy" in page and "Sổ theo dõi công văn thường" in page
    assert item.sha256 in page and "Đã xóa tệp" in page
    assert "Quyết định số 15/QĐ-UBND ngày 04/12/2026" in page
    assert not blobs.exists(item.sha256)
    db.expire_all()
    assert short.status is DossierStatus.DESTROYED
    page = _post(leader, lt, f"/ho-so/tieu-huy/{row.id}/duyet", decision="QĐ 16")
    assert f"Đề nghị tiêu hủy số {row.id} đã được quyết định ngày" in page
    assert "không quyết định lại được" in page
    page = archive.get(f"/ho-so/{short.id}").get_data(as_text=True)
    assert "Đã tiêu hủy" in page and 'id="destroyed-by"' in page
    assert f"biên bản số {row.id}" in page
