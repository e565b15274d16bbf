"""Sessions end server-side: a copied cookie dies with logout, password change and deactivation;
sessions have an absolute lifetime; the cookie is Secure unless plain HTTP is chosen."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from ioffice import create_app
from ioffice.agencies import service
from ioffice.agencies.models import Agency, User
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NEW_PASSWORD = "mat-khau-moi-2026"


def logged_in(client: FlaskClient, username: str = "chuyenvien.camau") -> FlaskClient:
    assert login(client, username).status_code == 302
    assert client.get("/").status_code == 200
    return client


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    assert thief.get("/").status_code == 200
    return thief


def is_logged_out(client: FlaskClient) -> bool:
    resp = client.get("/")
    return resp.status_code == 302 and resp.location.startswith("/dang-nhap")


def change_password(client: FlaskClient, current: str, new: str, repeat: str | None = None):
    token = csrf_token(client, "/doi-mat-khau")
    return client.post("/doi-mat-khau", data={"csrf_token": token, "current_password": current,
                                             "new_password": new,
                                             "repeat_password": new if repeat is None else repeat})


def test_logout_ends_a_copied_cookie_too(app: Flask, client: FlaskClient) -> None:
    thief = copy_of(app, logged_in(client))
    other_browser = logged_in(app.test_client())  # the same user on another machine
    assert client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert is_logged_out(client)
    assert is_logged_out(thief)
    assert is_logged_out(other_browser)


def test_password_change_ends_other_sessions_and_keeps_this_one(app: Flask, client: FlaskClient,
                                                                 db: Session) -> None:
    thief = copy_of(app, logged_in(client))
    resp = change_password(client, DEMO_PASSWORD, NEW_PASSWORD)
    assert resp.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Đã đổi mật khẩu" in home.get_data(as_text=True)
    assert is_logged_out(thief)
    assert login(app.test_client(), "chuyenvien.camau").status_code == 401
    assert login(app.test_client(), "chuyenvien.camau", NEW_PASSWORD).status_code == 302
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.tag == "auth:password:change")).all()
    assert len(tags) == 1


@pytest.mark.parametrize(("current", "new", "repeat", "message"), [
    ("sai-mat-khau-cu", NEW_PASSWORD, None, "Mật khẩu hiện tại không đúng."),
    (DEMO_PASSWORD, NEW_PASSWORD, "mat-khau-khac-2026", "Mật khẩu mới nhập lại không khớp."),
    (DEMO_PASSWORD, "ngan-9kt", None, "Mật khẩu phải có ít nhất 10 ký tự."),
    (DEMO_PASSWORD, DEMO_PASSWORD, None, "Mật khẩu mới phải khác mật khẩu hiện tại."),
])
def test_password_change_refusals_keep_every_session(app: Flask, client: FlaskClient, current: str,
                                                     new: str, repeat: str | None,
                                                     message: str) -> None:
    thief = copy_of(app, logged_in(client))
    resp = change_password(client, current, new, repeat)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert client.get("/").status_code == 200 and thief.get("/").status_code == 200
    assert login(app.test_client(), "chuyenvien.camau").status_code == 302  # password unchanged


def test_password_change_needs_the_csrf_token(client: FlaskClient) -> None:
    logged_in(client)
    resp = client.post("/doi-mat-khau", data={"current_password": DEMO_PASSWORD,
                                             "new_password": NEW_PASSWORD,
                                             "repeat_password": NEW_PASSWORD})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)


def test_every_logged_in_user_finds_the_page_in_the_header(client: FlaskClient) -> None:
    assert client.get("/doi-mat-khau").status_code == 302  # login first
    logged_in(client, "lanhdao.camau")
    assert 'href="/doi-mat-khau"' in client.get("/").get_data(as_text=True)
    page = client.get("/doi-mat-khau").get_data(as_text=True)
    assert "Mật khẩu hiện tại" in page and "Nhập lại mật khẩu mới" in page


def test_deactivation_ends_a_copied_cookie(app: Flask, client: FlaskClient, db: Session) -> None:
    thief = copy_of(app, logged_in(client))
    camau = db.scalars(select(Agency).where(Agency.code == "000.00.00.H12")).one()
    user = service.get_user_by_username(db, "chuyenvien.camau")
    service.deactivate_member(db, AuditContext(None, camau.id, "test"), camau.id, user.id)
    db.commit()
    assert is_logged_out(client)
    assert is_logged_out(thief)
    assert login(app.test_client(), "chuyenvien.camau").status_code == 401


def test_deactivation_from_the_command_line(app: Flask, client: FlaskClient, db: Session) -> None:
    thief = copy_of(app, logged_in(client, "lanhdao.camau"))
    result = app.test_cli_runner().invoke(args=["user", "deactivate", "lanhdao.camau"])
    assert result.exit_code == 0, result.output
    assert "Đã khóa tài khoản lanhdao.camau" in result.output
    assert is_logged_out(thief)
    user = db.scalars(select(User).where(User.username == "lanhdao.camau")).one()
    db.refresh(user)
    assert not user.active
    events = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.tag == "agencies:user:deactivate", AuditEvent.subject_id == str(user.id)))
    assert events == 1
    unknown = app.test_cli_runner().invoke(args=["user", "deactivate", "khong.co.ai"])
    assert unknown.exit_code != 0 and "Không tìm thấy tài khoản «khong.co.ai»" in unknown.output


def test_a_session_ends_at_its_absolute_lifetime_however_active(app: Flask,
                                                                client: FlaskClient) -> None:
    logged_in(client)
    lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
    assert lifetime == 12 * 3600
    with client.session_transaction() as sess:
        sess["login_at"] = int(time.time()) - lifetime + 60  # a minute left
    assert client.get("/").status_code == 200  # activity does not extend it...
    with client.session_transaction() as sess:
        assert sess["login_at"] <= int(time.time()) - lifetime + 60
        sess["login_at"] = int(time.time()) - lifetime - 1
    assert is_logged_out(client)  # ...and it ends


def test_short_absolute_lifetime_setting(app_config: dict[str, object],
                                         connection: Connection) -> None:
    # login_at is kept in whole seconds (up to 1 s before the login): 3 s leaves the first page
    # at least 2 s however slow the machine, and 3.2 s later the session has surely ended
    app = create_app({**app_config, "SESSION_ABSOLUTE_LIFETIME": 3})
    app.extensions["ioffice.db"].bind_to(connection)
    client = logged_in(app.test_client())
    time.sleep(3.2)
    assert is_logged_out(client)


def test_a_session_without_epoch_or_login_time_is_refused(client: FlaskClient) -> None:
    """A cookie signed before this change (or forged without the fields) opens nothing."""
    logged_in(client)
    with client.session_transaction() as sess:
        del sess["epoch"]
    assert is_logged_out(client)


def test_cookie_is_secure_unless_plain_http_is_chosen(app_config: dict[str, object],
                                                      connection: Connection) -> None:
    def set_cookie(config: dict[str, object]) -> str:
        app = create_app(config)
        app.extensions["ioffice.db"].bind_to(connection)
        client = app.test_client()
        resp = login(client, "vanthu.camau")
        assert resp.status_code == 302
        return resp.headers["Set-Cookie"]

    production = {k: v for k, v in app_config.items() if k != "PLAIN_HTTP"}
    cookie = set_cookie(production)
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "; Secure" not in set_cookie({**app_config, "PLAIN_HTTP": True})
    assert "; Secure" in set_cookie({**app_config, "SESSION_COOKIE_SECURE": True})


def test_plain_http_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                               app_config: dict[str, object]) -> None:
    production = {k: v for k, v in app_config.items() if k != "PLAIN_HTTP"}
    assert create_app(production).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("IOFFICE_PLAIN_HTTP", "1")
    assert create_app(production).config["SESSION_COOKIE_SECURE"] is False


def test_page_loads_slide_the_cookie_once_a_minute(client: FlaskClient, monkeypatch) -> None:
    """The idle expiry slides on a page load, but the cookie is re-sent at most once a minute;
    a change of the session (a flash message) is always sent."""
    from ioffice.web import auth

    logged_in(client)
    now = [time.time() // 60 * 60 + 600.0]  # the start of a minute
    monkeypatch.setattr(auth.time, "time", lambda: now[0])
    first = client.get("/", headers={"Sec-Fetch-Dest": "document"})
    assert "Set-Cookie" in first.headers  # the first page of this minute slides it
    again = client.get("/", headers={"Sec-Fetch-Dest": "document"})
    assert "Set-Cookie" not in again.headers
    now[0] += 61
    later = client.get("/", headers={"Sec-Fetch-Dest": "document"})
    assert "Set-Cookie" in later.headers
    image = client.get("/", headers={"Sec-Fetch-Dest": "image"})
    assert "Set-Cookie" not in image.headers
