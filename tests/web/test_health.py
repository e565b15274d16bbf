"""/healthz and /readyz: answered without a login, /readyz checks the database, the object
storage and every configured hub, with a 503 naming what failed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ioffice.storage import StorageUnavailable


@pytest.fixture
def hub_url() -> Iterator[str]:
    """A server that answers GETs 405, as a hub does (its operations are signed POSTs)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/truc/tinh"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hubs(*urls: str) -> str:
    return json.dumps([{"name": f"hub{i}", "url": url, "system_id": "x", "secret": "s",
                        "agencies": ["*"]} for i, url in enumerate(urls)])


def test_healthz_answers_without_login_or_session(client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}
    assert "Set-Cookie" not in resp.headers


def test_readyz_checks_database_storage_and_hubs(app: Flask, client: FlaskClient,
                                                 hub_url: str) -> None:
    app.config["EXCHANGE_HUBS"] = _hubs(hub_url)
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.json
    checks = resp.json["checks"]
    assert set(checks) == {"database", "storage", "hub:hub0"}
    assert all(c["ok"] and c["ms"] >= 0 for c in checks.values())
    assert resp.json["status"] == "ok" and "Set-Cookie" not in resp.headers


def test_readyz_is_503_when_a_hub_is_unreachable(app: Flask, client: FlaskClient,
                                                 hub_url: str) -> None:
    app.config["EXCHANGE_HUBS"] = _hubs(hub_url, f"http://127.0.0.1:{_closed_port()}/truc")
    resp = client.get("/readyz")
    assert resp.status_code == 503
    checks = resp.json["checks"]
    assert checks["hub:hub0"]["ok"] and not checks["hub:hub1"]["ok"]
    assert checks["database"]["ok"] and checks["storage"]["ok"]
    assert resp.json["status"] == "fail"
    assert "127.0.0.1" not in resp.get_data(as_text=True)  # the address goes to the log only


def test_readyz_is_503_when_storage_fails(app: Flask, client: FlaskClient, blobs,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(_self: object, _sha256: str) -> bool:
        raise StorageUnavailable("s3://ioffice", "connection refused")

    monkeypatch.setattr(type(blobs), "exists", unavailable)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json["checks"]["storage"] == {"ok": False, "ms": resp.json["checks"]["storage"]["ms"],
                                              "error": "StorageUnavailable"}
    assert resp.json["checks"]["database"]["ok"]


def test_readyz_is_503_when_the_database_fails(client: FlaskClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*_a: object, **_k: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("db host down"))

    monkeypatch.setattr("ioffice.web.health._database", down)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json["checks"]["database"]["error"] == "OperationalError"
    assert "db host down" not in resp.get_data(as_text=True)
