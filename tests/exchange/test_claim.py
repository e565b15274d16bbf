"""Claiming outbox rows: due rows are leased to one worker; on PostgreSQL two workers claiming
at once get disjoint rows (SKIP LOCKED), never the same one."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from ioffice.agencies.models import Agency
from ioffice.db import utcnow
from ioffice.exchange.models import ExchangeOutbox, OutboxState
from ioffice.exchange.runtime import Exchange
from ioffice.exchange.sending import claim


@pytest.fixture
def committed_rows(engine: Engine) -> Iterator[tuple[sessionmaker[Session], list[int]]]:
    """Outbox rows really committed (claiming is about concurrent transactions), removed after."""
    factory = sessionmaker(engine, expire_on_commit=False)
    now = utcnow()
    with factory() as session:
        agency_id = session.scalar(select(Agency.id).order_by(Agency.id).limit(1))
        rows = [ExchangeOutbox(agency_id=agency_id, kind="status", document_identifier=f"claim-test-{i}",
                               recipients=["000.00.00.G09"], payload={}, next_attempt_at=now)
                for i in range(6)]
        rows.append(ExchangeOutbox(agency_id=agency_id, kind="status", document_identifier="claim-test-later",
                                   recipients=["000.00.00.G09"], payload={},
                                   next_attempt_at=now + dt.timedelta(hours=1)))
        rows.append(ExchangeOutbox(agency_id=agency_id, kind="status", document_identifier="claim-test-sent",
                                   recipients=["000.00.00.G09"], payload={}, state=OutboxState.SENT,
                                   next_attempt_at=now))
        session.add_all(rows)
        session.commit()
        ids = [r.id for r in rows]
    yield factory, ids
    with factory() as session:
        session.execute(delete(ExchangeOutbox).where(ExchangeOutbox.id.in_(ids)))
        session.commit()


def _runtime(factory: sessionmaker[Session]) -> Exchange:
    return Exchange(hubs=(), session_factory=factory, blobs_factory=lambda: None,
                    pki_factory=lambda: None, settings={"LEASE_SECONDS": 60})


def test_due_pending_rows_are_leased_oldest_first(
        committed_rows: tuple[sessionmaker[Session], list[int]]) -> None:
    factory, ids = committed_rows
    rt = _runtime(factory)
    first = claim(rt, 4)
    assert first == ids[:4]
    assert claim(rt, 10) == ids[4:6]  # not the one due in an hour, not the sent one
    assert claim(rt, 10) == []  # leased for 60 s
    with factory() as session:
        leased = session.scalars(select(ExchangeOutbox).where(ExchangeOutbox.id.in_(ids[:6]))).all()
        assert all(r.attempts == 1 and r.next_attempt_at > utcnow() + dt.timedelta(seconds=50)
                   for r in leased)


def test_concurrent_claims_never_share_a_row(engine: Engine,
                                             committed_rows: tuple[sessionmaker[Session], list[int]]) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one worker (its writers are serialised)")
    factory, ids = committed_rows
    with factory() as holder:  # another worker in the middle of claiming the two oldest rows
        holder.execute(select(ExchangeOutbox.id).where(ExchangeOutbox.id.in_(ids[:2])).with_for_update())
        assert claim(_runtime(factory), 10) == ids[2:6]  # skipped, not waited for
        holder.rollback()

    with factory() as session:
        session.execute(ExchangeOutbox.__table__.update().where(ExchangeOutbox.id.in_(ids[:6]))
                        .values(next_attempt_at=utcnow()))
        session.commit()
    results: list[list[int]] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        results.append(claim(_runtime(factory), 2))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == ids[:6] and len(set(claimed)) == 6


def test_message_locks_are_taken_together_and_keep_another_worker_out(engine: Engine) -> None:
    """receive_batch locks the listed messages in one statement (PostgreSQL advisory locks held
    until its connection's transaction ends); a second worker gets only the others."""
    import uuid

    from ioffice.exchange.receipt import _try_locks

    m1, m2, m3 = (f"lock-test-{uuid.uuid4()}" for _ in range(3))
    if engine.dialect.name != "postgresql":  # one worker: no lock connection, nothing to exclude
        assert _try_locks(None, "tinh", [m1, m2]) == {m1, m2}
        return
    with engine.connect() as first, engine.connect() as second, engine.connect() as elsewhere:
        assert _try_locks(first, "tinh", [m1, m2]) == {m1, m2}
        # an installation in another schema of the same database (advisory locks are shared
        # by the whole database) is not kept out of its own message of the same id
        elsewhere.execute(text("SET LOCAL search_path TO public"))
        assert _try_locks(elsewhere, "tinh", [m1, m2]) == {m1, m2}
        elsewhere.rollback()
        assert _try_locks(second, "tinh", [m2, m3]) == {m3}
        assert _try_locks(first, "tinh", [m1, m3]) == {m1}  # its own again; m3 is the other's
        assert _try_locks(second, "quoc-gia", [m1]) == {m1}  # the same id from another hub
        assert _try_locks(first, "tinh", []) == set()
        first.rollback()  # its transaction ended: its locks are gone
        assert _try_locks(second, "tinh", [m1, m2]) == {m1, m2}
        second.rollback()
