"""What the exchange tells people: a received document to the clerks (to register), a
revoke request to the clerks (to decide), a package given up to the sender's clerks, a status
back to the drafter of the outgoing document."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Role
from ioffice.agencies.service import active_holders
from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.exchange.models import DirectoryEntry, ExchangeOutbox
from ioffice.incoming.models import IncomingDocument
from ioffice.notifications import Kind
from ioffice.notifications import events as notification_events
from ioffice.notifications.models import Notification
from ioffice.storage import BlobStore
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, user_id

from .conftest import CA_MAU, Federation, agency, outgoing

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def _told(db: Session, kind: Kind) -> list[Notification]:
    return list(db.scalars(select(Notification).where(Notification.kind == kind)
                           .order_by(Notification.id)))


def _clerks(db: Session, code: str) -> set[int]:
    return {u.id for u in active_holders(db, agency(db, code).id, (Role.CLERK,))}


def test_received_and_revoke_request_tell_the_clerks(db: Session, federation: Federation) -> None:
    original = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, original)
    db.commit()
    federation.pump()
    db.expire_all()
    [copy] = db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, CA_MAU).id,
        IncomingDocument.document_identifier == original.document_identifier)).all()
    told = _told(db, Kind.TO_REGISTER)
    assert {n.user_id for n in told if n.subject_id == copy.id} == _clerks(db, CA_MAU)
    assert all(n.link == f"/van-ban-den/{copy.id}" and copy.number_notation in n.text for n in told)
    dispatch(db, CTX, outgoing(db, federation, recipients=(CA_MAU,), business_type="revoke",
                               document_identifier=original.document_identifier,
                               response_for=original.document_identifier, reason="Ban hành nhầm"))
    db.commit()
    federation.pump()
    db.expire_all()
    requests = _told(db, Kind.EXCHANGE_REQUEST)
    assert {n.user_id for n in requests} == _clerks(db, CA_MAU)
    assert all("thu hồi" in n.text and n.subject_id == copy.id for n in requests)


def test_a_dead_letter_tells_the_senders_clerks(db: Session, federation: Federation) -> None:
    db.add(DirectoryEntry(organ_id="000.00.98.H12", name="Cơ quan đã giải thể", hub="tinh"))
    [row] = dispatch(db, CTX, outgoing(db, federation, sender=CA_MAU, recipients=("000.00.98.H12",)))
    db.commit()
    federation.pump()
    db.expire_all()
    assert db.get(ExchangeOutbox, row.id).state == "dead"
    dead = _told(db, Kind.DEAD_LETTER)
    assert {n.user_id for n in dead} == _clerks(db, CA_MAU)
    assert all(n.link == "/lien-thong/" and "không thành công" in n.text for n in dead)


def test_a_status_back_tells_the_drafter(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    doc.document_identifier = f"{CA_MAU},2026/12/03,77/UBND-VP"
    doc.number_notation = "77/UBND-VP"
    db.flush()
    notification_events.status_back(db, doc.agency_id, doc.document_identifier, "Bộ Nội vụ",
                                    "Đã đến")
    notification_events.status_back(db, doc.agency_id, "không có", "Bộ Nội vụ", "Đã đến")
    [told] = _told(db, Kind.STATUS_BACK)
    assert told.user_id == user_id(db, "chuyenvien.camau") and told.subject_id == doc.id
    assert told.text == "Bộ Nội vụ: Đã đến (văn bản 77/UBND-VP)."
    assert actor(db, "chuyenvien.camau").agency_id == told.agency_id
