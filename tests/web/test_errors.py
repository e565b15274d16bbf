"""Failures of the system answer a Vietnamese page (JSON under /api/) and log their cause;
every response carries the security headers."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from ioffice.storage import StorageUnavailable
from tests.conftest import login
from tests.incoming.test_web import _form


def _failing_register(*_args: object, **_kwargs: object):
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("db host down"))


def test_a_database_failure_shows_the_vietnamese_page_and_logs_the_cause(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    login(client, "vanthu.camau")
    monkeypatch.setattr("ioffice.incoming.queries.register_page", _failing_register)
    with caplog.at_level(logging.ERROR):
        resp = client.get("/van-ban-den/so")
    assert resp.status_code == 503
    page = resp.get_data(as_text=True)
    assert "Tạm thời không phục vụ được" in page and "thử lại sau" in page
    assert "Service Unavailable" not in page and "Traceback" not in page
    assert "db host down" not in page  # the cause is for the log, not for the user
    assert any("db host down" in r.getMessage() and "/van-ban-den/so" in r.getMessage()
               for r in caplog.records)


def test_a_storage_failure_shows_the_vietnamese_page_and_logs_the_cause(
        client: FlaskClient, blobs, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/van-ban-den/vao-so", data=_form(client),
                       content_type="multipart/form-data")
    page = client.get(resp.location).get_data(as_text=True)
    link = re.search(r'href="(/van-ban-den/\d+/tep/\d+)[?"]', page).group(1)

    def unavailable(_sha256: str) -> bytes:
        raise StorageUnavailable("s3://ioffice", "connection reset by peer")

    monkeypatch.setattr(type(blobs), "read_bytes", lambda _self, sha: unavailable(sha))
    with caplog.at_level(logging.ERROR):
        resp = client.get(link)
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert "kho lưu trữ" in body and "connection reset" not in body
    assert any("StorageUnavailable" in r.getMessage() for r in caplog.records)


def test_an_unexpected_error_is_a_vietnamese_500(app: Flask, client: FlaskClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    login(client, "vanthu.camau")

    def boom(*_a: object, **_k: object):
        raise RuntimeError("unexpected")

    monkeypatch.setattr("ioffice.incoming.queries.register_page", boom)
    resp = client.get("/van-ban-den/so")
    assert resp.status_code == 500
    page = resp.get_data(as_text=True)
    assert "Lỗi hệ thống" in page and "Internal Server Error" not in page


def test_api_failures_answer_json(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ioffice.api.routing.get_session", _failing_register)
    resp = client.get("/api/v1/me")
    assert resp.status_code == 503
    assert resp.json["error"]["code"] == "unavailable"


def test_garbage_requests_get_the_vietnamese_400(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/chuyen-co-quan", data={"agency_id": "x"},
                       headers={"X-CSRFToken": "skip"})
    assert resp.status_code == 400
    assert "Bad Request" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/dang-nhap", "/khong-co", "/api/v1/me",
                                  "/static/app.css"])
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'self'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_no_template_has_inline_script_or_event_handlers(app: Flask) -> None:
    """The CSP refuses inline script: a template that needed it would break silently."""
    import pathlib

    folder = pathlib.Path(app.root_path, app.template_folder)
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)
    offenders = [str(p.relative_to(folder)) for p in folder.rglob("*.html")
                 if inline.search(p.read_text())]
    assert offenders == []


