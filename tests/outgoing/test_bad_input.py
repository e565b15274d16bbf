"""The bad inputs of issue 6, each refused with a message the user can act on."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, User
from ioffice.documents.vocabulary import Confidentiality
from ioffice.errors import Forbidden
from ioffice.keys import service as keys
from ioffice.keys.stores import DbPendingStore
from ioffice.outgoing import dispatch, drafts, numbering, review, signatures
from ioffice.outgoing.errors import (
    ConversionFailed,
    InvalidInput,
    OutgoingError,
    PinRefused,
    SignatureRefused,
    UnsafePdf,
    WrongState,
)
from ioffice.outgoing.models import (
    OutgoingDocument,
    OutgoingRecipient,
    OutgoingStatus,
    RecipientKind,
)
from ioffice.registers.models import Register, RegisterKind
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, make_csr
from tests.outgoing.conftest import (
    CLERK,
    HEAD,
    LEADER,
    PIN,
    SPECIALIST,
    approve_all,
    new_draft,
    pdf_bytes,
)
from tests.outgoing.hostile import broken_docx, good_docx, with_attachment, with_javascript
from tests.support.factories import actor, user_id


def test_only_the_designated_signer_signs(db: Session, blobs: BlobStore, trust: TrustStore,
                                          pin_key) -> None:
    doc = approve_all(db, new_draft(db, blobs))
    for who in (HEAD, CLERK, SPECIALIST):
        with pytest.raises(Forbidden, match="Chỉ người được giao ký"):
            signatures.sign_with_pin(db, blobs, trust, actor(db, who), doc.id, PIN)
    assert doc.status is OutgoingStatus.APPROVED and not doc.signatures


def test_five_wrong_pins_lock_the_key(db: Session, blobs: BlobStore, trust: TrustStore,
                                      pin_key) -> None:
    doc = approve_all(db, new_draft(db, blobs))
    leader = actor(db, LEADER)
    for left in (4, 3, 2, 1):
        with pytest.raises(PinRefused, match=f"Còn {left} lần thử") as err:
            signatures.sign_with_pin(db, blobs, trust, leader, doc.id, "000000")
        assert not err.value.locked
    with pytest.raises(PinRefused, match="khóa ký số đã bị khóa") as err:
        signatures.sign_with_pin(db, blobs, trust, leader, doc.id, "000000")
    assert err.value.locked
    with pytest.raises(PinRefused, match="đã bị khóa"):  # even the right PIN, until unlocked
        signatures.sign_with_pin(db, blobs, trust, leader, doc.id, PIN)
    assert doc.status is OutgoingStatus.APPROVED
    keys.unlock_pin_key(db, actor(db, CLERK).ctx, pin_key)
    signatures.sign_with_pin(db, blobs, trust, leader, doc.id, PIN)
    assert doc.status is OutgoingStatus.SIGNED


@pytest.fixture
def browser_key(db: Session, pki: Pki):
    """A key as the browser makes it (P-256), with the certificate issued from its CSR."""
    leader = actor(db, LEADER)
    key = ec.generate_private_key(ec.SECP256R1())
    keys.issue_from_csr(db, pki, leader.ctx, db.get(User, leader.user_id),
                        db.get(Agency, leader.agency_id), make_csr(key, "Trình duyệt"))
    return key


def _raw_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """What WebCrypto returns: r||s, 32 bytes each."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_browser_signature_over_other_bytes_is_refused(db: Session, blobs: BlobStore, pki: Pki,
                                                       trust: TrustStore, browser_key) -> None:
    doc = approve_all(db, new_draft(db, blobs))
    leader = actor(db, LEADER)
    prep = signatures.prepare_browser_signature(db, blobs, pki, trust, leader, doc.id)
    forged = _raw_sign(browser_key, prep.to_sign + b"other bytes")
    with pytest.raises(SignatureRefused, match="không khớp"):
        signatures.finish_browser_signature(db, blobs, trust, leader, doc.id, prep.handle, forged)
    # the session is used up: even the right value is refused now
    with pytest.raises(SignatureRefused, match="đã được sử dụng"):
        signatures.finish_browser_signature(db, blobs, trust, leader, doc.id, prep.handle,
                                            _raw_sign(browser_key, prep.to_sign))
    assert doc.status is OutgoingStatus.APPROVED and not doc.signatures


def test_finishing_a_prepared_signature_twice(db: Session, blobs: BlobStore, pki: Pki,
                                              trust: TrustStore, browser_key) -> None:
    doc = approve_all(db, new_draft(db, blobs))
    leader = actor(db, LEADER)
    prep = signatures.prepare_browser_signature(db, blobs, pki, trust, leader, doc.id)
    value = _raw_sign(browser_key, prep.to_sign)
    signatures.finish_browser_signature(db, blobs, trust, leader, doc.id, prep.handle, value)
    assert doc.status is OutgoingStatus.SIGNED and len(doc.signatures) == 1
    with pytest.raises(WrongState, match="chưa ký được"):
        signatures.finish_browser_signature(db, blobs, trust, leader, doc.id, prep.handle, value)
    assert DbPendingStore(db).take(prep.handle) is None
    assert len(doc.signatures) == 1


