"""Cấp số, đóng dấu và phát hành in one action; a failed seal takes no number (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.keys import service as keys
from ioffice.keys.models import SigningCertificate
from ioffice.outgoing import issue, numbering, signatures
from ioffice.outgoing.errors import OutgoingError
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.registers.models import Register
from ioffice.registers.numbering import get_or_create_register
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, Verdict, validate_pdf
from tests.conftest import csrf_token
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft
from tests.support.factories import actor


def signed(db: Session, blobs: BlobStore, trust: TrustStore) -> OutgoingDocument:
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    return doc


def last_number(db: Session, doc: OutgoingDocument) -> int:
    register = get_or_create_register(db, doc.agency_id, numbering.register_kind(doc),
                                      numbering.today_vn().year)
    db.refresh(register)
    return register.last_number


def newest_event(db: Session) -> int:
    return db.scalar(select(func.max(AuditEvent.id))) or 0


def tags(db: Session, doc: OutgoingDocument, since: int = 0) -> list[str]:
    return list(db.scalars(select(AuditEvent.tag).where(
        AuditEvent.subject_type == "outgoing", AuditEvent.subject_id == str(doc.id),
        AuditEvent.id > since).order_by(AuditEvent.id)))


def test_one_action_numbers_seals_and_dispatches(db: Session, blobs: BlobStore, pki: Pki,
                                                 trust: TrustStore, tsa, pin_key) -> None:
    doc = signed(db, blobs, trust)
    before = last_number(db, doc)
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number == before + 1
    assert validate_pdf(blobs.read_bytes(doc.current_sha256), trust).verdict is Verdict.VALID
    assert tags(db, doc)[-3:] == ["outgoing:document:number", "outgoing:signature:agency",
                                  "outgoing:document:dispatch"]  # each step audited


def test_a_failed_seal_takes_no_number(db: Session, blobs: BlobStore, pki: Pki,
                                       trust: TrustStore, tsa, pin_key, tmp_path: Path) -> None:
    doc = signed(db, blobs, trust)
    before = last_number(db, doc)
    # the agency key's certificate is not trusted (another CA): pyHanko's signer refuses it
    Pki.create(tmp_path / "other", "khác")
    untrusted = Pki.open(tmp_path / "other", "khác").trust_store()
    since = newest_event(db)
    with pytest.raises(OutgoingError, match="Chứng thư số"), db.begin_nested():
        issue.issue(db, blobs, pki, untrusted, actor(db, CLERK), doc.id, tsa=tsa)
    db.refresh(doc)
    assert doc.status is OutgoingStatus.SIGNED and doc.number is None
    assert last_number(db, doc) == before
    assert tags(db, doc, since) == []
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)  # retried: the same number
    assert doc.number == before + 1
    following = signed(db, blobs, trust)
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), following.id, tsa=tsa)
    assert following.number == before + 2


def test_from_numbered_it_seals_and_dispatches(db: Session, blobs: BlobStore, pki: Pki,
                                               trust: TrustStore, tsa, pin_key) -> None:
    doc = signed(db, blobs, trust)
    numbering.assign_number(db, actor(db, CLERK), doc.id)  # the separate step still works
    number = doc.number
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number == number


def test_the_page_action(db: Session, blobs: BlobStore, trust: TrustStore, pin_key,
                         client: FlaskClient, login_as) -> None:
    doc = signed(db, blobs, trust)
    seal = keys.agency_seal(db, doc.agency_id)
    before = last_number(db, doc)
    seal.active = False  # no agency key: the seal fails after the number was taken
    db.commit()
    login_as(CLERK)
    page = f"/van-ban-di/{doc.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Cấp số, đóng dấu và phát hành" in html
    assert "Dự thảo không có chỗ ghi số và ngày ban hành" in html  # the demo draft has none
    data = {"csrf_token": csrf_token(client, page)}
    resp = client.post(f"{page}/cap-so-dong-dau-phat-hanh", data=data, follow_redirects=True)
    assert "chưa có chứng thư số của cơ quan" in resp.get_data(as_text=True)
    db.refresh(doc)
    assert doc.status is OutgoingStatus.SIGNED and last_number(db, doc) == before
    db.get(SigningCertificate, seal.id).active = True
    db.commit()
    resp = client.post(f"{page}/cap-so-dong-dau-phat-hanh", data=data, follow_redirects=True)
    db.refresh(doc)
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number == before + 1
    assert f"Đã cấp số {doc.number_notation}, đóng dấu" in resp.get_data(as_text=True)
    assert db.get(Register, doc.register_id).last_number == before + 1
