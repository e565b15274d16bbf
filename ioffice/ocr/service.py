"""OCR of scanned paper (docs/ocr.md): the clerk's upload queues a job, the worker reads it.

The clerk's flow: choose the scan on the registration form → :func:`start_scan` keeps the
file (a held file, :mod:`ioffice.documents.held`) and queues an :class:`OcrJob` in the same
transaction → the worker (:func:`run_next`) OCRs it after commit and reads the fields of the
first page → the form, polling :func:`scan_status`, fills the fields it finds, each marked as
read by the machine until the clerk confirms it → registration (:func:`attach_scans`) links the
job to the document's file and adds the OCR text to its search entry. A scan registered without
the form's script (or before OCR finished) is OCRed afterwards the same way: registration
queues a job for each file without one (:func:`attach_scans`), and the worker updates the
document's text and search entry when the job is done.

The original file is never changed; the searchable copy is a blob of its own beside it. A PDF
whose every page already has text is not OCRed (state ``skipped``; its fields are read from
that text). OCR missing on the server, a broken or encrypted scan: the job fails with a
Vietnamese message, the document registers with its original all the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.audit.service import AuditContext
from ioffice.db import utcnow
from ioffice.documents import held
from ioffice.documents.pdf import inspect_pdf, make_signable
from ioffice.errors import DomainError, NotFound
from ioffice.incoming.models import DocumentFile, DocumentText, IncomingDocument
from ioffice.ocr import engine, fields, images
from ioffice.ocr.models import OcrJob, OcrState
from ioffice.storage import BlobStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = dt.timedelta(minutes=30)
"""A job left ``running`` this long without progress belonged to a worker that died."""
MIN_TEXT_CHARS = 20
"""A page with fewer letters and digits than this in its text layer counts as image only."""
WORKER_CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="worker")


@dataclass(frozen=True)
class ScanUpload:
    job: OcrJob
    held: held.HeldFile


def start_scan(session: Session, blobs: BlobStore, actor: Actor, filename: str, data: bytes,
               *, now: dt.datetime | None = None) -> ScanUpload:
    """Keep a scan the clerk chose on the registration form and queue its OCR (a photo is
    turned into a one-page PDF first). :class:`ioffice.documents.pdf.InvalidPdf` for what
    cannot be a scan."""
    actor.check(Op.REGISTER_INCOMING)
    now = now or utcnow()
    if images.is_image(data) or filename.lower().endswith(images.IMAGE_SUFFIXES):
        data = images.image_to_pdf(data, filename)
        filename = images.pdf_name(filename)
    facts = inspect_pdf(data, filename)
    data = make_signable(data, filename).data  # as registration stores it (a bad xref repaired)
    kept = held.hold(blobs, user_id=actor.user_id, agency_id=actor.agency_id, filename=filename,
                     data=data, now=now, page_count=facts.page_count)
    info = blobs.put_bytes(data)
    job = OcrJob(agency_id=actor.agency_id, user_id=actor.user_id, held_token=kept.token,
                 filename=filename[:255], source_sha256=info.sha256,
                 pages_total=facts.page_count, state=OcrState.QUEUED, pages_done=0, attempts=0,
                 error="", text="", output_sha256="", created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    record(session, actor.ctx, "incoming:scan:upload", subject_type="ocr_job", subject_id=job.id,
           details={"filename": job.filename, "pages": facts.page_count})
    _wake_after_commit(session)
    return ScanUpload(job, kept)


def scan_status(session: Session, actor: Actor, job_id: int) -> OcrJob:
    """The clerk's own scan job (another user's or agency's looks missing)."""
    actor.check(Op.REGISTER_INCOMING)
    job = session.get(OcrJob, job_id)
    if job is None or job.agency_id != actor.agency_id or job.user_id != actor.user_id:
        raise NotFound("Không tìm thấy tệp quét.")
    return job


# read on every incoming document's page: built once (docs/performance.md)
_DOCUMENT_JOBS = (select(OcrJob).where(OcrJob.document_id == bindparam("document_id"))
                  .order_by(OcrJob.id))


