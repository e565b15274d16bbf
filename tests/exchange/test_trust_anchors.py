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
