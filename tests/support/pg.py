"""PostgreSQL databases of one test process, on the server of IOFFICE_TEST_DATABASE_URL.

``create_owned_database("axis_test")`` makes ``axis_test_<worker>_<pid>`` (see
:mod:`tests.support.workers`): a database per xdist worker and per run, never another's. Before
creating it, databases of the same base name left by processes that no longer exist (a run
killed before its teardown) are dropped; those of live processes are left alone.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.workers import owned_name, owner_pid, process_alive


def test_server_url() -> str | None:
    """IOFFICE_TEST_DATABASE_URL when it names PostgreSQL, else None (the run is on SQLite)."""
    url = os.environ.get("IOFFICE_TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


test_server_url.__test__ = False  # type: ignore[attr-defined]


def _admin(base: str):
    # AUTOCOMMIT: CREATE/DROP DATABASE cannot run in a transaction
    return create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_owned_database(base_name: str) -> str | None:
    """A new empty database ``<base_name>_<worker>_<pid>``; its URL, or None on SQLite."""
    server = test_server_url()
    if server is None:
        return None
    name = owned_name(base_name)
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            existing = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": base_name.replace("_", r"\_") + r"\_%"}).scalars().all()
            for datname in existing:
                pid = owner_pid(datname)
                if datname == name or (pid is not None and not process_alive(pid)):
                    # FORCE: a server left over from an interrupted run must not block the drop
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{datname}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (made by :func:`create_owned_database`); no-op on SQLite."""
    server = test_server_url()
    if server is None or not url.startswith("postgresql"):
        return
    name = make_url(url).database
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
