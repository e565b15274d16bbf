"""A clerk's scan from upload to search: the form sends it at once, the worker reads it, the
fields come back marked as read by the machine, registration links the OCR to the document, and
the search finds the document by a word only the OCR saw. And every bad input of issue 23."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import startup
from ioffice.documents.pdf import extract_text
from ioffice.incoming.models import DocumentText, IncomingDocument
from ioffice.ocr import engine, service, specimen
from ioffice.ocr.models import OcrJob, OcrState
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.support.factories import pdf

SPEC = specimen.Specimen(
    parent="ỦY BAN NHÂN DÂN TỈNH CÀ MAU", issuer_name="SỞ NỘI VỤ", number="27",
    notation="QĐ-SNV", place="Cà Mau", document_date=dt.date(2026, 3, 5), doc_type="quyet_dinh",
    type_title="QUYẾT ĐỊNH", subject="Về việc kiểm kê tài liệu lưu trữ",
    signer="Trần Thị Bích Ngọc", authority="KT. GIÁM ĐỐC", signer_title="PHÓ GIÁM ĐỐC",
    body=("Giao Chi cục Văn thư kiểm kê kho lưu trữ huyện Thới Bình trước quý hai.",))
ONLY_IN_THE_SCAN = "thoi binh"  # a word of the body: no form field holds it


@pytest.fixture
def sessions(connection):
    """The worker's sessions: on the test's connection (each commit is a savepoint)."""
    return lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)


def _scan(dpi: int = 300) -> bytes:
    return specimen.to_pdf([specimen.render_page(SPEC, dpi)], dpi)


def _upload(client: FlaskClient, data: bytes, name: str = "ban-quet.pdf"):
    return client.post("/van-ban-den/quet", data={
        "csrf_token": csrf_token(client, "/van-ban-den/vao-so"), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def _register(client: FlaskClient, *, token: str | None = None, files: tuple | None = None,
              **fields: object):
    page = client.get("/van-ban-den/vao-so").get_data(as_text=True)
    form: dict[str, object] = {
        "csrf_token": csrf_token(client, "/van-ban-den/vao-so"),
        "submission_id": re.search(r'name="submission_id" value="([^"]+)"', page).group(1),
        "issuer_name": "Sở Nội vụ", "number": str(random.randint(100, 999)), "notation": "SNV",
        "document_date": "2026-03-05", "doc_type": "quyet_dinh", "subject": "Kiểm kê",
        "urgency": "normal", "confidentiality": "normal"}
    if token:
        form["held"] = token
    if files:
        form["files"] = files
    form.update(fields)
    return client.post("/van-ban-den/vao-so", data=form, content_type="multipart/form-data")


def _fake_ocr(text: str, calls: list | None = None):
    def ocr(data: bytes, pages: int, *, progress) -> engine.OcrOutput:
        if calls is not None:
            calls.append(pages)
        progress(pages)
        from signing.demo import make_text_pdf

        return engine.OcrOutput(make_text_pdf([text] * pages), [text] * pages)
    return ocr


@pytest.mark.skipif(engine.problem() is not None, reason="OCR not installed")
def test_scan_read_by_the_worker_prefills_the_form_then_registers_and_is_found(
        client: FlaskClient, db: Session, blobs: BlobStore, sessions) -> None:
    login(client, "vanthu.camau")
    scan = _scan(300)
    resp = _upload(client, scan)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    started = resp.get_json()
    assert started["state"] == "queued" and started["pages_total"] == 1
    assert started["fields"] == {}
    assert service.run_next(sessions, blobs) == started["job"]  # the worker, after commit
    status = client.get(started["status_url"]).get_json()
    assert status["state"] == "done" and status["pages_done"] == 1
    fields = status["fields"]
    assert (fields["number"], fields["notation"]) == ("27", "QĐ-SNV")
    assert fields["document_date"] == "2026-03-05" and fields["doc_type"] == "quyet_dinh"
    assert fields["subject"] == "Về việc kiểm kê tài liệu lưu trữ"
    assert fields["issuer_name"] == "SỞ NỘI VỤ" and fields["signer"] == "Trần Thị Bích Ngọc"

    # the fields the form filled stay marked until the clerk confirms them
    refused = _register(client, token=started["token"], scan_job=str(started["job"]),
                        machine_read=["number", "document_date"], number=fields["number"],
                        notation=fields["notation"], subject=fields["subject"])
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "chưa được xác nhận: Số, Ngày văn bản" in page
    assert 'name="machine_read" value="number"' in page  # marked again on the page shown
    assert started["token"] in page  # the scan is still held
    done = _register(client, token=started["token"], scan_job=str(started["job"]),
                     number=fields["number"], notation=fields["notation"],
                     subject=fields["subject"])
    assert done.status_code == 302, done.get_data(as_text=True)
    doc_id = int(done.location.rsplit("/", 1)[1])
    db.expire_all()
    doc = db.get(IncomingDocument, doc_id)
    [file] = doc.files
    assert file.sha256 == hashlib.sha256(scan).hexdigest()  # the original, unchanged
    job = db.get(OcrJob, started["job"])
    assert (job.document_id, job.file_id) == (doc_id, file.id)
    assert "Thới Bình" in db.get(DocumentText, doc_id).content

    shown = client.get(done.location).get_data(as_text=True)
    assert "Tải bản tìm kiếm được" in shown and "bản gốc giữ nguyên" in shown
    copy = client.get(f"/van-ban-den/{doc_id}/tep/{file.id}/ban-tim-kiem")
    assert copy.status_code == 200 and "Thới Bình" in extract_text(copy.data)
    assert client.get(f"/van-ban-den/{doc_id}/tep/{file.id}").data == scan
    found = client.get("/tim-kiem", query_string={"q": ONLY_IN_THE_SCAN}).get_data(as_text=True)
    assert f"/van-ban-den/{doc_id}" in found


@pytest.mark.skipif(engine.problem() is not None, reason="OCR not installed")
def test_a_two_page_scan_gives_the_signer_and_date_of_its_last_page(
        client: FlaskClient, sessions, blobs: BlobStore) -> None:
    """Decree 30's signature block ends the document: on a scan of two pages the signer, the
    position and (here: the document dates itself at its end) the place and date are read
    from the last page; the heading's fields from the first."""
    login(client, "vanthu.camau")
    scan = specimen.to_pdf(specimen.render_pages(SPEC, 200, date_at_end=True), 200)
    started = _upload(client, scan, "hai-trang.pdf").get_json()
    assert started["pages_total"] == 2
    assert service.run_next(sessions, blobs) == started["job"]
    status = client.get(started["status_url"]).get_json()
    assert status["state"] == "done" and status["pages_done"] == 2
    fields = status["fields"]
    assert (fields["number"], fields["notation"], fields["issuer_name"]) == (
        "27", "QĐ-SNV", "SỞ NỘI VỤ")
    assert fields["signer"] == "Trần Thị Bích Ngọc"
    assert fields["signer_position"] == "KT. GIÁM ĐỐC, PHÓ GIÁM ĐỐC"
    assert (fields["document_date"], fields["place"]) == ("2026-03-05", "Cà Mau")


