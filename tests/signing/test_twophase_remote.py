"""Two-phase (browser) signing and PIN-protected remote keys."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from signing import (
    CertificateKind,
    InvalidSignatureValue,
    PendingSignatureError,
    PinLocked,
    WrongPin,
    generate_key,
    make_csr,
    sign_pdf,
    validate_pdf,
)
from signing.remote import FilesystemAttemptStore, PinProtectedKey
from signing.twophase import FilesystemPendingStore, finish, prepare

from .conftest import AGENCY, AGENCY_ID, external_checks


def webcrypto_sign(key, data: bytes) -> bytes:
    """What a browser's crypto.subtle.sign returns (ECDSA as raw r||s)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.fixture(scope="module", params=["ec", "rsa"])
def browser(request, pki):
    key = generate_key(request.param)
    cert = pki.issue_from_csr(
        make_csr(key, "ignored"), kind=CertificateKind.PERSONAL, agency_id=AGENCY_ID,
        agency_name=AGENCY, full_name="Nguyễn Văn An", position="CHỦ TỊCH",
    )
    return key, cert


@pytest.fixture
def store(tmp_path):
    return FilesystemPendingStore(tmp_path / "pending")


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_prepare_finish_validates(browser, level, pki, seal, demo_pdf, personal_stamp, store,
                                  tmp_path):
    key, cert = browser
    trust = pki.trust_store()
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="user-7", trust=trust,
                   store=store, stamp=personal_stamp, level=level)
    assert prep.algorithm in ("ECDSA-P256", "RSASSA-PKCS1-v1_5") and len(prep.to_sign) > 100
    signed = finish(prep.handle, webcrypto_sign(key, prep.to_sign), signer_id="user-7",
                    store=FilesystemPendingStore(store.directory),  # as after a restart
                    trust=trust, timestamper=pki.timestamper())
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    assert report.signatures[0].signer_name == "Nguyễn Văn An"
    external_checks(signed, tmp_path, 1)
    # the agency seal follows by incremental update
    sealed = sign_pdf(signed, seal, trust=trust)
    assert validate_pdf(sealed, trust).valid


def test_finish_twice_refused(browser, pki, seal, demo_pdf, store):
    key, cert = browser
    trust = pki.trust_store()
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="u", trust=trust, store=store)
    value = webcrypto_sign(key, prep.to_sign)
    finish(prep.handle, value, signer_id="u", store=store, trust=trust)
    with pytest.raises(PendingSignatureError, match="đã được sử dụng"):
        finish(prep.handle, value, signer_id="u", store=store, trust=trust)


def test_signature_over_other_bytes_refused(browser, pki, seal, demo_pdf, store):
    key, cert = browser
    trust = pki.trust_store()
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="u", trust=trust, store=store)
    with pytest.raises(InvalidSignatureValue):
        finish(prep.handle, webcrypto_sign(key, prep.to_sign + b"x"), signer_id="u",
               store=store, trust=trust)
    other = generate_key("ec")
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="u", trust=trust, store=store)
    with pytest.raises(InvalidSignatureValue):
        finish(prep.handle, webcrypto_sign(other, prep.to_sign), signer_id="u",
               store=store, trust=trust)


def test_handle_bound_to_signer_and_expires(browser, pki, seal, demo_pdf, store):
    key, cert = browser
    trust = pki.trust_store()
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="alice", trust=trust, store=store)
    with pytest.raises(PendingSignatureError, match="người ký khác"):
        finish(prep.handle, webcrypto_sign(key, prep.to_sign), signer_id="mallory",
               store=store, trust=trust)
    prep = prepare(demo_pdf, cert, chain=seal.chain, signer_id="alice", trust=trust,
                   store=store, ttl=dt.timedelta(seconds=-1))
    with pytest.raises(PendingSignatureError, match="hết hạn"):
        finish(prep.handle, webcrypto_sign(key, prep.to_sign), signer_id="alice",
               store=store, trust=trust)
    with pytest.raises(PendingSignatureError):
        finish("../../etc/passwd", b"x", signer_id="alice", store=store, trust=trust)


def test_expired_pending_is_purged(browser, pki, seal, demo_pdf, store):
    _, cert = browser
    trust = pki.trust_store()
    prepare(demo_pdf, cert, chain=seal.chain, signer_id="a", trust=trust, store=store,
            ttl=dt.timedelta(seconds=-1))
    assert store.purge_expired() == 1 and not list(store.directory.iterdir())


def test_remote_pin_signing_and_lock(pki, demo_pdf, tmp_path):
    cred = pki.issue_personal("Võ Thị Hoa", "PHÓ GIÁM ĐỐC", AGENCY_ID, AGENCY, key_type="ec",
                              store_key=False)
    sealed = PinProtectedKey.from_bytes(PinProtectedKey.seal(cred, "246810").to_bytes())
    attempts = FilesystemAttemptStore(tmp_path / "attempts")
    trust = pki.trust_store()
    signed = sign_pdf(demo_pdf, sealed.unlock("246810", attempts), trust=trust)
    assert validate_pdf(signed, trust).valid
    for i in range(4):
        with pytest.raises(WrongPin, match=f"Còn {4 - i} lần"):
            sealed.unlock("000000", attempts)
    with pytest.raises(PinLocked):
        sealed.unlock("000000", attempts)
    with pytest.raises(PinLocked):  # even the right PIN, once locked
        sealed.unlock("246810", attempts)
    attempts.reset(sealed.key_id)  # an officer unlocks it
    assert sealed.unlock("246810", attempts).serial == cred.serial


def test_csr_with_weak_key_refused(pki):
    from signing import PkiError

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(PkiError):
        pki.issue_from_csr(make_csr(weak, "x"), kind="personal", agency_id=AGENCY_ID,
                           agency_name=AGENCY, full_name="A", position="B")


def test_a_key_file_records_its_scrypt_cost_and_older_files_keep_theirs(pki, tmp_path):
    """The tests seal at scrypt N 2**10 (conftest); a process of the application seals at 2**15,
    each file says which, and a file written before the field existed is read as 2**15."""
    import json

    from signing import SigningError, remote

    cred = pki.issue_personal("Võ Thị Hoa", "PHÓ GIÁM ĐỐC", AGENCY_ID, AGENCY, key_type="ec",
                              store_key=False)
    attempts = FilesystemAttemptStore(tmp_path / "attempts")
    ours = json.loads(PinProtectedKey.seal(cred, "246810").to_bytes())
    assert ours["scrypt_n"] == 2**10
    # as the application seals, and as files were written before the field: N = 2**15
    old = PinProtectedKey(key_id=ours["key_id"], certificate_der=cred.certificate.dump(),
                          chain_der=(), salt=b"s" * 16, nonce=b"n" * 12, sealed_key=b"")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    der = cred.private_key.private_bytes(serialization.Encoding.DER,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    sealed = AESGCM(remote._kek("246810", old.salt, 2**15)).encrypt(
        old.nonce, der, old.key_id.encode())
    legacy = json.loads(PinProtectedKey(**{**old.__dict__, "sealed_key": sealed}).to_bytes())
    del legacy["scrypt_n"]
    restored = PinProtectedKey.from_bytes(json.dumps(legacy).encode())
    assert restored.scrypt_n == 2**15
    assert restored.unlock("246810", attempts).serial == cred.serial
    with pytest.raises(SigningError, match="scrypt N = 16"):
        PinProtectedKey.from_bytes(json.dumps({**legacy, "scrypt_n": 16}).encode())
    # that the application seals at 2**15: tests/agencies/test_service.py, in a fresh process
