"""SQLite transactions: reads begin DEFERRED and never wait for the write lock, writers begin
IMMEDIATE and queue on busy_timeout (ioffice/db.py; docs/architecture.md, "Transactions").

Each test opens its own file database with real connections in real threads (the suite's
``db`` fixture runs everything in one connection), so they run on either test database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ioffice.db import Database, after_read

WAIT = 5.0  # far below busy_timeout (30 s): a blocked reader would still be waiting


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'tx.db'}")
    with database.session() as s:
        s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"))
        s.execute(text("INSERT INTO t (v) VALUES (1)"))
        s.commit()
    yield database
    database.engine.dispose()


def _in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:  # reported to the test, not lost in the thread
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _read(database: Database) -> int:
    with database.session(read=True) as s:
        return s.execute(text("SELECT sum(v) FROM t")).scalar_one()


def test_two_readers_do_not_block_each_other(database: Database) -> None:
    with database.session(read=True) as first:
        assert first.execute(text("SELECT sum(v) FROM t")).scalar_one() == 1  # transaction open
        thread, out = _in_thread(lambda: _read(database))
        thread.join(WAIT)
        assert out == [1], "the second reader waited for the first"
        first.rollback()


def test_a_reader_does_not_block_while_a_writer_holds_the_lock(database: Database) -> None:
    with database.session() as writer:
        writer.execute(text("INSERT INTO t (v) VALUES (10)"))  # holds the write lock
        started = time.monotonic()
        thread, out = _in_thread(lambda: _read(database))
        thread.join(WAIT)
        assert out == [1], "the reader waited for the writer"  # and saw the committed state
        assert time.monotonic() - started < WAIT
        writer.commit()
    assert _read(database) == 11


def test_writers_serialise_without_database_is_locked(database: Database) -> None:
    """Read-then-write in each of 6 threads at once: each waits its turn (IMMEDIATE), so no
    lost update and no 'database is locked'."""

    def bump() -> None:
        with database.session() as s:
            v = s.execute(text("SELECT max(v) FROM t")).scalar_one()
            time.sleep(0.02)
            s.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": v + 1})
            s.commit()

    threads = [_in_thread(bump) for _ in range(6)]
    for thread, _ in threads:
        thread.join(30)
    assert [out for _, out in threads] == [[None]] * 6
    with database.session(read=True) as s:
        assert s.execute(text("SELECT v FROM t ORDER BY v")).scalars().all() == [1, 2, 3, 4, 5, 6, 7]


def test_a_read_writes_after_its_read_even_when_a_writer_came_in_between(database: Database) -> None:
    """The classic WAL failure: a deferred transaction that has read and then writes, after
    another connection wrote, fails at once (SQLITE_BUSY_SNAPSHOT, busy_timeout unused).
    ``after_read`` writes in a transaction of its own instead."""
    with database.session(read=True) as reader:
        assert reader.execute(text("SELECT sum(v) FROM t")).scalar_one() == 1
        with database.session() as writer:
            writer.execute(text("INSERT INTO t (v) VALUES (100)"))
            writer.commit()
        after_read(reader, lambda s: s.execute(text("INSERT INTO t (v) VALUES (1000)")))
        reader.commit()
    assert _read(database) == 1101


def test_a_reads_write_waits_for_a_writer_instead_of_failing(database: Database) -> None:
    with database.session(read=True) as reader:
        reader.execute(text("SELECT sum(v) FROM t")).scalar_one()
        after_read(reader, lambda s: s.execute(text("INSERT INTO t (v) VALUES (1000)")))
        writer = database.session()
        writer.execute(text("INSERT INTO t (v) VALUES (100)"))  # holds the lock for a moment
        threading.Timer(0.3, writer.commit).start()
        reader.commit()  # waits on busy_timeout for the lock
        writer.close()
    assert _read(database) == 1101


def test_a_rolled_back_read_drops_its_writes(database: Database) -> None:
    with database.session(read=True) as reader:
        after_read(reader, lambda s: s.execute(text("INSERT INTO t (v) VALUES (1000)")))
        reader.rollback()
        reader.commit()
    assert _read(database) == 1


def test_savepoints_work_in_writer_and_read_sessions(database: Database) -> None:
    with database.session() as s:
        s.execute(text("INSERT INTO t (v) VALUES (2)"))
        nested = s.begin_nested()
        s.execute(text("INSERT INTO t (v) VALUES (50)"))
        nested.rollback()
        s.commit()
    with database.session(read=True) as s:
        with s.begin_nested():
            assert s.execute(text("SELECT sum(v) FROM t")).scalar_one() == 3
        after_read(s, lambda w: w.execute(text("INSERT INTO t (v) VALUES (4)")))
        s.commit()
    assert _read(database) == 7


def test_read_sessions_begin_deferred_and_writers_immediate(database: Database) -> None:
    begins: list[str] = []
    from sqlalchemy import event

    @event.listens_for(database.engine, "before_cursor_execute")
    def on_execute(conn, cursor, statement, *args) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    _read(database)
    with database.session(read=True) as s:
        s.execute(text("SELECT 1"))
        after_read(s, lambda w: w.execute(text("INSERT INTO t (v) VALUES (5)")))
        s.commit()
    with database.session() as s:
        s.execute(text("SELECT 1"))
        s.commit()
    assert begins == ["BEGIN DEFERRED", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]


def test_only_the_audit_events_of_reads_commit_without_a_disk_flush(database: Database) -> None:
    """``PRAGMA synchronous``: 1 (NORMAL) in the short transaction that writes what a read
    leaves behind, 2 (FULL) in every other write transaction, on the same pooled connection."""
    seen: list[int] = []
    with database.session(read=True) as s:
        s.execute(text("SELECT sum(v) FROM t"))
        after_read(s, lambda w: seen.append(w.execute(text("PRAGMA synchronous")).scalar_one()))
        after_read(s, lambda w: w.execute(text("INSERT INTO t (v) VALUES (2)")))
        s.commit()
    with database.session() as s:
        seen.append(s.execute(text("PRAGMA synchronous")).scalar_one())
        s.execute(text("INSERT INTO t (v) VALUES (3)"))
        s.commit()
    assert seen == [1, 2]
    assert _read(database) == 6  # both writes are there
