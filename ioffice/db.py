"""SQLAlchemy base, engine and session handling.

Capability services receive a ``Session`` argument; only the web layer knows about the
request-scoped session kept here.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        # SQLite autoincrements only INTEGER PRIMARY KEY (its rowid)
        int: BigInteger().with_variant(Integer(), "sqlite"),
    }


def enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    """Store enums by value (stable, readable in SQL), not by member name."""
    return [str(m.value) for m in enum_cls]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ArchivalRevisionColumns:
    """The columns of a row recording an archival timestamp the re-timestamp job added to a
    kept file (a copy's, a hand-over record's): the new file and the one it extends, both kept
    (blob cleanup keeps every file named in such a row). Mixed into a mapped class that adds
    its id and the foreign key of what the file belongs to."""

    sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(default=0)
    certificate_serial: Mapped[str] = mapped_column(String(80), default="")
    """The TSA certificate's serial (hex)."""
    timestamp_at: Mapped[dt.datetime]
    timestamp_expires: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)
        _sqlite_transactions(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg":
        _commit_reads(engine)
    return engine


_WROTE = "ioffice_wrote"


def _commit_reads(engine: Engine) -> None:
    """A transaction that sent nothing but SELECTs ends with COMMIT where it would roll back.

    For the database the two are the same (nothing was written; locks and snapshots go
    either way). But psycopg forgets its connection's prepared statements at every rollback
    (and sends ``DEALLOCATE ALL``): the pages that end their read transaction by rolling it
    back (the session's close after a list page, the pool's reset) ran every statement
    unprepared, parsed and planned anew each time, and took the prepared statements of the
    pages that commit (the document pages, search) with them. Any statement that is not a
    ``SELECT`` (a write, ``SET``, ``SAVEPOINT``...) keeps the rollback, and so does a
    transaction in error. What is sent around SQLAlchemy (a raw psycopg cursor) is not seen:
    the application sends nothing so on PostgreSQL, and no ``SELECT`` of it writes (no
    ``SELECT INTO``, no function with effects but the transaction's advisory locks, which end
    either way)."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _sent(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[_WROTE] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        # an invalidated or closed connection raises on .info or .connection: the rollback that
        # follows deals with the connection as it is, as it does when the commit fails
        try:
            if conn.info.get(_WROTE, True):
                return
            dbapi_conn = conn.connection.dbapi_connection
            if dbapi_conn is not None \
                    and dbapi_conn.info.transaction_status == TransactionStatus.INTRANS:
                dbapi_conn.commit()  # psycopg's rollback that follows finds no transaction
        except Exception:
            return


PING_AFTER_IDLE_SECONDS = 10.0
"""A pooled connection unused for longer is checked with a round trip before it is handed out."""


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections that sat idle in the pool.

    ``pool_pre_ping`` sends a round trip on every checkout: ~3 per exchanged document in the
    workers (bench/exchange.py counted them in PostgreSQL's statement log). A connection the
    server dropped (a restart, an idle timeout) is one that sat unused, so only those are
    pinged; one dropped while in constant use fails its statement once, SQLAlchemy then
    discards the pool, and the caller retries (the worker's next round, the user's next
    click). A failed ping makes the pool replace the connection before handing it out."""

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just connected, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool discards it and connects again
            raise DisconnectionError(f"idle connection dropped by the server: {exc}") from exc


SQLITE_BEGIN = "ioffice_sqlite_begin"
"""Execution option of an engine: how its SQLite transactions begin (``IMMEDIATE`` if unset)."""
SQLITE_SYNC = "ioffice_sqlite_sync"
"""Execution option of an engine: ``NORMAL`` commits its SQLite transactions without waiting
for the disk (``PRAGMA synchronous=NORMAL``; ``FULL`` if unset). Only the audit events of
reads are written so (:attr:`Database.read_audit_engine`): in WAL mode such a commit survives
the application's crash, not a power cut before the next full commit or checkpoint, and it
holds the write lock for microseconds instead of a disk flush (docs/performance.md)."""


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy own transactions on pysqlite (savepoints work, writers serialise).

    A transaction begins IMMEDIATE, taking the single write lock up front, unless its engine
    says ``DEFERRED`` (:attr:`Database.read_engine`, the web's GET requests). In WAL mode a
    deferred transaction reads a snapshot without any lock; but if it then writes, SQLite
    cannot wait for the lock (busy_timeout is not consulted when a read transaction upgrades)
    and fails at once with "database is locked" when another connection writes. So: writers
    begin IMMEDIATE and queue on busy_timeout; readers begin DEFERRED and never write in
    that transaction (their few writes, the audit events of reads, go in a short IMMEDIATE
    transaction of their own, :func:`after_read`).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        options = conn.get_execution_options()
        sync = options.get(SQLITE_SYNC, "FULL")
        if conn.info.get(SQLITE_SYNC) != sync:  # kept per connection: one PRAGMA on a change
            conn.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if sync == 'NORMAL' else 'FULL'}")
            conn.info[SQLITE_SYNC] = sync
        mode = options.get(SQLITE_BEGIN, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


_AFTER_READ = "ioffice_after_read"
COMMITTED_ACTIONS = "ioffice_actions"
"""``session.info`` key: the audit tags recorded in the transaction, counted when it commits."""
_WRITE_BIND = "ioffice_write_bind"


class AppSession(Session):
    """A session that may be a read session: see :meth:`Database.session`."""

    def commit(self) -> None:
        writes = self.info.get(_AFTER_READ)
        if not writes:
            super().commit()
            self._committed()
            return
        self.info[_AFTER_READ] = []
        super().commit()  # the end of the read: its snapshot goes, it held no lock
        read_bind, self.bind = self.bind, self.info[_WRITE_BIND]
        try:  # a transaction of its own, begun IMMEDIATE: the lock for these rows only
            for write in writes:
                write(self)
            super().commit()
        finally:
            self.bind = read_bind
        self._committed()

    def rollback(self) -> None:
        if self.info.get(_AFTER_READ):
            self.info[_AFTER_READ] = []
        self.info.pop(COMMITTED_ACTIONS, None)
        super().rollback()

    def _committed(self) -> None:
        """Count the audited actions this commit made durable (``ioffice_actions_total``)."""
        tags = self.info.pop(COMMITTED_ACTIONS, None)
        if tags:
            from ioffice.metrics import count_actions

            count_actions(tags)


def after_read(session: Session, write: Callable[[Session], None]) -> None:
    """Write something a read leaves behind (its audit event) without making the read a
    writer: in a read session on SQLite, ``write`` runs at the session's next commit in a
    short IMMEDIATE transaction after the read transaction has ended (dropped on rollback);
    in any other session (PostgreSQL, a writer, the tests' ``db``), now, in the caller's
    transaction (no lock is taken that readers would queue on)."""
    queue = session.info.get(_AFTER_READ)
    if queue is None:
        write(session)
    else:
        queue.append(write)


class Database:
    """Engine and session factory of one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        # the same pool; only the BEGIN differs
        self.read_engine = self.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        self.sessionmaker = sessionmaker(self.engine, class_=AppSession, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.read_engine, class_=AppSession,
                                              expire_on_commit=False)
        # the audit events of reads: their own short transactions, no disk flush on SQLite
        self.read_audit_engine = self.engine.execution_options(**{SQLITE_SYNC: "NORMAL"})
        self._write_bind: Any = self.read_audit_engine

    def bind_to(self, connection: Any) -> None:
        """Tests: run every session inside an outer transaction that is rolled back."""
        self.sessionmaker = sessionmaker(bind=connection, class_=AppSession,
                                         expire_on_commit=False,
                                         join_transaction_mode="create_savepoint")
        self.read_sessionmaker = self.sessionmaker
        self._write_bind = connection

    def session(self, *, read: bool = False) -> Session:
        """A session; ``read``: one for a request that only reads (an HTTP GET), whose SQLite
        transactions begin DEFERRED and so never wait for, nor hold, the write lock. Its
        writes must go through :func:`after_read`."""
        if not read:
            return self.sessionmaker()
        session = self.read_sessionmaker()
        if self.sqlite:
            session.info[_AFTER_READ] = []
            session.info[_WRITE_BIND] = self._write_bind
        return session


class StatementCache:
    """Statements kept by what they were built from (a bounded LRU, shared by threads).

    Building a SELECT with SQLAlchemy's constructs and computing its cache key costs more CPU
    on a page than running it (docs/performance.md, "Statements built once"). A statement
    whose shape depends on the actor (their roles, department, the agency's review chain) is
    built once per such key and then executed as is: the key must hold every value the
    builder reads, the values bound in it included. SQLAlchemy's own compiled cache then
    shares the compiled form between the keys that differ only in bound values."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        built = build()  # outside the lock; two threads may build the same one, both correct
        with self._lock:
            self._items[key] = built
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return built


statements = StatementCache()
