"""Statuses received together (``receive_statuses``): one transaction for a batch, the same
outcome for each package as on its own, and each package on its own when the batch fails."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from axis_connector.client import ReceivedEdoc
from axis_connector.edxml import sign_package
from ioffice.audit import AuditContext
from ioffice.exchange import dispatch, receipt, recipient_statuses
from ioffice.exchange.models import ExchangeInbox, ExchangeStatus
from ioffice.exchange.packages import build_status
from ioffice.exchange.sending import _seal

from .conftest import BNV, CA_MAU, U_MINH, VPCP, Federation, agency, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def _status(db: Session, fed: Federation, frm: str, document_id: str, code: str,
            description: str = "") -> bytes:
    sender = agency(db, frm)
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).replace(microsecond=0).isoformat()
    payload = {"organ_id": frm, "organ_name": sender.name, "to": BNV,
               "response_for": {"organ_id": BNV, "code": "1/BNV", "promulgation_date": "2026-01-02",
                                "document_id": document_id},
               "code": code, "description": description, "staff": "Nguyễn Thị Văn Thư",
               "department": "Văn phòng", "timestamp": at}
    key, chain = _seal(fed.rt, db, sender.id)
    return sign_package(build_status(payload), key, chain)


def _item(message_id: str, data: bytes, frm: str, document_id: str) -> tuple[ReceivedEdoc, bytes]:
    return (ReceivedEdoc(message_id=message_id, sender=frm, to=(BNV,), document_id=document_id,
                         messagetype="status", status_code=None, created_at=dt.datetime.now(dt.UTC),
                         content_length=len(data), content_sha256=""), data)


@pytest.fixture
def sent(db: Session, federation: Federation) -> str:
    """A document BNV sent to Cà Mau and U Minh (statuses 01 already back)."""
    edoc = outgoing(db, federation, recipients=(CA_MAU, U_MINH))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    return edoc.document_identifier


def _history(db: Session, document_id: str) -> dict[str, list[str]]:
    db.expire_all()
    return {s.organ_id: [h.code for h in s.history]
            for s in recipient_statuses(db, agency(db, BNV).id, document_id)}


def _batch(db: Session, federation: Federation, doc: str) -> list[tuple[ReceivedEdoc, bytes]]:
    good = _status(db, federation, CA_MAU, doc, "03", description="Đã vào sổ số 15")
    return [
        _item("s-1", good, CA_MAU, doc),
        _item("s-2", _status(db, federation, U_MINH, doc, "03"), U_MINH, doc),
        _item("s-3", good, CA_MAU, doc),  # the same status again under another message id
        _item("s-4", _status(db, federation, VPCP, doc, "03"), VPCP, doc),  # not a recipient
        _item("s-5", _status(db, federation, CA_MAU, "000.00.00.G09,2026/01/02,9/BNV", "03"),
              CA_MAU, "000.00.00.G09,2026/01/02,9/BNV"),  # never sent
        _item("s-6", good.replace("Đã vào sổ số 15".encode(), "Đã vào sổ số 16".encode()),
              CA_MAU, doc),  # tampered after signing
    ]


def test_a_batch_of_statuses_is_stored_as_one_by_one(db: Session, federation: Federation,
                                                      sent: str) -> None:
    assert _history(db, sent) == {CA_MAU: ["01"], U_MINH: ["01"]}
    outcomes = dict(receipt.receive_statuses(federation.rt, "tinh", _batch(db, federation, sent)))

    assert outcomes["s-1"].delivered == [BNV] and outcomes["s-2"].delivered == [BNV]
    assert outcomes["s-3"].delivered == [BNV]  # delivered, but stored once (below)
    assert "không phải nơi nhận" in outcomes["s-4"].failed[BNV]
    assert "chưa từng gửi" in outcomes["s-5"].failed[BNV]
    assert "digest_mismatch" in outcomes["s-6"].failed[BNV]
    assert _history(db, sent) == {CA_MAU: ["01", "03"], U_MINH: ["01", "03"]}
    [camau_03] = db.scalars(select(ExchangeStatus).where(
        ExchangeStatus.document_identifier == sent, ExchangeStatus.organ_id == CA_MAU,
        ExchangeStatus.code == "03")).all()
    assert camau_03.description == "Đã vào sổ số 15" and camau_03.staff == "Nguyễn Thị Văn Thư"
    states = dict(db.execute(select(ExchangeInbox.message_id, ExchangeInbox.state).where(
        ExchangeInbox.message_id.in_([f"s-{i}" for i in range(1, 7)]))).all())
    assert states == {"s-1": "status", "s-2": "status", "s-3": "status", "s-4": "ignored",
                      "s-5": "ignored", "s-6": "failed"}

    # the same batch again (not acknowledged before a crash): nothing new, the same answers
    again = dict(receipt.receive_statuses(federation.rt, "tinh", _batch(db, federation, sent)))
    assert {m: (o.delivered, sorted(o.failed)) for m, o in again.items()} == {
        m: (o.delivered, sorted(o.failed)) for m, o in outcomes.items()}
    assert _history(db, sent) == {CA_MAU: ["01", "03"], U_MINH: ["01", "03"]}
    assert db.scalar(select(ExchangeInbox.id).where(ExchangeInbox.message_id == "s-1")
                     .order_by(ExchangeInbox.id.desc())) is not None
    assert len(db.scalars(select(ExchangeInbox.id).where(
        ExchangeInbox.message_id.in_([f"s-{i}" for i in range(1, 7)]))).all()) == 6


def test_when_the_batch_fails_each_status_is_stored_on_its_own(
        db: Session, federation: Federation, sent: str) -> None:
    def broken(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("connection lost"))

    outcomes = dict(receipt._together_or_each(federation.rt, "tinh", _batch(db, federation, sent),
                                              broken))
    assert sorted(outcomes) == [f"s-{i}" for i in range(1, 7)]
    assert outcomes["s-1"].delivered == [BNV] and "digest_mismatch" in outcomes["s-6"].failed[BNV]
    assert _history(db, sent) == {CA_MAU: ["01", "03"], U_MINH: ["01", "03"]}


def test_a_recipient_unknown_here_is_refused_by_name(db: Session, federation: Federation,
                                                     sent: str) -> None:
    good = _status(db, federation, CA_MAU, sent, "03")
    [(item, data)] = [_item("s-9", good, CA_MAU, sent)]
    item = ReceivedEdoc(**{**{f: getattr(item, f) for f in item.__slots__}, "to": (BNV, "000.00.99.H99")})
    [(_, outcome)] = receipt.receive_statuses(federation.rt, "tinh", [(item, data)])
    assert outcome.delivered == [BNV]
    assert outcome.failed == {"000.00.99.H99": "Cơ quan 000.00.99.H99 không có trong hệ thống này."}
    rows = dict(db.execute(select(ExchangeInbox.recipient_organ_id, ExchangeInbox.state).where(
        ExchangeInbox.message_id == "s-9")).all())
    assert rows == {BNV: "status", "000.00.99.H99": "failed"}
