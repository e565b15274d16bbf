"""Login lockout tells nothing about which usernames exist; per-address limits keep one address
from locking every account (memory storage here, Redis in the production setting)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ioffice import create_app
from ioffice.agencies import service
from ioffice.agencies.models import LoginThrottle
from ioffice.db import utcnow
from tests.conftest import csrf_token, login

REDIS = ("127.0.0.1", 6379)


def attempt(client: FlaskClient, username: str, password: str = "sai-mat-khau",
            addr: str = "198.51.100.7"):
    client.environ_base["REMOTE_ADDR"] = addr
    return login(client, username, password)


def answer(resp) -> tuple[int, str]:
    """Status and page, without the echoed username."""
    body = re.sub(r'name="username" value="[^"]*"', "", resp.get_data(as_text=True))
    return resp.status_code, re.sub(r'name="csrf_token" value="[^"]+"', "", body)


@pytest.fixture
def count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every password verification the login does (each one runs Argon2)."""
    calls: list[str | None] = []
    real = service.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    return calls


def test_unknown_and_known_usernames_get_the_same_answer_at_the_same_cost(
        client: FlaskClient, count_hashes: list[str | None]) -> None:
    # (two addresses, so that the per-address limit, 10 refusals, does not answer first)
    for attempt_no in range(1, 7):  # 5 refusals, then locked
        count_hashes.clear()
        known = answer(attempt(client, "lanhdao.camau"))
        assert len(count_hashes) == 1
        count_hashes.clear()
        unknown = answer(attempt(client, "khong.ton.tai", addr="198.51.100.8"))
        assert len(count_hashes) == 1
        assert known == unknown, f"attempt {attempt_no}"
        status, page = known
        if attempt_no <= 5:
            assert status == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in page
        else:
            assert status == 429 and "tạm khóa" in page


def test_a_locked_name_refuses_even_the_right_password_from_any_address(
        client: FlaskClient) -> None:
    """Decision: the lock belongs to the typed name, whatever the address, so guessing from
    many addresses gains nothing; the per-address limit bounds how many names one address can
    lock."""
    for _ in range(5):
        assert attempt(client, "lanhdao.camau").status_code == 401
    elsewhere = attempt(client, "lanhdao.camau", password="demo-test-pass", addr="203.0.113.9")
    assert elsewhere.status_code == 429
    assert attempt(client, "vanthu.camau", "demo-test-pass").status_code == 302  # others unaffected


def test_the_throttle_table_holds_no_usernames_and_the_lock_runs_out(
        client: FlaskClient, db: Session) -> None:
    for _ in range(5):
        attempt(client, "ai.do.khong.co")
    row = db.get(LoginThrottle, service.throttle_key("AI.DO.khong.co "))
    assert row is not None and row.locked_until is not None and row.failures == 5
    assert not any("ai.do" in r.key for r in db.scalars(select(LoginThrottle)))
    for _ in range(5):
        attempt(client, "lanhdao.camau", addr="198.51.100.8")
    assert attempt(client, "lanhdao.camau", "demo-test-pass").status_code == 429
    locked = db.get(LoginThrottle, service.throttle_key("lanhdao.camau"))
    db.refresh(locked)
    locked.locked_until = utcnow() - dt.timedelta(seconds=1)
    db.commit()
    assert attempt(client, "lanhdao.camau", "demo-test-pass").status_code == 302
    db.expunge_all()
    assert db.get(LoginThrottle, service.throttle_key("lanhdao.camau")) is None  # success clears


def test_old_failures_are_forgotten(client: FlaskClient, db: Session) -> None:
    for _ in range(4):
        attempt(client, "lanhdao.camau")
    row = db.get(LoginThrottle, service.throttle_key("lanhdao.camau"))
    db.refresh(row)
    row.updated_at = utcnow() - dt.timedelta(minutes=16)
    db.commit()
    assert attempt(client, "lanhdao.camau").status_code == 401  # 1 of 5, not 5 of 5
    assert attempt(client, "lanhdao.camau", "demo-test-pass").status_code == 302


def limited_app(app_config: dict[str, object], connection: Connection,
                **config: object) -> Flask:
    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per minute", **config})
    app.extensions["ioffice.db"].bind_to(connection)
    return app


def test_one_address_cannot_go_on_guessing(app_config: dict[str, object],
                                           connection: Connection) -> None:
    client = limited_app(app_config, connection).test_client()
    names = [f"nguoi.{i}" for i in range(4)]
    assert [attempt(client, n).status_code for n in names[:3]] == [401, 401, 401]
    blocked = attempt(client, names[3])
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Quá nhiều lần thử không thành công từ địa chỉ của bạn" in page
    assert "Thử lại sau" in page  # the error page's title
    assert int(blocked.headers["Retry-After"]) > 0
    # the right password from that address waits too; another address goes on
    assert attempt(client, "vanthu.camau", "demo-test-pass").status_code == 429
    assert client.get("/dang-nhap").status_code == 200  # the form still shows
    assert attempt(client, "vanthu.camau", "demo-test-pass", addr="203.0.113.9").status_code == 302


def test_successful_logins_do_not_count(app_config: dict[str, object],
                                        connection: Connection) -> None:
    app = limited_app(app_config, connection)
    for _ in range(6):  # an office behind one address, everyone logging in
        assert attempt(app.test_client(), "vanthu.camau", "demo-test-pass").status_code == 302


def test_password_guessing_through_the_change_form_is_limited(
        app_config: dict[str, object], connection: Connection) -> None:
    client = limited_app(app_config, connection).test_client()
    assert attempt(client, "vanthu.camau", "demo-test-pass").status_code == 302
    statuses = []
    for i in range(4):
        token = csrf_token(client, "/doi-mat-khau")
        statuses.append(client.post("/doi-mat-khau", data={
            "csrf_token": token, "current_password": f"doan-{i}-mat-khau",
            "new_password": "mat-khau-moi-2026", "repeat_password": "mat-khau-moi-2026"}
        ).status_code)
    assert statuses == [400, 400, 400, 429]


def redis_available() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    if not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import redis

    prefix = f"ioffice-test-{secrets.token_hex(6)}"
    yield prefix
    conn = redis.Redis(*REDIS)
    for key in conn.scan_iter(f"*{prefix}*"):
        conn.delete(key)
    conn.close()


def test_production_setting_counts_in_redis_across_processes(
        app_config: dict[str, object], connection: Connection, redis_prefix: str) -> None:
    """Two apps (two gunicorn workers, or two hosts) share one count through Redis."""
    import redis

    config = {"RATELIMIT_STORAGE_URI": f"redis://{REDIS[0]}:{REDIS[1]}",
              "RATELIMIT_KEY_PREFIX": redis_prefix}
    first = limited_app(app_config, connection, **config).test_client()
    second = limited_app(app_config, connection, **config).test_client()
    assert attempt(first, "nguoi.mot").status_code == 401
    assert attempt(second, "nguoi.hai").status_code == 401
    assert attempt(first, "nguoi.ba").status_code == 401
    assert attempt(second, "nguoi.bon").status_code == 429
    assert attempt(first, "nguoi.nam", addr="203.0.113.9").status_code == 401
    conn = redis.Redis(*REDIS)
    assert any(redis_prefix in key.decode() for key in conn.scan_iter(f"*{redis_prefix}*"))
    conn.close()
