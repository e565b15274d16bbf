"""The request-scoped database session of the web layer."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ioffice.db import Database


def init_app(app: Flask) -> None:
    app.extensions["ioffice.db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["ioffice.db"]


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().session()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
