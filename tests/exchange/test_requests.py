"""Revoke and replace: the recipient's clerk agrees (15) or refuses (16)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import dispatch, recipient_statuses
from ioffice.exchange.decisions import decide
from ioffice.exchange.models import ExchangeInbox
from ioffice.incoming.models import DocumentStatus, IncomingDocument
from tests.support.factories import actor

from .conftest import BNV, CA_MAU, Federation, agency, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def _send(db: Session, federation: Federation, edoc) -> None:
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()


def _doc(db: Session, document_identifier: str) -> IncomingDocument:
    return db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, CA_MAU).id,
        IncomingDocument.document_identifier == document_identifier)).one()


def test_revoke_agreed_marks_the_copy_revoked(db: Session, federation: Federation) -> None:
    original = outgoing(db, federation, recipients=(CA_MAU,))
    _send(db, federation, original)
    copy = _doc(db, original.document_identifier)
    _send(db, federation, outgoing(db, federation, recipients=(CA_MAU,), business_type="revoke",
                                   document_identifier=original.document_identifier,
                                   response_for=original.document_identifier, reason="Ban hành nhầm"))
    request = db.scalars(select(ExchangeInbox).where(ExchangeInbox.business_type == "revoke")).one()
    assert request.state == "awaiting_decision" and request.target_document_id == copy.id
    decide(db, actor(db, "vanthu.camau"), request.id, agree=True)
    db.commit()
    federation.pump()
    db.expire_all()
    assert _doc(db, original.document_identifier).status is DocumentStatus.REVOKED
    assert _doc(db, original.document_identifier).subject == original.subject  # metadata kept
    [status] = recipient_statuses(db, agency(db, BNV).id, original.document_identifier)
    assert status.code == "15"


def test_replace_supersedes_or_is_refused(db: Session, federation: Federation) -> None:
    original = outgoing(db, federation, recipients=(CA_MAU,))
    _send(db, federation, original)
    replacement = outgoing(db, federation, recipients=(CA_MAU,), business_type="replace",
                           response_for=original.document_identifier, reason="Sửa số liệu")
    _send(db, federation, replacement)
    request = db.scalars(select(ExchangeInbox).where(ExchangeInbox.business_type == "replace")).one()
    new = _doc(db, replacement.document_identifier)
    assert new.status is DocumentStatus.AWAITING_REGISTRATION
    decide(db, actor(db, "vanthu.camau"), request.id, agree=True)
    assert _doc(db, original.document_identifier).status is DocumentStatus.REPLACED

    again = outgoing(db, federation, recipients=(CA_MAU,), business_type="replace",
                     response_for=replacement.document_identifier, reason="Lần nữa")
    _send(db, federation, again)
    request = db.scalars(select(ExchangeInbox).where(ExchangeInbox.response_for
                                                     == replacement.document_identifier)).one()
    decide(db, actor(db, "vanthu.camau"), request.id, agree=False, reason="Đã vào sổ bản cũ")
    db.commit()
    federation.pump()
    db.expire_all()
    assert _doc(db, again.document_identifier).status is DocumentStatus.REJECTED
    statuses = recipient_statuses(db, agency(db, BNV).id, replacement.document_identifier)
    assert [h.code for h in statuses[0].history][-1] == "16"
