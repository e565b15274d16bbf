"""End to end in one process: BNV dispatches to Cà Mau province and U Minh district; the
package goes up the national axis and down the provincial platform; the clerks register it,
the leaders distribute, the handlers finish, and BNV sees every status per recipient."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.edxml import parse_document_package
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.exchange import dispatch, recipient_statuses
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox
from ioffice.incoming import handling, registration
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.models import DocumentStatus, IncomingDocument, Source
from ioffice.incoming.registration import IncomingInput, today_vn
from tests.support.factories import actor, department, user_id

from .conftest import BNV, CA_MAU, U_MINH, Federation, agency, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def received(db: Session, code: str, document_identifier: str) -> list[IncomingDocument]:
    return list(db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, code).id,
        IncomingDocument.document_identifier == document_identifier)))


def register(db: Session, clerk_name: str, doc: IncomingDocument) -> IncomingDocument:
    clerk = actor(db, clerk_name)
    return registration.register_received(db, clerk, doc.id, IncomingInput(
        issuer_name=doc.issuer_name, issuer_code=doc.issuer_code, number=doc.number,
        notation=doc.notation, document_date=doc.document_date, doc_type=doc.doc_type,
        subject=doc.subject, signer=doc.signer, document_identifier=doc.document_identifier or ""))


def test_bnv_to_province_and_district_with_every_status_back(db: Session, federation: Federation) -> None:
    edoc = outgoing(db, federation)
    [row] = dispatch(db, CTX, edoc)
    db.commit()
    assert row.state == "pending"

    federation.pump()
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "sent" and row.hub == "quoc-gia", row.last_error

    [province_doc] = received(db, CA_MAU, edoc.document_identifier)
    [district_doc] = received(db, U_MINH, edoc.document_identifier)
    for doc in (province_doc, district_doc):
        assert doc.status is DocumentStatus.AWAITING_REGISTRATION and doc.source is Source.AXIS
        assert doc.issuer_code == BNV and doc.number_notation == f"{edoc.number}/BNV-CCHC"
        assert doc.subject == edoc.subject and doc.urgency.value == "urgent"
        [f] = doc.files
        assert f.signature_verdict == "valid", f.signature_summary
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == str(province_doc.id),
                                                   AuditEvent.subject_type == "incoming")).all()
    assert "incoming:document:receive" in tags
    # the package really passed the national axis then the platform
    inbox = db.scalars(select(ExchangeInbox).where(
        ExchangeInbox.incoming_document_id == province_doc.id)).one()
    assert inbox.hub == "tinh" and inbox.state == "delivered"

    statuses = {s.organ_id: s for s in recipient_statuses(db, agency(db, BNV).id, edoc.document_identifier)}
    assert {o: s.code for o, s in statuses.items()} == {CA_MAU: "01", U_MINH: "01"}

    # Cà Mau: register, distribute, handle, finish
    register(db, "vanthu.camau", province_doc)
    leader = actor(db, "lanhdao.camau")
    [lead, *_] = handling.distribute(db, leader, province_doc.id, DistributionInput(
        lead=Target("department", department(db, leader, "TTTT").id, today_vn() + dt.timedelta(days=5))))
    head = actor(db, "truongphong.camau")
    child = handling.pass_on(db, head, lead.id, user_id(db, "chuyenvien.camau"), None, "Soạn báo cáo.")
    specialist = actor(db, "chuyenvien.camau")
    handling.record_progress(db, specialist, child.id, "Đang tổng hợp.")
    handling.finish(db, specialist, child.id, "Đã báo cáo.", "45/BC-UBND")
    # U Minh: register only
    register(db, "vanthu.uminh", district_doc)
    db.commit()

    federation.pump()
    db.expire_all()
    statuses = {s.organ_id: s for s in recipient_statuses(db, agency(db, BNV).id, edoc.document_identifier)}
    camau = statuses[CA_MAU]
    assert [h.code for h in camau.history] == ["01", "03", "04", "05", "06"]
    assert camau.code == "06" and "45/BC-UBND" in camau.history[-1].description
    assert camau.label == "Hoàn thành xử lý" and camau.staff and camau.at is not None
    assert camau.history[1].staff  # the clerk who registered
    assert [h.code for h in statuses[U_MINH].history] == ["01", "03"]
    assert statuses[U_MINH].name


def test_package_on_the_wire_is_signed_by_the_sender(db: Session, federation: Federation) -> None:
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump(rounds=1)
    national = federation.national.extensions["axis_hub"]
    from axis_connector.hub.models import Message
    with national.db.session() as s:
        [message] = s.scalars(select(Message)).all()
        package = parse_document_package(message.package)
    assert package.sender.organ_id == BNV and [t.organ_id for t in package.trace] == ["000.00.00.TRUCQG"]
    assert b"edXML:edXML" in message.package and b"ds:Signature" in message.package


def test_rejection_goes_back_with_its_reason(db: Session, federation: Federation) -> None:
    edoc = outgoing(db, federation, recipients=(U_MINH,))
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    [doc] = received(db, U_MINH, edoc.document_identifier)
    registration.reject_received(db, actor(db, "vanthu.uminh"), doc.id, "Gửi nhầm cơ quan")
    db.commit()
    federation.pump()
    db.expire_all()
    [status] = recipient_statuses(db, agency(db, BNV).id, edoc.document_identifier)
    assert status.code == "02" and "Gửi nhầm cơ quan" in status.history[-1].description


def test_province_to_ministry_goes_up(db: Session, federation: Federation) -> None:
    camau = agency(db, CA_MAU)
    edoc = outgoing(db, federation, sender=CA_MAU, recipients=(BNV,),
                    document_identifier=f"{CA_MAU},{today_vn():%Y/%m/%d},77/UBND-VP", notation="UBND-VP",
                    number="77")
    dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    [doc] = received(db, BNV, edoc.document_identifier)
    assert doc.issuer_code == CA_MAU
    register(db, "vanthu.bnv", doc)
    db.commit()
    federation.pump()
    db.expire_all()
    [status] = recipient_statuses(db, camau.id, edoc.document_identifier)
    assert status.code == "03"
