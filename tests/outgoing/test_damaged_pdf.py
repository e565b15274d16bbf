"""PDFs that pass a viewer's checks but that a signature cannot be added to: repaired on upload
(broken cross-reference table) or refused at once (truncated, not a PDF), for outgoing drafts
and incoming registration (issue 16)."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from sqlalchemy.orm import Session

from ioffice.documents.pdf import inspect_pdf, make_signable
from ioffice.incoming.registration import UploadedFile
from ioffice.outgoing import signatures
from ioffice.outgoing.errors import InvalidInput
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, Verdict, validate_pdf
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft, pdf_bytes
from tests.support.factories import actor, register


def bad_xref() -> bytes:
    """Every offset of the cross-reference table off by 39 bytes (a line inserted after the
    header, as a broken tool or a text-mode transfer does): viewers rebuild the table."""
    data = pdf_bytes()
    cut = data.index(b"\n") + 1
    return data[:cut] + b"%" + b"x" * 37 + b"\n" + data[cut:]


def truncated() -> bytes:
    """The file without its end (startxref and %%EOF), as an interrupted copy leaves it."""
    data = pdf_bytes()
    return data[:data.rindex(b"startxref")]


def test_the_damage_passes_the_viewer_check_but_not_pyhanko() -> None:
    for data in (bad_xref(), truncated()):
        assert inspect_pdf(data).page_count == 2  # pdfium rebuilds what is broken
        with pytest.raises(PdfReadError):
            IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def test_a_broken_xref_is_repaired_and_signable(pki: Pki, trust: TrustStore) -> None:
    from signing import sign_pdf

    fixed = make_signable(bad_xref(), "du-thao.pdf")
    assert fixed.repaired and inspect_pdf(fixed.data).page_count == 2
    credential = pki.issue_personal("Nguyễn Văn An", "CHỦ TỊCH", "000.00.00.H12", "UBND",
                                    key_type="ec")
    signed = sign_pdf(fixed.data, credential, trust=trust)
    assert validate_pdf(signed, trust).verdict is Verdict.VALID
    good = pdf_bytes()
    assert make_signable(good) == type(fixed)(good, False)  # a sound file is left as it is


def test_draft_with_broken_xref_is_repaired_then_signed(db: Session, blobs: BlobStore,
                                                        trust: TrustStore, pin_key) -> None:
    doc = new_draft(db, blobs, data=bad_xref())
    version = doc.versions[0]
    assert "đã được sửa tự động" in version.note
    assert blobs.read_bytes(version.sha256) != bad_xref()
    approve_all(db, doc)
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    assert doc.status is OutgoingStatus.SIGNED
    assert validate_pdf(blobs.read_bytes(doc.current_sha256), trust).verdict is Verdict.VALID


@pytest.mark.parametrize(("data", "message"), [
    (truncated(), "không đầy đủ (bị cắt cụt"),
    (b"Bao cao tien do: day la van ban, khong phai PDF\n" * 20, "không phải là PDF"),
])
def test_draft_refused_at_once(db: Session, blobs: BlobStore, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_draft(db, blobs, data=data, filename="du-thao.pdf")
    assert message in refused.value.fields["file"]
    assert "«du-thao.pdf»" in refused.value.fields["file"]


def test_incoming_registration_repairs_and_refuses(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, CLERK)
    doc = register(db, blobs, clerk, files=(UploadedFile("cong-van.pdf", bad_xref()),))
    stored = blobs.read_bytes(doc.files[0].sha256)
    assert make_signable(stored).repaired is False  # stored repaired
    from ioffice.incoming.errors import InvalidInput as IncomingInvalid

    for data, message in ((truncated(), "không đầy đủ"), (b"not a pdf", "không phải là PDF")):
        with pytest.raises(IncomingInvalid) as refused:
            register(db, blobs, clerk, files=(UploadedFile("cong-van.pdf", data),))
        assert message in refused.value.fields["files"]
