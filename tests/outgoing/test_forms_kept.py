"""The outgoing forms keep what was typed, and the file, after any error (issue 16)."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.outgoing.models import OutgoingDocument
from tests.conftest import csrf_token
from tests.outgoing.conftest import pdf_bytes
from tests.support.factories import actor, department, user_id

HELD = re.compile(r'name="held" value="([0-9a-f]{32})"')


def _count(db: Session) -> int:
    return db.scalar(select(func.count(OutgoingDocument.id)))


def _draft(client: FlaskClient, db: Session, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/van-ban-di/moi"), "doc_type": "cong_van",
        "subject": "Về việc giữ dữ liệu biểu mẫu", "signer_id": str(user_id(db, "lanhdao.camau")),
        "urgency": "urgent", "due_date": "15/01/2027", "copies": "3", "notes": "Ghi chú dự thảo",
        "agency_codes": ["000.00.00.G09"], "file": (io.BytesIO(pdf_bytes()), "du-thao-giu.pdf")}
    data.update(overrides)
    return data


def test_a_refused_draft_keeps_its_fields_and_file(db: Session, client: FlaskClient,
                                                   login_as) -> None:
    login_as("chuyenvien.camau")
    kt = department(db, actor(db, "chuyenvien.camau"), "KT")
    before = _count(db)
    resp = client.post("/van-ban-di/moi", data=_draft(client, db, signer_id=""),
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Chưa chọn người ký." in page
    for kept in ("Về việc giữ dữ liệu biểu mẫu", "15/01/2027", 'value="3"', "Ghi chú dự thảo"):
        assert kept in page, kept
    assert re.search(r'<option value="000.00.00.G09"[^>]*selected', page)
    assert re.search(r'<option value="urgent"\s*selected', page)
    assert "Đã giữ tệp «du-thao-giu.pdf» (2 trang); không cần chọn lại" in page
    token = HELD.search(page).group(1)
    again = _draft(client, db, department_ids=[str(kt.id)], held=token)
    del again["file"]
    resp = client.post("/van-ban-di/moi", data=again, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _count(db) == before + 1


def test_every_error_of_the_draft_is_listed_at_once(db: Session, client: FlaskClient,
                                                    login_as) -> None:
    login_as("chuyenvien.camau")
    data = _draft(client, db, subject="", signer_id="", due_date="32/01/2027", agency_codes=[])
    del data["file"]
    resp = client.post("/van-ban-di/moi", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for message in ("Chưa nhập trích yếu nội dung.", "Chưa chọn người ký.", "Chưa chọn nơi nhận",
                    "Hạn trả lời «32/01/2027» không phải là ngày hợp lệ",
                    "Chưa chọn tệp dự thảo (PDF hoặc DOCX)."):
        assert message in page, message


def test_an_oversize_draft_answers_with_the_form(app: Flask, db: Session, client: FlaskClient,
                                                 login_as) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    app.config["MAX_UPLOAD_MB"] = 0.1
    login_as("chuyenvien.camau")
    big = pdf_bytes() + b"%" + b"x" * (200 * 1024)
    resp = client.post("/van-ban-di/moi", data=_draft(client, db, file=(io.BytesIO(big), "lon.pdf")),
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "vượt quá giới hạn 0.1 MB" in page
    assert "Về việc giữ dữ liệu biểu mẫu" in page and "Ghi chú dự thảo" in page
    assert re.search(r'<option value="000.00.00.G09"[^>]*selected', page)


def test_a_refused_version_keeps_its_note(db: Session, client: FlaskClient, login_as) -> None:
    login_as("chuyenvien.camau")
    kt = department(db, actor(db, "chuyenvien.camau"), "KT")
    created = client.post("/van-ban-di/moi", data=_draft(client, db, department_ids=[str(kt.id)]),
                          content_type="multipart/form-data")
    page = created.location
    resp = client.post(page + "/phien-ban", data={
        "csrf_token": csrf_token(client, page), "note": "Sửa theo góp ý của phòng",
        "file": (io.BytesIO(b"not a pdf at all"), "hong.pdf")}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "không phải là PDF" in html
    assert 'value="Sửa theo góp ý của phòng"' in html


def test_an_oversize_version_answers_with_the_page_and_its_note(app: Flask, db: Session,
                                                                client: FlaskClient,
                                                                login_as) -> None:
    login_as("chuyenvien.camau")
    kt = department(db, actor(db, "chuyenvien.camau"), "KT")
    page = client.post("/van-ban-di/moi", data=_draft(client, db, department_ids=[str(kt.id)]),
                       content_type="multipart/form-data").location
    token = csrf_token(client, page)
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    app.config["MAX_UPLOAD_MB"] = 0.1
    big = pdf_bytes() + b"%" + b"x" * (200 * 1024)
    resp = client.post(page + "/phien-ban", data={
        "csrf_token": token, "note": "Bản sửa lần hai",
        "file": (io.BytesIO(big), "lon.pdf")}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "vượt quá giới hạn 0.1 MB" in html and 'value="Bản sửa lần hai"' in html
    assert 'id="upload"' in html  # the document page, not a bare error page