def test_a_prepared_signature_is_bound_to_its_document(db: Session, blobs: BlobStore, pki: Pki,
                                                       trust: TrustStore, browser_key) -> None:
    first = approve_all(db, new_draft(db, blobs))
    second = approve_all(db, new_draft(db, blobs, subject="Văn bản thứ hai"))
    leader = actor(db, LEADER)
    prep = signatures.prepare_browser_signature(db, blobs, pki, trust, leader, first.id)
    with pytest.raises(SignatureRefused, match="người ký khác"):
        signatures.finish_browser_signature(db, blobs, trust, leader, second.id, prep.handle,
                                            _raw_sign(browser_key, prep.to_sign))


def test_numbering_the_same_document_twice(db: Session, signed_doc: OutgoingDocument) -> None:
    clerk = actor(db, CLERK)
    numbering.assign_number(db, clerk, signed_doc.id)
    first = signed_doc.number_notation
    with pytest.raises(WrongState, match="không cấp số lần hai"):
        numbering.assign_number(db, clerk, signed_doc.id)
    assert signed_doc.number_notation == first


def test_only_a_clerk_numbers_seals_and_dispatches(db: Session, blobs: BlobStore, pki: Pki,
                                                   trust: TrustStore, tsa,
                                                   signed_doc: OutgoingDocument) -> None:
    leader = actor(db, LEADER)
    with pytest.raises(Forbidden):
        numbering.assign_number(db, leader, signed_doc.id)
    with pytest.raises(Forbidden):
        signatures.apply_agency_signature(db, blobs, pki, trust, leader, signed_doc.id, tsa=tsa)
    with pytest.raises(Forbidden):
        dispatch.dispatch(db, leader, signed_doc.id)


def test_dispatching_before_the_agency_signature(db: Session, blobs: BlobStore,
                                                 signed_doc: OutgoingDocument) -> None:
    clerk = actor(db, CLERK)
    with pytest.raises(WrongState, match="chưa có chữ ký số của cơ quan"):
        dispatch.dispatch(db, clerk, signed_doc.id)
    numbering.assign_number(db, clerk, signed_doc.id)
    with pytest.raises(WrongState, match="chưa có chữ ký số của cơ quan"):
        dispatch.dispatch(db, clerk, signed_doc.id)
    assert signed_doc.status is OutgoingStatus.NUMBERED


def test_sealing_before_the_personal_signature(db: Session, blobs: BlobStore, pki: Pki,
                                               trust: TrustStore, tsa) -> None:
    doc = approve_all(db, new_draft(db, blobs))
    with pytest.raises(WrongState, match="chữ ký của người có thẩm quyền"):
        signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)


def test_a_confidential_document_never_goes_through_the_axis(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, pin_key) -> None:
    doc = new_draft(db, blobs, confidentiality=Confidentiality.CONFIDENTIAL)
    # a draft recorded before recipients were checked (test below): dispatch still refuses
    doc.recipients.append(OutgoingRecipient(kind=RecipientKind.AGENCY,
                                            agency_code="000.00.00.G09", name="Bộ Nội vụ"))
    approve_all(db, doc)
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    clerk = actor(db, CLERK)
    numbering.assign_number(db, clerk, doc.id)
    assert db.get(Register, doc.register_id).kind is RegisterKind.OUTGOING_CONFIDENTIAL
    signatures.apply_agency_signature(db, blobs, pki, trust, clerk, doc.id, tsa=tsa)
    with pytest.raises(OutgoingError, match="không được gửi qua trục liên thông"):
        dispatch.dispatch(db, clerk, doc.id)
    assert doc.status is OutgoingStatus.SEALED


@pytest.mark.parametrize("level", [Confidentiality.CONFIDENTIAL, Confidentiality.TOP_SECRET])
def test_confidential_with_outside_recipients_refused_when_chosen(
        db: Session, blobs: BlobStore, level: Confidentiality) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_draft(db, blobs, confidentiality=level, agency_codes=("000.00.00.G09",))
    message = refused.value.fields["agency_codes"]
    assert f"độ mật «{level.label}» không được gửi cho cơ quan khác" in message
    assert new_draft(db, blobs, confidentiality=level).status is OutgoingStatus.DRAFT
    assert new_draft(db, blobs, agency_codes=("000.00.00.G09",)).status is OutgoingStatus.DRAFT


def test_a_docx_libreoffice_cannot_convert(db: Session, blobs: BlobStore) -> None:
    with pytest.raises(ConversionFailed, match="LibreOffice không đọc được tệp"):
        new_draft(db, blobs, data=broken_docx(), filename="bao-cao.docx")
    with pytest.raises(ConversionFailed, match="không phải văn bản Word"):
        new_draft(db, blobs, data=b"this is plain text, not a docx", filename="bao-cao.docx")


