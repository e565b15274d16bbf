"""The trust store parses its revocation data once and remembers its CRLs' issuers for a minute,
yet every validation gets a fresh pyHanko validation context: its clock, certificate registry
and validated paths are never shared, and verdicts never depend on what was validated before."""

from __future__ import annotations

import datetime as dt

import pytest
from pyhanko_certvalidator.revinfo import validate_crl

from signing import Pki, TrustStore, Verdict, sign_pdf, validate_pdf
from signing import trust as trust_module

from .conftest import AGENCY, AGENCY_ID
from .test_sign_validate import _force_sign


@pytest.fixture
def crl_issuer_searches(monkeypatch) -> list:
    """Each time pyHanko looks for (and validates) a CRL's issuer."""
    searches = []
    original = validate_crl._find_crl_issuer

    async def counting(*args, **kwargs):
        searches.append(args[0])
        return await original(*args, **kwargs)

    monkeypatch.setattr(validate_crl, "_find_crl_issuer", counting)
    return searches


@pytest.fixture
def sealed(pki, demo_pdf) -> bytes:
    seal = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    return sign_pdf(demo_pdf, seal, trust=pki.trust_store(), level="B-T",
                    timestamper=pki.timestamper())


def test_each_validation_gets_a_fresh_context_over_shared_parsed_revinfo(trust):
    first, second = trust.validation_context(), trust.validation_context()
    assert first is not second
    assert first.certificate_registry is not second.certificate_registry
    assert {id(c) for c in first.crls} == {id(c) for c in second.crls}
    assert {id(o) for o in first.ocsps} == {id(o) for o in second.ocsps}
    assert len(first.crls) == len(trust.crls) and len(first.ocsps) == len(trust.ocsps)
    assert first.moment <= second.moment <= dt.datetime.now(dt.UTC)
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert trust.validation_context(moment=moment).moment == moment
    assert trust.validation_context(moment=moment).retroactive_revinfo


def test_a_loaded_trust_store_parses_revinfo_once_per_instance(pki_dir):
    trust = TrustStore.load(pki_dir)
    trust.validation_context()
    parsed = trust._cache["revinfo"]
    trust.validation_context()
    assert trust._cache["revinfo"] is parsed
    assert TrustStore.load(pki_dir)._cache == {}


def test_crl_issuers_found_once_then_reused(pki, sealed, crl_issuer_searches):
    trust = pki.trust_store()
    assert validate_pdf(sealed, trust).valid
    learnt = len(crl_issuer_searches)
    assert learnt >= 2  # the issuing CA's CRL and the root's (timestamp, issuing CA)
    vc = trust.validation_context()
    assert vc.seeded
    for _ in range(3):
        assert validate_pdf(sealed, trust).valid
    assert len(crl_issuer_searches) == learnt
    kept = trust._cache["crl_issuers"][1].values()
    ours = {c.dump() for c in (*trust.roots, *trust.intermediates)}
    assert {issuer.dump() for _, issuer in kept} <= ours


def test_crl_issuers_forgotten_after_the_ttl(pki, sealed, crl_issuer_searches, monkeypatch):
    trust = pki.trust_store()
    assert validate_pdf(sealed, trust).valid
    learnt_at = trust._cache["crl_issuers"][0]
    searches = len(crl_issuer_searches)
    now = learnt_at + trust_module.CRL_ISSUER_TTL + 1
    monkeypatch.setattr(trust_module.time, "monotonic", lambda: now)
    assert not trust.validation_context().seeded
    assert validate_pdf(sealed, trust).valid
    assert len(crl_issuer_searches) == 2 * searches  # validated again
    assert trust._cache["crl_issuers"][0] == now  # and learnt afresh
    assert trust.validation_context().seeded


