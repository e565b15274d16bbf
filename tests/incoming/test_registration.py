from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Urgency
from ioffice.errors import Forbidden, NotFound
from ioffice.incoming import queries
from ioffice.incoming.errors import AlreadySubmitted, DuplicateSuspected, InvalidInput
from ioffice.incoming.models import DocumentStatus, DocumentText
from ioffice.incoming.registration import UploadedFile, today_vn
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register
from ioffice.storage import BlobStore
from tests.support.factories import actor, pdf, register


def test_registration_numbers_continuously_and_stores_the_file(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    first = register(db, blobs, clerk)
    second = register(db, blobs, clerk)
    assert second.incoming_number == first.incoming_number + 1
    assert first.status is DocumentStatus.REGISTERED
    assert first.page_count == 1
    stored = blobs.read_bytes(first.files[0].sha256)
    assert stored.startswith(b"%PDF-")
    text = db.get(DocumentText, first.id)
    assert "Chính phủ điện tử" in text.content
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_id == str(first.id))).all()
    assert "incoming:document:register" in tags


def test_each_agency_has_its_own_series(db: Session, blobs: BlobStore) -> None:
    uminh_clerk = actor(db, "vanthu.uminh")
    before = get_or_create_register(db, uminh_clerk.agency_id, RegisterKind.INCOMING,
                                    today_vn().year).last_number
    camau = [register(db, blobs, actor(db, "vanthu.camau")) for _ in range(2)]
    uminh = register(db, blobs, uminh_clerk)
    assert camau[0].register_id != uminh.register_id
    assert uminh.incoming_number == before + 1


def test_not_a_pdf_even_if_named_pdf_is_refused(db: Session, blobs: BlobStore) -> None:
    fake = UploadedFile("quyet-dinh.pdf", b"PK\x03\x04 this is a zip file, not a PDF")
    with pytest.raises(InvalidInput) as exc:
        register(db, blobs, actor(db, "vanthu.camau"), files=(fake,))
    assert "không phải là PDF" in exc.value.fields["files"]


def test_corrupt_pdf_is_refused(db: Session, blobs: BlobStore) -> None:
    broken = pdf()[:400]
    with pytest.raises(InvalidInput) as exc:
        register(db, blobs, actor(db, "vanthu.camau"), files=(UploadedFile("hong.pdf", broken),))
    assert "bị hỏng" in exc.value.fields["files"]


def test_encrypted_pdf_is_refused(db: Session, blobs: BlobStore) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils.crypt import StandardSecurityHandler
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(BytesIO(pdf())))
    writer.encrypt = None
    writer.security_handler = StandardSecurityHandler.build_from_pw("mat-khau", "")
    writer._encrypt = writer.add_object(writer.security_handler.as_pdf_object())
    out = BytesIO()
    writer.write(out)
    with pytest.raises(InvalidInput) as exc:
        register(db, blobs, actor(db, "vanthu.camau"),
                 files=(UploadedFile("mat-khau.pdf", out.getvalue()),))
    assert "mã hóa" in exc.value.fields["files"]


def test_missing_fields_future_date_and_early_due_date(db: Session, blobs: BlobStore) -> None:
    today = today_vn()
    with pytest.raises(InvalidInput) as exc:
        register(db, blobs, actor(db, "vanthu.camau"), issuer_name=" ", number="", subject="",
                 doc_type="khong_co", document_date=today + dt.timedelta(days=1), files=())
    assert set(exc.value.fields) == {"issuer_name", "number", "subject", "doc_type",
                                     "document_date", "files"}
    assert "tương lai" in exc.value.fields["document_date"]
    with pytest.raises(InvalidInput) as exc:
        register(db, blobs, actor(db, "vanthu.camau"), document_date=today,
                 due_date=today - dt.timedelta(days=1))
    assert "trước ngày văn bản" in exc.value.fields["due_date"]


def test_specialist_cannot_register(db: Session, blobs: BlobStore) -> None:
    with pytest.raises(Forbidden):
        register(db, blobs, actor(db, "chuyenvien.camau"))


def test_duplicate_is_flagged_then_accepted_when_the_clerk_confirms(db: Session,
                                                                     blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    first = register(db, blobs, clerk, number="777")
    with pytest.raises(DuplicateSuspected) as exc:
        register(db, blobs, clerk, number="777")
    assert exc.value.matches[0].id == first.id
    assert f"số đến {first.incoming_number}" in exc.value.message
    again = register(db, blobs, clerk, number="777", confirm_duplicate=True)
    assert again.incoming_number == first.incoming_number + 1


def test_same_document_identifier_is_a_duplicate(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    register(db, blobs, clerk, document_identifier="000.00.00.G09,2026/11/20,1234/BNV-CCHC")
    with pytest.raises(DuplicateSuspected):
        register(db, blobs, clerk, number="9999",
                 document_identifier="000.00.00.G09,2026/11/20,1234/BNV-CCHC")


def test_double_submit_of_the_same_form_registers_once(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    first = register(db, blobs, clerk, submission_id="form-123")
    with pytest.raises(AlreadySubmitted) as exc:
        register(db, blobs, clerk, submission_id="form-123")
    assert exc.value.document.id == first.id


def test_urgent_document_goes_to_the_top_of_the_leaders_queue(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    normal = register(db, blobs, clerk)
    flash = register(db, blobs, clerk, urgency=Urgency.FLASH)
    queue = queries.to_distribute(db, actor(db, "lanhdao.camau"))
    ids = [d.id for d in queue]
    assert ids.index(flash.id) < ids.index(normal.id)
    assert queue[0].urgency is Urgency.FLASH


def test_another_agency_cannot_read_a_document(db: Session, blobs: BlobStore) -> None:
    doc = register(db, blobs, actor(db, "vanthu.camau"))
    with pytest.raises(NotFound):
        queries.read_document(db, actor(db, "vanthu.uminh"), doc.id)
    assert queries.read_document(db, actor(db, "chuyenvien.camau"), doc.id).id == doc.id


def test_register_of_a_month_lists_exactly_that_months_documents(db: Session,
                                                                 blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    docs = [register(db, blobs, clerk) for _ in range(5)]
    year = docs[0].registered_at.year
    vn = dt.timezone(dt.timedelta(hours=7))
    stamps = [dt.datetime(year, 3, 31, 23, 30, tzinfo=vn), dt.datetime(year, 4, 1, 0, 5, tzinfo=vn),
              dt.datetime(year, 4, 15, tzinfo=vn), dt.datetime(year, 4, 30, 23, 59, tzinfo=vn),
              dt.datetime(year, 5, 1, 0, 0, tzinfo=vn)]
    for doc, at in zip(docs, stamps, strict=True):
        doc.registered_at = at
    db.flush()
    leader = actor(db, "lanhdao.camau")
    april = queries.register_page(db, leader, queries.RegisterFilter(year=year, month=4))
    mine = {d.id for d in docs}
    assert [d.id for d in april if d.id in mine] == [d.id for d in docs[1:4]]
    may = queries.register_page(db, leader, queries.RegisterFilter(year=year, month=5))
    assert [d.id for d in may if d.id in mine] == [docs[4].id]
    assert queries.register_page(db, leader, queries.RegisterFilter(year=1999)) == []
