"""Pooled connections are pinged only after sitting idle, and one the server dropped meanwhile
is replaced before it is handed out (ioffice.db._ping_when_idle)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from ioffice import db as db_module
from ioffice.db import make_engine


@pytest.fixture
def small_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=1, max_overflow=0) \
        if database_url.startswith("postgresql") else make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(small_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = small_engine.dialect.do_ping

    def counting(dbapi_connection):
        calls.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(small_engine.dialect, "do_ping", counting)
    return calls


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_in_constant_use_is_not_pinged(small_engine: Engine, pings: list[int]) -> None:
    for _ in range(5):
        with small_engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []


def test_an_idle_connection_is_pinged_before_use(small_engine: Engine, pings: list[int],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    if small_engine.dialect.name != "postgresql":  # a file: no server to drop it, no ping
        for _ in range(2):
            with small_engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert pings == []
        return
    first = _backend_pid(small_engine)
    assert _backend_pid(small_engine) == first  # the same connection, checked first
    assert pings == [1]


def test_an_idle_connection_the_server_dropped_is_replaced(small_engine: Engine, pings: list[int],
                                                            database_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if small_engine.dialect.name != "postgresql":
        pytest.skip("SQLite opens a file: there is no server to drop the connection")
    dropped = _backend_pid(small_engine)
    killer = make_engine(database_url)
    with killer.connect() as conn:  # as a server restart or an idle timeout would
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}).scalar_one()
    killer.dispose()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    with small_engine.connect() as conn:  # no error: the pool connected again
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
    assert len(pings) >= 1
