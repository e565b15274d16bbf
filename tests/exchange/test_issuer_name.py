"""The issuer name a recipient sees comes from the directory for the sender's code, not from the
name the package declares (issue 15); a package declaring another name is flagged to the clerk."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.exchange import dispatch, packages
from ioffice.exchange.models import ExchangeInbox
from ioffice.incoming.models import IncomingDocument

from .conftest import BNV, CA_MAU, Federation, agency, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
FORGED = "Văn phòng Chính phủ"


def _receive(db: Session, federation: Federation, monkeypatch, declared: str | None) -> IncomingDocument:
    """BNV sends to Cà Mau; ``declared``: the sender name its package claims (None: its own)."""
    if declared is not None:
        real = packages.organization

        def claimed(agency_):
            org = real(agency_)
            return dataclasses.replace(org, organ_name=declared) if agency_.code == BNV else org

        monkeypatch.setattr(packages, "organization", claimed)
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    return db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, CA_MAU).id,
        IncomingDocument.document_identifier == edoc.document_identifier)).one()


def test_a_package_claiming_another_name_shows_the_directory_name_and_is_flagged(
        db: Session, federation: Federation, monkeypatch, login_as) -> None:
    doc = _receive(db, federation, monkeypatch, FORGED)
    bnv_name = agency(db, BNV).name
    assert (doc.issuer_code, doc.issuer_name, doc.declared_issuer_name) == (BNV, bnv_name, FORGED)
    inbox = db.scalars(select(ExchangeInbox).where(ExchangeInbox.incoming_document_id == doc.id)).one()
    assert inbox.sender_name == bnv_name
    [event] = db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "incoming:document:issuer-name-mismatch", AuditEvent.subject_id == str(doc.id)))
    assert event.details["declared_name"] == FORGED and event.details["directory_name"] == bnv_name

    client = login_as("vanthu.camau")
    page = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert 'id="issuer-name-warning"' in page and FORGED in page and "khác với tên trong danh bạ" in page
    queue = client.get("/van-ban-den/?tab=cho-vao-so").get_data(as_text=True)
    row = next(r for r in queue.split("<tr") if f"/van-ban-den/{doc.id}\"" in r)
    assert "issuer-name-flag" in row and bnv_name in row


def test_a_package_with_the_directory_name_is_not_flagged(
        db: Session, federation: Federation, monkeypatch, login_as) -> None:
    # the same name with other spacing and case is the same name
    doc = _receive(db, federation, monkeypatch, "  " + agency(db, BNV).name.upper() + " ")
    assert doc.issuer_name == agency(db, BNV).name and doc.declared_issuer_name is None
    assert db.scalar(select(AuditEvent.id).where(
        AuditEvent.tag == "incoming:document:issuer-name-mismatch",
        AuditEvent.subject_id == str(doc.id))) is None
    client = login_as("vanthu.camau")
    assert "issuer-name-warning" not in client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert "issuer-name-flag" not in client.get("/van-ban-den/?tab=cho-vao-so").get_data(as_text=True)
