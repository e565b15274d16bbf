"""The request-scoped database session of the web layer."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from ioffice.db import Database


def init_app(app: Flask) -> None:
    app.extensions["ioffice.db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["ioffice.db"]


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().session(read=_reads_only())
    return g.db_session


def _reads_only() -> bool:
    """A page request (GET) only reads: its SQLite transactions begin DEFERRED, so fifty
    readers neither wait for one another nor for a writer (docs/architecture.md,
    "Transactions"). The API keeps writer sessions: a token's last use is written on GETs."""
    return (has_request_context() and request.method in ("GET", "HEAD")
            and not request.path.startswith("/api/"))


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
