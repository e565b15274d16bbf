"""A draft whose PDF is certified "no changes" (DocMDP P=1) cannot be signed: the signer is
told why in Vietnamese (a domain error the pages show), never a server error."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ioffice.errors import DomainError
from ioffice.outgoing import signatures
from ioffice.outgoing.errors import OutgoingError
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore
from signing.demo import make_demo_pdf
from tests.outgoing.conftest import LEADER, PIN, approve_all, new_draft
from tests.signing import mdp_files
from tests.support.factories import actor


def test_signing_a_no_changes_certified_draft_is_refused_with_a_reason(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, pin_key) -> None:
    author = pki.issue_personal("Lê Văn Tác", "CHÁNH VĂN PHÒNG", "000.00.00.H12",
                                "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    certified = mdp_files.certify(make_demo_pdf(2), author, 1)
    doc = approve_all(db, new_draft(db, blobs, data=certified))
    with pytest.raises(OutgoingError, match="'không cho phép thay đổi' \\(P=1\\)") as err:
        signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    assert isinstance(err.value, DomainError)  # the view flashes it (it let SigningError 500)
    assert doc.status is OutgoingStatus.APPROVED and not doc.signatures
