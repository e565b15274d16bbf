"""Structured logs: one JSON line per request with its id, route, status, duration, user and
agency, and never a password, a query string or a body."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ioffice import logs
from tests.conftest import DEMO_PASSWORD, login


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records
            if r.name == "ioffice.request"]


def test_every_request_has_an_id_sent_back(client: FlaskClient) -> None:
    first = client.get("/dang-nhap").headers["X-Request-Id"]
    second = client.get("/dang-nhap").headers["X-Request-Id"]
    assert len(first) == 32 and first != second
    kept = client.get("/dang-nhap", headers={"X-Request-Id": "nginx-0123456789abcdef"})
    assert kept.headers["X-Request-Id"] == "nginx-0123456789abcdef"
    forged = client.get("/dang-nhap", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert "<" not in forged.headers["X-Request-Id"]
    assert len(forged.headers["X-Request-Id"]) == 32


def test_one_json_line_per_request_with_who_what_and_how_long(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ioffice.request"):
        login(client, "vanthu.camau")
        resp = client.get("/van-ban-den/so?q=b%C3%AD+m%E1%BA%ADt")
    lines = _lines(caplog)
    assert [line["method"] for line in lines][-1] == "GET"
    page = lines[-1]
    assert page["event"] == "request" and page["status"] == resp.status_code
    assert page["route"] == "/van-ban-den/so" and page["path"] == "/van-ban-den/so"
    assert page["request_id"] == resp.headers["X-Request-Id"]
    assert page["user_id"] and page["agency_id"] and page["duration_ms"] >= 0
    assert page["level"] == "INFO" and page["logger"] == "ioffice.request"
    everything = json.dumps(lines, ensure_ascii=False)
    assert DEMO_PASSWORD not in everything  # the login form's password
    assert "bí mật" not in everything and "q=" not in everything  # what was searched
    logged_out = [line for line in lines if line["path"] == "/dang-nhap" and line["method"] == "GET"]
    assert all(line["user_id"] is None for line in logged_out)


def test_the_formatter_keeps_vietnamese_and_the_traceback_on_one_line() -> None:
    try:
        raise ValueError("Sổ văn bản đến bị khóa")
    except ValueError:
        record = logging.LogRecord("ioffice.exchange", logging.ERROR, __file__, 1,
                                   "Không gửi được văn bản %s", ("01/UBND",), True)
        import sys

        record.exc_info = sys.exc_info()
    record.document_id = 42
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "Không gửi được văn bản 01/UBND"
    assert "Không gửi được" in line  # UTF-8 as is, not \\u escapes
    assert entry["document_id"] == 42 and "Sổ văn bản đến bị khóa" in entry["exception"]


def test_configure_sets_format_and_level(app: Flask) -> None:
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level,
                 logging.getLogger(n).propagate) for n in ("ioffice", "axis_connector", "signing")}
    saved_app = (app.logger.handlers[:], app.logger.level)
    try:
        app.config.update(LOG_FORMAT="json", LOG_LEVEL="WARNING")
        logs.configure(app)
        logger = logging.getLogger("ioffice")
        assert isinstance(logger.handlers[0].formatter, logs.JsonFormatter)
        assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING)
        app.config.update(LOG_FORMAT="text", LOG_LEVEL="DEBUG")
        logs.configure(app)
        assert not isinstance(logger.handlers[0].formatter, logs.JsonFormatter)
        assert logger.isEnabledFor(logging.DEBUG)
    finally:
        for name, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate
        app.logger.handlers[:], app.logger.level = saved_app


def test_the_console_shows_peoples_requests_not_the_demo_hubs_polling(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """`make run` logs the app's request lines (no gunicorn access log): the demo hubs mounted
    beside it (/truc/...), which the exchange worker polls every second, log none."""
    from werkzeug.test import Client

    from ioffice.exchange import demo_run

    hubs = []
    for name in ("tinh", "quoc-gia"):
        hub = Flask(f"hub-{name}")
        hub.add_url_rule("/getReceivedEdocList", "poll", lambda: "[]", methods=["POST"])
        hubs.append(hub)
    served = Client(demo_run.mount(app, (hubs[0], hubs[1])))
    with caplog.at_level(logging.INFO, logger="ioffice.request"):
        for _ in range(5):
            assert served.post("/truc/tinh/getReceivedEdocList").status_code == 200
            assert served.post("/truc/quoc-gia/getReceivedEdocList").status_code == 200
        assert served.get("/dang-nhap").status_code == 200
    assert [line["path"] for line in _lines(caplog)] == ["/dang-nhap"]
