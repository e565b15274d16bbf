"""The list page's edits (issue 22): a draft's heading and dossier corrected, an empty heading
removed, the refusals shown on the page; a dossier added to the approved list by its keeper,
shown as an addition on the page and in form II."""

from __future__ import annotations

import datetime as dt
import io

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.records import retention
from ioffice.records.models import Dossier, DossierStatus
from ioffice.storage import BlobStore
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, make_year
from tests.records.test_retention import expired_year
from tests.records.test_web import _as, _post
from tests.support.factories import actor, user_id


def test_the_office_corrects_a_draft_list(app: Flask, db: Session) -> None:
    year = make_year(db, 2026, approve=False)
    db.commit()
    flist = year.file_list
    vp = next(h for h in flist.headings if h.code == "VP")
    top = next(h for h in flist.headings if h.code == "TCCB")
    clerk, ct = _as(app, CLERK)
    page = clerk.get("/ho-so/?nam=2026").get_data(as_text=True)
    assert "Sửa đề mục" in page and "Sửa hồ sơ" in page and "Xóa đề mục" in page
    base = f"/ho-so/danh-muc/{flist.id}"
    page = _post(clerk, ct, f"{base}/de-muc/{vp.id}/sua", title="Văn phòng Ủy ban", code="VP",
                 order="1")
    assert "Đã sửa đề mục." in page
    assert page.index("I. VĂN PHÒNG ỦY BAN") < page.index("II. TỔ CHỨC, CÁN BỘ")
    page = _post(clerk, ct, f"{base}/ho-so/{year.other.id}/sua", heading_id=str(vp.id),
                 number="1", title="Sổ theo dõi công văn", retention="10",
                 keeper_id=str(user_id(db, KEEPER)), year="2026")
    assert "Đã sửa hồ sơ trong danh mục." in page and 'data-symbol="01.VP"' in page
    page = _post(clerk, ct, f"{base}/ho-so/{year.other.id}/sua", heading_id=str(top.id),
                 number="1", title="Trùng", retention="10", keeper_id=str(user_id(db, KEEPER)))
    assert "Số và ký hiệu hồ sơ «01.TCCB» đã có trong danh mục năm 2026; hãy chọn số khác." \
        in page
    page = _post(clerk, ct, f"{base}/de-muc/{vp.id}/xoa")
    assert ("Đề mục «I. Văn phòng Ủy ban» còn 1 hồ sơ (01.VP); hãy chuyển các hồ sơ đó sang đề "
            "mục khác hoặc bỏ chúng khỏi danh mục trước khi xóa đề mục.") in page
    _post(clerk, ct, f"{base}/ho-so/{year.other.id}/xoa")
    page = _post(clerk, ct, f"{base}/de-muc/{vp.id}/xoa")
    assert "Đã xóa đề mục khỏi danh mục." in page and "VĂN PHÒNG" not in page
    assert "I. TỔ CHỨC, CÁN BỘ" in page
    # the keeper may not edit the list (403), another agency does not see it (404)
    keeper, kt = _as(app, KEEPER)
    assert keeper.post(f"{base}/de-muc/{top.id}/sua", data={"csrf_token": kt, "title": "X"}
                       ).status_code == 403
    outsider, ot = _as(app, "vanthu.bnv")
    assert outsider.post(f"{base}/de-muc/{top.id}/sua", data={"csrf_token": ot, "title": "X"}
                         ).status_code == 404
    # approved: the edit forms are gone, and a stale form is refused with the reason
    leader, lt = _as(app, LEADER)
    _post(leader, lt, f"{base}/phe-duyet", decision="QĐ 1")
    page = clerk.get("/ho-so/?nam=2026").get_data(as_text=True)
    assert "Sửa đề mục" not in page and "Sửa hồ sơ" not in page
    page = _post(clerk, ct, f"{base}/de-muc/{top.id}/sua", title="Khác")
    assert "Danh mục hồ sơ năm 2026 đã được phê duyệt; không sửa được nữa" in page


def test_the_keeper_adds_a_dossier_to_the_approved_list(app: Flask, db: Session) -> None:
    year = make_year(db, 2026)
    db.commit()
    flist = year.file_list
    vp = next(h for h in flist.headings if h.code == "VP")
    keeper, kt = _as(app, KEEPER)
    page = keeper.get("/ho-so/?nam=2026").get_data(as_text=True)
    assert "Bổ sung hồ sơ vào danh mục" in page
    form = dict(heading_id=str(vp.id), number="3", title="Hồ sơ hội nghị tổng kết",
                retention="10", keeper_id=str(user_id(db, KEEPER)), year="2026",
                start="2026-02-10")
    page = _post(keeper, kt, f"/ho-so/danh-muc/{flist.id}/bo-sung", **form)
    assert "Đã bổ sung hồ sơ vào danh mục." in page
    assert "Danh mục hồ sơ này có 3 hồ sơ" in page and "(trong đó 1 hồ sơ bổ sung sau khi phê " \
        "duyệt)" in page
    row = page[page.index('data-symbol="03.VP"'):]
    assert "Bổ sung ngày " in row[:row.index("</tr>")]
    added = db.scalars(select(Dossier).where(Dossier.list_id == flist.id,
                                             Dossier.symbol == "03.VP")).one()
    assert added.status is DossierStatus.OPEN and added.start_date.isoformat() == "2026-02-10"
    page = _post(keeper, kt, f"/ho-so/danh-muc/{flist.id}/bo-sung", **form)
    assert "Số và ký hiệu hồ sơ «03.VP» đã có trong danh mục năm 2026" in page
    page = _post(keeper, kt, f"/ho-so/danh-muc/{flist.id}/bo-sung",
                 **{**form, "number": "4", "keeper_id": str(user_id(db, "truongphong.camau"))})
    assert "Bạn chỉ bổ sung được hồ sơ do chính mình lập" in page
    data = keeper.get(f"/ho-so/danh-muc/{flist.id}.xlsx").data
    rows = {r[0]: r for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
            if r[0]}
    assert rows["03.VP"][4].startswith("Bổ sung ngày ")


def test_the_destruction_forms_download(app: Flask, db: Session, blobs: BlobStore) -> None:
    _year, short, _doc, _item = expired_year(db, blobs)
    later = dt.date(2032, 1, 1)
    row = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", later)
    db.commit()
    leader, _lt = _as(app, LEADER)
    resp = leader.get(f"/ho-so/tieu-huy/{row.id}/bien-ban-huy.pdf")
    assert resp.status_code == 400
    assert f"Đề nghị tiêu hủy số {row.id} chưa được quyết định tiêu hủy" in resp.get_data(
        as_text=True)
    retention.approve(db, actor(db, LEADER), row.id, "Quyết định số 5/QĐ-UBND", later)
    db.commit()
    page = leader.get(f"/ho-so/tieu-huy/{row.id}").get_data(as_text=True)
    assert f"/ho-so/tieu-huy/{row.id}/bien-ban-huy.pdf" in page
    resp = leader.get(f"/ho-so/tieu-huy/{row.id}/bien-ban-huy.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    assert f"bien-ban-huy-tai-lieu-{row.id}.pdf" in resp.headers["Content-Disposition"]
    keeper, _kt = _as(app, KEEPER)
    assert keeper.get(f"/ho-so/tieu-huy/{row.id}/bien-ban-huy.pdf").status_code == 403
