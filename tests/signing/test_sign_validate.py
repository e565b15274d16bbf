"""Signing with server-held keys, validation, and the hostile files validation must catch."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing import (
    AgencyStamp,
    AttachmentStamp,
    CertificateRejected,
    PadesLevel,
    Pki,
    Verdict,
    sign_pdf,
    validate_pdf,
)
from signing.sign import KeySigner, build_pdf_signer

from .conftest import AGENCY, AGENCY_ID, PERSONAL_BOX, external_checks


def _two_signatures(demo_pdf, chairman, seal, trust, personal_stamp, pki, level="B-B"):
    first = sign_pdf(demo_pdf, chairman, trust=trust, stamp=personal_stamp)
    return sign_pdf(
        first, seal, trust=trust, stamp=AgencyStamp(PERSONAL_BOX, "45/BC-UBND"),
        level=level, timestamper=pki.timestamper() if level != "B-B" else None,
    )


def _force_sign(pdf: bytes, credential, trust) -> bytes:
    """Sign without the library's certificate check (to make files it would refuse)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pdf_signer, _ = build_pdf_signer(
        w, KeySigner(credential), trust=trust, stamp=None, level=PadesLevel.B_B,
        timestamper=None, field_name=None, reason=None, location=None,
        moment=dt.datetime.now(dt.UTC),
    )
    return pdf_signer.sign_pdf(w, bytes_reserved=12_000).getvalue()


