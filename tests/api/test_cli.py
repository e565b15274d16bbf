"""`flask token create|list|revoke`."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer


def test_create_use_list_revoke(app: Flask, client: FlaskClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--username", "vanthu.camau",
                                 "--name", "Cổng dịch vụ công"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("iof_")
    assert "chỉ hiện một lần" in result.stderr
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["username"] == "vanthu.camau"

    listing = runner.invoke(args=["token", "list", "--username", "vanthu.camau"])
    assert token[:12] in listing.output and token not in listing.output
    assert "Cổng dịch vụ công" in listing.output

    revoked = runner.invoke(args=["token", "revoke", token[:12]])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_create_asks_for_the_agency_of_a_concurrent_post(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--username", "kiemnhiem.uminh", "--name", "x"])
    assert result.exit_code == 1 and "--agency" in result.output
    result = runner.invoke(args=["token", "create", "--username", "kiemnhiem.uminh",
                                 "--agency", "000.01.21.H12", "--name", "x"])
    assert result.exit_code == 0, result.output


def test_unknown_user_and_prefix(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--username", "khong-co", "--name", "x"])
    assert result.exit_code == 1 and "Không tìm thấy tài khoản" in result.output
    result = runner.invoke(args=["token", "revoke", "iof_khongco"])
    assert result.exit_code == 1 and "Không tìm thấy mã truy cập" in result.output
