from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Department, User
from ioffice.audit.models import AuditEvent
from tests.conftest import csrf_token, login


def test_clerk_logs_in_and_sees_the_clerk_home(client: FlaskClient) -> None:
    resp = login(client, "vanthu.camau")
    assert resp.status_code == 302 and resp.location == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Trần Thị Ngọc Hân" in home
    assert 'data-role="clerk"' in home and 'data-role="leader"' not in home
    assert "Ủy ban nhân dân tỉnh Cà Mau" in home


def test_pages_need_login(client: FlaskClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 302 and resp.location.startswith("/dang-nhap")


def test_wrong_password_is_refused_in_vietnamese(client: FlaskClient, db: Session) -> None:
    resp = login(client, "vanthu.camau", "sai-mat-khau")
    assert resp.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out
    failed = db.scalar(select(func.count()).select_from(AuditEvent)
                       .where(AuditEvent.tag == "auth:session:login-failed"))
    assert failed == 1


def test_many_wrong_passwords_lock_even_the_right_one(client: FlaskClient) -> None:
    for _ in range(5):
        assert login(client, "lanhdao.camau", "sai-mat-khau").status_code == 401
    resp = login(client, "lanhdao.camau")
    assert resp.status_code == 429
    assert "tạm khóa" in resp.get_data(as_text=True)


def test_post_without_csrf_token_is_refused_and_changes_nothing(client: FlaskClient,
                                                                 db: Session) -> None:
    login(client, "vanthu.camau")
    before = db.scalar(select(func.count(Department.id)))
    resp = client.post("/quan-tri/phong-ban", data={"name": "Phòng Mới", "short_name": "PM"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    assert db.scalar(select(func.count(Department.id))) == before


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    resp = client.post("/dang-nhap", data={"username": "vanthu.camau", "password": "x"})
    assert resp.status_code == 400


def test_specialist_cannot_open_admin_pages(client: FlaskClient) -> None:
    login(client, "chuyenvien.camau")
    assert client.get("/quan-tri/nguoi-dung").status_code == 403
    token = csrf_token(client, "/")
    resp = client.post("/quan-tri/phong-ban", data={"csrf_token": token, "name": "X",
                                                   "short_name": "X"})
    assert resp.status_code == 403


def test_admin_creates_a_user_in_own_agency(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/quan-tri/nguoi-dung")
    dept = db.scalars(select(Department).join(Department.agency)
                      .where(Department.short_name == "TTTT")).one()
    resp = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": token, "username": "moi.camau", "full_name": "Đinh Thị Ánh",
        "position_title": "Chuyên viên", "password": "mat-khau-dai", "roles": ["specialist"],
        "department_id": str(dept.id)})
    assert resp.status_code == 302
    user = db.scalars(select(User).where(User.username == "moi.camau")).one()
    assert user.memberships[0].department_id == dept.id
    assert "Đinh Thị Ánh" in client.get("/quan-tri/nguoi-dung").get_data(as_text=True)


def test_admin_cannot_place_a_user_in_another_agencys_department(client: FlaskClient,
                                                                 db: Session) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/quan-tri/nguoi-dung")
    foreign = db.scalars(select(Department).join(Department.agency)
                         .where(Department.agency.has(code="000.00.21.H12"))).first()
    resp = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": token, "username": "xam.nhap", "full_name": "Xâm Nhập",
        "password": "mat-khau-dai", "roles": ["specialist"], "department_id": str(foreign.id)})
    # refused as the edit form refuses it: the same words for a missing department
    assert resp.status_code == 400
    assert "Phòng ban đã chọn không thuộc cơ quan này." in resp.get_data(as_text=True)
    assert db.scalars(select(User).where(User.username == "xam.nhap")).one_or_none() is None


def test_duplicate_username_in_the_form_keeps_the_input(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/quan-tri/nguoi-dung")
    resp = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": token, "username": "lanhdao.camau", "full_name": "Trùng Tên",
        "password": "mat-khau-dai", "roles": ["leader"]})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "đã tồn tại" in body and 'value="Trùng Tên"' in body


def test_user_of_two_agencies_switches_between_them(client: FlaskClient, db: Session) -> None:
    login(client, "kiemnhiem.uminh")
    home = client.get("/").get_data(as_text=True)
    assert "Ủy ban nhân dân huyện U Minh" in home
    options = dict((name, ident) for ident, name in
                   re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', home))
    token = csrf_token(client, "/")
    resp = client.post("/chuyen-co-quan", data={"csrf_token": token,
                                               "agency_id": options["Ủy ban nhân dân xã Khánh An"]})
    assert resp.status_code == 302
    assert "(000.01.21.H12, cấp xã)" in client.get("/").get_data(as_text=True)


def test_switching_to_an_agency_one_does_not_belong_to_looks_like_not_found(
        client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/")
    other = db.scalar(select(Department.agency_id).join(Department.agency)
                      .where(Department.agency.has(code="000.00.00.G09")))
    resp = client.post("/chuyen-co-quan", data={"csrf_token": token, "agency_id": str(other)})
    assert resp.status_code == 404
    assert "(000.00.00.H12, cấp tỉnh)" in client.get("/").get_data(as_text=True)


def test_login_redirect_never_leaves_the_site(client: FlaskClient) -> None:
    token = csrf_token(client)
    resp = client.post("/dang-nhap?next=//evil.example/x", data={
        "csrf_token": token, "username": "vanthu.camau", "password": "demo-test-pass"})
    assert resp.location == "/"


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/")
    assert client.post("/dang-xuat", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_services_open_the_configured_pki(app) -> None:
    from ioffice.services import services

    pki = services(app).pki
    assert services(app).pki is pki  # opened once
    assert services(app).trust.validation_context() is not None


def test_behind_a_proxy_the_audit_records_the_client_address(app_config, connection, db) -> None:
    from ioffice import create_app
    from tests.conftest import login

    app = create_app({**app_config, "PROXY_COUNT": 1})
    app.extensions["ioffice.db"].bind_to(connection)
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    assert login(client, "vanthu.camau").status_code == 302
    addr = db.scalar(select(AuditEvent.remote_addr).where(AuditEvent.tag == "auth:session:login")
                     .order_by(AuditEvent.id.desc()))
    assert addr == "203.0.113.50"
