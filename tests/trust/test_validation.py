"""A document signed by a foreign CA: not trusted (issuer named) before its root is imported,
valid after, not trusted again after removal; in the web's trust, the worker's (exchange
runtime), another process's (within the recheck time), a clerk's upload; the simulated CA
switched off; a document's own revocation data never overriding the store's."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import exchange
from ioffice.incoming.models import DocumentFile
from ioffice.services import services
from ioffice.trust import service as trust
from ioffice.trust.source import TrustSource
from signing import PadesLevel, Pki, sign_pdf, validate_pdf
from signing.demo import make_demo_pdf
from tests.support.foreign_ca import INTERMEDIATE_NAME, ForeignCa, pem

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
UNTRUSTED = (f"Chứng thư số do «{INTERMEDIATE_NAME}» cấp, nhưng tổ chức chứng thực này không "
             "nằm trong danh sách được tin cậy của hệ thống")


def _import_root(db: Session, app: Flask, ca: ForeignCa) -> trust.TrustAnchor:
    row = trust.import_certificates(db, CTX, pem(ca.root)).added[0]
    db.flush()
    services(app).trust_source.invalidate()
    return row


def test_the_foreign_pdf_is_well_formed_for_outside_tools(tmp_path: Path,
                                                          foreign_pdf: bytes) -> None:
    path = tmp_path / "ngoai.pdf"
    path.write_bytes(foreign_pdf)
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    assert "Signature is Valid" in sig.stdout, sig.stdout
    qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr


def test_untrusted_then_valid_after_import_then_untrusted_after_removal(
        app: Flask, db: Session, foreign_ca: ForeignCa, foreign_pdf: bytes) -> None:
    with app.app_context():
        before = validate_pdf(foreign_pdf, services(app).trust)
        assert not before.valid and before.reason == "untrusted"
        assert UNTRUSTED in before.explanation
        assert before.signatures[0].signer_name == "Lê Thị Ngoại"

        row = _import_root(db, app, foreign_ca)
        after = validate_pdf(foreign_pdf, services(app).trust)
        assert after.valid, after.explanation
        assert after.signatures[0].trusted and after.signatures[0].signer_name == "Lê Thị Ngoại"

        trust.remove(db, CTX, row.id)
        services(app).trust_source.invalidate()
        again = validate_pdf(foreign_pdf, services(app).trust)
        assert not again.valid and UNTRUSTED in again.explanation


def test_the_intermediate_alone_is_not_an_anchor(app: Flask, db: Session, foreign_ca: ForeignCa,
                                                 foreign_pdf: bytes) -> None:
    with app.app_context():
        trust.import_certificates(db, CTX, pem(foreign_ca.intermediate))
        services(app).trust_source.invalidate()
        report = validate_pdf(foreign_pdf, services(app).trust)
        assert not report.valid and report.reason == "untrusted"


def test_the_simulated_cas_documents_stay_valid_beside_imported_anchors(
        app: Flask, db: Session, pki: Pki, foreign_ca: ForeignCa) -> None:
    seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    ours = sign_pdf(make_demo_pdf(1), seal, trust=pki.trust_store())
    with app.app_context():
        _import_root(db, app, foreign_ca)
        assert validate_pdf(ours, services(app).trust).valid


def test_with_the_simulated_ca_off_only_imported_anchors_are_trusted(
        app: Flask, db: Session, pki: Pki, foreign_ca: ForeignCa, foreign_pdf: bytes) -> None:
    seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    ours = sign_pdf(make_demo_pdf(1), seal, trust=pki.trust_store())
    app.config["SIMULATED_CA"] = "false"  # as IOFFICE_SIMULATED_CA=false gives it
    with app.app_context():
        source = services(app).trust_source
        assert source.simulated is False
        empty = services(app).trust
        assert empty.roots == ()
        assert not validate_pdf(ours, empty).valid
        assert not validate_pdf(foreign_pdf, empty).valid
        _import_root(db, app, foreign_ca)
        store = services(app).trust
        assert validate_pdf(foreign_pdf, store).valid
        report = validate_pdf(ours, store)
        assert not report.valid and report.reason == "untrusted"
        assert "«CA cấp chứng thư số chuyên dùng (mô phỏng)»" in report.explanation


def test_another_process_sees_the_change_within_the_recheck_time(
        app: Flask, db: Session, foreign_ca: ForeignCa, foreign_pdf: bytes) -> None:
    from ioffice.db_session import database

    other = TrustSource(simulated=True, pki=lambda: services(app).pki,
                        session_factory=lambda: database(app).session(), recheck=30.0)
    assert not validate_pdf(foreign_pdf, other.trust_store()).valid
    trust.import_certificates(db, CTX, pem(foreign_ca.root))
    db.flush()
    assert not validate_pdf(foreign_pdf, other.trust_store()).valid  # read less than 30 s ago
    other._read_at -= 30.0  # as if the recheck time had passed
    assert validate_pdf(foreign_pdf, other.trust_store()).valid


def test_the_worker_runtime_reloads_on_the_anchor_sets_version(
        app: Flask, db: Session, foreign_ca: ForeignCa, foreign_pdf: bytes) -> None:
    from ioffice.exchange import runtime

    rt = exchange(app)
    first = rt.trust
    assert rt.trust is first  # within TRUST_RECHECK_SECONDS: the same store
    assert not validate_pdf(foreign_pdf, first).valid
    row = trust.import_certificates(db, CTX, pem(foreign_ca.root)).added[0]
    db.flush()
    rt.signing._trust_checked -= runtime.TRUST_RECHECK_SECONDS  # as if the recheck time had passed
    second = rt.trust
    assert second is not first and validate_pdf(foreign_pdf, second).valid
    rt.signing._trust_checked -= runtime.TRUST_RECHECK_SECONDS
    assert rt.trust is second  # nothing changed: kept (its caches with it)
    trust.remove(db, CTX, row.id)
    db.flush()
    rt.signing._trust_checked -= runtime.TRUST_RECHECK_SECONDS
    assert not validate_pdf(foreign_pdf, rt.trust).valid


def _register(client: FlaskClient, pdf: bytes) -> str:
    from tests.incoming.test_web import _form

    resp = client.post("/van-ban-den/vao-so", data=_form(client, files=(io.BytesIO(pdf), "ngoai.pdf")),
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"]


def test_an_uploaded_incoming_document_gets_the_verdict(
        app: Flask, db: Session, login_as, foreign_ca: ForeignCa, foreign_pdf: bytes) -> None:
    client = login_as("vanthu.camau")
    location = _register(client, foreign_pdf)
    page = client.get(location).get_data(as_text=True)
    assert "Chữ ký số: Văn bản không hợp lệ" in page and INTERMEDIATE_NAME in page
    doc_id = int(re.search(r"/van-ban-den/(\d+)", location).group(1))
    [f] = db.query(DocumentFile).filter_by(document_id=doc_id).all()
    assert f.signature_verdict == "invalid"

    _import_root(db, app, foreign_ca)
    location = _register(client, foreign_pdf)
    page = client.get(location).get_data(as_text=True)
    assert "Chữ ký số: Văn bản hợp lệ" in page


def test_an_unsigned_upload_gets_no_verdict(login_as, db: Session) -> None:
    from tests.support.factories import pdf

    client = login_as("vanthu.camau")
    location = _register(client, pdf())
    assert "Chữ ký số:" not in client.get(location).get_data(as_text=True)


def test_a_documents_own_crl_cannot_hide_a_revocation_the_store_knows(
        tmp_path: Path) -> None:
    pki = Pki.create(tmp_path / "pki", "mật khẩu")
    seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    sealed = sign_pdf(make_demo_pdf(1), seal, trust=pki.trust_store(), level=PadesLevel.B_LT,
                      timestamper=pki.timestamper())  # carries our CRLs in its DSS
    assert validate_pdf(sealed, pki.trust_store()).valid
    pki.revoke(seal.serial)
    report = validate_pdf(sealed, pki.trust_store())
    assert not report.valid and report.reason == "revoked"


@pytest.mark.parametrize("simulated", ["true", "1", True])
def test_the_setting_reads_text_and_booleans(app: Flask, simulated) -> None:
    app.config["SIMULATED_CA"] = simulated
    assert services(app).trust_source.simulated is True


def test_a_documents_revocation_data_is_used_only_for_issuers_the_store_has_none_for(
        tmp_path: Path, foreign_pdf: bytes) -> None:
    """Our own B-LT document carries our CRLs: the store is used as is (its caches kept); the
    foreign document's two CRLs are added to a new store, for that validation only."""
    import io as io_

    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing.validate import _document_revinfo

    pki = Pki.create(tmp_path / "pki", "mật khẩu")
    seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    store = pki.trust_store()
    sealed = sign_pdf(make_demo_pdf(1), seal, trust=store, level=PadesLevel.B_LT,
                      timestamper=pki.timestamper())
    assert b"/DSS" in sealed and b"/CRLs" in sealed
    assert _document_revinfo(PdfFileReader(io_.BytesIO(sealed), strict=False), store) is store
    extended = _document_revinfo(PdfFileReader(io_.BytesIO(foreign_pdf), strict=False), store)
    assert extended is not store and len(extended.crls) == len(store.crls) + 2
    assert extended.roots == store.roots  # revocation data is not trust
