"""A trust store remembers, for a minute, the certification paths validated with it (the
wrapper of pyHanko's validate_cert_usage in signing/_pyhanko_speedups.py): reports are the
same as without it, and nothing is reused across a revocation (new store), past the minute,
past a certificate's expiry, after a failure, or for a validation at a given moment."""

from __future__ import annotations

import datetime as dt

import pytest
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.status import PdfSignatureStatus, TimestampSignatureStatus
from pyhanko_certvalidator import context as certvalidator_context
from pyhanko_certvalidator import registry

from signing import Pki, Verdict, _pyhanko_speedups, sign_pdf, validate_pdf
from signing import trust as trust_module
from signing.demo import make_text_pdf

from .conftest import AGENCY, AGENCY_ID
from .test_sign_validate import _force_sign

CERT_USAGE = "generic_cms.validate_cert_usage"


@pytest.fixture
def path_checks(monkeypatch) -> list:
    """Each certificate whose path pyHanko's validate_cert_usage (the original) builds and
    validates: it calls find_valid_path through its module global."""
    checks = []
    original = generic_cms.find_valid_path

    async def counting(cert, *args, **kwargs):
        checks.append(cert.dump())
        return await original(cert, *args, **kwargs)

    monkeypatch.setattr(generic_cms, "find_valid_path", counting)
    return checks


@pytest.fixture
def cancels(monkeypatch) -> list:
    """Each path iterator cancelled."""
    calls = []
    original = registry.LazyPathIterator.cancel

    async def counting(self):
        calls.append(self)
        return await original(self)

    monkeypatch.setattr(registry.LazyPathIterator, "cancel", counting)
    return calls


def _letter(i: int) -> bytes:
    return make_text_pdf([f"Công văn số {i}/UBND", "Nơi nhận: như trên."])


def _sealed(pki: Pki, seal, i: int, level: str = "B-T") -> bytes:
    tsa = pki.timestamper() if level != "B-B" else None
    return sign_pdf(_letter(i), seal, trust=pki.trust_store(), level=level, timestamper=tsa)


def _remembered(trust) -> dict:
    return trust._cache.get("paths", {})


def test_the_wrapper_is_installed():
    assert _pyhanko_speedups.active()[CERT_USAGE] is True
    assert generic_cms.validate_cert_usage.__wrapped__ is _pyhanko_speedups.original(CERT_USAGE)


def test_same_seal_again_reuses_the_paths_with_identical_reports(pki, path_checks, cancels):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    pdfs = [_sealed(pki, seal, i) for i in range(3)]
    fresh = [validate_pdf(pdf, pki.trust_store()) for pdf in pdfs]  # a new store each: no reuse
    assert all(r.verdict is Verdict.VALID for r in fresh)
    assert len(path_checks) == 2 * 3  # the seal and the TSA, for each document

    trust = pki.trust_store()
    path_checks.clear()
    assert validate_pdf(pdfs[0], trust) == fresh[0]
    assert len(path_checks) == 2 and len(_remembered(trust)) == 2
    cancels.clear()
    assert validate_pdf(pdfs[1], trust) == fresh[1]
    assert validate_pdf(pdfs[2], trust) == fresh[2]
    assert len(path_checks) == 2  # the other documents hit the memo, for both certificates
    assert len(cancels) == 2 * 2  # and the unused path iterators were cancelled


def test_two_signatures_reuse_and_match_without_the_memo(pki, path_checks, chairman_rsa,
                                                         personal_stamp):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="rsa")

    def both(i: int) -> bytes:
        pdf = sign_pdf(_letter(i), chairman_rsa, trust=pki.trust_store(), stamp=personal_stamp)
        return sign_pdf(pdf, seal, trust=pki.trust_store(), level="B-T",
                        timestamper=pki.timestamper())

    pdfs = [both(1), both(2)]
    trust = pki.trust_store()
    reports = [validate_pdf(pdf, trust) for pdf in pdfs]
    assert len(path_checks) == 3  # person, TSA, seal; then nothing for the second document
    try:
        _pyhanko_speedups.uninstall()
        plain = [validate_pdf(pdf, pki.trust_store()) for pdf in pdfs]
    finally:
        _pyhanko_speedups.install()
    assert reports == plain and all(r.valid for r in reports)
    assert [len(r.signatures) for r in reports] == [2, 2]