@pytest.mark.parametrize("key", ["chairman_rsa", "chairman_ec"])
def test_personal_then_agency_signature_in_order(
    request, key, demo_pdf, seal, trust, personal_stamp, pki, tmp_path
):
    chairman = request.getfixturevalue(key)
    signed = _two_signatures(demo_pdf, chairman, seal, trust, personal_stamp, pki)
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    first, second = report.signatures
    assert first.signer_name == chairman.certificate.subject.native["common_name"]
    assert first.position in ("CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    assert first.agency_id == AGENCY_ID and first.modification_level == "form_filling"
    assert second.signer_name == AGENCY and second.coverage == "entire_file"
    assert second.certificate_serial == f"{seal.serial:x}"
    assert "hợp lệ" in report.explanation
    external_checks(signed, tmp_path, 2)


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
@pytest.mark.parametrize("seal_key", ["seal", "seal_ec"])
def test_timestamped_and_long_term(
    request, level, seal_key, demo_pdf, chairman_ec, trust, personal_stamp, pki, tmp_path
):
    seal = request.getfixturevalue(seal_key)
    signed = _two_signatures(demo_pdf, chairman_ec, seal, trust, personal_stamp, pki, level)
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    assert report.signatures[-1].timestamp_time is not None
    if level == "B-LT":
        assert b"/DSS" in signed
        assert report.signatures[-1].modification_level == "lta_updates"
    external_checks(signed, tmp_path, 2)


def test_attachment_signature_top_right(demo_pdf, seal_ec, trust, tmp_path):
    signed = sign_pdf(demo_pdf, seal_ec, trust=trust, stamp=AttachmentStamp(AGENCY, "45/BC-UBND"))
    report = validate_pdf(signed, trust)
    assert report.valid and report.signatures[0].coverage == "entire_file"
    rect = re.search(rb"/Rect \[([\d. ]+)\]", signed).group(1).split()
    assert float(rect[2]) > 500 and float(rect[3]) > 800  # top right of an A4 page
    external_checks(signed, tmp_path, 1)


def test_vietnamese_stamp_renders(demo_pdf, chairman_rsa, seal, trust, personal_stamp, pki,
                                  tmp_path):
    """The stamp's text is drawn with real glyphs (a font with Vietnamese), not .notdef."""
    signed = _two_signatures(demo_pdf, chairman_rsa, seal, trust, personal_stamp, pki)
    path = tmp_path / "stamp.pdf"
    path.write_bytes(signed)
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "Nguyễn Văn An" in text and "CHỦ TỊCH" in text and "45/BC-UBND" in text
    seal_time = re.search(r"Thời gian ký: (\d\d:\d\d:\d\d \d\d/\d\d/\d{4})", text)
    assert seal_time, text  # the seal's time as Vietnamese write it, in Vietnam time
    moment = dt.datetime.strptime(seal_time[1], "%H:%M:%S %d/%m/%Y").replace(
        tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert abs(moment - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "2", "-l", "2", str(path),
                    str(tmp_path / "page")], check=True)


def test_revoked_certificate_refused_then_reported(pki, demo_pdf, tmp_path):
    cred = pki.issue_personal("Lê Văn Cường", "GIÁM ĐỐC", AGENCY_ID, AGENCY, key_type="ec")
    signed = sign_pdf(demo_pdf, cred, trust=pki.trust_store())
    pki.revoke(cred.serial)
    trust = pki.trust_store()
    with pytest.raises(CertificateRejected, match="thu hồi"):
        sign_pdf(demo_pdf, cred, trust=trust)
    report = validate_pdf(signed, trust)
    assert report.verdict is Verdict.INVALID
    assert report.signatures[0].revoked and "thu hồi" in report.explanation


def test_expired_certificate(pki, demo_pdf, trust):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    cred = pki.issue_personal("Phạm Văn Dũng", "CHÁNH VĂN PHÒNG", AGENCY_ID, AGENCY,
                              key_type="ec", not_before=past, valid_days=30)
    trust = pki.trust_store()
    with pytest.raises(CertificateRejected, match="hết hạn"):
        sign_pdf(demo_pdf, cred, trust=trust)
    report = validate_pdf(_force_sign(demo_pdf, cred, trust), trust)
    assert report.verdict is Verdict.INVALID and not report.signatures[0].trusted


def test_untrusted_root(tmp_path, demo_pdf, trust):
    rogue = Pki.create(tmp_path / "rogue", "x")
    cred = rogue.issue_seal(AGENCY_ID, AGENCY, key_type="ec")
    with pytest.raises(CertificateRejected):
        sign_pdf(demo_pdf, cred, trust=trust)
    signed = sign_pdf(demo_pdf, cred, trust=rogue.trust_store())
    report = validate_pdf(signed, trust)
    assert report.verdict is Verdict.INVALID and not report.signatures[0].trusted
    assert "tin cậy" in report.explanation


def test_second_signature_by_another_agency_is_reported(
    pki, demo_pdf, chairman_rsa, seal, trust, personal_stamp
):
    ours = _two_signatures(demo_pdf, chairman_rsa, seal, trust, personal_stamp, pki)
    other = pki.issue_seal("000.00.00.G09", "Bộ Nội vụ", key_type="ec")
    signed = sign_pdf(ours, other, trust=trust)
    report = validate_pdf(signed, trust)
    assert [s.agency_id for s in report.signatures] == [AGENCY_ID, AGENCY_ID, "000.00.00.G09"]
    assert report.signatures[-1].agency == "Bộ Nội vụ"
    # and a foreign key outside the trusted PKI makes the document invalid
    rogue = Pki.create(pki.directory.parent / "rogue2", "x").issue_seal("000.00.00.G09", "Bộ Nội vụ")
    forged = _force_sign(ours, rogue, trust)
    assert validate_pdf(forged, trust).verdict is Verdict.INVALID


# --- hostile files ---------------------------------------------------------------------------

@pytest.fixture
def signed_once(demo_pdf, chairman_rsa, trust, personal_stamp):
    return sign_pdf(demo_pdf, chairman_rsa, trust=trust, stamp=personal_stamp)


def _assert_invalid(pdf, trust):
    report = validate_pdf(pdf, trust)
    assert report.verdict is Verdict.INVALID, report
    assert report.explanation
    return report


def test_byte_changed_after_signing(signed_once, trust):
    i = signed_once.index(b"842")  # the page height, within the signed range
    tampered = signed_once[:i] + b"843" + signed_once[i + 3:]
    report = _assert_invalid(tampered, trust)
    assert not report.signatures[0].intact


def test_page_content_swapped_by_incremental_update(signed_once, trust):
    w = IncrementalPdfFileWriter(io.BytesIO(signed_once), strict=False)
    page_ref, _ = w.find_page_for_modification(0)
    page = page_ref.get_object()
    page[pdf_name("/Contents")] = w.add_object(generic.StreamObject(stream_data=b"BT ET"))
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    report = _assert_invalid(out.getvalue(), trust)
    assert report.signatures[0].modification_level == "other"


def test_byte_range_not_covering_file(signed_once, trust):
    w = IncrementalPdfFileWriter(io.BytesIO(signed_once), strict=False)
    w.root[pdf_name("/Lang")] = generic.TextStringObject("vi")
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    report = _assert_invalid(out.getvalue(), trust)
    assert report.signatures[0].coverage != "entire_file"


def _patch_byte_range(pdf: bytes, values: str) -> bytes:
    m = re.search(rb"/ByteRange\s*\[([^\]]*)\]", pdf)
    inner = values.encode().ljust(len(m.group(1)))
    return pdf[: m.start(1)] + inner + pdf[m.end(1):]


def test_byte_range_zero(signed_once, trust):
    _assert_invalid(_patch_byte_range(signed_once, "0 0 0 0"), trust)


def test_zeroed_contents(signed_once, trust):
    m = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", signed_once)
    zeroed = signed_once[: m.start(1)] + b"0" * len(m.group(1)) + signed_once[m.end(1):]
    report = _assert_invalid(zeroed, trust)
    assert not report.signatures[0].intact


def test_javascript_added_after_signing(signed_once, trust):
    w = IncrementalPdfFileWriter(io.BytesIO(signed_once), strict=False)
    js = generic.DictionaryObject({
        pdf_name("/S"): pdf_name("/JavaScript"),
        pdf_name("/JS"): generic.TextStringObject("app.alert('x');"),
    })
    w.root[pdf_name("/OpenAction")] = w.add_object(js)
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    _assert_invalid(out.getvalue(), trust)


def test_garbage_is_invalid_not_a_crash(trust):
    for junk in (b"", b"%PDF-1.7\n", b"not a pdf at all", b"%PDF-1.4\n1 0 obj <<>> endobj\n"):
        assert validate_pdf(junk, trust).verdict is Verdict.INVALID


def test_unsigned_pdf_is_invalid(demo_pdf, trust):
    assert "không có chữ ký" in validate_pdf(demo_pdf, trust).explanation


def test_sign_large_file_in_place(tmp_path, chairman_ec, trust):
    from signing.demo import make_demo_pdf

    path = tmp_path / "big.pdf"
    path.write_bytes(make_demo_pdf(2, padding_bytes=2_000_000))
    with path.open("r+b") as f:
        assert sign_pdf(f, chairman_ec, trust=trust, in_place=True) is None
    assert validate_pdf(path.read_bytes(), trust).valid
