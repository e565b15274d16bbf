"""Packages as other producers write them, received end to end (docs/edxml.md, "Received as
other producers write it"): stored and flagged for the clerk, or refused with the reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import dispatch, recipient_statuses
from ioffice.exchange.models import ExchangeInbox
from ioffice.exchange.receipt import receive_package
from ioffice.exchange.sending import _seal
from ioffice.incoming.models import DocumentStatus, IncomingDocument, receipt_flag_labels
from signing.demo import make_text_pdf
from tests.axis_connector.producers import Producer, axis_trace_header, status_package, xmldsig_sha1
from tests.support.factories import doc_number

from .conftest import BNV, CA_MAU, Federation, agency, mid, outgoing, signed_pdf

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def producer(db: Session, fed: Federation, *, pdf: bytes | None = None, **changes) -> Producer:
    number = doc_number(100, 800)
    values = dict(sender=BNV, sender_name="Bộ Nội vụ", recipient=CA_MAU,
                  document_id=f"{BNV},2026/11/20,{number}/BNV-VP", number=number, notation="BNV-VP",
                  files=(("cong-van.pdf", "application/pdf",
                          pdf if pdf is not None else signed_pdf(db, fed.pki, agency(db, BNV).id)),))
    values.update(changes)
    return Producer(**values)


def receive(fed: Federation, data: bytes, message_id: str = "p-1", messagetype: str = "edoc",
            to: str = CA_MAU):
    return receive_package(fed.rt, "tinh", mid(message_id), [to], messagetype, data, sender=BNV)


def received(db: Session, document_id: str) -> IncomingDocument:
    db.expire_all()
    return db.scalars(select(IncomingDocument).where(
        IncomingDocument.document_identifier == document_id)).one()


def test_unsigned_envelope_with_a_signed_pdf_is_received_and_flagged(db: Session,
                                                                      federation: Federation) -> None:
    """rules unprefixed-root, envelope-absent, wrapped-base64, date-day-first"""
    package = producer(db, federation, date="19/11/2026")
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    assert doc.status is DocumentStatus.AWAITING_REGISTRATION
    assert doc.document_date == dt.date(2026, 11, 19)
    assert doc.receipt_flags == "envelope_absent"  # the PDF's own signature is valid
    assert receipt_flag_labels(doc.receipt_flags) == ["Phong bì không ký số"]
    assert [f.signature_verdict for f in doc.files] == ["valid"]


def test_empty_signature_and_unsigned_pdf_carry_both_flags(db: Session, federation: Federation) -> None:
    package = producer(db, federation, pdf=make_text_pdf(["Không ký số"]), signature="<Signature/>")
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    assert doc.receipt_flags == "envelope_empty no_valid_pdf_signature"
    assert receipt_flag_labels(doc.receipt_flags) == [
        "Phong bì không ký số (thẻ chữ ký rỗng)", "Không tệp PDF nào có chữ ký số hợp lệ"]


def test_bare_qcvn_signature_is_received_as_not_xmldsig(db: Session, federation: Federation) -> None:
    package = producer(db, federation, signature="<Signature>chuky</Signature>")
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    assert received(db, package.document_id).receipt_flags == "envelope_not_xmldsig"


def test_real_sha1_signature_after_the_axis_is_verified_and_marked_weak(
        db: Session, federation: Federation) -> None:
    """rules envelope-xmldsig-sha1, axis-trace-without-organ-id"""
    package = producer(db, federation)
    key, chain = _seal(federation.rt, db, agency(db, BNV).id)
    data = axis_trace_header(xmldsig_sha1(package.document(), key, chain[0], exclusive_transform=True))
    outcome = receive(federation, data)
    assert outcome.delivered == [CA_MAU], outcome.failed
    assert received(db, package.document_id).receipt_flags == "envelope_sha1"


def test_placeholder_signature_value_is_received_as_unverifiable(db: Session,
                                                                 federation: Federation) -> None:
    package = producer(db, federation)
    key, chain = _seal(federation.rt, db, agency(db, BNV).id)
    data = xmldsig_sha1(package.document(), key, chain[0], signature_value="...")
    outcome = receive(federation, data)
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    assert receipt_flag_labels(doc.receipt_flags) == ["Chữ ký phong bì không kiểm tra được"]


def test_tampered_real_signature_is_refused_and_stores_nothing(db: Session,
                                                               federation: Federation) -> None:
    package = producer(db, federation)
    key, chain = _seal(federation.rt, db, agency(db, BNV).id)
    data = xmldsig_sha1(package.document(), key, chain[0])
    tampered = data.replace("V/v triển khai".encode(), "V/v tạm dừng".encode())
    before = db.scalar(select(func.count()).select_from(IncomingDocument))
    outcome = receive(federation, tampered)
    assert "digest_mismatch" in outcome.failed[CA_MAU]
    assert db.scalar(select(func.count()).select_from(IncomingDocument)) == before


def test_update_without_response_for_finds_its_target_by_business_document_id(
        db: Session, federation: Federation) -> None:
    """rule target-without-response-for (update)"""
    original = producer(db, federation)
    outcome = receive(federation, original.document(), "p-1")
    assert outcome.delivered == [CA_MAU], outcome.failed
    target = received(db, original.document_id)
    update = producer(db, federation, doc_type=2, reason="Sửa lỗi chính tả trích yếu",
                      business_document_id=original.document_id)
    outcome = receive(federation, update.document(), "p-2")
    assert outcome.delivered == [CA_MAU], outcome.failed
    row = db.scalars(select(ExchangeInbox).where(ExchangeInbox.message_id == mid("p-2"))).one()
    assert (row.business_type, row.state) == ("update", "awaiting_decision")
    assert (row.response_for, row.target_document_id) == (original.document_id, target.id)


def test_replacement_without_response_for_finds_its_target_in_the_list(
        db: Session, federation: Federation) -> None:
    """rule target-without-response-for (replacement)"""
    original = producer(db, federation)
    outcome = receive(federation, original.document(), "p-1")
    assert outcome.delivered == [CA_MAU], outcome.failed
    target = received(db, original.document_id)
    replacement = producer(db, federation, doc_type=3, reason="Thay thế văn bản ban hành nhầm",
                           replacements=(("000.00.00.X99,2026/01/01,1/X", ("000.00.00.X99",)),
                                         (original.document_id, (CA_MAU,))))
    outcome = receive(federation, replacement.document(), "p-2")
    assert outcome.delivered == [CA_MAU], outcome.failed
    row = db.scalars(select(ExchangeInbox).where(ExchangeInbox.message_id == mid("p-2"))).one()
    assert (row.business_type, row.target_document_id) == ("replace", target.id)


def test_status_package_as_the_spec_writes_it_is_recorded(db: Session, federation: Federation) -> None:
    """rule status-shape: unsigned, no To, no body"""
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    dispatch(db, CTX, edoc)
    db.commit()
    data = status_package(CA_MAU, BNV, edoc.document_identifier, "03",
                          date=f"{edoc.promulgation_date:%d/%m/%Y}", timestamp="21/11/2026 09:00:00")
    outcome = receive(federation, data, "s-1", "status", to=BNV)
    assert outcome.delivered == [BNV], outcome.failed
    [status] = recipient_statuses(db, agency(db, BNV).id, edoc.document_identifier)
    assert (status.organ_id, status.code, status.staff) == (CA_MAU, "03", "Phạm Thị Thu")


def test_zipped_pdf_is_stored_as_received_and_judged_inside(db: Session, federation: Federation) -> None:
    """rule zipped-attachment"""
    from .test_zipped import make_zip

    pdf = signed_pdf(db, federation.pki, agency(db, BNV).id)
    archive = make_zip({"cong-van.pdf": pdf, "ban-do.png": b"\x89PNG\r\n"})
    package = producer(db, federation, files=(("ho-so.zip", "application/octet-stream", archive),))
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    [f] = doc.files
    assert (f.filename, f.content_type, f.page_count) == ("ho-so.zip", "application/zip", 0)
    assert federation.rt.blobs.read_bytes(f.sha256) == archive  # byte for byte as received
    assert f.signature_verdict == "valid" and f.signature_summary.startswith("Tệp nén (2 tệp). cong-van.pdf:")
    assert doc.receipt_flags == "envelope_absent"  # a valid PDF signature, inside the zip


def test_zip_bomb_is_stored_unopened_and_the_document_flagged(db: Session,
                                                              federation: Federation) -> None:
    from .test_zipped import make_zip

    archive = make_zip({"../cong-van.pdf": bytes(3 * 1024 * 1024)})
    package = producer(db, federation, files=(("ho-so.zip", "application/zip", archive),))
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    [f] = doc.files
    assert f.signature_verdict == "unchecked" and "không được mở" in f.signature_summary
    assert doc.receipt_flags == "envelope_absent no_valid_pdf_signature"


def test_office_file_beside_the_pdf_is_stored_as_received(db: Session, federation: Federation) -> None:
    """rule zipped-attachment (office files come unzipped)"""
    from .test_zipped import make_zip

    pdf = signed_pdf(db, federation.pki, agency(db, BNV).id)
    docx = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    package = producer(db, federation, files=(("cong-van.pdf", "application/pdf", pdf),
                                              ("du-thao.docx", "application/msword", docx)))
    outcome = receive(federation, package.document())
    assert outcome.delivered == [CA_MAU], outcome.failed
    doc = received(db, package.document_id)
    assert [(f.filename, f.content_type.rsplit(".", 1)[-1], f.signature_verdict) for f in doc.files] == [
        ("cong-van.pdf", "application/pdf", "valid"), ("du-thao.docx", "document", "unchecked")]
    assert federation.rt.blobs.read_bytes(doc.files[1].sha256) == docx


def test_an_attachment_of_another_kind_is_still_refused(db: Session, federation: Federation) -> None:
    package = producer(db, federation, files=(("trang.html", "text/html", b"<html><script>x</script>"),))
    outcome = receive(federation, package.document())
    assert outcome.failed[CA_MAU].startswith("Tệp đính kèm không hợp lệ")
