"""Copies (sao y, sao lục, trích sao; Decree 30 articles 25-27): the leader's decision, the
clerk's copy, numbered in its own register, sealed, linked to the original; the bad inputs."""

from __future__ import annotations

import subprocess
import uuid

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.copies import service as copies
from ioffice.copies.errors import InvalidCopy
from ioffice.copies.models import CopyKind, CopyStatus
from ioffice.errors import Forbidden, NotFound
from ioffice.outgoing import issue, signatures
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, Verdict, validate_pdf
from signing.demo import make_text_pdf
from tests.outgoing.conftest import LEADER, PIN, approve_all, new_draft
from tests.support.factories import UploadedFile, actor, register, user_id

CLERK = "vanthu.camau"


def ask(db: Session, blobs: BlobStore, who: str, source: str, document_id: int, kind: str = "sao_y",
        **fields: object):
    values: dict[str, object] = {"kind": kind, "submission_id": uuid.uuid4().hex,
                                 "recipients": "Sở Nội vụ\nỦy ban nhân dân huyện U Minh"}
    values.update(fields)
    return copies.request_copy(db, blobs, actor(db, who), source, document_id,
                               copies.CopyRequest(**values))  # type: ignore[arg-type]


def text_of(data: bytes, page: int) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return pdf[page].get_textpage().get_text_range()
    finally:
        pdf.close()


def pages_of(data: bytes) -> int:
    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def _three() -> bytes:
    import io

    out = pdfium.PdfDocument.new()
    for n in range(3):
        page = make_text_pdf([f"Trang {n + 1} của công văn"])
        out.import_pages(pdfium.PdfDocument(page))
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


@pytest.fixture
def issued(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, pin_key):
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    return doc


def test_exact_copy_of_incoming_is_numbered_sealed_and_verifies(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, tmp_path) -> None:
    clerk = actor(db, CLERK)
    incoming = register(db, blobs, clerk)
    requested = ask(db, blobs, LEADER, "incoming", incoming.id)
    assert requested.status is CopyStatus.REQUESTED
    assert requested.decided_by_id == user_id(db, LEADER)
    made = copies.make_copy(db, blobs, pki, trust, clerk, requested.id, tsa=tsa)
    assert made.status is CopyStatus.MADE
    assert made.number_notation == f"{made.number:02d}/SY-UBND"
    data = blobs.read_bytes(made.sha256)
    original_pages = incoming.files[0].page_count or 1
    assert pages_of(data) == original_pages + 1 == made.page_count
    form = text_of(data, made.page_count - 1)
    for expected in ("SAO Y", "ỦY BAN NHÂN DÂN TỈNH CÀ MAU", f"Số: {made.number_notation}",
                     "Cà Mau, ngày", "Nơi nhận:", "Sở Nội vụ", "Lưu: VT.",
                     made.decided_by.full_name):
        assert expected in form, (expected, form)
    report = validate_pdf(data, trust)
    assert report.verdict is Verdict.VALID, report.explanation
    path = tmp_path / "sao-y.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 1, out
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tags = list(db.scalars(select(AuditEvent.tag).where(
        AuditEvent.subject_type == "incoming", AuditEvent.subject_id == str(incoming.id))))
    assert tags[-2:] == ["copies:copy:request", "copies:copy:make"]
    # linked both ways
    assert copies.copies_of(db, clerk, "incoming", incoming.id) == [made]
    assert copies.original_of(db, clerk, made) is incoming


def test_copies_of_a_signed_outgoing_document_sao_luc_and_extract(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, issued, tmp_path) -> None:
    clerk = actor(db, CLERK)
    exact = copies.make_copy(db, blobs, pki, trust, clerk,
                             ask(db, blobs, LEADER, "outgoing", issued.id).id, tsa=tsa)
    # sao lục is made from the sao y
    luc = copies.make_copy(db, blobs, pki, trust, clerk,
                           ask(db, blobs, LEADER, "outgoing", issued.id, "sao_luc").id, tsa=tsa)
    assert luc.from_copy_id == exact.id and luc.number == exact.number + 1
    assert luc.number_notation == f"{luc.number:02d}/SL-UBND"
    data = blobs.read_bytes(luc.sha256)
    assert pages_of(data) == pages_of(blobs.read_bytes(exact.sha256)) + 1
    assert "SAO LỤC" in text_of(data, pages_of(data) - 1)
    # the original's signatures are not carried (flattened): only the copying agency's
    report = validate_pdf(data, trust)
    assert report.verdict is Verdict.VALID and len(
        [s for s in report.signatures if s.kind == "signature"]) == 1
    path = tmp_path / "sao-luc.pdf"
    path.write_bytes(data)
    assert subprocess.run(["pdfsig", str(path)], capture_output=True, text=True
                          ).stdout.count("Signature is Valid") == 1
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    assert [c.kind for c in copies.copies_of(db, clerk, "outgoing", issued.id)] == [
        CopyKind.EXACT, CopyKind.FROM_EXACT]


def test_extract_copies_the_chosen_pages(db: Session, blobs: BlobStore, pki: Pki,
                                         trust: TrustStore, tsa) -> None:
    clerk = actor(db, CLERK)
    incoming = register(db, blobs, clerk, files=(UploadedFile("ba-trang.pdf", _three()),))
    copy = ask(db, blobs, CLERK, "incoming", incoming.id, "trich_sao", pages="3, 1",
               decided_by_id=user_id(db, LEADER))
    assert copy.pages == "3,1"
    made = copies.make_copy(db, blobs, pki, trust, clerk, copy.id, tsa=tsa)
    data = blobs.read_bytes(made.sha256)
    assert pages_of(data) == 3
    assert "Trang 3" in text_of(data, 0) and "Trang 1" in text_of(data, 1)
    assert "TRÍCH SAO" in text_of(data, 2) and "/TrS-UBND" in made.number_notation


