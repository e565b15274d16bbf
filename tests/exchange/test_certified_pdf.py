"""A received PDF whose later revisions break its certification (DocMDP) is flagged to the
clerk like any other invalid PDF, with the rule broken and the certifying signature named."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from signing.demo import make_demo_pdf
from tests.signing import mdp_files

from .conftest import BNV, Federation
from .test_bad_input import _received_file


def _certified(federation: Federation, level: int) -> tuple[bytes, object]:
    pki = federation.pki
    author = pki.issue_personal("Trần Anh Tuấn", "THỨ TRƯỞNG", BNV, "Bộ Nội vụ", key_type="ec")
    other = pki.issue_personal("Đỗ Văn Khác", "CHUYÊN VIÊN", BNV, "Bộ Nội vụ", key_type="ec")
    return mdp_files.certify(mdp_files.form_pdf(make_demo_pdf(1)), author, level), other


def test_a_no_changes_pdf_signed_again_is_flagged(db: Session, federation: Federation) -> None:
    certified, other = _certified(federation, 1)
    f = _received_file(db, federation, mdp_files.approve(certified, other))
    assert f.signature_verdict == "invalid"
    assert "Văn bản đã được chứng thực ở mức 'không cho phép thay đổi' (P=1)" in f.signature_summary
    assert "ChungThuc (Trần Anh Tuấn)" in f.signature_summary
    [event] = db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "incoming:document:receive",
        AuditEvent.subject_id == str(f.document_id))).all()
    assert event.details["invalid_pdf_signatures"] == 1


def test_a_p2_pdf_signed_in_its_empty_field_is_valid(db: Session, federation: Federation) -> None:
    certified, other = _certified(federation, 2)
    f = _received_file(db, federation, mdp_files.approve(certified, other))
    assert f.signature_verdict == "valid", f.signature_summary
