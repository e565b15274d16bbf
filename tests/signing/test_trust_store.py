"""The trust store parses its revocation data once, yet every validation gets a fresh pyHanko
validation context: its clock, certificate registry and validated paths are never shared."""

from __future__ import annotations

import datetime as dt

from signing import Pki, TrustStore, Verdict, sign_pdf, validate_pdf

from .conftest import AGENCY, AGENCY_ID


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


def test_verdicts_do_not_depend_on_what_was_validated_before(pki, demo_pdf, tmp_path):
    good = pki.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    doomed = pki.issue_personal("Đỗ Thị Hoa", "PHÓ GIÁM ĐỐC", AGENCY_ID, AGENCY, key_type="ec")
    valid_pdf = sign_pdf(demo_pdf, good, trust=pki.trust_store(), level="B-T",
                         timestamper=pki.timestamper())
    revoked_pdf = sign_pdf(demo_pdf, doomed, trust=pki.trust_store())
    pki.revoke(doomed.serial)
    rogue = Pki.create(tmp_path / "rogue", "x")
    foreign_pdf = sign_pdf(demo_pdf, rogue.issue_seal(AGENCY_ID, AGENCY, key_type="ec"),
                           trust=rogue.trust_store())
    trust = pki.trust_store()  # one instance, its parsed revocation data reused throughout
    fresh = {name: validate_pdf(pdf, pki.trust_store()) for name, pdf in
             [("valid", valid_pdf), ("revoked", revoked_pdf), ("foreign", foreign_pdf)]}
    assert fresh["valid"].verdict is Verdict.VALID
    assert fresh["revoked"].signatures[0].revoked
    assert not fresh["foreign"].signatures[0].trusted
    order = ["valid", "revoked", "valid", "foreign", "valid", "revoked", "foreign"]
    for name in order:
        pdf = {"valid": valid_pdf, "revoked": revoked_pdf, "foreign": foreign_pdf}[name]
        assert validate_pdf(pdf, trust) == fresh[name], name