# --- bad input ---------------------------------------------------------------------------------

def test_another_agencys_document_is_not_found(db: Session, blobs: BlobStore) -> None:
    other = register(db, blobs, actor(db, "vanthu.bnv"))
    with pytest.raises(NotFound, match="Không tìm thấy văn bản"):
        ask(db, blobs, LEADER, "incoming", other.id)
    mine = ask(db, blobs, LEADER, "incoming", register(db, blobs, actor(db, CLERK)).id)
    with pytest.raises(NotFound, match="Không tìm thấy bản sao"):
        copies.get_copy(db, actor(db, "vanthu.bnv"), mine.id)
    year = copies.today_vn().year
    assert mine in [c for c, _ in copies.list_copies(db, actor(db, CLERK), year)]
    assert mine not in [c for c, _ in copies.list_copies(db, actor(db, "vanthu.bnv"), year)]


def test_a_clerk_needs_the_leaders_decision(db: Session, blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    with pytest.raises(InvalidCopy, match="Chưa có quyết định sao của lãnh đạo"):
        ask(db, blobs, CLERK, "incoming", incoming.id)
    with pytest.raises(InvalidCopy, match="không phải là lãnh đạo"):
        ask(db, blobs, CLERK, "incoming", incoming.id,
            decided_by_id=user_id(db, "chuyenvien.camau"))


def test_extract_pages_out_of_range(db: Session, blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK), files=(UploadedFile("ba.pdf", _three()),))
    with pytest.raises(InvalidCopy, match="trang 7 nằm ngoài văn bản \\(văn bản có 3 trang\\)"):
        ask(db, blobs, LEADER, "incoming", incoming.id, "trich_sao", pages="1, 7")
    with pytest.raises(InvalidCopy, match="không phải là số trang"):
        ask(db, blobs, LEADER, "incoming", incoming.id, "trich_sao", pages="một")
    with pytest.raises(InvalidCopy, match="cả văn bản"):
        ask(db, blobs, LEADER, "incoming", incoming.id, "trich_sao", pages="1-3")


def test_a_document_without_a_file(db: Session, blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    incoming.files.clear()
    db.flush()
    with pytest.raises(InvalidCopy, match="không có tệp PDF"):
        ask(db, blobs, LEADER, "incoming", incoming.id)


def test_unissued_outgoing_and_sao_luc_without_sao_y(db: Session, blobs: BlobStore, issued
                                                     ) -> None:
    with pytest.raises(InvalidCopy, match="đã ký số của cơ quan"):
        ask(db, blobs, LEADER, "outgoing", new_draft(db, blobs).id)
    with pytest.raises(InvalidCopy, match="chưa có bản sao y"):
        ask(db, blobs, LEADER, "outgoing", issued.id, "sao_luc")


def test_double_submission_makes_one_copy(db: Session, blobs: BlobStore, pki: Pki,
                                          trust: TrustStore, tsa) -> None:
    clerk = actor(db, CLERK)
    incoming = register(db, blobs, clerk)
    submission = uuid.uuid4().hex
    first = ask(db, blobs, LEADER, "incoming", incoming.id, submission_id=submission)
    again = ask(db, blobs, LEADER, "incoming", incoming.id, submission_id=submission)
    assert again is first
    made = copies.make_copy(db, blobs, pki, trust, clerk, first.id, tsa=tsa)
    number = made.number
    assert copies.make_copy(db, blobs, pki, trust, clerk, first.id, tsa=tsa).number == number
    assert len(copies.copies_of(db, clerk, "incoming", incoming.id)) == 1
    # the copy's blob is kept by the store's cleanup
    from ioffice import maintenance

    assert made.sha256 in maintenance.referenced_blobs(db)


def test_roles_in_the_service_layer(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                                    tsa) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    with pytest.raises(Forbidden):
        ask(db, blobs, "chuyenvien.camau", "incoming", incoming.id)
    copy = ask(db, blobs, LEADER, "incoming", incoming.id)
    with pytest.raises(Forbidden):
        copies.make_copy(db, blobs, pki, trust, actor(db, LEADER), copy.id, tsa=tsa)


def test_a_number_taken_meanwhile_makes_the_copy_again(db: Session, blobs: BlobStore, pki: Pki,
                                                       trust: TrustStore, tsa, monkeypatch
                                                       ) -> None:
    """Another clerk takes the number the copy was made with (no lock is held while it is
    made): the copy is made again with the next number, no gap, no duplicate."""
    from ioffice.copies import service
    from ioffice.registers.models import RegisterKind
    from ioffice.registers.numbering import get_or_create_register, next_number

    clerk = actor(db, CLERK)
    copy = ask(db, blobs, LEADER, "incoming", register(db, blobs, clerk).id)
    real, calls = service._make, []

    def racing(*args, **kwargs):
        made = real(*args, **kwargs)
        if not calls:  # the other clerk takes that number now
            reg = get_or_create_register(db, clerk.agency_id, RegisterKind.COPIES, made.year)
            next_number(db, reg)
        calls.append(made.number)
        return made

    monkeypatch.setattr(service, "_make", racing)
    made = copies.make_copy(db, blobs, pki, trust, clerk, copy.id, tsa=tsa)
    assert calls == [calls[0], calls[0] + 1] and made.number == calls[0] + 1
    assert made.number_notation == f"{made.number:02d}/SY-UBND"
    assert f"Số: {made.number_notation}" in text_of(blobs.read_bytes(made.sha256),
                                                    made.page_count - 1)
