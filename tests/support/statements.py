"""Counting the SQL statements a page costs (a SQLAlchemy ``before_cursor_execute`` listener):
a page's statements must not grow with the rows it lists."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session


def page_statements(db: Session, client: FlaskClient, path: str, status: int = 200) -> list[str]:
    """The statements sent while the test client gets ``path`` (its status checked)."""
    engine = db.get_bind().engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get(path)
        assert resp.status_code == status, (path, resp.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


page_statements.__test__ = False  # type: ignore[attr-defined]
