"""Recording and verifying the hash-chained audit log.

One chain per agency (and one for events outside any agency) keeps agencies from contending
for a single lock. Each event's hash covers its content and the previous hash, so editing or
deleting any row breaks the chain at that point.

Events of reads (a document opened, a search run, a register exported) are not chained by the
request that reads: fifty readers of one agency would queue on its chain head. They are
appended pending (:func:`record_read`: ``seq`` and ``prev_hash`` NULL, ``hash`` the digest of
the row alone) and chained, in id order, by :func:`chain_pending`, which the exchange worker
runs every round (docs/security.md, "Audit log").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.audit.tags import Tag
from ioffice.db import COMMITTED_ACTIONS, after_read, utcnow

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"
PENDING = "pending"
"""The ``prev`` of a pending event's own digest (its ``seq`` is 0 there)."""


@dataclass(frozen=True)
class AuditContext:
    """Who acts, from where: passed by the web layer to every service call."""

    actor_id: int | None
    agency_id: int | None
    remote_addr: str = ""


def _chain_for(agency_id: int | None) -> str:
    return f"agency:{agency_id}" if agency_id is not None else SYSTEM_CHAIN


def _digest(prev_hash: str, seq: int, occurred_at: dt.datetime, event: dict[str, Any]) -> str:
    payload = json.dumps({"prev": prev_hash, "seq": seq, "at": occurred_at.isoformat(), **event},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


_CONTENT = ("agency_id", "actor_id", "tag", "subject_type", "subject_id", "remote_addr", "details")


def _content(ev: AuditEvent) -> dict[str, Any]:
    return {k: getattr(ev, k) for k in _CONTENT}


def record(session: Session, ctx: AuditContext, tag: Tag | str, *, subject_type: str = "",
           subject_id: object = "", details: dict[str, Any] | None = None,
           agency_id: int | None = None) -> RecordedEvent:
    """Append an event in the caller's transaction (it commits or rolls back with the action)."""
    return record_many(session, [Entry(ctx, tag, subject_type, subject_id, details, agency_id)])[0]


@dataclass(frozen=True)
class Entry:
    """One event for :func:`record_many`: the arguments of :func:`record`."""

    ctx: AuditContext
    tag: Tag | str
    subject_type: str = ""
    subject_id: object = ""
    details: dict[str, Any] | None = None
    agency_id: int | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored (the row of ``audit_events``)."""

    id: int
    chain: str
    seq: int
    occurred_at: dt.datetime
    agency_id: int | None
    actor_id: int | None
    tag: str
    subject_type: str
    subject_id: str
    remote_addr: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


_EVENTS = AuditEvent.__table__
_HEADS = AuditHead.__table__
_LOCK_HEAD = (select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.chain == bindparam("chain"))
              .with_for_update())
_INSERT_HEAD = insert(_HEADS).values(chain=bindparam("chain"), seq=0, hash=GENESIS)
_MOVE_HEAD = (update(_HEADS).where(_HEADS.c.chain == bindparam("chain_"))
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def record_many(session: Session, entries: list[Entry]) -> list[RecordedEvent]:
    """Append several events, in order, in the caller's transaction: each chain's head is
    locked and read once and moved once, and the events go in one INSERT (a batch of received
    documents: 3 statements per event before, 1 now, plus 2 per chain).

    Plain SQL statements, not ORM objects: the dispatch of one document spent more on the
    ORM's unit of work for its audit event than on the rest of its own rows."""
    if not entries:
        return []
    heads: dict[str, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    # second-precision timestamps survive every database round trip unchanged
    now = utcnow().replace(microsecond=0)
    for entry in entries:
        agency = entry.agency_id if entry.agency_id is not None else entry.ctx.agency_id
        chain = _chain_for(agency)
        head = heads.get(chain)
        if head is None:
            head = heads[chain] = _locked_head(session, chain)
        row = {"chain": chain, "seq": head[0] + 1, "occurred_at": now, "agency_id": agency,
               "actor_id": entry.ctx.actor_id, "tag": str(entry.tag),
               "subject_type": entry.subject_type, "subject_id": str(entry.subject_id),
               "remote_addr": entry.ctx.remote_addr[:64], "details": entry.details or {},
               "prev_hash": head[1]}
        row["hash"] = _digest(head[1], row["seq"], now, {k: row[k] for k in _CONTENT})
        head[0], head[1] = row["seq"], row["hash"]
        rows.append(row)
    ids = session.execute(_INSERT_EVENTS, rows).scalars().all()
    session.info.setdefault(COMMITTED_ACTIONS, []).extend(row["tag"] for row in rows)
    moves = [{"chain_": chain, "new_seq": seq, "new_hash": hash_} for chain, (seq, hash_) in heads.items()]
    session.execute(_MOVE_HEAD, moves)
    session.flush()  # as before: the caller's pending rows reach the database with the events
    return [RecordedEvent(id=id_, **row) for id_, row in zip(ids, rows, strict=True)]


def _locked_head(session: Session, chain: str) -> list[Any]:
    head = session.execute(_LOCK_HEAD, {"chain": chain}).one_or_none()
    if head is None:
        try:  # the first event of a chain; another transaction may be creating it too
            with session.begin_nested():
                session.execute(_INSERT_HEAD, {"chain": chain})
        except IntegrityError:
            pass
        head = session.execute(_LOCK_HEAD, {"chain": chain}).one()
    return [head.seq, head.hash]


def record_read(session: Session, ctx: AuditContext, tag: Tag | str, *, subject_type: str = "",
                subject_id: object = "", details: dict[str, Any] | None = None,
                agency_id: int | None = None) -> None:
    """Append the event of a read, pending: no chain head is locked, so readers of one agency
    do not queue on it. In a read session on SQLite the row is written at the session's next
    commit in a short write transaction of its own (:func:`ioffice.db.after_read`), else now
    in the caller's transaction. :func:`chain_pending` chains it within seconds."""
    agency = agency_id if agency_id is not None else ctx.agency_id
    now = utcnow().replace(microsecond=0)
    row = {"chain": _chain_for(agency), "seq": None, "occurred_at": now, "agency_id": agency,
           "actor_id": ctx.actor_id, "tag": str(tag), "subject_type": subject_type,
           "subject_id": str(subject_id), "remote_addr": ctx.remote_addr[:64],
           "details": details or {}, "prev_hash": None}
    row["hash"] = _digest(PENDING, 0, now, {k: row[k] for k in _CONTENT})
    after_read(session, lambda s: s.execute(_INSERT_PENDING, [row]))
    session.info.setdefault(COMMITTED_ACTIONS, []).append(row["tag"])


_INSERT_PENDING = insert(_EVENTS)
_PENDING_CHAINS = select(_EVENTS.c.chain).where(_EVENTS.c.seq.is_(None)).distinct()
_SET_LINK = (update(_EVENTS).where(_EVENTS.c.id == bindparam("id_"))
             .values(seq=bindparam("new_seq"), prev_hash=bindparam("prev"), hash=bindparam("new_hash")))


def chain_pending(session: Session, *, limit: int = 1000) -> int:
    """Chain pending events, oldest (lowest id) first, up to ``limit`` per chain, in the
    caller's transaction; returns how many. Each chain's head is locked once for all its
    rows (the worker's transaction is short: a few statements per chain).

    A pending row whose own digest does not match its content was changed after it was
    written: it is left pending (and :func:`verify_chain` reports it), not chained over."""
    done = 0
    for chain in session.scalars(_PENDING_CHAINS).all():
        head = _locked_head(session, chain)
        # read after the head's lock: a concurrent chainer's rows are no longer pending
        rows = session.execute(
            select(_EVENTS).where(_EVENTS.c.chain == chain, _EVENTS.c.seq.is_(None))
            .order_by(_EVENTS.c.id).limit(limit)).all()
        links = []
        for ev in rows:
            content = {k: getattr(ev, k) for k in _CONTENT}
            if _digest(PENDING, 0, ev.occurred_at, content) != ev.hash:
                continue
            seq = head[0] + 1
            new_hash = _digest(head[1], seq, ev.occurred_at, content)
            links.append({"id_": ev.id, "new_seq": seq, "prev": head[1], "new_hash": new_hash})
            head = [seq, new_hash]
        if links:
            session.execute(_SET_LINK, links)
            session.execute(_MOVE_HEAD, [{"chain_": chain, "new_seq": head[0], "new_hash": head[1]}])
            done += len(links)
    return done


def pending_count(session: Session) -> int:
    """Events appended but not yet chained (reads of the last seconds, normally)."""
    return session.scalar(select(func.count()).select_from(_EVENTS).where(_EVENTS.c.seq.is_(None)))


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    event_id: int | None
    message: str


def verify_chain(session: Session) -> list[ChainProblem]:
    """Recompute every chain; an empty list means the log is intact. Pending events (not
    chained yet, :func:`pending_count`) are not part of a chain: only their own digest is
    checked (a row deleted while pending leaves no trace, docs/security.md)."""
    problems: list[ChainProblem] = []
    # rows, not objects: heads are moved by plain UPDATEs, an object loaded earlier would be stale
    heads = {h.chain: h for h in session.execute(select(AuditHead.chain, AuditHead.seq, AuditHead.hash))}
    for chain, head in heads.items():
        prev, expected_seq = GENESIS, 1
        for ev in _events(session, chain):
            if ev.seq != expected_seq:
                problems.append(ChainProblem(chain, expected_seq, ev.id,
                                             f"thiếu sự kiện số {expected_seq}"))
            if ev.prev_hash != prev:
                problems.append(ChainProblem(chain, ev.seq, ev.id, "liên kết với sự kiện trước bị sai"))
            if _digest(ev.prev_hash, ev.seq, ev.occurred_at, _content(ev)) != ev.hash:
                problems.append(ChainProblem(chain, ev.seq, ev.id, "nội dung sự kiện đã bị sửa"))
            prev, expected_seq = ev.hash, ev.seq + 1
        if head.hash != prev or head.seq != expected_seq - 1:
            problems.append(ChainProblem(chain, head.seq, None,
                                         "sự kiện cuối chuỗi đã bị xóa hoặc thay đổi"))
    pending = (select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
               .execution_options(yield_per=1000, populate_existing=True))
    for ev in session.scalars(pending):
        if _digest(PENDING, 0, ev.occurred_at, _content(ev)) != ev.hash:
            problems.append(ChainProblem(ev.chain, 0, ev.id,
                                         "nội dung sự kiện chờ nối chuỗi đã bị sửa"))
    return problems


def _events(session: Session, chain: str) -> Iterator[AuditEvent]:
    stmt = (select(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq)
            # chain_pending links rows by plain UPDATEs: an object loaded before would be stale
            .execution_options(yield_per=1000, populate_existing=True))
    yield from session.scalars(stmt)