def document_jobs(session: Session, document_id: int) -> list[OcrJob]:
    """The OCR jobs of a document's files (the caller has checked the reader may read it)."""
    return list(session.scalars(_DOCUMENT_JOBS, {"document_id": document_id}))


def attach_scans(session: Session, actor: Actor, doc: IncomingDocument,
                 tokens: Sequence[str] = (), texts: Sequence[str] = ()) -> str:
    """In the registration's transaction, once ``doc`` and its files have ids: link the
    clerk's scan jobs (by the held files' tokens, in file order) to the document's files, and
    queue a job for each other file whose text layer (``texts``, in file order) is too thin
    to be a typed PDF's. Returns the OCR text already read, for the search entry the
    registration writes."""
    jobs = {}
    if tokens:
        jobs = {j.held_token: j for j in session.scalars(
            select(OcrJob).where(OcrJob.held_token.in_([t for t in tokens if t]),
                                 OcrJob.agency_id == actor.agency_id,
                                 OcrJob.user_id == actor.user_id,
                                 OcrJob.document_id.is_(None)).with_for_update())}
    read: list[str] = []
    now = utcnow()
    queued = False
    for position, file in enumerate(sorted(doc.files, key=lambda f: f.position)):
        if file.content_type != "application/pdf":
            continue
        job = jobs.get(tokens[position]) if position < len(tokens) else None
        if job is None and position < len(texts) and _has_text(texts[position], file.page_count):
            continue  # a PDF that already has text is not OCRed
        if job is None:
            job = OcrJob(agency_id=doc.agency_id, user_id=actor.user_id, filename=file.filename,
                         source_sha256=file.sha256, pages_total=file.page_count,
                         state=OcrState.QUEUED, pages_done=0, attempts=0, error="", text="",
                         output_sha256="", created_at=now, updated_at=now)
            session.add(job)
            queued = True
        job.document_id, job.file_id = doc.id, file.id
        if job.state in (OcrState.DONE, OcrState.SKIPPED) and job.text:
            read.append(job.text)
        elif not job.state.finished:
            queued = True
    if queued:
        _wake_after_commit(session)
    return "\n".join(read)


class RetryRefused(DomainError):
    """A new OCR run that would do nothing or twice the same work."""

    status_code = 409


RETRY_REFUSALS = {
    OcrState.QUEUED: "Tệp «{name}» đang chờ nhận dạng chữ; không cần chạy lại.",
    OcrState.RUNNING: "Tệp «{name}» đang được nhận dạng chữ ({done}/{total} trang); hãy chờ "
                      "xong.",
    OcrState.DONE: "Tệp «{name}» đã được nhận dạng chữ; không cần chạy lại.",
    OcrState.SKIPPED: "Tệp «{name}» đã có lớp chữ (không phải bản quét chỉ có ảnh); không cần "
                      "nhận dạng chữ.",
}


