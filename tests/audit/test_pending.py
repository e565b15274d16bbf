"""Events of reads: appended pending without the chain head's lock, chained later in id order
(ioffice/audit/service.py record_read, chain_pending; docs/security.md, "Audit log")."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ioffice.agencies.service import get_agency_by_code
from ioffice.audit import (
    AuditContext,
    chain_pending,
    pending_count,
    record,
    record_read,
    verify_chain,
)
from ioffice.audit.models import AuditEvent
from tests.conftest import login
from tests.support.factories import actor, register


def _ctx(db: Session) -> AuditContext:
    agency = get_agency_by_code(db, "000.00.00.H12")
    assert agency is not None
    return AuditContext(actor_id=None, agency_id=agency.id, remote_addr="203.0.113.7")


def _event(db: Session, event_id: int) -> AuditEvent:
    db.expire_all()
    return db.get(AuditEvent, event_id)


def _last_ids(db: Session, n: int) -> list[int]:
    return sorted(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(n)))


def test_a_read_is_appended_pending_without_touching_the_chain_head(db: Session) -> None:
    ctx = _ctx(db)
    record(db, ctx, "incoming:document:register", subject_type="incoming", subject_id=1)
    statements: list[str] = []

    def on_execute(conn, cursor, sql, *args) -> None:
        statements.append(sql)

    event.listen(db.get_bind(), "before_cursor_execute", on_execute)
    try:
        record_read(db, ctx, "incoming:document:read", subject_type="incoming", subject_id=1)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", on_execute)
    assert not [s for s in statements if "audit_heads" in s]
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO audit_events")
    (read_id,) = _last_ids(db, 1)
    read = _event(db, read_id)
    assert read.seq is None and read.prev_hash is None and read.tag == "incoming:document:read"
    assert pending_count(db) >= 1
    assert verify_chain(db) == []  # pending is not broken


def test_pending_reads_are_chained_in_id_order_after_the_chain_s_events(db: Session) -> None:
    ctx = _ctx(db)
    chain_pending(db)  # whatever the demo left
    first = record(db, ctx, "incoming:document:register", subject_type="incoming", subject_id=1)
    record_read(db, ctx, "incoming:document:read", subject_type="incoming", subject_id=1)
    record_read(db, ctx, "search:query:run", details={"q": "chuyển đổi số"})
    later = record(db, ctx, "incoming:document:distribute", subject_type="incoming", subject_id=1)
    read_ids = [i for i in _last_ids(db, 4) if i not in (first.id, later.id)]
    assert later.seq == first.seq + 1  # writers chain at once, past the pending reads
    assert chain_pending(db) == 2
    reads = [_event(db, i) for i in read_ids]
    assert [r.seq for r in reads] == [later.seq + 1, later.seq + 2]
    assert reads[0].prev_hash == later.hash and reads[1].prev_hash == reads[0].hash
    assert pending_count(db) == 0 and chain_pending(db) == 0
    assert verify_chain(db) == []
    after = record(db, ctx, "incoming:document:finish", subject_type="incoming", subject_id=1)
    assert after.seq == reads[1].seq + 1 and after.prev_hash == reads[1].hash
    assert verify_chain(db) == []


def test_a_read_changed_while_pending_is_reported_and_never_chained(db: Session) -> None:
    ctx = _ctx(db)
    record_read(db, ctx, "incoming:document:read", subject_type="incoming", subject_id=5)
    (read_id,) = _last_ids(db, 1)
    db.execute(update(AuditEvent).where(AuditEvent.id == read_id).values(subject_id="6"))
    problems = verify_chain(db)
    assert [(p.event_id, p.message) for p in problems] == [
        (read_id, "nội dung sự kiện chờ nối chuỗi đã bị sửa")]
    chain_pending(db)
    assert _event(db, read_id).seq is None  # the chain does not vouch for the edited row
    assert [p.event_id for p in verify_chain(db)] == [read_id]


def test_a_read_changed_after_chaining_breaks_the_chain(db: Session) -> None:
    ctx = _ctx(db)
    record_read(db, ctx, "incoming:document:read", subject_type="incoming", subject_id=7)
    (read_id,) = _last_ids(db, 1)
    chain_pending(db)
    chained = _event(db, read_id)
    db.execute(update(AuditEvent).where(AuditEvent.id == read_id).values(remote_addr="10.0.0.1"))
    problems = verify_chain(db)
    assert [(p.seq, p.message) for p in problems] == [(chained.seq, "nội dung sự kiện đã bị sửa")]


def test_the_verify_command_chains_first_or_reports_what_is_pending(app, db: Session) -> None:
    ctx = _ctx(db)
    chain_pending(db)
    record_read(db, ctx, "incoming:document:read", subject_type="incoming", subject_id=9)
    db.flush()
    runner = app.test_cli_runner()
    waiting = runner.invoke(args=["audit", "verify", "--no-chain"])
    assert waiting.exit_code == 0 and "(1 sự kiện đọc đang chờ nối chuỗi)" in waiting.output
    done = runner.invoke(args=["audit", "verify"])
    assert done.exit_code == 0 and "chờ nối chuỗi" not in done.output
    assert pending_count(db) == 0


def test_opening_a_document_page_appends_its_read_pending(client: FlaskClient, db: Session,
                                                          blobs) -> None:
    doc = register(db, blobs, actor(db, "vanthu.camau"))
    db.commit()
    login(client, "vanthu.camau")
    assert client.get(f"/van-ban-den/{doc.id}").status_code == 200
    reads = db.scalars(select(AuditEvent).where(AuditEvent.tag == "incoming:document:read",
                                               AuditEvent.subject_id == str(doc.id))).all()
    assert [(r.seq, r.actor_id) for r in reads] == [(None, actor(db, "vanthu.camau").user_id)]
    assert chain_pending(db) >= 1 and verify_chain(db) == []


def test_the_exchange_worker_chains_pending_reads(app, db: Session) -> None:
    from ioffice.exchange import worker
    from ioffice.exchange.runtime import exchange

    ctx = _ctx(db)
    record_read(db, ctx, "search:query:run", details={"q": "giải phóng mặt bằng"})
    db.commit()
    assert pending_count(db) >= 1
    assert worker.chain_audit(exchange(app)) >= 1
    assert pending_count(db) == 0 and verify_chain(db) == []