def test_a_scan_registered_before_its_ocr_is_searchable_once_the_worker_read_it(
        client: FlaskClient, db: Session, blobs: BlobStore, sessions) -> None:
    """No script on the page (or a clerk faster than the OCR): the plain form's scan is queued
    by the registration and the worker's text reaches the search entry afterwards."""
    login(client, "vanthu.camau")
    done = _register(client, files=(io.BytesIO(_scan(100)), "quet.pdf"))
    assert done.status_code == 302, done.get_data(as_text=True)
    doc_id = int(done.location.rsplit("/", 1)[1])
    job = db.scalars(select(OcrJob).where(OcrJob.document_id == doc_id)).one()
    assert job.state is OcrState.QUEUED
    assert "Đang chờ nhận dạng chữ: 0/1 trang" in client.get(done.location).get_data(as_text=True)
    assert client.get(f"/van-ban-den/{doc_id}/ocr").get_json()["jobs"][0]["finished"] is False
    service.run_next(sessions, blobs, ocr=_fake_ocr("Kiểm kê kho lưu trữ huyện Thới Bình"))
    found = client.get("/tim-kiem", query_string={"q": ONLY_IN_THE_SCAN}).get_data(as_text=True)
    assert f"/van-ban-den/{doc_id}" in found
    assert client.get(f"/van-ban-den/{doc_id}/ocr").get_json()["jobs"][0]["state"] == "done"


