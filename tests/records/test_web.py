"""The records pages: a year walked through the forms (list, dossier, filing from the document
page, closing, hand-over signed by both sides, exports), and each refused input's message."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.demo import DEMO_PIN
from ioffice.incoming.registration import today_vn
from ioffice.records.models import Dossier, DossierStatus, FileList, Handover, HandoverStatus
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER
from tests.support.factories import actor, register, user_id


def _as(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client, csrf_token(client, "/ho-so/")


def _post(client: FlaskClient, token: str, path: str, **data) -> str:
    """POST, follow the redirect, return the page (with its flashed message)."""
    resp = client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def test_a_year_through_the_pages(app: Flask, db: Session, blobs: BlobStore, keeper_key) -> None:
    year = today_vn().year
    clerk, ct = _as(app, CLERK)
    page = _post(clerk, ct, "/ho-so/danh-muc", year=str(year))
    assert "Đã lập danh mục hồ sơ" in page
    flist = db.scalars(select(FileList).where(FileList.year == year,
                                              FileList.agency_id == actor(db, CLERK).agency_id)
                       ).one()
    page = _post(clerk, ct, f"/ho-so/danh-muc/{flist.id}/de-muc", title="Tổ chức, cán bộ",
                 code="TCCB")
    db.expire_all()
    heading = flist.headings[0]
    page = _post(clerk, ct, f"/ho-so/danh-muc/{flist.id}/ho-so", heading_id=str(heading.id),
                 number="1", title="Hồ sơ tuyển dụng công chức", retention="Vĩnh viễn",
                 keeper_id=str(user_id(db, KEEPER)), year=str(year))
    assert "Đã thêm hồ sơ vào danh mục" in page and "01.TCCB" in page
    assert "I. TỔ CHỨC, CÁN BỘ" in page
    # the same symbol again, and a stale form of another year
    page = _post(clerk, ct, f"/ho-so/danh-muc/{flist.id}/ho-so", heading_id=str(heading.id),
                 number="01", title="Trùng", retention="5", keeper_id=str(user_id(db, KEEPER)))
    assert f"Số và ký hiệu hồ sơ «01.TCCB» đã có trong danh mục năm {year}" in page
    page = _post(clerk, ct, f"/ho-so/danh-muc/{flist.id}/ho-so", heading_id=str(heading.id),
                 number="3", title="Khác", retention="5", keeper_id=str(user_id(db, KEEPER)),
                 year=str(year - 1))
    assert f"Hồ sơ thuộc danh mục năm {year}, không phải năm «{year - 1}»" in page
    page = _post(clerk, ct, "/ho-so/danh-muc", year="1999")
    assert "Năm «1999» không hợp lệ" in page
    leader, lt = _as(app, LEADER)
    page = _post(leader, lt, f"/ho-so/danh-muc/{flist.id}/phe-duyet",
                 decision="Quyết định số 12/QĐ-UBND")
    assert "Đã phê duyệt danh mục hồ sơ" in page
    # exports of the list (form II): XLSX and PDF
    resp = clerk.get(f"/ho-so/danh-muc/{flist.id}.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert f"DANH MỤC HỒ SƠ NĂM {year} (Kèm theo Quyết định số 12/QĐ-UBND)" in values
    assert "01.TCCB" in values and "Vĩnh viễn" in values and "I. TỔ CHỨC, CÁN BỘ" in values
    resp = clerk.get(f"/ho-so/danh-muc/{flist.id}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")

    dossier = db.scalars(select(Dossier).where(Dossier.list_id == flist.id)).one()
    keeper, kt = _as(app, KEEPER)
    page = _post(keeper, kt, f"/ho-so/{dossier.id}/ket-thuc", end=today_vn().isoformat(),
                 pages="3")
    assert "việc này chỉ làm được khi hồ sơ «Đang lập»" in page
    page = _post(keeper, kt, f"/ho-so/{dossier.id}/mo", start=today_vn().isoformat())
    assert "Đã mở hồ sơ" in page
    page = _post(keeper, kt, f"/ho-so/{dossier.id}/ket-thuc", end=today_vn().isoformat(),
                 pages="3")
    assert "không kết thúc được một hồ sơ rỗng" in page
    # filing from the document page
    doc = register(db, blobs, actor(db, CLERK), subject="Về việc tuyển dụng công chức năm nay")
    db.commit()
    page = keeper.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert 'id="file-into"' in page and "01.TCCB" in page
    page = _post(keeper, kt, "/ho-so/lap-ho-so", dossier_id=str(dossier.id), kind="incoming",
                 document_id=str(doc.id), next=f"/van-ban-den/{doc.id}")
    assert "Đã đưa văn bản vào hồ sơ" in page and 'id="held-in"' in page
    page = _post(keeper, kt, "/ho-so/lap-ho-so", dossier_id=str(dossier.id), kind="incoming",
                 document_id=str(doc.id), next=f"/van-ban-den/{doc.id}")
    assert f"Văn bản {doc.number_notation} đã có trong hồ sơ 01.TCCB" in page
    bnv_doc = register(db, blobs, actor(db, "vanthu.bnv"))
    db.commit()
    page = _post(keeper, kt, "/ho-so/lap-ho-so", dossier_id=str(dossier.id), kind="incoming",
                 document_id=str(bnv_doc.id), next=f"/ho-so/{dossier.id}")
    assert f"Không có văn bản đến mã {bnv_doc.id} trong cơ quan của bạn" in page
    resp = keeper.post(f"/ho-so/{dossier.id}/tai-lieu", data={
        "csrf_token": kt, "title": "Ảnh buổi thi tuyển",
        "file": (io.BytesIO(b"JPEGDATA"), "anh-thi-tuyen.jpg")}, follow_redirects=True)
    assert "Đã thêm tài liệu vào hồ sơ" in resp.get_data(as_text=True)
    page = _post(keeper, kt, f"/ho-so/{dossier.id}/ghi-chu", text="Còn chờ biên bản họp.")
    assert "Còn chờ biên bản họp." in page
    # the table of contents (form IV), page and XLSX
    assert doc.number_notation in page and "Công văn: Về việc tuyển dụng" in page
    ws = load_workbook(io.BytesIO(keeper.get(f"/ho-so/{dossier.id}/muc-luc.xlsx").data)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "MỤC LỤC VĂN BẢN, TÀI LIỆU" in values and doc.number_notation in values
    # search, without diacritics
    page = keeper.get("/ho-so/tim?q=TUYEN+DUNG+cong+chuc").get_data(as_text=True)
    assert "01.TCCB" in page
    page = keeper.get("/tim-kiem?q=tuyen+dung+cong+chuc").get_data(as_text=True)
    assert 'id="dossier-results"' in page and "01.TCCB" in page
    # hand over: an open dossier is refused, then closed, signed by both sides
    page = _post(keeper, kt, "/ho-so/nop-luu", dossier_id=str(dossier.id))
    assert "Hồ sơ 01.TCCB đang ở trạng thái «Đang lập»; chỉ nộp lưu được hồ sơ đã kết thúc" in page
    page = _post(keeper, kt, f"/ho-so/{dossier.id}/ket-thuc", end=today_vn().isoformat(),
                 pages="4")
    assert "Đã kết thúc hồ sơ" in page
    page = _post(keeper, kt, "/ho-so/nop-luu", dossier_id=str(dossier.id))
    assert "Đã lập biên bản giao nhận" in page
    handover = db.scalars(select(Handover).where(Handover.keeper_id == user_id(db, KEEPER))
                          ).one()
    page = _post(keeper, kt, f"/ho-so/nop-luu/{handover.id}/ky", pin="999999")
    assert re.search(r"PIN", page) and "Chờ bên giao ký" in page
    page = _post(keeper, kt, f"/ho-so/nop-luu/{handover.id}/ky", pin=DEMO_PIN)
    assert "Đã ký biên bản và nộp lưu" in page
    archive, at = _as(app, ARCHIVIST)
    assert archive.post(f"/ho-so/{dossier.id}/ghi-chu",
                        data={"csrf_token": at, "text": "x"}).status_code == 403
    page = _post(archive, at, f"/ho-so/nop-luu/{handover.id}/nhan", pin=DEMO_PIN)
    assert "Lưu trữ cơ quan đã nhận hồ sơ" in page and "Lưu trữ đã nhận" in page
    db.expire_all()
    assert handover.status is HandoverStatus.ACCEPTED
    assert dossier.status is DossierStatus.ARCHIVED
    pdf = archive.get(f"/ho-so/nop-luu/{handover.id}/bien-ban.pdf")
    # both sides' signatures and the document timestamp (B-LTA: the web passes the TSA policy)
    assert pdf.status_code == 200 and pdf.data.count(b"/ByteRange") == 3


def test_other_agencies_and_roles_see_nothing(app: Flask, db: Session) -> None:
    from tests.records.conftest import make_year

    year = make_year(db)
    db.commit()
    outsider, _ = _as(app, "vanthu.bnv")
    assert outsider.get(f"/ho-so/{year.dossier.id}").status_code == 404
    assert outsider.get(f"/ho-so/danh-muc/{year.file_list.id}.xlsx").status_code == 404
    head, ht = _as(app, "truongphong.camau")
    assert head.get(f"/ho-so/{year.dossier.id}").status_code == 404
    assert head.post(f"/ho-so/danh-muc/{year.file_list.id}/phe-duyet",
                     data={"csrf_token": ht}).status_code == 403
    assert "01.TCCB" in head.get("/ho-so/?nam=2026").get_data(as_text=True)


def test_the_package_is_exported_and_imported_through_the_pages(
        app: Flask, db: Session, blobs: BlobStore) -> None:
    from tests.records.conftest import TODAY, make_year

    year = make_year(db)
    keeper = actor(db, KEEPER)
    from ioffice.records import service as records

    records.open_dossier(db, keeper, year.dossier.id, "2026-02-01", TODAY)
    records.add_file(db, blobs, keeper, year.dossier.id, "Tài liệu", "a.pdf", b"%PDF-1.4 x")
    client, _ = _as(app, KEEPER)
    db.commit()
    page = client.get(f"/ho-so/{year.dossier.id}/goi.zip", follow_redirects=True)
    assert "chỉ xuất gói hồ sơ điện tử được hồ sơ đã kết thúc" in page.get_data(as_text=True)
    records.close_dossier(db, keeper, year.dossier.id, "2026-11-30", "2", TODAY)
    db.commit()
    resp = client.get(f"/ho-so/{year.dossier.id}/goi.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    archive, at = _as(app, ARCHIVIST)
    resp = archive.post("/ho-so/nhap-goi", data={
        "csrf_token": at, "file": (io.BytesIO(resp.data), "ho-so.zip")}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Đã nhập gói hồ sơ" in page and "01.TCCB" in page
    resp = archive.post("/ho-so/nhap-goi", data={
        "csrf_token": at, "file": (io.BytesIO(b"not a zip"), "x.zip")}, follow_redirects=True)
    assert "Gói hồ sơ không hợp lệ, chưa được nhập: tệp không phải tệp ZIP." in resp.get_data(
        as_text=True)
    assert client.get("/ho-so/nhap-goi").status_code == 403
    # the restored dossier: read by the archive and the leaders, its file byte for byte
    from ioffice.records.models import ImportedPackage

    row = db.scalars(select(ImportedPackage)).one()
    page = archive.get(f"/ho-so/da-nhap/{row.id}").get_data(as_text=True)
    assert "Hồ sơ lưu trữ nhập từ gói hồ sơ điện tử của cơ quan mã 000.00.00.H12" in page
    assert "Hồ sơ chỉ để đọc." in page and "a.pdf" in page and "Vĩnh viễn" in page
    resp = archive.get(f"/ho-so/da-nhap/{row.id}/van-ban/1/1")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4 x"
    leader, _ = _as(app, LEADER)
    assert f"/ho-so/da-nhap/{row.id}" in leader.get("/ho-so/da-nhap").get_data(as_text=True)
    assert "Hồ sơ nhập từ hệ thống khác" in leader.get(
        "/ho-so/tim?q=tuyen+dung").get_data(as_text=True)
    assert client.get(f"/ho-so/da-nhap/{row.id}").status_code == 404
    assert client.get(f"/ho-so/da-nhap/{row.id}/van-ban/1/1").status_code == 404
    assert archive.get(f"/ho-so/da-nhap/{row.id}/van-ban/1/2").status_code == 404
    # the same package again
    resp = archive.post("/ho-so/nhap-goi", data={
        "csrf_token": at, "file": (io.BytesIO(blobs.read_bytes(row.sha256)), "lai.zip")},
        follow_redirects=True)
    assert "Hồ sơ 01.TCCB năm 2026 của cơ quan 000.00.00.H12 đã được nhập lúc " in \
        resp.get_data(as_text=True)