def test_crl_issuers_not_shared_with_point_in_time_validation(pki, sealed, crl_issuer_searches):
    trust = pki.trust_store()
    moment = dt.datetime.now(dt.UTC)
    assert validate_pdf(sealed, trust, moment=moment).valid
    assert "crl_issuers" not in trust._cache  # nothing learnt at another moment
    assert validate_pdf(sealed, trust).valid
    assert not trust.validation_context(moment=moment).seeded
    assert not trust.validation_context(revocation_mode="soft-fail").seeded
    assert trust.validation_context().seeded


def test_verdicts_do_not_depend_on_what_was_validated_before(pki, demo_pdf, sealed, tmp_path):
    doomed = pki.issue_personal("Đỗ Thị Hoa", "PHÓ GIÁM ĐỐC", AGENCY_ID, AGENCY, key_type="ec")
    revoked_pdf = sign_pdf(demo_pdf, doomed, trust=pki.trust_store())
    pki.revoke(doomed.serial)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    old = pki.issue_personal("Vũ Văn Giang", "CHUYÊN VIÊN", AGENCY_ID, AGENCY, key_type="ec",
                             not_before=past, valid_days=30)
    expired_pdf = _force_sign(demo_pdf, old, pki.trust_store())
    rogue = Pki.create(tmp_path / "rogue", "x")
    foreign_pdf = sign_pdf(demo_pdf, rogue.issue_seal(AGENCY_ID, AGENCY, key_type="ec"),
                           trust=rogue.trust_store())
    pdfs = {"valid": sealed, "revoked": revoked_pdf, "expired": expired_pdf,
            "foreign": foreign_pdf}
    fresh = {name: validate_pdf(pdf, pki.trust_store()) for name, pdf in pdfs.items()}
    assert fresh["valid"].verdict is Verdict.VALID
    assert fresh["revoked"].signatures[0].revoked
    assert fresh["expired"].verdict is Verdict.INVALID and not fresh["expired"].signatures[0].trusted
    assert not fresh["foreign"].signatures[0].trusted
    trust = pki.trust_store()  # one instance: parsed revocation data and CRL issuers reused
    order = ["valid", "revoked", "valid", "expired", "foreign", "valid", "revoked", "expired"]
    for name in order:
        assert validate_pdf(pdfs[name], trust) == fresh[name], name
    assert trust.validation_context().seeded


def _revinfo_state(vc) -> dict:
    rm = vc.revinfo_manager
    return {
        "crls": [id(c) for c in rm._crls],
        "ocsps": [id(o) for o in rm._ocsps],
        "revocation_certs": sorted(rm._revocation_certs),
        "registry": sorted(vc.certificate_registry.certs),
        "poe": [(p.digest, p.poe_type, p.validation_object.object_type, id(p.validation_object.value))
                for p in rm.poe_manager],
    }


def test_a_context_starts_with_the_revinfo_state_pyhankos_own_constructor_gives(pki, tmp_path):
    """The prepared revocation data (sorted and hashed once per trust store) leaves a new
    context exactly as ``ValidationContext(crls=..., ocsps=...)`` does, POE times included."""
    from pyhanko_certvalidator import ValidationContext

    for index in range(3):  # several OCSP responses, so that the order is tested
        pki.issue_seal(f"000.00.00.G{index + 50}", f"Bộ số {index}")
    trust = pki.trust_store()
    crls, ocsps = trust._revinfo()
    assert len(ocsps) >= 4 and trust._prepared_revinfo().ocsp_poe[0].certs

    before = dt.datetime.now(dt.UTC)
    ours = trust.validation_context()
    theirs = ValidationContext(trust_roots=list(trust.roots), other_certs=list(trust.intermediates),
                               crls=list(crls), ocsps=list(ocsps), allow_fetching=False,
                               revocation_mode="require")
    after = dt.datetime.now(dt.UTC)

    assert _revinfo_state(ours) == _revinfo_state(theirs)
    assert all(before <= p.poe_time <= after for p in ours.revinfo_manager.poe_manager)
    assert trust.validation_context().revinfo_manager._crls is not ours.revinfo_manager._crls
