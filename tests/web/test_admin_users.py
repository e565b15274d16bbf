"""The agency admin's user pages: /quan-tri/nguoi-dung/<id> (edit, deactivate, reactivate,
reset a password, unlock), and a reset password changed at the next login."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Role, User
from ioffice.audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD, csrf_token, login
from tests.support.factories import actor, department, user_id
from tests.web.test_sessions import copy_of, is_logged_out, logged_in

ADMIN = "vanthu.camau"
TARGET = "chuyenvien.camau"


def page_of(db: Session, username: str = TARGET) -> str:
    return f"/quan-tri/nguoi-dung/{user_id(db, username)}"


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs: object):
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def tags(db: Session, tag: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return logged_in(app.test_client(), ADMIN)


def test_the_list_links_each_member_and_shows_the_state(admin: FlaskClient, db: Session) -> None:
    html = admin.get("/quan-tri/nguoi-dung").get_data(as_text=True)
    assert f'href="{page_of(db)}"' in html
    assert "Đang hoạt động" in html and "Sở Thông tin và Truyền thông" in html
    page = admin.get(page_of(db)).get_data(as_text=True)
    assert 'value="Lý Minh Khôi"' in page and "Ngừng kích hoạt tài khoản" in page


def test_role_change_holds_at_once_in_an_open_session(app: Flask, admin: FlaskClient,
                                                      db: Session) -> None:
    """The leader's open session loses the follow-up page at its next request, and the
    new department shows at once, without logging in again."""
    leader = logged_in(app.test_client(), "lanhdao.camau")
    assert leader.get("/van-ban-den/theo-doi").status_code == 200
    snv = department(db, actor(db, ADMIN), "SNV")
    resp = post(admin, page_of(db, "lanhdao.camau"), {
        "full_name": "Huỳnh Quốc Việt", "position_title": "Phó Chủ tịch Ủy ban nhân dân tỉnh",
        "department_id": str(snv.id), "roles": ["specialist"]})
    assert resp.status_code == 302
    assert leader.get("/van-ban-den/theo-doi").status_code == 403
    assert leader.get("/").status_code == 200  # the session goes on
    follow = admin.get(resp.location).get_data(as_text=True)
    assert "Đã lưu thông tin Huỳnh Quốc Việt" in follow
    membership = actor(db, "lanhdao.camau")
    assert membership.roles == {Role.SPECIALIST} and membership.department_id == snv.id
    [event] = tags(db, "agencies:user:update")
    assert event.details["changes"]["roles"] == [["leader"], ["specialist"]]


def test_a_refused_edit_keeps_every_field_and_lists_every_error(admin: FlaskClient,
                                                                db: Session) -> None:
    snv = department(db, actor(db, ADMIN), "SNV")
    resp = post(admin, page_of(db), {"full_name": "", "position_title": "Trưởng nhóm " * 30,
                                     "department_id": str(snv.id)})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Họ và tên không được để trống." in html
    assert "Phải chọn ít nhất một vai trò." in html
    assert "Chức vụ dài 359 ký tự, vượt quá 255 ký tự." in html
    assert f'<option value="{snv.id}" selected>' in html  # the department as chosen
    assert "Trưởng nhóm Trưởng nhóm" in html
    assert not re.search(r'value="specialist" checked', html)  # roles as sent: none
    assert tags(db, "agencies:user:update") == []


def test_an_admin_cannot_remove_their_own_admin_role(admin: FlaskClient, db: Session) -> None:
    resp = post(admin, page_of(db, ADMIN), {"full_name": "Trần Thị Ngọc Hân",
                                            "position_title": "Văn thư", "roles": ["clerk"]})
    assert resp.status_code == 422
    assert "Bạn không thể tự bỏ vai trò Quản trị của mình" in resp.get_data(as_text=True)
    assert 'value="clerk" checked' in resp.get_data(as_text=True)
    assert Role.ADMIN in actor(db, ADMIN).roles


def test_an_admin_cannot_deactivate_themselves(admin: FlaskClient, db: Session) -> None:
    page = admin.get(page_of(db, ADMIN)).get_data(as_text=True)
    assert "Ngừng kích hoạt tài khoản</button>" not in page
    resp = post(admin, page_of(db, ADMIN) + "/ngung-kich-hoat")
    assert resp.status_code == 422
    assert "Bạn không thể tự ngừng kích hoạt tài khoản của mình." in resp.get_data(as_text=True)
    assert admin.get("/").status_code == 200


def test_deactivate_ends_the_users_sessions_then_reactivate(app: Flask, admin: FlaskClient,
                                                            db: Session) -> None:
    user = logged_in(app.test_client(), TARGET)
    thief = copy_of(app, user)
    resp = post(admin, page_of(db) + "/ngung-kich-hoat")
    assert resp.status_code == 302
    assert "Đã ngừng kích hoạt tài khoản chuyenvien.camau" in admin.get(resp.location).get_data(
        as_text=True)
    assert is_logged_out(user) and is_logged_out(thief)
    refused = login(app.test_client(), TARGET)
    assert refused.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in refused.get_data(as_text=True)
    assert "Đã ngừng kích hoạt" in admin.get("/quan-tri/nguoi-dung").get_data(as_text=True)

    resp = post(admin, page_of(db) + "/kich-hoat")
    assert resp.status_code == 302
    assert login(app.test_client(), TARGET).status_code == 302
    assert len(tags(db, "agencies:user:deactivate")) == 1
    assert len(tags(db, "agencies:user:reactivate")) == 1


def test_a_deactivated_user_gets_exactly_the_wrong_password_page(app: Flask, admin: FlaskClient,
                                                                 db: Session) -> None:
    wrong = login(app.test_client(), TARGET, "khong-dung-mat-khau")
    post(admin, page_of(db) + "/ngung-kich-hoat")
    deactivated = login(app.test_client(), TARGET, DEMO_PASSWORD)
    assert deactivated.status_code == wrong.status_code == 401

    def body(resp) -> str:
        return CSRF.sub("", resp.get_data(as_text=True))

    assert body(deactivated) == body(wrong)


CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


def test_reset_password_shown_once_then_the_user_must_change_it(app: Flask, admin: FlaskClient,
                                                                db: Session) -> None:
    user = logged_in(app.test_client(), TARGET)
    resp = post(admin, page_of(db) + "/dat-lai-mat-khau")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="temporary-password">([^<]+)<', resp.get_data(as_text=True))[1]
    assert is_logged_out(user)
    assert password not in admin.get(page_of(db)).get_data(as_text=True)  # shown once
    assert "Phải đổi mật khẩu khi đăng nhập" in admin.get(page_of(db)).get_data(as_text=True)

    client = app.test_client()
    resp = login(client, TARGET, password)
    assert resp.status_code == 302 and resp.location == "/doi-mat-khau"
    assert "Quản trị viên đã đặt lại mật khẩu" in client.get("/doi-mat-khau").get_data(as_text=True)
    for path in ("/", "/van-ban-den/", "/van-ban-di/", "/chu-ky-so"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.location == "/doi-mat-khau", path
    token = csrf_token(client, "/doi-mat-khau")
    assert client.post("/van-ban-di/moi", data={"csrf_token": token}).location == "/doi-mat-khau"
    resp = client.post("/doi-mat-khau", data={"csrf_token": token, "current_password": password,
                                              "new_password": "mat-khau-rieng-2026",
                                              "repeat_password": "mat-khau-rieng-2026"})
    assert resp.status_code == 302 and resp.location == "/"
    assert client.get("/").status_code == 200
    assert login(app.test_client(), TARGET, "mat-khau-rieng-2026").location == "/"


def test_reset_with_a_chosen_password_and_a_refused_one(app: Flask, admin: FlaskClient,
                                                        db: Session) -> None:
    resp = post(admin, page_of(db) + "/dat-lai-mat-khau", {"password": "ngan"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Mật khẩu phải có ít nhất 10 ký tự." in html and 'value="ngan"' in html
    assert login(app.test_client(), TARGET).status_code == 302  # unchanged
    resp = post(admin, page_of(db) + "/dat-lai-mat-khau", {"password": "tam-thoi-cho-khoi"})
    assert 'id="temporary-password">tam-thoi-cho-khoi<' in resp.get_data(as_text=True)
    assert login(app.test_client(), TARGET, "tam-thoi-cho-khoi").location == "/doi-mat-khau"


def test_unlock_a_locked_login(app: Flask, admin: FlaskClient, db: Session) -> None:
    for _ in range(5):
        login(app.test_client(), TARGET, "sai-mat-khau")
    assert login(app.test_client(), TARGET).status_code == 429
    assert "Đăng nhập đang bị khóa đến" in admin.get(page_of(db)).get_data(as_text=True)
    resp = post(admin, page_of(db) + "/mo-khoa")
    assert resp.status_code == 302
    assert "Đã mở khóa đăng nhập" in admin.get(resp.location).get_data(as_text=True)
    assert login(app.test_client(), TARGET).status_code == 302
    assert len(tags(db, "agencies:user:unlock")) == 1
    resp = post(admin, page_of(db) + "/mo-khoa")
    assert resp.status_code == 422 and "không bị khóa" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("POST", ""), ("POST", "/ngung-kich-hoat"), ("POST", "/kich-hoat"),
    ("POST", "/dat-lai-mat-khau"), ("POST", "/mo-khoa")])
def test_another_agencys_user_answers_404_and_changes_nothing(
        admin: FlaskClient, db: Session, method: str, suffix: str) -> None:
    path = page_of(db, "chuyenvien.bnv") + suffix
    resp = admin.get(path) if method == "GET" else post(admin, path, {"full_name": "X",
                                                                      "roles": ["clerk"]})
    assert resp.status_code == 404
    outsider = db.scalars(select(User).where(User.username == "chuyenvien.bnv")).one()
    db.refresh(outsider)
    assert outsider.active and not outsider.must_change_password
    assert outsider.full_name != "X"


def test_the_pages_are_the_admins_only(app: Flask, db: Session) -> None:
    leader = logged_in(app.test_client(), "lanhdao.camau")
    assert leader.get(page_of(db)).status_code == 403
    assert post(leader, page_of(db) + "/ngung-kich-hoat").status_code == 403


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1"])
def test_a_department_id_that_is_no_id_is_refused(admin: FlaskClient, db: Session,
                                                  value: str) -> None:
    resp = post(admin, page_of(db), {"full_name": "Lý Minh Khôi", "department_id": value,
                                     "roles": ["specialist"]})
    assert resp.status_code == 422
    assert "Phòng ban đã chọn không thuộc cơ quan này." in resp.get_data(as_text=True)
