"""Each package sent or received leaves one structured log line (``exchange.send``,
``exchange.receive``: document id, hub, outcome) once committed, and a delivered document is
timed in ``ioffice_exchange_delivery_seconds``."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.orm import Session

from ioffice import logs
from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.metrics import EXCHANGE_SECONDS, VALIDATIONS

from .conftest import CA_MAU, Federation, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def _valid_count() -> float:
    return next((s.value for m in VALIDATIONS.collect() for s in m.samples
                 if s.name.endswith("_total") and s.labels.get("verdict") == "valid"), 0.0)


def _delivered_count() -> float:
    return next(s.value for m in EXCHANGE_SECONDS.collect() for s in m.samples
                if s.name.endswith("_count"))


def test_send_and_receive_are_logged_once_committed(db: Session, federation: Federation,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    before, valid_before = _delivered_count(), _valid_count()
    with caplog.at_level(logging.INFO, logger="ioffice.exchange"):
        federation.pump()
    formatter = logs.JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records
             if getattr(r, "event", "").startswith("exchange.")]
    sends = [line for line in lines if line["event"] == "exchange.send"
             and line["document_id"] == edoc.document_identifier]
    assert sends and sends[0]["outcome"] == "sent" and sends[0]["message_id"]
    assert sends[0]["recipients"] == [CA_MAU] and sends[0]["hub"]
    receives = [line for line in lines if line["event"] == "exchange.receive"
                and line["document_id"] == edoc.document_identifier]
    assert receives and receives[0]["outcome"] == "delivered"
    assert receives[0]["delivered"] == [CA_MAU] and receives[0]["messagetype"] == "edoc"
    assert _delivered_count() >= before + 1
    assert _valid_count() >= valid_before + 1  # the received PDF's signature
    body = json.dumps(lines, ensure_ascii=False)
    assert "JVBERi" not in body and "%PDF" not in body  # never a document body