def test_a_revocation_is_seen_by_a_new_store(pki, path_checks):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    first, second = _sealed(pki, seal, 1), _sealed(pki, seal, 2)
    old = pki.trust_store()
    assert validate_pdf(first, old).valid
    assert any(key[0] == seal.certificate.dump() for key in _remembered(old))
    pki.revoke(seal.serial)
    checks = len(path_checks)
    # the old store's revocation data predates the revocation: valid, as it always was
    assert validate_pdf(second, old).valid
    assert len(path_checks) == checks
    new = pki.trust_store()
    report = validate_pdf(second, new)
    assert report.verdict is Verdict.INVALID
    assert report.signatures[0].revoked and not report.signatures[0].trusted
    assert len(path_checks) > checks
    assert validate_pdf(second, new) == report  # the failure was not remembered either


def test_forgotten_after_the_ttl(pki, path_checks, monkeypatch):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    first, second = _sealed(pki, seal, 1), _sealed(pki, seal, 2)
    trust = pki.trust_store()
    expected = validate_pdf(second, pki.trust_store())
    path_checks.clear()
    assert validate_pdf(first, trust).valid
    learnt = {key: entry.since for key, entry in _remembered(trust).items()}
    assert len(path_checks) == len(learnt) == 2
    later = max(learnt.values()) + trust_module.CRL_ISSUER_TTL + 1
    monkeypatch.setattr(trust_module.time, "monotonic", lambda: later)
    assert validate_pdf(second, trust) == expected
    assert len(path_checks) == 4  # validated again from scratch
    assert {entry.since for entry in _remembered(trust).values()} == {later}  # and relearnt


def test_the_ttl_counts_from_the_crl_issuers_a_seeded_context_relied_on(pki, monkeypatch):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    trust = pki.trust_store()
    assert validate_pdf(_sealed(pki, seal, 1), trust).valid  # learns CRL issuers at t0
    learnt_at = trust._cache["crl_issuers"][0]
    trust._cache.pop("paths")
    monkeypatch.setattr(trust_module.time, "monotonic", lambda: learnt_at + 30)
    vc = trust.validation_context()
    assert vc.seeded and vc.path_memo._since == learnt_at


def test_not_reused_once_a_certificate_of_the_path_has_expired(pki, path_checks, monkeypatch):
    now = dt.datetime.now(dt.UTC)
    short = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec", valid_days=10,
                           not_before=now - dt.timedelta(days=9))  # expires in about a day
    expires = short.certificate.not_valid_after
    first, second = _sealed(pki, short, 1, "B-B"), _sealed(pki, short, 2, "B-B")
    trust = pki.trust_store()
    assert validate_pdf(first, trust).valid
    (entry,) = _remembered(trust).values()
    assert entry.until == expires - dt.timedelta(seconds=1)  # pyHanko's time tolerance

    class Later(dt.datetime):  # pyHanko's clock, a day and an hour on (revinfo lasts 7 days)
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(days=1, hours=1)

    monkeypatch.setattr(certvalidator_context, "datetime", Later)
    assert trust.validation_context().moment > expires
    checks = len(path_checks)
    report = validate_pdf(second, trust)  # within the minute, but after the expiry
    assert len(path_checks) == checks + 1
    assert report.verdict is Verdict.INVALID and not report.signatures[0].trusted
    assert report == validate_pdf(second, pki.trust_store())


def test_a_failure_is_not_remembered(pki, path_checks, tmp_path):
    rogue = Pki.create(tmp_path / "rogue", "x")
    foreign = sign_pdf(_letter(1), rogue.issue_seal(AGENCY_ID, AGENCY, key_type="ec"),
                       trust=rogue.trust_store())
    trust = pki.trust_store()
    first = validate_pdf(foreign, trust)
    assert not first.signatures[0].trusted and len(path_checks) == 1
    assert validate_pdf(foreign, trust) == first
    assert len(path_checks) == 2  # the original ran both times
    assert _remembered(trust) == {}


