"""The outgoing document's page reads its comments, signed revisions, copies and the reader's
open dossiers only when the one statement of ``documents.attached`` says there are some, and
marks notifications read only when there are unread ones: the page shows the same either way."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.db import utcnow
from ioffice.documents.attached import OUTGOING, Attached, attached
from ioffice.notifications.models import Kind, Notification
from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingDocument
from ioffice.records.models import DossierStatus
from ioffice.storage import BlobStore
from tests.outgoing.conftest import LEADER, SPECIALIST, new_draft
from tests.records.conftest import make_year
from tests.support.factories import actor, user_id

NONE = Attached(dossiers=False, copies=False, requests=False, ocr_jobs=False, unread=False)


def test_comments_signatures_and_open_dossiers_are_said_only_when_there_are_some(
        db: Session, blobs: BlobStore, signed_doc: OutgoingDocument) -> None:
    specialist = actor(db, SPECIALIST)
    doc = new_draft(db, blobs)

    def now(document_id: int = doc.id) -> Attached:
        db.flush()
        return attached(db, OUTGOING, specialist.agency_id, document_id, specialist.user_id)

    assert now() == NONE
    review.submit(db, specialist, doc.id, "Kính trình anh xem xét.")
    assert now() == Attached(dossiers=False, copies=False, requests=False, ocr_jobs=False,
                             unread=False, comments=True)
    # the signed document has both (its review's comments, the leader's signature)
    assert now(signed_doc.id).signatures and now(signed_doc.id).comments

    year = make_year(db)  # both dossiers kept by the specialist, planned
    assert not now().open_kept
    year.dossier.status = DossierStatus.OPEN
    assert now().open_kept
    leader = actor(db, LEADER)  # not the keeper
    assert not attached(db, OUTGOING, leader.agency_id, doc.id, leader.user_id).open_kept


def test_the_page_shows_what_it_has_and_marks_read_only_what_is_unread(
        db: Session, blobs: BlobStore, signed_doc: OutgoingDocument, client, login_as) -> None:
    leader_id = user_id(db, LEADER)
    mine = Notification(user_id=leader_id, agency_id=signed_doc.agency_id, kind=next(iter(Kind)),
                        subject_type=OUTGOING, subject_id=signed_doc.id, text="Thử")
    read = Notification(user_id=leader_id, agency_id=signed_doc.agency_id, kind=next(iter(Kind)),
                        subject_type=OUTGOING, subject_id=signed_doc.id, text="Đã đọc",
                        read_at=utcnow())
    db.add_all([mine, read])
    draft = new_draft(db, blobs, subject="Dự thảo chưa có ý kiến nào")
    db.commit()
    before = read.read_at

    login_as(LEADER)
    html = " ".join(client.get(f"/van-ban-di/{signed_doc.id}").get_data(as_text=True).split())
    assert "Văn bản đã ký số (1 chữ ký)" in html
    assert "Nội dung đạt." in html  # a review comment
    db.refresh(mine)
    db.refresh(read)
    assert mine.read_at is not None and read.read_at == before

    html = " ".join(client.get(f"/van-ban-di/{draft.id}").get_data(as_text=True).split())
    assert "Dự thảo – phiên bản 1" in html and "Nội dung đạt." not in html
