"""On PostgreSQL (psycopg), a transaction that only read ends with COMMIT where it would roll
back, so that psycopg keeps its prepared statements; anything else is still rolled back
(ioffice.db._commit_reads)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ioffice.db import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE kept (n int)"))  # the pool's one connection
    yield engine
    engine.dispose()


def _prepared(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM kept")).scalar_one()


def test_reads_rolled_back_keep_the_prepared_statements(engine: Engine) -> None:
    for _ in range(8):  # psycopg prepares a statement at its fifth run on a connection
        with Session(engine) as session:  # closed: the transaction would be rolled back
            session.execute(text("SELECT n FROM kept WHERE n = :n"), {"n": 1}).all()
    assert _prepared(engine) >= 1


def test_a_write_is_still_rolled_back(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("SELECT n FROM kept")).all()
        session.execute(text("INSERT INTO kept VALUES (1)"))
        session.rollback()
    with Session(engine) as session:
        session.execute(text("INSERT INTO kept VALUES (2)"))
    # closed without a commit
    assert _count(engine) == 0


def test_a_session_setting_is_still_rolled_back(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("SET statement_timeout = 1234"))
        session.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() != "1234ms"


def test_a_failed_read_is_rolled_back_and_the_connection_serves_again(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(DBAPIError):
            session.execute(text("SELECT 1 / 0")).all()
        session.rollback()
    assert _count(engine) == 0