def test_an_expired_signer_is_not_remembered(pki, path_checks, demo_pdf):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    old = pki.issue_personal("Vũ Văn Giang", "CHUYÊN VIÊN", AGENCY_ID, AGENCY, key_type="ec",
                             not_before=past, valid_days=30)
    expired = _force_sign(demo_pdf, old, pki.trust_store())
    trust = pki.trust_store()
    assert validate_pdf(expired, trust) == validate_pdf(expired, trust)
    assert len(path_checks) == 2 and _remembered(trust) == {}


def test_validation_at_a_moment_never_uses_or_fills_the_memo(pki, path_checks):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    pdf = _sealed(pki, seal, 1)
    trust = pki.trust_store()
    moment = dt.datetime.now(dt.UTC)
    at_moment = validate_pdf(pdf, trust, moment=moment)
    assert at_moment.valid and len(path_checks) == 2
    assert _remembered(trust) == {}  # nothing learnt at a given moment
    assert validate_pdf(pdf, trust).valid and len(path_checks) == 4
    assert len(_remembered(trust)) == 2
    assert validate_pdf(pdf, trust, moment=moment) == at_moment
    assert len(path_checks) == 6  # the memo was not consulted
    assert trust.validation_context(moment=moment).path_memo is None
    assert trust.validation_context(revocation_mode="soft-fail").path_memo is None
    assert trust.validation_context().path_memo is not None


def test_the_key_follows_the_certificates_the_documents_brought(pki, tmp_path):
    trust = pki.trust_store()
    vc = trust.validation_context()
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    usage = PdfSignatureStatus.default_usage_constraints()
    before = vc.path_memo.key(seal.certificate, usage)
    vc.certificate_registry.register(trust.intermediates[0])  # the store's own: no change
    assert vc.path_memo.key(seal.certificate, usage) == before
    stranger = Pki.create(tmp_path / "other", "x").trust_store().intermediates[0]
    vc.certificate_registry.register(stranger)  # a CA certificate a document carried
    assert vc.path_memo.key(seal.certificate, usage) != before
    other_usage = TimestampSignatureStatus.default_usage_constraints()
    assert vc.path_memo.key(seal.certificate, other_usage) != vc.path_memo.key(
        seal.certificate, usage)


def test_reused_until_the_first_revocation_data_expires(pki, pki_dir):
    from cryptography import x509
    from cryptography.x509 import ocsp

    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    pdf = _sealed(pki, seal, 1, "B-B")
    trust = pki.trust_store()
    assert validate_pdf(pdf, trust).valid
    (entry,) = _remembered(trust).values()
    crls = [x509.load_der_x509_crl(p.read_bytes()).next_update_utc
            for p in (pki_dir / "crl").glob("*.crl")]
    own = ocsp.load_der_ocsp_response((pki_dir / "ocsp" / f"{seal.serial:x}.der").read_bytes())
    # the seal's certificate lasts 3 years, its CAs 10 and 20: the CRLs or its OCSP response
    # (7 days) run out first; other certificates' OCSP responses and revocations do not count
    assert entry.until == min(*crls, own.next_update_utc) - dt.timedelta(seconds=1)


def test_not_reused_by_a_validation_at_an_earlier_time(pki, path_checks, monkeypatch):
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    pdf = _sealed(pki, seal, 1, "B-B")
    trust = pki.trust_store()
    assert validate_pdf(pdf, trust).valid and len(path_checks) == 1

    class Earlier(dt.datetime):  # the wall clock set back a minute
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) - dt.timedelta(minutes=1)

    monkeypatch.setattr(certvalidator_context, "datetime", Earlier)
    assert validate_pdf(pdf, trust).valid
    assert len(path_checks) == 2


def test_the_memo_stays_small(pki, path_checks, monkeypatch):
    monkeypatch.setattr(trust_module, "_PATH_MEMO_SIZE", 2)
    seals = [pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec") for _ in range(3)]
    pdfs = [_sealed(pki, seal, i, "B-B") for i, seal in enumerate(seals)]
    trust = pki.trust_store()
    for pdf in pdfs:
        assert validate_pdf(pdf, trust).valid
        assert len(_remembered(trust)) <= 2
    assert validate_pdf(pdfs[2], trust).valid
    assert len(path_checks) == 3  # the newest was kept
