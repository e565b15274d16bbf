"""A PDF signed by a foreign CA received over the axis: the receipt verdict says "not
trusted", naming the issuer, until the administrator imports the CA's root; then valid; after
removal, not trusted again. The worker's runtime picks the change up without a restart."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.trust import service as trust
from signing.demo import make_demo_pdf
from tests.support.foreign_ca import INTERMEDIATE_NAME, ForeignCa, pem

from .conftest import Federation
from .test_bad_input import _received_file

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def test_receipt_verdicts_follow_the_imported_anchors(db: Session, federation: Federation) -> None:
    ca = ForeignCa.create()
    signed = ca.sign(make_demo_pdf(1))

    before = _received_file(db, federation, signed)
    assert before.signature_verdict == "invalid"
    assert f"Chứng thư số do «{INTERMEDIATE_NAME}» cấp" in before.signature_summary
    assert "không nằm trong danh sách được tin cậy" in before.signature_summary

    row = trust.import_certificates(db, CTX, pem(ca.root)).added[0]
    db.commit()
    federation.rt.forget_trust()  # what TRUST_RECHECK_SECONDS does in a running worker
    after = _received_file(db, federation, signed)
    assert after.signature_verdict == "valid", after.signature_summary

    trust.remove(db, CTX, row.id)
    db.commit()
    federation.rt.forget_trust()
    again = _received_file(db, federation, signed)
    assert again.signature_verdict == "invalid"
    assert INTERMEDIATE_NAME in again.signature_summary


def test_an_envelope_sealed_by_an_imported_ca_is_accepted(db: Session,
                                                          federation: Federation) -> None:
    """The envelope's XML signature (the sender's seal) chains to the imported anchors as well
    as to the simulated CA: a seal from a real CA is refused until its root is imported, and
    again after removal."""
    import pytest
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from ioffice.exchange import dispatch
    from ioffice.exchange import packages as exchange_packages
    from ioffice.exchange.receipt import Refused, verify_and_parse
    from tests.support.foreign_ca import make_cert

    from .conftest import BNV, CA_MAU, agency, outgoing

    ca = ForeignCa.create()
    sender = agency(db, BNV)
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal = make_cert(x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, sender.name),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, sender.code),
        x509.NameAttribute(NameOID.COMMON_NAME, sender.name)]),
        seal_key, ca.intermediate.subject, ca.intermediate_key, ca=False)
    [row] = dispatch(db, CTX, outgoing(db, federation, recipients=(CA_MAU,)))
    db.commit()
    signed = exchange_packages.build_signed_document(
        sender, row.payload, federation.rt.blobs, seal_key, [seal, ca.intermediate, ca.root])

    federation.rt.forget_trust()
    with pytest.raises(Refused) as before:
        verify_and_parse(federation.rt, signed, "document")
    assert before.value.code == "untrusted_certificate"

    anchor = trust.import_certificates(db, CTX, pem(ca.root)).added[0]
    db.commit()
    federation.rt.forget_trust()
    _package, check = verify_and_parse(federation.rt, signed, "document")
    assert check.verified and check.verification.signer_organ_id == sender.code
    assert ca.root in federation.rt.trusted_cas

    trust.remove(db, CTX, anchor.id)
    db.commit()
    federation.rt.forget_trust()
    assert ca.root not in federation.rt.trusted_cas
    with pytest.raises(Refused) as after:
        verify_and_parse(federation.rt, signed, "document")
    assert after.value.code == "untrusted_certificate"
