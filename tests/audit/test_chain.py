from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ioffice.agencies.service import get_agency_by_code
from ioffice.audit import AuditContext, record, verify_chain
from ioffice.audit.models import AuditEvent, AuditHead


def _ctx(db: Session) -> AuditContext:
    agency = get_agency_by_code(db, "000.00.00.H12")
    assert agency is not None
    return AuditContext(actor_id=None, agency_id=agency.id, remote_addr="203.0.113.7")


def test_intact_log_verifies(db: Session) -> None:
    ctx = _ctx(db)
    first = record(db, ctx, "incoming:document:read", subject_type="document", subject_id=1)
    second = record(db, ctx, "incoming:document:read", subject_type="document", subject_id=2,
                    details={"ghi chú": "Đọc văn bản"})
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    assert verify_chain(db) == []


def test_edited_event_breaks_the_chain(db: Session) -> None:
    ctx = _ctx(db)
    ev = record(db, ctx, "incoming:document:read", subject_type="document", subject_id=7)
    record(db, ctx, "incoming:document:read", subject_type="document", subject_id=8)
    db.execute(update(AuditEvent).where(AuditEvent.id == ev.id).values(subject_id="9"))
    db.expire_all()
    problems = verify_chain(db)
    assert [(p.seq, p.message) for p in problems] == [(ev.seq, "nội dung sự kiện đã bị sửa")]


def test_deleted_last_event_is_detected(db: Session) -> None:
    ctx = _ctx(db)
    last = record(db, ctx, "incoming:document:read", subject_type="document", subject_id=3)
    db.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
    assert any("cuối chuỗi" in p.message for p in verify_chain(db))


def test_each_agency_has_its_own_chain(db: Session) -> None:
    ctx = _ctx(db)
    record(db, ctx, "incoming:document:read")
    other = get_agency_by_code(db, "000.00.00.G09")
    record(db, AuditContext(None, other.id), "incoming:document:read")
    chains = set(db.scalars(select(AuditHead.chain)))
    assert f"agency:{ctx.agency_id}" in chains and f"agency:{other.id}" in chains
    assert verify_chain(db) == []


def test_the_verify_command_reports_a_tampered_event(app, db: Session) -> None:
    ctx = _ctx(db)
    ev = record(db, ctx, "incoming:document:read", subject_type="document", subject_id=11)
    db.flush()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "Nhật ký nguyên vẹn" in ok.output
    db.execute(update(AuditEvent).where(AuditEvent.id == ev.id).values(remote_addr="10.0.0.1"))
    db.flush()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"sự kiện #{ev.seq} (id {ev.id}): nội dung sự kiện đã bị sửa" in bad.output


def test_several_events_in_one_call_chain_as_one_by_one_would(db: Session) -> None:
    from sqlalchemy import event

    from ioffice.audit import Entry, record_many

    ctx = _ctx(db)
    other = AuditContext(None, get_agency_by_code(db, "000.00.00.G09").id)
    before = record(db, ctx, "incoming:document:read", subject_id=0)
    selects: list[str] = []

    def on_execute(conn, cursor, sql, *args):
        if "FROM audit_heads" in sql:
            selects.append(sql)

    engine = db.get_bind().engine if hasattr(db.get_bind(), "engine") else db.get_bind()
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        events = record_many(db, [
            Entry(ctx, "incoming:document:receive", "incoming", 1, {"message_id": "m-1"}),
            Entry(other, "incoming:document:receive", "incoming", 2),
            Entry(ctx, "incoming:document:receive", "incoming", 3, {"tên": "Cà Mau"}),
        ])
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert len(selects) == 2  # each chain's head read (and locked) once
    first, second, third = events
    assert (first.chain, third.chain) == (before.chain, before.chain) and second.chain != before.chain
    assert (first.seq, first.prev_hash) == (before.seq + 1, before.hash)
    assert (third.seq, third.prev_hash) == (first.seq + 1, first.hash)
    assert [e.subject_id for e in events] == ["1", "2", "3"] and third.details == {"tên": "Cà Mau"}
    assert all(e.id is not None for e in events)  # flushed
    after = record(db, ctx, "incoming:document:read", subject_id=4)
    assert (after.seq, after.prev_hash) == (third.seq + 1, third.hash)
    assert verify_chain(db) == []
    assert record_many(db, []) == []
