"""SQLAlchemy base, engine and session handling.

Capability services receive a ``Session`` argument; only the web layer knows about the
request-scoped session kept here.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)
        _sqlite_transactions(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


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


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy own transactions on pysqlite (savepoints work, writers serialise).

    BEGIN IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout
    instead of failing when a read transaction upgrades to a write.
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
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Engine and session factory of one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def bind_to(self, connection: Any) -> None:
        """Tests: run every session inside an outer transaction that is rolled back."""
        self.sessionmaker = sessionmaker(bind=connection, expire_on_commit=False,
                                         join_transaction_mode="create_savepoint")

    def session(self) -> Session:
        return self.sessionmaker()
