"""The number and the date of issue written into the blanks of the signed draft, in the seal's
revision, keeping the leader's signature valid (issue 16)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.outgoing import numbering, signatures
from ioffice.outgoing.blanks import day_text, find_blanks, month_text
from ioffice.outgoing.convert import docx_to_pdf
from ioffice.outgoing.models import OutgoingDocument
from ioffice.storage import BlobStore
from signing import (
    Box,
    ChangesNotPermitted,
    Pki,
    TrustStore,
    Verdict,
    sign_pdf,
    validate_pdf,
)
from signing.demo import make_text_pdf
from signing.sign import KeySigner
from tests.outgoing.conftest import CLERK, LEADER, PIN, approve_all, new_draft
from tests.outgoing.hostile import docx
from tests.support.factories import actor

HEADER = ("ỦY BAN NHÂN DÂN TỈNH CÀ MAU", "Số:        /BC-UBND",
          "Cà Mau, ngày      tháng      năm 2026", "", "BÁO CÁO",
          "Tình hình triển khai Chính phủ điện tử", "", "Kính gửi: Bộ Nội vụ.")
ISSUED = dt.date(2026, 2, 5)


@functools.cache
def blank_draft() -> bytes:
    """A draft as Word users leave it, exported by LibreOffice (the DOCX upload's path)."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{line}</w:t></w:r></w:p>'
                   for line in HEADER)
    return docx_to_pdf(docx('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="'
                            'http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                            f'<w:body>{body}</w:body></w:document>'), "du-thao.docx")


def sealed(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, data: bytes
           ) -> tuple[OutgoingDocument, bytes, bytes]:
    """The document sealed, its signed draft and the sealed PDF."""
    doc = approve_all(db, new_draft(db, blobs, data=data))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    signed = blobs.read_bytes(doc.current_sha256)
    clerk = actor(db, CLERK)
    numbering.assign_number(db, clerk, doc.id, today=ISSUED)
    signatures.apply_agency_signature(db, blobs, pki, trust, clerk, doc.id, tsa=tsa)
    return doc, signed, blobs.read_bytes(doc.current_sha256)


def ink(png: Path, box: Box, dpi: int = 100) -> int:
    """Dark pixels inside ``box`` of a page rendered at ``dpi``."""
    image = Image.open(png).convert("L")
    scale = dpi / 72
    height = image.height / scale
    crop = image.crop((int(box.x1 * scale), int((height - box.y2) * scale),
                       int(box.x2 * scale), int((height - box.y1) * scale)))
    return sum(1 for v in crop.get_flattened_data() if v < 128)


def render(pdf: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / name)], check=True)
    return next(tmp_path.glob(f"{name}-*1.png"))


def test_blanks_found() -> None:
    blanks = find_blanks(blank_draft())
    assert blanks.complete and blanks.year is None  # the year is printed
    assert blanks.number.x2 - blanks.number.x1 > 14
    assert not find_blanks(make_text_pdf(["Số: 45/BC-UBND\nngày 03 tháng 12 năm 2026"])).number
    assert not find_blanks(make_text_pdf(["Báo cáo không có số và ngày"])).date


def test_day_and_month_as_the_decree_writes_them() -> None:
    assert (day_text(ISSUED), month_text(ISSUED)) == ("05", "02")
    assert (day_text(dt.date(2026, 12, 3)), month_text(dt.date(2026, 3, 13))) == ("03", "3")


def test_number_and_date_written_before_the_seal(db: Session, blobs: BlobStore, pki: Pki,
                                                 trust: TrustStore, tsa, pin_key,
                                                 tmp_path: Path) -> None:
    doc, signed, final = sealed(db, blobs, pki, trust, tsa, blank_draft())
    blanks = find_blanks(signed)
    before, after = render(signed, tmp_path, "signed"), render(final, tmp_path, "sealed")
    for box in (blanks.number, blanks.day, blanks.month):
        assert ink(before, box) == 0 and ink(after, box) > 10, box
    report = validate_pdf(final, trust)
    assert report.verdict is Verdict.VALID, report.explanation
    # the two signatures, then the seal's archival (document) timestamp: PAdES B-LTA
    assert [(s.kind, s.verdict) for s in report.signatures] == [
        ("signature", Verdict.VALID), ("signature", Verdict.VALID), ("timestamp", Verdict.VALID)]
    assert report.level == "B-LTA"
    path = tmp_path / "sealed.pdf"
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid") == 2, out
    assert "Total document signed" in out
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "outgoing:signature:agency",
        AuditEvent.subject_id == str(doc.id)).order_by(AuditEvent.id.desc())).first()
    assert event.details["written"] == ["SoVanBan", "NgayBanHanh", "ThangBanHanh"]


def test_a_draft_without_blanks_is_sealed_as_before(db: Session, blobs: BlobStore, pki: Pki,
                                                    trust: TrustStore, tsa, pin_key) -> None:
    doc, _signed, final = sealed(db, blobs, pki, trust, tsa, make_text_pdf(["Báo cáo", "Lưu: VT."]))
    assert validate_pdf(final, trust).verdict is Verdict.VALID
    event = db.scalars(select(AuditEvent).where(
        AuditEvent.tag == "outgoing:signature:agency",
        AuditEvent.subject_id == str(doc.id)).order_by(AuditEvent.id.desc())).first()
    assert event.details["written"] == []


def test_the_seal_locks_the_written_number(db: Session, blobs: BlobStore, pki: Pki,
                                           trust: TrustStore, tsa, pin_key) -> None:
    """Nobody signs into the number's field afterwards to show another number: the agency
    signature locks the fields it wrote (FieldMDP), and signing refuses a locked field."""
    _doc, _signed, final = sealed(db, blobs, pki, trust, tsa, blank_draft())
    intruder = pki.issue_personal("Người Lạ", "CHUYÊN VIÊN", "000.00.00.H12", "UBND",
                                  key_type="ec")
    with pytest.raises(ChangesNotPermitted, match="SoVanBan đã bị khóa"):
        sign_pdf(final, intruder, trust=trust, field_name="SoVanBan")
    # forced in with pyHanko alone: the agency signature reports its lock broken
    writer = IncrementalPdfFileWriter(io.BytesIO(final), strict=False)
    forced = PdfSigner(PdfSignatureMetadata(field_name="SoVanBan"),
                       signer=KeySigner(intruder)).sign_pdf(writer).getvalue()
    report = {s.field_name: s for s in validate_pdf(forced, trust).signatures}
    assert report["ChuKyCoQuan1"].reason == "field_locked"
    assert report["ChuKyCaNhan1"].verdict is Verdict.VALID
