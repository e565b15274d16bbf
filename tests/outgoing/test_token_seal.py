"""The clerk's seal with the agency's key in a PKCS#11 token (a real SoftHSM2 token): the whole
one-action flow, and every way the token can fail leaving nothing numbered, sealed or sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.keys import service as keys
from ioffice.keys.service import TokenUnavailable
from ioffice.keys.tokens import SealTokens
from ioffice.outgoing import issue, numbering, signatures
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, Verdict, validate_pdf
from tests.conftest import csrf_token
from tests.outgoing.conftest import CLERK
from tests.outgoing.test_issue import last_number, newest_event, signed, tags
from tests.signing.conftest import external_checks
from tests.support import softhsm
from tests.support.factories import actor

pytestmark = pytest.mark.skipif(not softhsm.available(), reason="softhsm2 is not installed")

CA_MAU = "000.00.00.H12"


@pytest.fixture(scope="module")
def hsm(tmp_path_factory):
    return softhsm.softhsm(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def token_pin(hsm, monkeypatch):
    monkeypatch.setenv(softhsm.PIN_ENV, hsm.pin)


@pytest.fixture
def camau_token(hsm, pki: Pki, db: Session, token_pin) -> dict[str, str]:
    """Cà Mau's seal key in the token, with its certificate from the (simulated) CA."""
    entry = softhsm.setting(hsm, key_label="camau-seal", key_id="11")
    camau = db.query(Agency).filter_by(code=CA_MAU).one()
    softhsm.provision(hsm, pki, entry, camau.code, camau.name)
    return entry


def test_the_one_action_seals_with_the_token(db: Session, blobs: BlobStore, pki: Pki,
                                             trust: TrustStore, pin_key, camau_token,
                                             tmp_path: Path, tsa) -> None:
    tokens = SealTokens({CA_MAU: camau_token})
    token_serial = tokens.credential(CA_MAU, trust).serial
    doc = signed(db, blobs, trust)
    before = last_number(db, doc)
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa, tokens=tokens)
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number == before + 1
    pdf = blobs.read_bytes(doc.current_sha256)
    report = validate_pdf(pdf, trust)
    assert report.verdict is Verdict.VALID, report.explanation
    _leader, agency, archival = report.signatures
    assert archival.kind == "timestamp" and report.level == "B-LTA"
    assert int(agency.certificate_serial, 16) == token_serial and agency.agency_id == CA_MAU
    assert doc.signatures[-1].certificate_serial == str(token_serial)
    external_checks(pdf, tmp_path, 2)


def test_the_separate_seal_step_uses_the_token(db: Session, blobs: BlobStore, pki: Pki,
                                               trust: TrustStore, pin_key, camau_token, tsa) -> None:
    tokens = SealTokens({CA_MAU: camau_token})
    doc = signed(db, blobs, trust)
    numbering.assign_number(db, actor(db, CLERK), doc.id)
    revision = signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id,
                                                 tsa=tsa, tokens=tokens)
    assert doc.status is OutgoingStatus.SEALED
    assert int(revision.certificate_serial) == tokens.credential(CA_MAU, trust).serial


@pytest.mark.parametrize("case", ["wrong_pin", "token_absent", "module_missing", "key_missing"])
def test_a_token_that_cannot_sign_leaves_nothing_half_done(
        case: str, db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key, hsm,
        token_pin, monkeypatch: pytest.MonkeyPatch, tsa) -> None:
    entry, expected = {
        "wrong_pin": (softhsm.setting(hsm, label=softhsm.WRONG_PIN, pin_env="IOFFICE_BAD_PIN"),
                      "Mã PIN của token «Wrong PIN» không đúng"),
        "token_absent": (softhsm.setting(hsm, label="Token đã rút"),
                         "Không tìm thấy token «Token đã rút»"),
        "module_missing": (softhsm.setting(hsm) | {"module": "/opt/khong-co/libpkcs11.so"},
                           "Không có thư viện PKCS#11 «/opt/khong-co/libpkcs11.so»"),
        "key_missing": (softhsm.setting(hsm, label=softhsm.EMPTY),
                        "Không có khóa bí mật (nhãn «seal», id 01) trong token «Empty»"),
    }[case]
    monkeypatch.setenv("IOFFICE_BAD_PIN", "999999")
    tokens = SealTokens({CA_MAU: entry})
    doc = signed(db, blobs, trust)
    before, since, sha = last_number(db, doc), newest_event(db), doc.current_sha256
    with pytest.raises(TokenUnavailable) as caught, db.begin_nested():
        issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa, tokens=tokens)
    assert expected in caught.value.message
    assert caught.value.message.startswith("Không dùng được token chứa con dấu số của cơ quan")
    db.refresh(doc)
    assert doc.status is OutgoingStatus.SIGNED and doc.number is None
    assert doc.current_sha256 == sha and last_number(db, doc) == before
    assert tags(db, doc, since) == []


def test_a_token_seal_recorded_without_its_token_configured(db: Session, pki: Pki,
                                                            trust: TrustStore, camau_token) -> None:
    """After `pki token-provision` the seal certificate row says "token": a server that lost
    its token setting says so instead of signing with an older file key."""
    camau = db.query(Agency).filter_by(code=CA_MAU).one()
    cert = SealTokens({CA_MAU: camau_token}).credential(CA_MAU, trust).certificate
    row = keys.record_token_seal(db, actor(db, CLERK).ctx, camau, cert)
    assert keys.agency_seal(db, camau.id).id == row.id  # the directory shows this certificate
    with pytest.raises(keys.KeyError_, match="nằm trong token nhưng máy chủ chưa cấu hình"):
        keys.seal_credential(db, pki, camau.id, SealTokens({}))


def test_the_clerk_sees_the_token_error_on_the_page(app: Flask, client: FlaskClient, login_as,
                                                    db: Session, blobs: BlobStore,
                                                    trust: TrustStore, pin_key, hsm,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOFFICE_BAD_PIN", "999999")
    app.config["SEAL_TOKENS"] = {CA_MAU: softhsm.setting(hsm, label=softhsm.WRONG_PIN,
                                                         pin_env="IOFFICE_BAD_PIN")}
    doc = signed(db, blobs, trust)
    before = last_number(db, doc)
    db.commit()
    login_as(CLERK)
    page = f"/van-ban-di/{doc.id}"
    resp = client.post(f"{page}/cap-so-dong-dau-phat-hanh",
                       data={"csrf_token": csrf_token(client, page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "Không dùng được token chứa con dấu số của cơ quan" in html
    assert "Mã PIN của token «Wrong PIN» không đúng" in html
    db.refresh(doc)
    assert doc.status is OutgoingStatus.SIGNED and last_number(db, doc) == before


def test_bad_settings_are_refused_at_once() -> None:
    for bad in ("[1, 2]", "{not json", '{"000.00.00.H12": {"token": "x"}}'):
        with pytest.raises(ValueError, match="IOFFICE_SEAL_TOKENS"):
            SealTokens(bad)
    assert not SealTokens("") and not SealTokens(None)