def test_a_200_page_scan_is_taken_at_once_and_the_worker_shows_its_progress(
        client: FlaskClient, db: Session, blobs: BlobStore, sessions, monkeypatch) -> None:
    login(client, "vanthu.camau")
    page = Image.new("L", (85, 120), 255)  # small pages: the upload's size is not the point
    scan = specimen.to_pdf([page] * 200, 10)

    def in_the_request(*args, **kwargs):
        raise AssertionError("OCR ran inside the web request")

    monkeypatch.setattr(engine, "ocr_pdf", in_the_request)
    began = time.monotonic()
    resp = _upload(client, scan, "so-tay-200-trang.pdf")
    took = time.monotonic() - began
    assert resp.status_code == 202, resp.get_data(as_text=True)
    started = resp.get_json()
    assert (started["state"], started["pages_done"], started["pages_total"]) == ("queued", 0, 200)
    assert took < 10, took  # kept and queued, not read: seconds at most whatever the pages

    seen: list[dict] = []

    def worker_ocr(data: bytes, pages: int, *, progress) -> engine.OcrOutput:
        for done in range(50, pages + 1, 50):  # the real engine reports after each chunk
            progress(done)
            seen.append(client.get(started["status_url"]).get_json())
        return engine.OcrOutput(data, [""] * pages)

    service.run_next(sessions, blobs, ocr=worker_ocr)
    assert [(s["state"], s["pages_done"], s["finished"]) for s in seen] == [
        ("running", 50, False), ("running", 100, False), ("running", 150, False),
        ("running", 200, False)]
    final = client.get(started["status_url"]).get_json()
    assert final["state"] == "done" and final["pages_done"] == 200
    assert "Không đọc được chữ nào" in final["error"]  # blank pages: nothing to propose


