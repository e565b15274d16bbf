"""«Chạy lại nhận dạng chữ (OCR)»: the clerk runs a failed OCR again (docs/ocr.md)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden, NotFound
from ioffice.incoming.registration import UploadedFile
from ioffice.ocr import engine, service, specimen
from ioffice.ocr.models import OcrJob, OcrState
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.ocr.test_scans import SPEC, _fake_ocr
from tests.support.factories import actor, pdf, register

MISSING = engine.MISSING


@pytest.fixture
def sessions(connection):
    """The worker's sessions: on the test's connection (each commit is a savepoint)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


def _missing(data: bytes, pages: int, *, progress) -> engine.OcrOutput:
    raise engine.OcrUnavailable()


def _scanned(db: Session, blobs: BlobStore, name: str = "quet.pdf"):
    """A registered image-only scan, its OCR job queued."""
    scan = specimen.to_pdf([specimen.render_page(SPEC, 72)], 72)
    return register(db, blobs, actor(db, "vanthu.camau"), files=(UploadedFile(name, scan),))


def _failed(db: Session, blobs: BlobStore, sessions):
    doc = _scanned(db, blobs)
    db.commit()
    assert service.run_next(sessions, blobs, ocr=_missing) is not None
    job = db.scalars(select(OcrJob).where(OcrJob.document_id == doc.id)).one()
    db.refresh(job)
    assert job.state is OcrState.FAILED and "chưa cài phần mềm" in job.error
    return doc, job


def _events(db: Session, doc_id: int) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "incoming:document:ocr-retry", AuditEvent.subject_id == str(doc_id))))


def test_a_failed_ocr_is_queued_again_then_done_and_refused_once_done(
        db: Session, blobs: BlobStore, sessions) -> None:
    doc, job = _failed(db, blobs, sessions)
    clerk = actor(db, "vanthu.camau")
    again = service.retry(db, blobs, clerk, doc.id, doc.files[0].id)
    db.commit()
    assert again.id == job.id  # the same row: no second job for the file
    assert (again.state, again.error, again.attempts, again.pages_done) == (
        OcrState.QUEUED, "", 0, 0)
    [event] = _events(db, doc.id)
    assert event.details["file_id"] == doc.files[0].id
    assert "chưa cài phần mềm" in event.details["previous_error"]
    service.run_next(sessions, blobs, ocr=_fake_ocr("Kiểm kê kho lưu trữ huyện Thới Bình"))
    db.refresh(job)
    assert job.state is OcrState.DONE and job.output_sha256
    with pytest.raises(service.RetryRefused, match="đã được nhận dạng chữ"):
        service.retry(db, blobs, clerk, doc.id, doc.files[0].id)


def test_refused_while_queued_or_running_with_a_message(db: Session, blobs: BlobStore,
                                                        sessions) -> None:
    doc = _scanned(db, blobs)
    db.commit()
    clerk = actor(db, "vanthu.camau")
    with pytest.raises(service.RetryRefused, match="đang chờ nhận dạng chữ"):
        service.retry(db, blobs, clerk, doc.id, doc.files[0].id)
    db.rollback()
    with sessions() as worker:
        service.claim_next(worker)
        worker.commit()
    with pytest.raises(service.RetryRefused, match=r"đang được nhận dạng chữ \(0/1 trang\)"):
        service.retry(db, blobs, clerk, doc.id, doc.files[0].id)


