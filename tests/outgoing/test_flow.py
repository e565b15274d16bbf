"""The whole path of an outgoing document through the services."""

from __future__ import annotations

import subprocess

from sqlalchemy.orm import Session

from ioffice.incoming.models import DocumentStatus
from ioffice.outgoing import dispatch, numbering, signatures
from ioffice.outgoing.models import OutgoingStatus, RecipientStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, Verdict, validate_pdf
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft
from tests.support.factories import actor, register


def pdfsig_valid(path) -> str:
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    return out


def test_draft_to_dispatch_with_pin(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa,
                                    pin_key, tmp_path) -> None:
    clerk = actor(db, CLERK)
    incoming = register(db, blobs, clerk)
    doc = approve_all(db, new_draft(db, blobs, reply_to_id=incoming.id))
    assert doc.status is OutgoingStatus.APPROVED
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    assert doc.status is OutgoingStatus.SIGNED
    numbering.assign_number(db, clerk, doc.id)
    assert doc.number_notation.endswith("/BC-UBND")
    assert doc.number_text == f"{doc.number:02d}"
    signatures.apply_agency_signature(db, blobs, pki, trust, clerk, doc.id, tsa=tsa)
    dispatch.dispatch(db, clerk, doc.id)
    assert doc.status is OutgoingStatus.DISPATCHED
    assert all(r.status is RecipientStatus.DELIVERED for r in doc.recipients)
    assert incoming.status is DocumentStatus.DONE
    assert incoming.reply_number == doc.number_notation
    final = blobs.read_bytes(doc.current_sha256)
    report = validate_pdf(final, trust)
    assert report.verdict is Verdict.VALID, report.explanation
    # personal signature, the seal, the seal's archival timestamp (PAdES B-LTA)
    assert [r.kind for r in report.signatures] == ["signature", "signature", "timestamp"]
    assert report.level == "B-LTA"
    path = tmp_path / "signed.pdf"
    path.write_bytes(final)
    out = pdfsig_valid(path)
    assert out.count("Signature is Valid") == 2, out
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
