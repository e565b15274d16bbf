"""The console operator's user commands: reactivate, reset-password, unlock. They recover an
agency whose only admin is locked out, and go through the same service rules and audit events
as the admin's web page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import LoginThrottle, User
from ioffice.audit.models import AuditEvent
from tests.conftest import DEMO_PASSWORD, login


def _events(db: Session, tag: str, user: User) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag,
                                                    AuditEvent.subject_id == str(user.id))))


def _user(db: Session, username: str) -> User:
    user = db.scalars(select(User).where(User.username == username)).one()
    db.refresh(user)
    return user


def test_reset_password_prints_a_temporary_password_that_must_be_changed(
        app: Flask, client: FlaskClient, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["user", "reset-password", "vanthu.camau"])
    assert result.exit_code == 0, result.output
    temporary = re.search(r"vanthu\.camau: (\S+)", result.output).group(1)
    assert temporary != DEMO_PASSWORD and "phải đổi" in result.output
    assert login(client, "vanthu.camau", DEMO_PASSWORD).status_code == 401
    resp = login(client, "vanthu.camau", temporary)
    assert resp.status_code == 302
    assert client.get("/").location.endswith("/doi-mat-khau")
    user = _user(db, "vanthu.camau")
    (event,) = _events(db, "agencies:user:password-reset", user)
    assert event.actor_id is None and event.remote_addr == "cli"
    assert temporary not in str(event.details)


def test_reactivate_lets_a_deactivated_user_log_in_again(app: Flask, client: FlaskClient,
                                                          db: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["user", "deactivate", "chuyenvien.camau"]).exit_code == 0
    assert login(client, "chuyenvien.camau").status_code == 401
    result = runner.invoke(args=["user", "reactivate", "chuyenvien.camau"])
    assert result.exit_code == 0, result.output
    assert "Đã mở lại tài khoản chuyenvien.camau" in result.output
    assert login(client, "chuyenvien.camau").status_code == 302
    assert len(_events(db, "agencies:user:reactivate", _user(db, "chuyenvien.camau"))) == 1
    again = runner.invoke(args=["user", "reactivate", "chuyenvien.camau"])
    assert again.exit_code != 0 and "đang hoạt động" in again.output


def test_unlock_lifts_a_login_lock(app: Flask, client: FlaskClient, db: Session) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        assert login(client, "vanthu.camau", "sai-mat-khau").status_code == 401
    assert login(client, "vanthu.camau").status_code != 302  # locked, even with the password
    result = app.test_cli_runner().invoke(args=["user", "unlock", "vanthu.camau"])
    assert result.exit_code == 0, result.output
    assert "Đã gỡ khóa đăng nhập của vanthu.camau" in result.output
    assert db.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    assert login(client, "vanthu.camau").status_code == 302
    nothing = app.test_cli_runner().invoke(args=["user", "unlock", "vanthu.camau"])
    assert nothing.exit_code != 0 and "không bị khóa" in nothing.output


def test_unknown_user_and_wrong_agency_are_refused(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["user", "reset-password", "khong.co.ai"])
    assert unknown.exit_code != 0 and "Không tìm thấy tài khoản «khong.co.ai»" in unknown.output
    other = runner.invoke(args=["user", "reset-password", "vanthu.camau",
                                "--agency", "000.00.00.G09"])
    assert other.exit_code != 0 and "Không tìm thấy người dùng trong cơ quan này" in other.output
    missing = runner.invoke(args=["user", "unlock", "vanthu.camau", "--agency", "999.99.99.X"])
    assert missing.exit_code != 0 and "Không tìm thấy cơ quan có mã 999.99.99.X" in missing.output
    assert _events(db, "agencies:user:password-reset", _user(db, "vanthu.camau")) == []