def retry(session: Session, blobs: BlobStore, actor: Actor, document_id: int,
          file_id: int) -> OcrJob:
    """Run the OCR of a registered document's file again, after it failed (OCR missing on the
    server at the time, a timeout three times, a page the engine could not read) or when the
    file never had a job (an image-only PDF registered before OCR existed): the clerk's
    action from the document page. The failed job is queued again (the same row: a second
    click finds it queued and is refused), or a job is queued for a file without one; the
    worker takes it after commit and the page shows its progress as on the first run.

    Refused (:class:`RetryRefused`) while OCR runs or waits, once it is done, and for a file
    that already has text. Another agency's document or file: :class:`NotFound`."""
    actor.check(Op.REGISTER_INCOMING)
    # the document row locked: two clicks at once do one after the other
    doc = session.get(IncomingDocument, document_id, with_for_update=True)
    if doc is None or doc.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy văn bản.")
    file = next((f for f in doc.files if f.id == file_id), None)
    if file is None:
        raise NotFound("Không tìm thấy tệp.")
    from ioffice.records import retention

    retention.check_not_destroyed(session, doc)
    job = session.scalars(select(OcrJob).where(OcrJob.file_id == file.id)
                          .order_by(OcrJob.id.desc()).limit(1).with_for_update()).first()
    now = utcnow()
    if job is not None and job.state is not OcrState.FAILED:
        raise RetryRefused(RETRY_REFUSALS[job.state].format(
            name=file.filename, done=job.pages_done, total=job.pages_total))
    if job is None:
        if file.content_type != "application/pdf":
            raise RetryRefused(f"Tệp «{file.filename}» không phải bản quét PDF; không nhận dạng "
                               "chữ được.")
        pages = _text_pages(blobs.read_bytes(file.sha256))
        if pages and all(_has_text(p) for p in pages):
            raise RetryRefused(RETRY_REFUSALS[OcrState.SKIPPED].format(name=file.filename))
        job = OcrJob(agency_id=doc.agency_id, user_id=actor.user_id, document_id=doc.id,
                     file_id=file.id, filename=file.filename[:255], source_sha256=file.sha256,
                     pages_total=file.page_count, output_sha256="", text="", created_at=now)
        session.add(job)
        previous = ""
    else:
        previous = job.error
    job.state, job.pages_done, job.attempts, job.error = OcrState.QUEUED, 0, 0, ""
    job.user_id, job.updated_at = actor.user_id, now
    session.flush()
    record(session, actor.ctx, "incoming:document:ocr-retry", subject_type="incoming",
           subject_id=doc.id, details={"file_id": file.id, "job_id": job.id,
                                       "filename": file.filename, "previous_error": previous})
    _wake_after_commit(session)
    return job


def _wake_after_commit(session: Session) -> None:
    from ioffice.exchange.wake import request_wake

    request_wake(session)


# --- the worker's side --------------------------------------------------------------------

