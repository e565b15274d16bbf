"""Guessing bearer tokens from one address is cut off (429, JSON), valid tokens never count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection

from ioffice import create_app
from tests.api.conftest import bearer


@pytest.fixture
def limited(app_config: dict[str, object], connection: Connection) -> FlaskClient:
    app = create_app({**app_config, "API_AUTH_RATE_LIMIT": "3 per minute"})
    app.extensions["ioffice.db"].bind_to(connection)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    return client


def test_one_address_cannot_go_on_guessing_tokens(limited: FlaskClient,
                                                  token_for: Callable[..., str]) -> None:
    token = token_for("vanthu.camau")
    for i in range(3):
        resp = limited.get("/api/v1/counts", headers=bearer(f"iof_doan-{i}"))
        assert resp.status_code == 401
    blocked = limited.get("/api/v1/counts", headers=bearer("iof_doan-3"))
    assert blocked.status_code == 429
    error = blocked.get_json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["message"].startswith("Quá nhiều lần thử không thành công")
    assert int(blocked.headers["Retry-After"]) > 0
    # while blocked, the address gets nothing, not even with a valid token; others go on
    assert limited.get("/api/v1/counts", headers=bearer(token)).status_code == 429
    other = {"REMOTE_ADDR": "203.0.113.21"}
    assert limited.get("/api/v1/counts", headers=bearer(token), environ_base=other
                       ).status_code == 200


def test_valid_tokens_and_refused_operations_do_not_count(limited: FlaskClient,
                                                          token_for: Callable[..., str]) -> None:
    token = token_for("chuyenvien.camau")
    for _ in range(5):
        assert limited.get("/api/v1/counts", headers=bearer(token)).status_code == 200
    for _ in range(4):  # a specialist may not distribute: 403 is not a guess
        resp = limited.post("/api/v1/documents/999999/distribute", headers=bearer(token),
                            json={"lead": None})
        assert resp.status_code == 403
    assert limited.get("/api/v1/counts", headers=bearer(token)).status_code == 200


def test_the_default_allowance(app_config: dict[str, object], connection: Connection) -> None:
    app = create_app(app_config)
    app.extensions["ioffice.db"].bind_to(connection)
    client = app.test_client()
    assert app.config["API_AUTH_RATE_LIMIT"] == "20 per minute; 200 per hour"
    statuses = [client.get("/api/v1/counts", headers=bearer(f"iof_x{i}")).status_code
                for i in range(21)]
    assert statuses == [401] * 20 + [429]