def test_a_docx_becomes_a_pdf_version(db: Session, blobs: BlobStore) -> None:
    source = good_docx()
    doc = new_draft(db, blobs, data=source, filename="bao-cao.docx")
    version = doc.versions[0]
    assert version.filename == "bao-cao.pdf" and version.source_filename == "bao-cao.docx"
    assert blobs.read_bytes(version.sha256).startswith(b"%PDF-")
    assert blobs.read_bytes(version.source_sha256) == source


@pytest.mark.parametrize(("make", "what"), [(with_javascript, "JavaScript"),
                                            (with_attachment, "tệp đính kèm nhúng")])
def test_a_pdf_with_javascript_or_attachments_is_refused(db: Session, blobs: BlobStore,
                                                         make, what: str) -> None:
    with pytest.raises(UnsafePdf, match=what):
        new_draft(db, blobs, data=make(pdf_bytes()))
    doc = new_draft(db, blobs)
    with pytest.raises(UnsafePdf, match=what):
        drafts.upload_version(db, blobs, actor(db, SPECIALIST), doc.id,
                              drafts.Upload("v2.pdf", make(pdf_bytes())))
    assert len(doc.versions) == 1


def test_review_order_and_send_back_need_the_right_person(db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    with pytest.raises(Forbidden):
        review.approve(db, actor(db, LEADER), doc.id)  # the department head's step first
    with pytest.raises(InvalidInput):
        review.send_back(db, actor(db, HEAD), doc.id, "  ")
    review.send_back(db, actor(db, HEAD), doc.id, "Bổ sung số liệu quý III.")
    assert doc.status is OutgoingStatus.DRAFT
    assert doc.comments[-1].kind == "send_back"
    drafts.upload_version(db, blobs, actor(db, SPECIALIST), doc.id,
                          drafts.Upload("v2.pdf", pdf_bytes("Bản sửa")), "Đã bổ sung")
    assert [v.version_no for v in doc.versions] == [1, 2]
    with pytest.raises(Forbidden):
        drafts.upload_version(db, blobs, actor(db, HEAD), doc.id, drafts.Upload("x.pdf", pdf_bytes()))


def _committed_signed_docs(engine: Engine, n: int) -> tuple[list[int], int]:
    """Documents already signed (the signature itself is not under test here), committed so
    that separate connections see them."""
    with Session(engine) as s:
        clerk = actor(s, CLERK)
        ids = []
        for i in range(n):
            doc = OutgoingDocument(agency_id=clerk.agency_id, status=OutgoingStatus.SIGNED,
                                   doc_type="quyet_dinh", subject=f"Quyết định thử {i}",
                                   created_by_id=clerk.user_id, signer_id=user_id(s, LEADER),
                                   signer_position="Chủ tịch", current_sha256="0" * 64)
            s.add(doc)
            s.flush()
            ids.append(doc.id)
        s.commit()
        return ids, clerk.agency_id


def test_two_clerks_numbering_at_the_same_moment(engine: Engine, rng: random.Random) -> None:
    year = 3000 + rng.randrange(5000)  # a year no other test numbers in
    today = dt.date(year, 3, 4)
    ids, agency_id = _committed_signed_docs(engine, 12)
    results: list[tuple[int, str]] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def clerk(my_ids: list[int]) -> None:
        try:
            start.wait()
            for doc_id in my_ids:
                with Session(engine) as s:
                    try:
                        doc = numbering.assign_number(s, actor(s, CLERK), doc_id, today=today)
                        s.commit()
                        with lock:
                            results.append((doc.number, doc.number_notation))
                    except WrongState as exc:
                        s.rollback()
                        with lock:
                            refused.append(exc.message)
        except BaseException as exc:
            errors.append(exc)

    # four clerks; every document is numbered by two of them at the same time
    halves = [ids[:6], ids[:6], ids[6:], ids[6:]]
    threads = [threading.Thread(target=clerk, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert sorted(n for n, _ in results) == list(range(1, 13))  # no duplicate, no gap
        assert len(refused) == 12 and all("không cấp số lần hai" in m for m in refused)
        assert all(notation.endswith("/QĐ-UBND") for _, notation in results)
        assert "01/QĐ-UBND" in {n for _, n in results}
    finally:
        with Session(engine) as s:
            s.execute(delete(OutgoingDocument).where(OutgoingDocument.id.in_(ids)))
            s.execute(delete(Register).where(Register.agency_id == agency_id, Register.year == year))
            s.commit()
            assert not s.scalars(select(OutgoingDocument.id).where(OutgoingDocument.id.in_(ids))).all()


def test_preparing_a_signature_clears_abandoned_sessions(db: Session, blobs: BlobStore, pki: Pki,
                                                         trust: TrustStore, browser_key) -> None:
    import time

    from ioffice.keys.models import PendingSignature

    store = DbPendingStore(db)
    store.put("abandoned", b"{}", b"%PDF-old", time.time() - 60)
    store.put("still-valid", b"{}", b"%PDF-new", time.time() + 600)
    doc = approve_all(db, new_draft(db, blobs))
    prep = signatures.prepare_browser_signature(db, blobs, pki, trust, actor(db, LEADER), doc.id)
    handles = set(db.scalars(select(PendingSignature.handle)))
    assert "abandoned" not in handles
    assert {"still-valid", prep.handle} <= handles
