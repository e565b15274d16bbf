from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.models import IncomingDocument
from ioffice.incoming.registration import today_vn
from tests.conftest import csrf_token, login
from tests.support.factories import department, doc_number, pdf


def _form(client: FlaskClient, **overrides: object) -> dict[str, object]:
    page = client.get("/van-ban-den/vao-so").get_data(as_text=True)
    submission = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/van-ban-den/vao-so"), "submission_id": submission,
        "issuer_name": "Bộ Nội vụ", "issuer_code": "000.00.00.G09",
        "number": doc_number(1000, 9000), "notation": "BNV-CCHC",
        "document_date": (today_vn() - dt.timedelta(days=1)).isoformat(), "doc_type": "cong_van",
        "subject": "Về việc báo cáo Chính phủ điện tử", "signer": "Trần Anh Tuấn",
        "urgency": "urgent", "confidentiality": "normal",
        "files": (io.BytesIO(pdf()), "cong-van-1234.pdf"),
    }
    data.update(overrides)
    return data


def _count(db: Session) -> int:
    return db.scalar(select(func.count(IncomingDocument.id)))


def test_clerk_registers_through_the_form_and_sees_the_document(client: FlaskClient,
                                                                 db: Session) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/van-ban-den/vao-so", data=_form(client), content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(resp.location).get_data(as_text=True)
    assert "Đã vào sổ văn bản đến số" in page
    assert "Về việc báo cáo Chính phủ điện tử" in page
    img = re.search(r'<img loading="lazy" src="([^"]+)"', page).group(1)
    png = client.get(img)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get(img).data == png.data  # served from the preview cache the second time
    assert "vào sổ văn bản đến" in page  # history timeline


def test_a_preview_answered_late_keeps_the_message_of_the_next_form(app: Flask,
                                                                    client: FlaskClient) -> None:
    """A page's lazy previews may answer after the browser posted a form from that page; their
    response must not put back the session as it was before the form (the message was lost)."""
    login(client, "vanthu.camau")
    first = client.post("/van-ban-den/vao-so", data=_form(client), content_type="multipart/form-data")
    page = client.get(first.location, headers={"Sec-Fetch-Dest": "document"}).get_data(as_text=True)
    img = re.search(r'<img loading="lazy" src="([^"]+)"', page).group(1)
    before_form = client.get_cookie("session").value
    second = client.post("/van-ban-den/vao-so", data=_form(client, number="77", notation="BNV-VP"),
                         content_type="multipart/form-data")
    assert second.status_code == 302
    late = app.test_client()  # the preview, requested with the cookie the page was loaded with
    late.set_cookie("session", before_form)
    png = late.get(img, headers={"Sec-Fetch-Dest": "image"})
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert "Set-Cookie" not in png.headers
    shown = client.get(second.location, headers={"Sec-Fetch-Dest": "document"})
    assert "Đã vào sổ văn bản đến số" in shown.get_data(as_text=True)
    assert "Set-Cookie" in shown.headers  # a page load still slides the session's expiry


