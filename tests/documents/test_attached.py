"""The incoming page's one statement that says which side lists to read
(``documents.attached``): false only when the list is empty, for each list, and never
counting another document's rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.copies.models import CopyKind, CopyStatus, DocumentCopy
from ioffice.db import utcnow
from ioffice.documents.attached import INCOMING, OUTGOING, Attached, attached
from ioffice.exchange.models import ExchangeInbox
from ioffice.notifications.models import Kind, Notification
from ioffice.ocr.models import OcrJob
from ioffice.records.models import DossierItem, ItemKind
from ioffice.storage import BlobStore
from tests.records.conftest import make_year
from tests.support.factories import actor, register, user_id

CLERK, LEADER = "vanthu.camau", "lanhdao.camau"
NONE = Attached(dossiers=False, copies=False, requests=False, ocr_jobs=False, unread=False)


def test_each_list_is_read_only_when_the_document_has_rows_in_it(
        db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, CLERK)
    doc = register(db, blobs, clerk, number="71")
    other = register(db, blobs, clerk, number="72")
    db.flush()

    def now(document_id: int = doc.id) -> Attached:
        db.flush()
        return attached(db, INCOMING, clerk.agency_id, document_id, clerk.user_id)

    assert now() == NONE
    # rows of another document do not count for this one
    db.add(OcrJob(agency_id=clerk.agency_id, user_id=clerk.user_id, document_id=other.id,
                  source_sha256="0" * 64))
    assert now() == NONE
    assert now(other.id).ocr_jobs

    db.add(OcrJob(agency_id=clerk.agency_id, user_id=clerk.user_id, document_id=doc.id,
                  source_sha256="1" * 64))
    assert now() == Attached(dossiers=False, copies=False, requests=False, ocr_jobs=True, unread=False)

    db.add(DocumentCopy(agency_id=clerk.agency_id, kind=CopyKind.EXACT,
                        status=CopyStatus.REQUESTED, submission_id="attached-test",
                        incoming_id=doc.id, decided_by_id=user_id(db, LEADER),
                        requested_by_id=clerk.user_id))
    assert now().copies

    # an exchange message about the document that is not a request (a plain status) is not
    # listed by the page, and not counted
    db.add(ExchangeInbox(hub="tinh", message_id="m-status", recipient_organ_id="x",
                         agency_id=clerk.agency_id, messagetype="status", state="done",
                         business_type="", incoming_document_id=doc.id))
    assert not now().requests
    db.add(ExchangeInbox(hub="tinh", message_id="m-revoke", recipient_organ_id="x",
                         agency_id=clerk.agency_id, messagetype="edoc", state="awaiting",
                         business_type="revoke", target_document_id=doc.id))
    assert now().requests

    year = make_year(db)
    db.add(DossierItem(agency_id=clerk.agency_id, dossier_id=year.dossier.id,
                       kind=ItemKind.INCOMING, position=1, incoming_id=doc.id,
                       added_by_id=clerk.user_id))
    assert now() == Attached(dossiers=True, copies=True, requests=True, ocr_jobs=True,
                             unread=False)
    assert attached(db, INCOMING, clerk.agency_id, other.id, clerk.user_id) == Attached(
        dossiers=False, copies=False, requests=False, ocr_jobs=True, unread=False)
    # an outgoing document of the same id has none of them (its own columns are asked)
    assert attached(db, OUTGOING, clerk.agency_id, doc.id) == NONE


def test_the_page_marks_notifications_read_only_when_the_reader_has_unread_ones(
        db: Session, blobs: BlobStore, client, login_as) -> None:
    clerk = actor(db, CLERK)
    doc = register(db, blobs, clerk, number="73")
    leader_id = user_id(db, LEADER)

    def tell(user: int, subject_type: str = INCOMING, read: bool = False) -> Notification:
        row = Notification(user_id=user, agency_id=clerk.agency_id, kind=next(iter(Kind)),
                           subject_type=subject_type, subject_id=doc.id, text="Thử",
                           read_at=utcnow() if read else None)
        db.add(row)
        db.flush()
        return row

    def unread() -> bool:
        return attached(db, INCOMING, clerk.agency_id, doc.id, clerk.user_id).unread

    tell(clerk.user_id, read=True)
    tell(leader_id)  # someone else's
    tell(clerk.user_id, subject_type=OUTGOING)  # an outgoing document of the same id
    assert not unread()
    mine = tell(clerk.user_id)
    assert unread()

    login_as(CLERK)
    assert client.get(f"/van-ban-den/{doc.id}").status_code == 200
    db.refresh(mine)
    assert mine.read_at is not None
    assert not unread()
