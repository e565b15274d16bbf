"""The VXP stand-in over real HTTP: a werkzeug server in a thread per test, and a tiny request
signer written here from ``vxp-wire.md`` (not the stand-in's checks, not our client's signing).

The database is a SQLite file or, when IOFFICE_TEST_DATABASE_URL names PostgreSQL, a database of
its own on that server (tests/support/pg.py); migrated once per run, emptied before each test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import urllib3
from flask import Flask
from sqlalchemy import delete
from werkzeug.serving import make_server

from axis_connector.vxp_standin import create_app, migrate
from axis_connector.vxp_standin.models import Base
from tests.support.pg import create_owned_database, drop_database

VIETNAM = dt.timezone(dt.timedelta(hours=7))
SECRETS = {"sys-camau": "camau-secret-for-tests-0123", "sys-vpcp": "vpcp-secret-for-tests-0123",
           "sys-sotttt": "sotttt-secret-for-tests-0123"}
CA_MAU, VPCP, SO_TTTT = "000.00.00.H12", "000.00.00.G22", "000.00.13.H12"
AGENCIES = {
    "sys-camau": [{"code": CA_MAU, "name": "UBND tỉnh Cà Mau", "old_code": "H12", "level": "1"},
                  "000.00.01.H12"],
    "sys-vpcp": [{"code": VPCP, "name": "Văn phòng Chính phủ", "old_code": "G22", "level": "1",
                  "mail": "vpcp@chinhphu.vn"}],
    "sys-sotttt": [{"code": SO_TTTT, "name": "Sở Thông tin và Truyền thông tỉnh Cà Mau", "pcode": CA_MAU,
                    "old_code": "H12.13", "level": "2"}],
}


def vxp_timestamp(at: dt.datetime | None = None) -> str:
    """``ddMMyyyy'T'HHmmss+SSSS``: Vietnam wall time, then the milliseconds on four digits."""
    at = (at or dt.datetime.now(dt.UTC)).astimezone(VIETNAM)
    return at.strftime("%d%m%YT%H%M%S") + f"+{at.microsecond // 1000:04d}"


def quirky_sha256(body: bytes) -> str:
    return "".join(format(b, "x") for b in hashlib.sha256(body).digest())


def signed_headers(system_id: str, secret: str, params: Mapping[str, str], *,
                   content_type: str = "application/json", timestamp: str | None = None,
                   hash_body: bytes | None = None) -> dict[str, str]:
    """Every header of one VXP call, as the SDK builds them."""
    vxp = {"XroadVnpt-systemid": system_id, "XroadVnpt-timestamp": timestamp or vxp_timestamp(),
           "XroadVnpt-version": "3.0.201608", "XroadVnpt-Content-Type": content_type}
    if hash_body is not None:
        vxp["XroadVnpt-hash-file"] = quirky_sha256(hash_body)
    vxp.update({f"XroadVnpt-{k}": v for k, v in params.items()})
    return sign(vxp, secret, content_type)


def sign(vxp: Mapping[str, str], secret: str, content_type: str) -> dict[str, str]:
    sign_header = json.dumps(dict(vxp), separators=(",", ":"), ensure_ascii=False)
    mac = hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest()
    return {**vxp, "Content-Type": content_type, "XroadVnpt-sign-header": sign_header,
            "XroadVnpt-sign-header-key": ";".join(k.removeprefix("XroadVnpt-") for k in vxp),
            "XroadVnpt-hash-header": mac}


@dataclass
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Server:
    """A stand-in listening on 127.0.0.1 and a raw HTTP client to it."""

    app: Flask
    url: str
    http: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(retries=False))

    def raw(self, method: str, operation: str, headers: Mapping[str, str], body: bytes | None = None
            ) -> Answer:
        response = self.http.request(method, f"{self.url}/{operation}", headers=dict(headers), body=body,
                                     timeout=30)
        return Answer(response.status, response.data, response.headers)

    def call(self, operation: str, system_id: str, params: Mapping[str, str] | None = None, *,
             body: bytes = b"{}", method: str = "POST", content_type: str = "application/json",
             **kwargs: Any) -> Answer:
        headers = signed_headers(system_id, SECRETS[system_id], params or {}, content_type=content_type,
                                 **kwargs)
        return self.raw(method, operation, headers, body if method == "POST" else None)

    def send(self, system_id: str, package: bytes, sender: str, *, to: list[str] | None = None,
             messagetype: str = "edoc") -> Answer:
        body = package + b"\r\n"
        params = {"from": sender, "servicetype": "eDoc", "messagetype": messagetype}
        if to is not None:
            params["to"] = json.dumps(to)
        return self.call("sendEdoc", system_id, params, body=body, content_type="application/octet-stream",
                         hash_body=body)

    def ok(self, operation: str, system_id: str, params: Mapping[str, str] | None = None, **kwargs: Any
           ) -> dict[str, Any]:
        answer = self.call(operation, system_id, params, **kwargs)
        data = answer.json
        assert (answer.status, data["status"], data["ErrorCode"]) == (200, "OK", "0"), data
        return data


@pytest.fixture(scope="session")
def vxp_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = create_owned_database("vxp_test") or f"sqlite:///{tmp_path_factory.mktemp('vxp') / 'vxp.db'}"
    migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)


def standin_config(url: str, **changes: Any) -> dict[str, Any]:
    return {"TESTING": True, "DATABASE_URL": url, "SYSTEMS": SECRETS, "AGENCIES": AGENCIES,
            "MAX_BODY_MB": 1, **changes}


@pytest.fixture
def serve(vxp_database_url: str) -> Iterator[Callable[..., Server]]:
    """``serve(**config_changes)``: a stand-in on empty tables, served until the test ends."""
    running: list[tuple[Any, threading.Thread, Flask]] = []

    def start(**changes: Any) -> Server:
        app = create_app(standin_config(vxp_database_url, **changes))
        with app.extensions["vxp_standin"].db.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
            session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        running.append((server, thread, app))
        return Server(app, f"http://127.0.0.1:{server.server_port}")

    yield start
    for server, thread, app in running:
        server.shutdown()
        thread.join(5)
        server.server_close()
        app.extensions["vxp_standin"].db.dispose()


@pytest.fixture
def server(serve: Callable[..., Server]) -> Server:
    return serve()
