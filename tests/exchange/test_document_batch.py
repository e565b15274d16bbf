"""Documents received together (``receive_documents``): one transaction for a batch, the same
outcome for each package as on its own, an audit event per document created, and each package
on its own when the batch's transaction fails."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from axis_connector.client import ReceivedEdoc
from ioffice.agencies.models import Agency
from ioffice.audit import verify_chain
from ioffice.audit.models import AuditEvent
from ioffice.exchange import receipt
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox
from ioffice.incoming.models import IncomingDocument

from .conftest import BNV, CA_MAU, U_MINH, Federation, agency, outgoing
from .test_bad_input import signed_package

UNKNOWN = "000.00.99.H99"


def _item(message_id: str, data: bytes, to: tuple[str, ...] = (CA_MAU,)) -> tuple[ReceivedEdoc, bytes]:
    return (ReceivedEdoc(message_id=message_id, sender=BNV, to=to, document_id="",
                         messagetype="edoc", status_code=None, created_at=dt.datetime.now(dt.UTC),
                         content_length=len(data), content_sha256=""), data)


def _batch(db: Session, fed: Federation) -> tuple[list[tuple[ReceivedEdoc, bytes]], dict[str, str]]:
    """Five packages: a document for Cà Mau, one for Cà Mau, U Minh and an agency unknown here,
    a tampered one, the first document again under another message id, and one whose
    attachment is not a PDF."""
    first = outgoing(db, fed, recipients=(CA_MAU,), subject="Văn bản thứ nhất")
    second = outgoing(db, fed, recipients=(CA_MAU, U_MINH), subject="Văn bản thứ hai")
    tampered = outgoing(db, fed, recipients=(CA_MAU,), subject="Báo cáo quý I")
    not_pdf = outgoing(db, fed, recipients=(CA_MAU,), pdf=b"PK\x03\x04 a zip file, not a PDF")
    first_data = signed_package(db, fed, first)
    batch = [
        _item("d-1", first_data),
        _item("d-2", signed_package(db, fed, second), (CA_MAU, U_MINH, UNKNOWN)),
        _item("d-3", signed_package(db, fed, tampered).replace(
            "Báo cáo quý I".encode(), "Báo cáo quý V".encode())),
        _item("d-4", first_data),
        _item("d-5", signed_package(db, fed, not_pdf)),
    ]
    ids = {"first": first.document_identifier, "second": second.document_identifier,
           "tampered": tampered.document_identifier, "not_pdf": not_pdf.document_identifier}
    return batch, ids


def _documents(db: Session, document_id: str) -> list[str]:
    """The agencies holding an incoming document with this identifier."""
    db.expire_all()
    return sorted(db.scalars(select(Agency.code).join(
        IncomingDocument, IncomingDocument.agency_id == Agency.id).where(
        IncomingDocument.document_identifier == document_id)).all())


def _summary(outcomes: dict[str, receipt.Outcome]) -> dict[str, tuple[list[str], list[str]]]:
    return {m: (sorted(o.delivered), sorted(o.failed)) for m, o in outcomes.items()}


def _check(db: Session, outcomes: dict[str, receipt.Outcome], ids: dict[str, str]) -> None:
    assert _summary(outcomes) == {
        "d-1": ([CA_MAU], []),
        "d-2": ([CA_MAU, U_MINH], [UNKNOWN]),
        "d-3": ([], [CA_MAU]),
        "d-4": ([CA_MAU], []),  # the same document again: acknowledged, not created twice
        "d-5": ([], [CA_MAU]),
    }
    assert "digest_mismatch" in outcomes["d-3"].failed[CA_MAU]
    assert outcomes["d-5"].failed[CA_MAU].startswith("Tệp đính kèm không hợp lệ")
    assert outcomes["d-2"].failed[UNKNOWN] == f"Cơ quan {UNKNOWN} không có trong hệ thống này."
    assert _documents(db, ids["first"]) == [CA_MAU]
    assert _documents(db, ids["second"]) == [CA_MAU, U_MINH]
    assert _documents(db, ids["tampered"]) == [] and _documents(db, ids["not_pdf"]) == []
    states = dict(db.execute(select(ExchangeInbox.message_id, ExchangeInbox.state).where(
        ExchangeInbox.message_id.in_(["d-1", "d-3", "d-4", "d-5"]))).all())
    assert states == {"d-1": "delivered", "d-3": "failed", "d-4": "duplicate", "d-5": "failed"}
    created = db.scalars(select(IncomingDocument.id).where(IncomingDocument.document_identifier.in_(
        [ids["first"], ids["second"]]))).all()
    assert len(created) == 3
    # one audit event per document created, and the chain still verifies
    events = db.scalars(select(AuditEvent).where(AuditEvent.tag == "incoming:document:receive",
                                                 AuditEvent.subject_id.in_([str(i) for i in created]))).all()
    assert sorted(int(e.subject_id) for e in events) == sorted(created)
    assert {e.details["message_id"] for e in events} == {"d-1", "d-2"}
    assert verify_chain(db) == []
    # status 01 queued once per document created
    assert db.scalar(select(func.count()).select_from(ExchangeOutbox).where(
        ExchangeOutbox.kind == "status", ExchangeOutbox.document_identifier.in_(
            [ids["first"], ids["second"]]))) == 3


def test_a_batch_gives_each_package_the_outcome_it_would_get_alone(db: Session,
                                                                  federation: Federation) -> None:
    batch, ids = _batch(db, federation)
    outcomes = dict(receipt.receive_documents(federation.rt, "tinh", batch))
    _check(db, outcomes, ids)

    # the same batch again (stored, not acknowledged before a crash): the same answers, nothing new
    again = dict(receipt.receive_documents(federation.rt, "tinh", batch))
    assert _summary(again) == _summary(outcomes)
    _check(db, outcomes, ids)
    assert db.scalar(select(func.count()).select_from(ExchangeInbox).where(
        ExchangeInbox.message_id.in_([f"d-{i}" for i in range(1, 6)]))) == 7


def test_when_the_batch_fails_each_document_is_stored_on_its_own(db: Session,
                                                                 federation: Federation) -> None:
    def broken(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("connection lost"))

    batch, ids = _batch(db, federation)
    outcomes = dict(receipt._together_or_each(federation.rt, "tinh", batch, broken))
    _check(db, outcomes, ids)
    assert agency(db, CA_MAU).id  # the session is still usable


def test_a_batch_writes_its_documents_several_rows_per_statement(db: Session,
                                                                 federation: Federation) -> None:
    """One flush gives every new document of a batch its id: their rows, files, status 01 rows,
    texts, search entries and inbox rows go in one INSERT per table, not one per document."""
    from sqlalchemy import event

    packages = [outgoing(db, federation, recipients=(CA_MAU,), subject=f"Văn bản số {i}")
                for i in range(3)]
    batch = [_item(f"m-{i}", signed_package(db, federation, p)) for i, p in enumerate(packages)]
    inserts: dict[str, int] = {}

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO"):
            table = statement.split()[2]
            inserts[table] = inserts.get(table, 0) + 1

    engine = db.get_bind().engine if hasattr(db.get_bind(), "engine") else db.get_bind()
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        outcomes = dict(receipt.receive_documents(federation.rt, "tinh", batch))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert all(o.delivered == [CA_MAU] for o in outcomes.values())
    # PostgreSQL: one statement per table; SQLite (the embedded default) inserts rows whose
    # ids are read back one at a time
    most = 1 if db.get_bind().dialect.name == "postgresql" else len(packages)
    for table in ("incoming_documents", "incoming_files", "incoming_texts", "exchange_inbox",
                  "exchange_outbox", "search_entries", "audit_events"):
        assert 1 <= inserts.get(table, 0) <= most, (table, inserts)
    for p in packages:
        assert _documents(db, p.document_identifier) == [CA_MAU]