def test_a_photo_is_turned_into_a_pdf_on_the_form_and_in_a_plain_registration(
        client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    login(client, "vanthu.camau")
    photo = specimen.to_image_bytes(specimen.render_page(SPEC, 100), "JPEG", dpi=100)
    resp = _upload(client, photo, "anh-chup.jpg")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert resp.get_json()["filename"] == "anh-chup.pdf"
    job = db.get(OcrJob, resp.get_json()["job"])
    assert blobs.read_bytes(job.source_sha256).startswith(b"%PDF-")
    png = specimen.to_image_bytes(specimen.render_page(SPEC, 100), "PNG")
    done = _register(client, files=(io.BytesIO(png), "trang-1.png"))
    assert done.status_code == 302, done.get_data(as_text=True)
    doc = db.get(IncomingDocument, int(done.location.rsplit("/", 1)[1]))
    [file] = doc.files
    assert (file.filename, file.content_type, file.page_count) == ("trang-1.pdf", "application/pdf", 1)
    assert blobs.read_bytes(file.sha256).startswith(b"%PDF-")


def test_a_broken_photo_or_an_encrypted_scan_is_refused_with_a_clear_message(
        client: FlaskClient, tmp_path: Path) -> None:
    login(client, "vanthu.camau")
    broken = _upload(client, b"\xff\xd8\xff\xe0" + bytes(300), "anh-hong.jpg")
    assert broken.status_code == 422
    assert "Ảnh «anh-hong.jpg» bị hỏng hoặc không đọc được" in broken.get_json()["error"]
    plain, locked = tmp_path / "plain.pdf", tmp_path / "locked.pdf"
    plain.write_bytes(_scan(72))
    subprocess.run(["qpdf", "--encrypt", "u", "o", "256", "--", str(plain), str(locked)], check=True)
    refused = _upload(client, locked.read_bytes(), "khoa.pdf")
    assert refused.status_code == 422
    assert "mã hóa hoặc đặt mật khẩu" in refused.get_json()["error"]
    cut = _upload(client, _scan(72)[:-2000], "cut.pdf")
    assert cut.status_code == 422 and "PDF" in cut.get_json()["error"]


def test_a_scan_the_ocr_cannot_read_still_registers_with_its_original(
        client: FlaskClient, db: Session, blobs: BlobStore, sessions) -> None:
    login(client, "vanthu.camau")
    done = _register(client, files=(io.BytesIO(_scan(72)), "quet-hong.pdf"))
    assert done.status_code == 302
    doc_id = int(done.location.rsplit("/", 1)[1])

    def broken(data: bytes, pages: int, *, progress):
        raise engine.OcrError("Tệp quét bị hỏng hoặc không phải PDF hợp lệ; không nhận dạng "
                              "được chữ.")

    service.run_next(sessions, blobs, ocr=broken)
    job = db.scalars(select(OcrJob).where(OcrJob.document_id == doc_id)).one()
    db.refresh(job)
    assert job.state is OcrState.FAILED and job.output_sha256 == ""
    page = client.get(done.location).get_data(as_text=True)
    assert "Không nhận dạng được chữ" in page and "Tệp quét bị hỏng" in page
    assert "quet-hong.pdf" in client.get("/quan-tri/viec-bi-ket").get_data(as_text=True)


def test_a_timeout_is_tried_again_then_given_up(db: Session, blobs: BlobStore, sessions,
                                                client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    job_id = _upload(client, _scan(72)).get_json()["job"]

    def slow(data: bytes, pages: int, *, progress):
        raise engine.OcrError("Nhận dạng chữ quá 150 giây mà chưa xong; sẽ thử lại sau.",
                              retry=True)

    states = []
    for _ in range(service.MAX_ATTEMPTS):
        service.run_next(sessions, blobs, ocr=slow)
        states.append(db.get(OcrJob, job_id, populate_existing=True).state)
    assert states == [OcrState.QUEUED] * (service.MAX_ATTEMPTS - 1) + [OcrState.FAILED]


def test_ocr_missing_on_the_server_registers_the_scan_and_tells_the_admin(
        app: Flask, client: FlaskClient, db: Session, blobs: BlobStore, sessions,
        monkeypatch) -> None:
    monkeypatch.setattr(engine, "_ocrmypdf", lambda: None)
    login(client, "vanthu.camau")
    done = _register(client, files=(io.BytesIO(_scan(72)), "quet.pdf"))
    assert done.status_code == 302
    doc_id = int(done.location.rsplit("/", 1)[1])
    service.run_next(sessions, blobs)
    job = db.scalars(select(OcrJob).where(OcrJob.document_id == doc_id)).one()
    db.refresh(job)
    assert job.state is OcrState.FAILED and "chưa cài phần mềm nhận dạng chữ" in job.error
    assert db.get(IncomingDocument, doc_id).incoming_number is not None
    admin = client.get("/quan-tri/viec-bi-ket").get_data(as_text=True)
    assert 'id="ocr-missing"' in admin and "tesseract-ocr-vie" in admin
    assert any("ocrmypdf" in note for note in startup.notes(app))


def test_a_pdf_that_has_text_is_not_ocred(client: FlaskClient, db: Session, blobs: BlobStore,
                                          sessions) -> None:
    login(client, "vanthu.camau")
    typed = pdf("Số: 15/QĐ-BNV Hà Nội, ngày 05 tháng 3 năm 2026 về công tác văn thư lưu trữ")
    started = _upload(client, typed, "da-co-chu.pdf").get_json()
    calls: list[int] = []
    service.run_next(sessions, blobs, ocr=_fake_ocr("", calls))
    status = client.get(started["status_url"]).get_json()
    assert calls == [] and status["state"] == "skipped"
    assert status["fields"]["number"] == "15"  # read from the text it has
    done = _register(client, files=(io.BytesIO(typed), "da-co-chu.pdf"))
    doc_id = int(done.location.rsplit("/", 1)[1])
    assert db.scalars(select(OcrJob).where(OcrJob.document_id == doc_id)).all() == []


def test_another_users_scan_job_is_not_found(app: Flask, client: FlaskClient, db: Session,
                                             blobs: BlobStore) -> None:
    login(client, "vanthu.camau")
    job_id = _upload(client, _scan(72)).get_json()["job"]
    other = app.test_client()
    login(other, "lanhdao.camau")  # same agency, not a clerk: refused by the role table
    assert other.get(f"/van-ban-den/quet/{job_id}").status_code == 403
