"""Incoming forms keep what was typed, and the file, after any error (issue 16, docs/forms.md)."""

from __future__ import annotations

import datetime as dt
import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.models import IncomingDocument
from ioffice.incoming.registration import today_vn
from signing.demo import make_text_pdf
from tests.conftest import csrf_token, login
from tests.incoming.test_web import _form
from tests.support.factories import actor, department, pdf

HELD = re.compile(r'name="held" value="([0-9a-f]{32})"')


def _count(db: Session) -> int:
    return db.scalar(select(func.count(IncomingDocument.id)))


def _post(client: FlaskClient, data: dict) -> tuple[int, str]:
    resp = client.post("/van-ban-den/vao-so", data=data, content_type="multipart/form-data")
    return resp.status_code, resp.get_data(as_text=True)


def test_a_refused_registration_keeps_every_field_and_holds_the_file(client: FlaskClient,
                                                                     db: Session) -> None:
    login(client, "vanthu.camau")
    day = today_vn() - dt.timedelta(days=3)
    form = _form(client, document_date=day.strftime("%d/%m/%Y"), notes="Ghi chú giữ lại",
                 due_date=(day - dt.timedelta(days=1)).strftime("%d/%m/%Y"),
                 files=(io.BytesIO(make_text_pdf(["Trang một", "Trang hai"])), "cong-van-giu.pdf"))
    before = _count(db)
    status, page = _post(client, form)
    assert status == 422
    assert "Hạn xử lý không thể trước ngày văn bản." in page
    for field in ("Bộ Nội vụ", "000.00.00.G09", form["number"], "BNV-CCHC", "Trần Anh Tuấn",
                  "Về việc báo cáo Chính phủ điện tử", "Ghi chú giữ lại",
                  day.strftime("%d/%m/%Y")):
        assert field in page, field
    assert re.search(r'<option value="cong_van"\s*selected', page)
    assert re.search(r'<option value="urgent"\s*selected', page)
    assert "Đã giữ tệp «cong-van-giu.pdf» (2 trang); không cần chọn lại" in page
    token = HELD.search(page).group(1)
    # sent again with the deadline fixed and no file chosen: the held file is registered
    again = {k: v for k, v in form.items() if k != "files"}
    again.update(due_date="", held=token, csrf_token=csrf_token(client, "/van-ban-den/vao-so"))
    resp = client.post("/van-ban-den/vao-so", data=again, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    doc = db.scalars(select(IncomingDocument).order_by(IncomingDocument.id.desc())).first()
    assert _count(db) == before + 1
    assert [f.filename for f in doc.files] == ["cong-van-giu.pdf"] and doc.files[0].page_count == 2
    assert doc.document_date == day


def test_every_error_of_the_form_is_listed_at_once(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    status, page = _post(client, _form(client, subject="", issuer_name="", document_date="31/02/2026",
                                       page_count="nhiều"))
    assert status == 422
    for message in ("Chưa nhập cơ quan ban hành.", "Chưa nhập trích yếu nội dung.",
                    "Ngày văn bản «31/02/2026» không phải là ngày hợp lệ", "Số trang phải là số."):
        assert message in page, message
    assert "31/02/2026" in page and 'value="nhiều"' in page


def test_a_held_file_answers_only_its_own_user(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    _status, page = _post(client, _form(client, subject=""))
    token = HELD.search(page).group(1)
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "vanthu.uminh")
    data = {k: v for k, v in _form(client).items() if k != "files"}
    data["held"] = token
    status, page = _post(client, data)
    assert status == 422
    assert "Tệp đã giữ từ lần gửi trước đã hết hạn hoặc không còn" in page
    assert "Đã giữ tệp" not in page


def test_a_held_file_expires(app: Flask, client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    _status, page = _post(client, _form(client, subject=""))
    token = HELD.search(page).group(1)
    app.config["HELD_UPLOAD_HOURS"] = 0
    data = {k: v for k, v in _form(client).items() if k != "files"}
    status, page = _post(client, {**data, "held": token})
    assert status == 422 and "đã hết hạn" in page


def test_an_oversize_upload_answers_with_the_form_and_its_fields(app: Flask, client: FlaskClient,
                                                                 db: Session) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    app.config["MAX_UPLOAD_MB"] = 0.2
    login(client, "vanthu.camau")
    before = _count(db)
    big = pdf() + b"%" + b"x" * (300 * 1024)
    status, page = _post(client, _form(client, subject="Trích yếu dài giữ lại",
                                       files=(io.BytesIO(big), "lon.pdf")))
    assert status == 413
    assert "vượt quá giới hạn 0.2 MB" in page
    assert 'name="issuer_name" value="Bộ Nội vụ"' in page
    assert "Trích yếu dài giữ lại" in page and 'name="submission_id"' in page
    assert _count(db) == before


def _registered(client: FlaskClient) -> str:
    return client.post("/van-ban-den/vao-so", data=_form(client),
                       content_type="multipart/form-data").location


def test_a_refused_distribution_keeps_every_field(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    location = _registered(client)
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "lanhdao.camau")
    tttt = department(db, actor(db, "lanhdao.camau"), "TTTT")
    early = (today_vn() - dt.timedelta(days=30)).strftime("%d/%m/%Y")
    resp = client.post(location + "/phan-phoi", data={
        "csrf_token": csrf_token(client, location), "lead_target": f"department:{tttt.id}",
        "lead_deadline": early, "co_targets": [f"department:{tttt.id}"],
        "info_targets": [f"department:{tttt.id}"], "instruction": "Chỉ đạo không được mất"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "không thể" in page  # the deadline before the document's date, named
    assert "Chỉ đạo không được mất" in page and early in page
    assert re.search(rf'value="department:{tttt.id}"\s*selected', page)
    assert len(re.findall(rf'name="co_targets" value="department:{tttt.id}"\s*checked', page)) == 1
    assert len(re.findall(rf'name="info_targets" value="department:{tttt.id}"\s*checked', page)) == 1


def test_a_refused_assignment_action_keeps_what_was_typed(client: FlaskClient,
                                                           db: Session) -> None:
    login(client, "vanthu.camau")
    location = _registered(client)
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "lanhdao.camau")
    me = actor(db, "lanhdao.camau")
    client.post(location + "/phan-phoi", data={
        "csrf_token": csrf_token(client, location), "lead_target": f"user:{me.user_id}"})
    page = client.get(location).get_data(as_text=True)
    assignment = re.search(r'/phan-cong/(\d+)/gia-han', page).group(1)
    resp = client.post(f"/van-ban-den/phan-cong/{assignment}/gia-han", data={
        "csrf_token": csrf_token(client, location), "new_deadline": "40/13/2026",
        "reason": "Lý do xin gia hạn giữ lại"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Hạn mới «40/13/2026» không phải là ngày hợp lệ" in page
    assert 'value="Lý do xin gia hạn giữ lại"' in page and 'value="40/13/2026"' in page
    assert "<details class=\"actions\" open>" in page


def test_dates_are_entered_and_shown_as_day_month_year(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/van-ban-den/vao-so", data=_form(client, document_date="1/2/2026"),
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    doc = db.scalars(select(IncomingDocument).order_by(IncomingDocument.id.desc())).first()
    assert doc.document_date == dt.date(2026, 2, 1)
    page = client.get(resp.location).get_data(as_text=True)
    assert "01/02/2026" in page
    form = client.get("/van-ban-den/vao-so").get_data(as_text=True)
    assert 'type="date"' not in form and 'placeholder="dd/mm/yyyy"' in form


def test_a_refused_registration_of_a_received_document_keeps_the_corrections(
        client: FlaskClient, db: Session) -> None:
    from ioffice.incoming.models import DocumentStatus, Source

    clerk = actor(db, "vanthu.camau")
    doc = IncomingDocument(agency_id=clerk.agency_id, status=DocumentStatus.AWAITING_REGISTRATION,
                           source=Source.AXIS, issuer_name="Sở Tài chính", issuer_code="000.00.10.H12",
                           number="902", notation="STC-NS", number_notation="902/STC-NS",
                           document_date=today_vn() - dt.timedelta(days=1), doc_type="cong_van",
                           subject="Về dự toán ngân sách", document_identifier="000.00.10.H12,902")
    db.add(doc)
    db.commit()
    login(client, "vanthu.camau")
    page = f"/van-ban-den/{doc.id}"
    shown = client.get(page).get_data(as_text=True)
    assert (today_vn() - dt.timedelta(days=1)).strftime("%d/%m/%Y") in shown  # not ISO
    resp = client.post(f"{page}/vao-so", data={
        "csrf_token": csrf_token(client, page), "issuer_name": "Sở Tài chính",
        "issuer_code": "000.00.10.H12", "number": "902", "notation": "STC-NS",
        "document_date": "05/13/2026", "doc_type": "cong_van", "subject": "",
        "signer": "Người ký đã sửa", "urgency": "normal", "confidentiality": "normal"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Ngày văn bản «05/13/2026» không phải là ngày hợp lệ" in html
    assert "Chưa nhập trích yếu nội dung." in html
    assert 'value="Người ký đã sửa"' in html and 'value="05/13/2026"' in html
    db.refresh(doc)
    assert doc.status is DocumentStatus.AWAITING_REGISTRATION
