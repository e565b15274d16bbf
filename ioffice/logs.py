"""Structured logs: one JSON object per line, for the province's log collector.

- ``request``: one line per request (``ioffice.request``): request id, method, route, path,
  status, duration, user and agency ids, client address. Never a form field, a header other
  than the request id, a query string (it may carry a search someone typed), or a body.
- ``exchange.*``: one line per package sent or received (``ioffice.exchange``): document id,
  outbox/inbox id, hub, outcome.
- everything else the application logs, with its level, logger and message.

``LOG_FORMAT`` ("json", the default for a server, or "text" for a person at a console) and
``LOG_LEVEL`` (INFO) are settings like the others (``IOFFICE_LOG_FORMAT``, ``IOFFICE_LOG_LEVEL``).
Logging is configured by the serving entry point (``wsgi.py`` calls :func:`configure`), never
by ``create_app``: tests and the CLI build apps without touching the process's logging.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from ioffice.metrics import observe_request

REQUEST_LOG = logging.getLogger("ioffice.request")
REQUEST_ID_HEADER = "X-Request-Id"
# an id a front proxy set (nginx's $request_id: 32 hex digits) is kept; anything else is replaced
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# attributes every LogRecord has: what is not among them came as ``extra=``
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message",
                                                                                "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields}`` on one line, UTF-8 text
    as is (Vietnamese stays readable), the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        request_id = g.get("request_id") if _in_request() else None
        if request_id and "request_id" not in entry:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _in_request() -> bool:
    from flask import has_app_context

    return has_app_context()


def configure(app: Flask) -> None:
    """Send the application's logs to standard error in the configured format and level."""
    handler = logging.StreamHandler(sys.stderr)
    if str(app.config.get("LOG_FORMAT", "json")).lower() == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    level = str(app.config.get("LOG_LEVEL", "INFO")).upper()
    for name in ("ioffice", "axis_connector", "signing"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(level)


def init_app(app: Flask) -> None:
    """Give every request an id (kept from a front proxy's ``X-Request-Id`` when it looks
    like one), send it back in the response, and log the request's line (and its latency in
    the metrics) when it ends."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(resp: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            resp.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        if started is not None:
            observe_request(request.url_rule.rule if request.url_rule else None,
                            request.method, resp.status_code, time.perf_counter() - started)
        if REQUEST_LOG.isEnabledFor(logging.INFO):
            REQUEST_LOG.info("%s %s %s", request.method, request.path, resp.status_code,
                             extra=request_fields(resp.status_code))
        return resp


def request_fields(status: int) -> dict[str, Any]:
    """The request's line: who (ids only, from the login already loaded for the request:
    logging never loads it), what route, how it ended, how long it took."""
    started = g.get("request_started")
    user = g.get("_login_user")  # Flask-Login's loaded user, if the request loaded one
    logged_in = user is not None and getattr(user, "is_authenticated", False)
    return {
        "event": "request",
        "request_id": g.get("request_id"),
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "path": request.path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": int(user.get_id()) if logged_in else None,
        "agency_id": getattr(user, "agency_id", None) if logged_in else None,
        "remote_addr": request.remote_addr,
    }
