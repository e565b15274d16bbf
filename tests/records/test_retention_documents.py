"""Documents destroyed with their dossiers (issue 22, «Retention»): a document filed only in
the destroyed dossiers loses its files and is marked destroyed (its register entry stays); one
also in a live or held dossier, or copied, keeps them; the blob cleanup agrees; the page and
downloads say by which decision."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.audit.models import AuditEvent
from ioffice.copies.models import CopyKind, CopyStatus, DocumentCopy
from ioffice.incoming import queries as incoming_queries
from ioffice.incoming.models import IncomingDocument
from ioffice.incoming.registration import UploadedFile
from ioffice.records import retention
from ioffice.records import service as records
from ioffice.records.models import Destruction
from ioffice.search import service as search
from ioffice.storage import BlobStore
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER
from tests.records.test_retention import LATER, expired_year
from tests.records.test_web import _as, _post
from tests.support.factories import actor, pdf, register, user_id


def _file_in(db: Session, number: int, dossier_id: int, *docs: IncomingDocument) -> None:
    keeper = actor(db, KEEPER)
    records.reopen_dossier(db, keeper, dossier_id)
    for doc in docs:
        records.add_document(db, keeper, dossier_id, "incoming", doc.id)
    records.close_dossier(db, keeper, dossier_id, f"{number}-03-01", "3", LATER)


def _own(db: Session, blobs: BlobStore, text: str) -> IncomingDocument:
    return register(db, blobs, actor(db, CLERK), subject=f"Văn bản {text}",
                    files=(UploadedFile(f"{text}.pdf", pdf(f"Nội dung riêng {text}")),))


def _setup(db: Session, blobs: BlobStore, number: int = 2026):
    """03.VP (5 years, expired at LATER) holds: ``shared`` (also in 01/02.TCCB), ``solo`` (only
    there), ``held`` (also in 02.TCCB, on hold) and ``copied`` (a copy of it was made)."""
    year, short, shared, _item = expired_year(db, blobs, number)
    solo, held, copied = (_own(db, blobs, t) for t in ("solo", "held", "copied"))
    _file_in(db, number, short.id, solo, held, copied)
    _file_in(db, number, year.other.id, held)
    retention.hold(db, actor(db, LEADER), year.other.id, "Thanh tra tỉnh yêu cầu giữ")
    leader = user_id(db, LEADER)
    db.add(DocumentCopy(agency_id=copied.agency_id, kind=next(iter(CopyKind)),
                        status=CopyStatus.MADE, submission_id="c1", incoming_id=copied.id,
                        decided_by_id=leader, requested_by_id=leader))
    db.flush()
    return year, short, shared, solo, held, copied


def test_only_unneeded_documents_lose_their_files(db: Session, blobs: BlobStore) -> None:
    _year, short, shared, solo, held, copied = _setup(db, blobs)
    shas = {d.id: d.files[0].sha256 for d in (shared, solo, held, copied)}
    assert len(set(shas.values())) == 4
    def found(words: str) -> list[int]:
        return [r.document.id for r in search.search(db, actor(db, CLERK), words).results]

    assert solo.id in found("nội dung riêng solo")
    proposal = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", LATER)
    done = retention.approve(db, actor(db, LEADER), proposal.id,
                             "Quyết định số 15/QĐ-UBND ngày 01/01/2032", LATER)
    # its content is no longer searchable; its register fields still are
    assert solo.id not in found("nội dung riêng solo") and solo.id in found("văn bản solo")
    by_id = {d["document_id"]: d for d in done.record["documents"]}
    assert by_id[solo.id]["destroyed"] is True
    assert [f["sha256"] for f in by_id[solo.id]["files"]] == [shas[solo.id]]
    assert by_id[shared.id]["kept_reason"].startswith("còn trong hồ sơ ")
    assert "02.TCCB đang bị tạm giữ" in by_id[held.id]["kept_reason"]
    assert "bản gốc của 1 bản sao" in by_id[copied.id]["kept_reason"]
    assert done.record["destroyed_documents"] == 1 and done.record["kept_documents"] == 3
    db.expire_all()
    assert db.get(IncomingDocument, solo.id).destruction_id == done.id
    assert all(db.get(IncomingDocument, d.id).destruction_id is None
               for d in (shared, held, copied))
    # the cleanup agrees: the destroyed document's file is referenced no more, the others are
    referenced = maintenance.referenced_blobs(db)
    assert shas[solo.id] not in referenced
    assert all(shas[d.id] in referenced for d in (shared, held, copied))
    gone = retention.purge(db, blobs, done.id)
    assert shas[solo.id] in gone and not blobs.exists(shas[solo.id])
    assert all(blobs.exists(shas[d.id]) for d in (shared, held, copied))
    # the audit event on the document's own history; the register still lists it
    events = db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "incoming:document:destroy")).all()
    assert [(e.subject_type, e.subject_id) for e in events] == [("incoming", str(solo.id))]
    flt = incoming_queries.RegisterFilter(year=solo.registered_at.year, month=None,
                                          doc_type=None, issuer=None)
    listed = incoming_queries.register_page(db, actor(db, CLERK), flt, after_number=None)
    assert solo.id in [d.id for d in listed]


def test_destroyed_document_page_and_downloads(app: Flask, db: Session,
                                               blobs: BlobStore) -> None:
    _year, short, _shared, solo, _held, copied = _setup(db, blobs, 2020)
    solo_file, copied_file = solo.files[0].id, copied.files[0].id
    db.commit()
    archive, at = _as(app, ARCHIVIST)
    _post(archive, at, "/ho-so/tieu-huy", dossier_id=str(short.id), reason="Hết giá trị")
    row_id = db.scalars(select(Destruction.id)).one()
    leader, lt = _as(app, LEADER)
    page = _post(leader, lt, f"/ho-so/tieu-huy/{row_id}/duyet",
                 decision="Quyết định số 15/QĐ-UBND ngày 04/12/2026")
    assert 'id="documents"' in page and "Đã tiêu hủy; giữ mục trong sổ đăng ký" in page
    assert "Giữ văn bản và tệp: là bản gốc của 1 bản sao còn lưu" in page
    assert "đã xóa" in page
    clerk, _ct = _as(app, CLERK)
    page = clerk.get(f"/van-ban-den/{solo.id}").get_data(as_text=True)
    assert 'id="destroyed"' in page
    assert "Văn bản đã tiêu hủy theo Quyết định số 15/QĐ-UBND ngày 04/12/2026" in page
    resp = clerk.get(f"/van-ban-den/{solo.id}/tep/{solo_file}")
    assert resp.status_code == 410
    assert "các tệp của văn bản không còn" in resp.get_data(as_text=True)
    page = archive.get(f"/van-ban-den/{solo.id}").get_data(as_text=True)
    assert f"/ho-so/tieu-huy/{row_id}" in page
    # a kept document downloads as before
    assert clerk.get(f"/van-ban-den/{copied.id}/tep/{copied_file}").status_code == 200
    assert 'id="destroyed"' not in clerk.get(f"/van-ban-den/{copied.id}").get_data(as_text=True)


def test_outgoing_documents_dispatched_go_unfinished_stay(db: Session, blobs: BlobStore) -> None:
    from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, RecipientStatus
    from tests.outgoing.conftest import new_draft

    _year, short, _shared, _item = expired_year(db, blobs)
    sent, unfinished = new_draft(db, blobs), new_draft(db, blobs)
    for doc, number, status in ((sent, "45", OutgoingStatus.DISPATCHED),
                                (unfinished, "46", OutgoingStatus.NUMBERED)):
        doc.number_notation, doc.promulgation_date, doc.status = f"{number}/BC-UBND", LATER, status
    for recipient in sent.recipients:  # sent to everyone (a pending one would keep it)
        recipient.status = RecipientStatus.DELIVERED
    keeper = actor(db, KEEPER)
    records.reopen_dossier(db, keeper, short.id)
    for doc in (sent, unfinished):
        records.add_document(db, keeper, short.id, "outgoing", doc.id)
    records.close_dossier(db, keeper, short.id, "2026-03-01", "3", LATER)
    sha = {d.id: [v.sha256 for v in d.versions] for d in (sent, unfinished)}
    proposal = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", LATER)
    done = retention.approve(db, actor(db, LEADER), proposal.id, "QĐ số 16", LATER)
    by_id = {(d["kind"], d["document_id"]): d for d in done.record["documents"]}
    assert by_id[("outgoing", sent.id)]["destroyed"] is True, by_id[("outgoing", sent.id)]
    assert "«Đã cấp số, chờ ký số cơ quan», chưa phát hành xong" in \
        by_id[("outgoing", unfinished.id)]["kept_reason"]
    referenced = maintenance.referenced_blobs(db)
    assert not set(sha[sent.id]) & referenced and set(sha[unfinished.id]) <= referenced
    retention.purge(db, blobs, done.id)
    assert not any(blobs.exists(h) for h in sha[sent.id])
    assert all(blobs.exists(h) for h in sha[unfinished.id])
    db.expire_all()
    assert db.get(OutgoingDocument, sent.id).destruction_id == done.id


def test_an_incoming_document_still_being_handled_is_kept(db: Session, blobs: BlobStore) -> None:
    from ioffice.incoming.models import Assignment, AssignmentRole, AssignmentStatus

    _year, short, _shared, _item = expired_year(db, blobs)
    busy = _own(db, blobs, "busy")
    _file_in(db, 2026, short.id, busy)
    db.add(Assignment(agency_id=busy.agency_id, document_id=busy.id,
                      role=next(iter(AssignmentRole)), assignee_user_id=user_id(db, KEEPER),
                      status=AssignmentStatus.IN_PROGRESS, assigned_by_id=user_id(db, LEADER)))
    db.flush()
    proposal = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", LATER)
    done = retention.approve(db, actor(db, LEADER), proposal.id, "QĐ số 17", LATER)
    [entry] = [d for d in done.record["documents"] if d["document_id"] == busy.id]
    assert entry["destroyed"] is False
    assert entry["kept_reason"] == "còn phân công xử lý chưa hoàn thành"
    assert busy.files[0].sha256 in maintenance.referenced_blobs(db)