def test_double_submit_of_the_form_creates_one_document(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    form = _form(client)
    before = _count(db)
    first = client.post("/van-ban-den/vao-so", data=dict(form), content_type="multipart/form-data")
    form["files"] = (io.BytesIO(pdf()), "cong-van-1234.pdf")
    second = client.post("/van-ban-den/vao-so", data=form, content_type="multipart/form-data")
    assert first.status_code == 302 and second.status_code == 302
    assert second.location == first.location
    assert _count(db) == before + 1
    assert "Biểu mẫu này đã được gửi" in client.get(second.location).get_data(as_text=True)


def test_bad_registration_keeps_the_input_and_explains(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    before = _count(db)
    form = _form(client, files=(io.BytesIO(b"not a pdf at all"), "scan.pdf"),
                 document_date=(today_vn() + dt.timedelta(days=3)).isoformat())
    resp = client.post("/van-ban-den/vao-so", data=form, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "không phải là PDF" in body and "không thể ở tương lai" in body
    assert 'value="Về việc báo cáo Chính phủ điện tử"' not in body  # textarea, not input
    assert "Về việc báo cáo Chính phủ điện tử</textarea>" in body
    assert _count(db) == before


def test_oversized_upload_is_refused_with_the_limit(app: Flask, client: FlaskClient,
                                                    db: Session) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    app.config["MAX_UPLOAD_MB"] = 0.2
    login(client, "vanthu.camau")
    before = _count(db)
    big = pdf() + b"%" + b"x" * (300 * 1024)
    resp = client.post("/van-ban-den/vao-so", data=_form(client, files=(io.BytesIO(big), "lon.pdf")),
                       content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "vượt quá giới hạn" in resp.get_data(as_text=True)
    assert _count(db) == before


def test_duplicate_warning_links_to_the_earlier_record(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    first = client.post("/van-ban-den/vao-so", data=_form(client, number="4321"),
                        content_type="multipart/form-data")
    resp = client.post("/van-ban-den/vao-so", data=_form(client, number="4321"),
                       content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "có thể đã được tiếp nhận" in body
    assert f'href="{first.location}"' in body
    confirmed = client.post("/van-ban-den/vao-so",
                            data=_form(client, number="4321", confirm_duplicate="1"),
                            content_type="multipart/form-data")
    assert confirmed.status_code == 302 and confirmed.location != first.location


def test_other_agency_gets_not_found_for_page_file_and_preview(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    location = client.post("/van-ban-den/vao-so", data=_form(client),
                           content_type="multipart/form-data").location
    page = client.get(location).get_data(as_text=True)
    download = re.search(r'href="(/van-ban-den/\d+/tep/\d+)"', page).group(1)
    preview = re.search(r'src="(/van-ban-den/\d+/tep/\d+/trang-1\.png\?r=\d+)"', page).group(1)
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "vanthu.uminh")
    for url in (location, download, preview):
        assert client.get(url).status_code == 404, url


def test_specialist_cannot_distribute_through_the_web(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    location = client.post("/van-ban-den/vao-so", data=_form(client),
                           content_type="multipart/form-data").location
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "chuyenvien.camau")
    token = csrf_token(client, location)
    resp = client.post(location + "/phan-phoi", data={"csrf_token": token,
                                                      "lead_target": "user:1"})
    assert resp.status_code == 403


def test_leader_distributes_and_register_exports_appendix_iv(client: FlaskClient,
                                                              db: Session) -> None:
    login(client, "vanthu.camau")
    location = client.post("/van-ban-den/vao-so", data=_form(client),
                           content_type="multipart/form-data").location
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login(client, "lanhdao.camau")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'data-count="to_distribute"><strong>[1-9]', home)
    from tests.support.factories import actor

    tttt = department(db, actor(db, "lanhdao.camau"), "TTTT")
    deadline = (today_vn() + dt.timedelta(days=7)).isoformat()
    resp = client.post(location + "/phan-phoi", data={
        "csrf_token": csrf_token(client, location), "lead_target": f"department:{tttt.id}",
        "lead_deadline": deadline, "instruction": "Giao Sở TTTT chủ trì."})
    assert resp.status_code == 302
    page = client.get(location).get_data(as_text=True)
    assert "Sở Thông tin và Truyền thông" in page and "Giao Sở TTTT chủ trì." in page
    xlsx = client.get(f"/van-ban-den/so.xlsx?nam={today_vn().year}")
    assert xlsx.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    headers = [c.value for c in ws[4]]
    assert headers == ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản",
                       "Tên loại và trích yếu nội dung văn bản", "Đơn vị hoặc người nhận",
                       "Ngày chuyển", "Ký nhận", "Ghi chú"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=6)]
    mine = [r for r in rows if r[5] == "Công văn: Về việc báo cáo Chính phủ điện tử"]
    assert mine and mine[-1][2] == "Bộ Nội vụ"
    assert mine[-1][6] == "Sở Thông tin và Truyền thông (chủ trì)"
    assert "Ủy ban nhân dân tỉnh Cà Mau".upper() == ws["A1"].value
    register_page = client.get("/van-ban-den/so").get_data(as_text=True)
    assert "Về việc báo cáo Chính phủ điện tử" in register_page


def test_specialist_cannot_open_the_register(client: FlaskClient) -> None:
    login(client, "chuyenvien.camau")
    assert client.get("/van-ban-den/so").status_code == 403
    assert client.get("/van-ban-den/so.xlsx").status_code == 403
    assert client.get("/van-ban-den/theo-doi").status_code == 403


def test_the_handler_can_start_a_reply_from_the_document(client: FlaskClient, db: Session,
                                                          blobs) -> None:
    from ioffice.incoming import handling
    from tests.support.factories import actor, register

    doc = register(db, blobs, actor(db, "vanthu.camau"))
    specialist = actor(db, "chuyenvien.camau")
    handling.distribute(db, actor(db, "lanhdao.camau"), doc.id, handling.DistributionInput(
        lead=handling.Target("user", specialist.user_id)))
    login(client, "chuyenvien.camau")
    page = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert f'href="/van-ban-di/moi?tra_loi={doc.id}"' in page
    assert client.get(f"/van-ban-di/moi?tra_loi={doc.id}").status_code == 200