def test_a_file_that_has_text_is_refused(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    doc = register(db, blobs, clerk, files=(UploadedFile("da-co-chu.pdf", pdf()),))
    assert db.scalars(select(OcrJob).where(OcrJob.document_id == doc.id)).all() == []
    with pytest.raises(service.RetryRefused, match="đã có lớp chữ"):
        service.retry(db, blobs, clerk, doc.id, doc.files[0].id)
    assert _events(db, doc.id) == []


def test_an_image_only_file_without_a_job_gets_one(db: Session, blobs: BlobStore,
                                                   sessions) -> None:
    """A scan registered before OCR existed on the host (no job at all)."""
    doc = _scanned(db, blobs)
    db.execute(OcrJob.__table__.delete().where(OcrJob.document_id == doc.id))
    clerk = actor(db, "vanthu.camau")
    job = service.retry(db, blobs, clerk, doc.id, doc.files[0].id)
    db.commit()
    assert job.state is OcrState.QUEUED and job.file_id == doc.files[0].id
    assert job.source_sha256 == doc.files[0].sha256 and job.pages_total == 1
    assert service.run_next(sessions, blobs, ocr=_fake_ocr("Văn bản quét")) == job.id


def test_only_the_clerk_of_the_agency_may(db: Session, blobs: BlobStore, sessions) -> None:
    doc, job = _failed(db, blobs, sessions)
    with pytest.raises(Forbidden):
        service.retry(db, blobs, actor(db, "chuyenvien.camau"), doc.id, doc.files[0].id)
    with pytest.raises(NotFound):
        service.retry(db, blobs, actor(db, "vanthu.bnv"), doc.id, doc.files[0].id)
    other = register(db, blobs, actor(db, "vanthu.camau"))
    with pytest.raises(NotFound):  # a file of another document
        service.retry(db, blobs, actor(db, "vanthu.camau"), doc.id, other.files[0].id)
    with pytest.raises(NotFound):
        service.retry(db, blobs, actor(db, "vanthu.camau"), 987654321, doc.files[0].id)
    db.refresh(job)
    assert job.state is OcrState.FAILED


def _retry_url(doc) -> str:
    return f"/van-ban-den/{doc.id}/tep/{doc.files[0].id}/chay-lai-ocr"


def test_the_button_queues_the_job_once_and_the_page_shows_progress(
        client: FlaskClient, db: Session, blobs: BlobStore, sessions) -> None:
    doc, _job = _failed(db, blobs, sessions)
    login(client, "vanthu.camau")
    page = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert "Chạy lại nhận dạng chữ (OCR)" in page and _retry_url(doc) in page
    csrf = csrf_token(client, f"/van-ban-den/{doc.id}")
    first = client.post(_retry_url(doc), data={"csrf_token": csrf})
    assert first.status_code == 302
    shown = client.get(first.location).get_data(as_text=True)
    assert "Đã đưa tệp vào hàng chờ nhận dạng chữ (OCR) lại" in shown
    assert "Đang chờ nhận dạng chữ: 0/1 trang" in shown and "data-ocr-url" in shown
    assert _retry_url(doc) not in shown  # no button while it waits
    second = client.post(_retry_url(doc), data={"csrf_token": csrf})  # the double click
    assert second.status_code == 422
    assert "đang chờ nhận dạng chữ; không cần chạy lại" in second.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(OcrJob).where(
        OcrJob.document_id == doc.id)) == 1
    assert len(_events(db, doc.id)) == 1
    progress = client.get(f"/van-ban-den/{doc.id}/ocr").get_json()["jobs"]
    assert [(j["state"], j["finished"]) for j in progress] == [("queued", False)]
    history = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert "chạy lại nhận dạng chữ (OCR)" in history


def test_the_admins_note_links_to_the_button(client: FlaskClient, db: Session,
                                             blobs: BlobStore, sessions) -> None:
    doc, _job = _failed(db, blobs, sessions)
    login(client, "vanthu.camau")  # the demo clerk is also the admin
    page = client.get("/quan-tri/viec-bi-ket").get_data(as_text=True)
    assert f'/van-ban-den/{doc.id}#ocr-file-{doc.files[0].id}' in page
    assert "Chạy lại nhận dạng chữ (OCR)" in page


def test_web_refusals_404_for_another_agency_403_for_a_specialist(
        app: Flask, db: Session, blobs: BlobStore, sessions) -> None:
    doc, job = _failed(db, blobs, sessions)
    for username, status in (("vanthu.bnv", 404), ("chuyenvien.camau", 403)):
        client = app.test_client()
        login(client, username)
        resp = client.post(_retry_url(doc), data={"csrf_token": csrf_token(client, "/")})
        assert resp.status_code == status, username
    client = app.test_client()
    login(client, "chuyenvien.camau")
    assert "Chạy lại nhận dạng chữ" not in client.get(f"/van-ban-den/{doc.id}").get_data(
        as_text=True)
    db.refresh(job)
    assert job.state is OcrState.FAILED and _events(db, doc.id) == []