def claim_next(session: Session, now: dt.datetime | None = None) -> OcrJob | None:
    """Take the oldest queued job (or one a dead worker left running) and mark it running;
    the caller commits. Several workers on PostgreSQL each take a different one."""
    now = now or utcnow()
    stmt = (select(OcrJob).where(or_(
        OcrJob.state == OcrState.QUEUED,
        (OcrJob.state == OcrState.RUNNING) & (OcrJob.updated_at < now - STALE_AFTER)))
        .order_by(OcrJob.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job = session.scalars(stmt).first()
    if job is None:
        return None
    job.state = OcrState.RUNNING
    job.attempts += 1
    job.pages_done = 0
    job.updated_at = now
    return job


def has_pending(session: Session) -> bool:
    return session.scalars(select(OcrJob.id).where(
        OcrJob.state.in_([OcrState.QUEUED, OcrState.RUNNING])).limit(1)).first() is not None


def run_next(session_factory: Callable[[], Session], blobs: BlobStore, *,
             ocr: Callable[..., engine.OcrOutput] | None = None) -> int | None:
    """Claim one job and do it; the id of the job done, or None when none waits. Progress is
    written after every chunk of pages in its own short transaction; no transaction stays open
    while the engine runs."""
    ocr = ocr or engine.ocr_pdf
    with session_factory() as session:
        job = claim_next(session)
        if job is None:
            return None
        session.commit()
        job_id, sha, total, attempts = job.id, job.source_sha256, job.pages_total, job.attempts
    data = blobs.read_bytes(sha)
    pages = _text_pages(data)
    if pages and all(_has_text(p) for p in pages):
        _finish(session_factory, job_id, OcrState.SKIPPED, pages=pages, total=len(pages))
        return job_id
    if not pages:
        _finish(session_factory, job_id, OcrState.FAILED, total=total,
                error="Tệp quét bị hỏng, không đọc được trang nào; văn bản vẫn được lưu "
                      "nguyên bản gốc.")
        return job_id

    def progress(done: int) -> None:
        with session_factory() as s:
            row = s.get(OcrJob, job_id)
            if row is not None:
                row.pages_done, row.updated_at = done, utcnow()
                s.commit()

    try:
        output = ocr(data, len(pages), progress=progress)
    except engine.OcrError as exc:
        again = exc.retry and attempts < MAX_ATTEMPTS
        log.warning("OCR of job %s failed: %s", job_id, exc.message)
        _finish(session_factory, job_id, OcrState.QUEUED if again else OcrState.FAILED,
                total=len(pages), error=exc.message)
        return job_id
    info = blobs.put_bytes(output.pdf)
    _finish(session_factory, job_id, OcrState.DONE, pages=output.pages, total=len(pages),
            output_sha256=info.sha256)
    return job_id


def _finish(session_factory: Callable[[], Session], job_id: int, state: OcrState, *,
            total: int, pages: list[str] | None = None, error: str = "",
            output_sha256: str = "") -> None:
    with session_factory() as session:
        job = session.get(OcrJob, job_id, with_for_update=True)
        if job is None:  # the document was deleted meanwhile
            return
        job.state, job.error, job.updated_at = state, error, utcnow()
        job.pages_total = total
        job.pages_done = total if state in (OcrState.DONE, OcrState.SKIPPED) else job.pages_done
        if output_sha256:
            job.output_sha256 = output_sha256
        if pages is not None:
            job.text = "\n".join(pages).strip()
            # one page: read once; several: the signature block is on the last
            found = fields.read_fields(pages[0], pages[-1] if len(pages) > 1 else None) \
                if pages else {}
            job.fields = found
            if state is OcrState.DONE and not any(_has_text(p) for p in pages):
                job.error = "Không đọc được chữ nào trên bản quét (ảnh quá mờ hoặc trang trắng)."
        if job.document_id is not None and state in (OcrState.DONE, OcrState.SKIPPED):
            _add_to_document(session, job)
        session.commit()


def _add_to_document(session: Session, job: OcrJob) -> None:
    """The OCR text joins the document's stored text and its search entry."""
    from ioffice.search import index_incoming

    doc = session.get(IncomingDocument, job.document_id)
    if doc is None or not job.text:
        return
    stored = session.get(DocumentText, doc.id)
    if stored is None:
        stored = DocumentText(document_id=doc.id, content="")
        session.add(stored)
    if job.text not in stored.content:
        stored.content = f"{stored.content}\n{job.text}".strip()
    index_incoming(session, doc, stored.content)
    record(session, WORKER_CTX, "incoming:document:ocr", subject_type="incoming",
           subject_id=doc.id, agency_id=doc.agency_id,
           details={"file_id": job.file_id, "state": job.state.value, "pages": job.pages_total})


def _text_pages(data: bytes) -> list[str]:
    """The text layer of each page ([] for a PDF that cannot be opened)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return []
    try:
        texts = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def _has_text(text: str, pages: int = 1) -> bool:
    return sum(c.isalnum() for c in text) >= MIN_TEXT_CHARS * max(pages, 1)


def file_copy(session: Session, file: DocumentFile) -> OcrJob | None:
    """The done OCR job of a document's file (its searchable copy), if any."""
    return session.scalars(select(OcrJob).where(
        OcrJob.file_id == file.id, OcrJob.state == OcrState.DONE,
        OcrJob.output_sha256 != "")).first()


def failed_jobs(session: Session, agency_id: int, limit: int = 50) -> list[OcrJob]:
    """The agency's registered scans whose OCR failed, newest first (the admin's page)."""
    return list(session.scalars(select(OcrJob).where(
        OcrJob.agency_id == agency_id, OcrJob.state == OcrState.FAILED,
        OcrJob.document_id.is_not(None)).order_by(OcrJob.id.desc()).limit(limit)))


def unavailable_note() -> str | None:
    """For the administrator: why scans are not OCRed on this host, or None."""
    return engine.problem()


__all__ = ["RetryRefused", "ScanUpload", "attach_scans", "claim_next", "document_jobs",
           "failed_jobs", "file_copy", "has_pending", "retry", "run_next", "scan_status",
           "start_scan", "unavailable_note"]
