"""Certification (DocMDP) levels and field locks apply to every later revision.

P=1: nothing may change (validation data aside); P=2: form filling and signing existing
fields; P=3: also annotations. A verdict names the rule broken (``reason``) and, in
Vietnamese, the signature that set it. Unsigned form filling (P=2, P=3) and annotations (P=3)
after the newest signature are allowed and reported in ``notes``.
"""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import MDPPerm

from signing import (
    ChangesNotPermitted,
    FilesystemPendingStore,
    Verdict,
    prepare,
    sign_pdf,
    validate_pdf,
)
from signing.demo import make_demo_pdf

from . import mdp_files as m
from .conftest import AGENCY, AGENCY_ID, external_checks

REASON = {1: "docmdp_no_changes", 2: "docmdp_form_fill_only", 3: "docmdp_annotations"}
LEVEL_TEXT = {
    1: "không cho phép thay đổi",
    2: "chỉ cho phép điền biểu mẫu và ký",
    3: "chỉ cho phép điền biểu mẫu, ký và thêm chú thích",
}


@pytest.fixture(scope="module")
def author(pki):
    return pki.issue_personal("Lê Văn Tác", "CHÁNH VĂN PHÒNG", AGENCY_ID, AGENCY, key_type="ec")


@pytest.fixture(scope="module")
def other(pki):
    return pki.issue_personal("Phạm Thị Khác", "PHÓ CHỦ TỊCH", AGENCY_ID, AGENCY, key_type="ec")


@pytest.fixture(scope="module")
def form():
    return m.form_pdf(make_demo_pdf(2))


@pytest.fixture(scope="module")
def certified(form, author):
    return {p: m.certify(form, author, p) for p in (1, 2, 3)}


LATER = {
    "signature in an existing empty field": lambda pdf, other: m.approve(pdf, other),
    "new invisible signature field": lambda pdf, other: m.approve(pdf, other, "ChuKyMoi"),
    "new visible signature field": lambda pdf, other: m.approve(
        pdf, other, "ChuKyMoi", new_box=(60, 300, 260, 400)),
    "annotation added": lambda pdf, other: m.add_annotation(pdf),
    "form filled in": lambda pdf, other: m.fill_text(pdf),
    "content changed": lambda pdf, other: m.change_content(pdf),
}
# (level, later revision) -> valid? The pyHanko analysis, like the PDF standard, allows only
# existing fields to be filled after a certification; an invisible new signature field is
# the way document timestamps and approval signatures are added (form filling level).
ALLOWED = {
    (2, "signature in an existing empty field"), (2, "new invisible signature field"),
    (2, "form filled in"),
    (3, "signature in an existing empty field"), (3, "new invisible signature field"),
    (3, "form filled in"), (3, "annotation added"),
}


@pytest.mark.parametrize("change", list(LATER))
@pytest.mark.parametrize("level", [1, 2, 3])
def test_each_level_against_each_later_revision(level, change, certified, other, trust):
    pdf = LATER[change](certified[level], other)
    report = validate_pdf(pdf, trust)
    assert report.certification_level == level
    assert report.signatures[0].certification_level == level
    if (level, change) in ALLOWED:
        assert report.valid, report.explanation
        assert report.reason == ""
        return
    assert report.verdict is Verdict.INVALID, report.explanation
    assert report.reason == REASON[level], report.explanation
    cert_report = report.signatures[0]
    assert cert_report.field_name == m.CERT_FIELD and cert_report.reason == REASON[level]
    # the rule, the level and the certifying signature (field and signer) are named
    assert f"'{LEVEL_TEXT[level]}' (P={level})" in report.explanation
    assert f"{m.CERT_FIELD} (Lê Văn Tác)" in report.explanation


def test_the_reported_case_p1_then_another_trusted_key_in_an_empty_field(
        certified, other, trust, tmp_path):
    """Issue 15: certified "no changes", then signed in an existing empty field by another
    trusted key; every signature is intact and trusted, and it was reported "hợp lệ"."""
    pdf = m.approve(certified[1], other)
    external_checks(pdf, tmp_path, expected_signatures=2)  # cryptographically fine
    report = validate_pdf(pdf, trust)
    assert not report.valid
    assert report.reason == "docmdp_no_changes"
    assert "Văn bản đã được chứng thực ở mức 'không cho phép thay đổi'" in report.explanation
    assert all(s.intact and s.trusted for s in report.signatures)


def test_unsigned_changes_after_the_newest_signature_are_allowed_and_reported(
        certified, other, trust):
    filled = m.fill_text(m.approve(certified[2], other))
    report = validate_pdf(filled, trust)
    assert report.valid, report.explanation
    assert report.signatures[-1].unsigned_changes == "form_filling"
    assert report.notes and "điền biểu mẫu chưa được ký" in report.notes[0]
    assert "Lưu ý" in report.explanation and "P=2" in report.explanation

    annotated = m.add_annotation(certified[3])
    report = validate_pdf(annotated, trust)
    assert report.valid, report.explanation
    assert report.signatures[-1].unsigned_changes == "annotations"
    assert "chú thích" in report.notes[0]

    # without a certification the newest signature must still cover the whole file
    plain = m.fill_text(m.approve(m.form_pdf(make_demo_pdf(1)), other))
    report = validate_pdf(plain, trust)
    assert report.reason == "not_covering_file"


def test_p3_allows_comments_but_not_links_or_actions(certified, trust):
    def annotate(pdf: bytes, subtype: str, **extra) -> bytes:
        w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        page_ref, _ = w.find_page_for_modification(0)
        page = page_ref.get_object()
        annot = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name(subtype),
            pdf_name("/Rect"): generic.ArrayObject(generic.NumberObject(v) for v in (0, 0, 9, 9)),
            **extra,
        })
        page["/Annots"].append(w.add_object(annot))
        w.update_container(page)
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()

    assert validate_pdf(annotate(certified[3], "/Highlight"), trust).valid
    uri = generic.DictionaryObject({pdf_name("/S"): pdf_name("/URI"),
                                    pdf_name("/URI"): generic.TextStringObject("http://x.invalid")})
    for pdf in (annotate(certified[3], "/Link", **{pdf_name("/A"): uri}),
                annotate(certified[3], "/Text", **{pdf_name("/A"): uri}),
                annotate(certified[3], "/Widget")):
        report = validate_pdf(pdf, trust)
        assert report.reason == "docmdp_annotations", report.explanation


def test_a_violation_hidden_under_a_later_allowed_revision_still_counts(certified, other, trust):
    """Every revision after the certification is judged, not only the last one."""
    pdf = m.approve(m.change_content(certified[2]), other, m.EMPTY_FIELD)
    report = validate_pdf(pdf, trust)
    assert report.reason == "docmdp_form_fill_only"


@pytest.mark.parametrize(("action", "names", "fill_ok", "second_ok"), [
    ("all", (), False, False),
    ("include", (m.TEXT_FIELD,), False, True),
    ("exclude", (m.TEXT_FIELD,), True, False),
    ("include", ("TruongKhac",), True, True),
])
def test_field_locks(action, names, fill_ok, second_ok, author, other, trust):
    signed = m.approve(m.form_pdf(make_demo_pdf(1), lock_first=m.lock(action, names)), author)
    assert validate_pdf(signed, trust).valid
    filled = validate_pdf(m.fill_text(signed), trust)
    second = validate_pdf(m.approve(signed, other, m.SECOND_EMPTY_FIELD), trust)
    if fill_ok:  # not locked: the usual rule (the newest signature covers the whole file)
        assert filled.reason == "not_covering_file"
    else:
        assert filled.reason == "field_locked"
        assert f"Chữ ký {m.EMPTY_FIELD} (Lê Văn Tác) đã khóa" in filled.explanation
        assert m.TEXT_FIELD in filled.explanation
    if second_ok:
        assert second.valid, second.explanation
    else:
        assert second.reason == "field_locked" and m.SECOND_EMPTY_FIELD in second.explanation


def test_a_lock_with_a_docmdp_level_applies_like_a_certification(author, other, trust):
    locked = m.form_pdf(make_demo_pdf(1), lock_first=m.lock("include", ("TruongKhac",)),
                        lock_first_p=MDPPerm.NO_CHANGES)
    signed = m.approve(locked, author)
    assert validate_pdf(signed, trust).valid
    report = validate_pdf(m.approve(signed, other, m.SECOND_EMPTY_FIELD), trust)
    assert report.reason == "docmdp_no_changes"
    assert "bị khóa ở mức 'không cho phép thay đổi'" in report.explanation
    with pytest.raises(ChangesNotPermitted, match="không cho phép thay đổi"):
        sign_pdf(signed, other, trust=trust)


# --- signing refuses what would break the certification --------------------------------------

def test_signing_a_no_changes_document_is_refused_before_any_work(
        certified, other, pki, trust, tmp_path, personal_stamp):
    revoked = pki.issue_personal("Người Bị Thu Hồi", "CHUYÊN VIÊN", AGENCY_ID, AGENCY,
                                 key_type="ec")
    pki.revoke(revoked.serial)
    fresh = pki.trust_store()
    for credential, store in ((other, trust), (revoked, fresh)):  # before the certificate check
        with pytest.raises(ChangesNotPermitted, match="'không cho phép thay đổi' \\(P=1\\)"):
            sign_pdf(certified[1], credential, trust=store, field_name=m.EMPTY_FIELD)
    pending = FilesystemPendingStore(tmp_path / "pending")
    with pytest.raises(ChangesNotPermitted, match="không thể ký thêm"):
        prepare(certified[1], other.certificate, chain=other.chain, signer_id="u1",
                trust=trust, store=pending, stamp=personal_stamp)
    assert not list((tmp_path / "pending").iterdir())


def test_signing_a_p2_document_fills_an_existing_field_only(
        certified, other, trust, tmp_path, personal_stamp):
    with pytest.raises(ChangesNotPermitted, match="ô chữ ký có sẵn"):
        sign_pdf(certified[2], other, trust=trust, stamp=personal_stamp)
    signed = sign_pdf(certified[2], other, trust=trust, stamp=personal_stamp,
                      field_name=m.EMPTY_FIELD)
    report = validate_pdf(signed, trust)
    assert report.valid, report.explanation
    external_checks(signed, tmp_path, expected_signatures=2)
    invisible = sign_pdf(certified[3], other, trust=trust)  # a new invisible field is fine
    assert validate_pdf(invisible, trust).valid
    external_checks(invisible, tmp_path, expected_signatures=2)


def test_signing_a_locked_empty_field_is_refused(author, other, trust):
    signed = m.approve(m.form_pdf(make_demo_pdf(1), lock_first=m.lock("all")), author)
    with pytest.raises(ChangesNotPermitted, match=f"Ô chữ ký {m.SECOND_EMPTY_FIELD} đã bị khóa"):
        sign_pdf(signed, other, trust=trust, field_name=m.SECOND_EMPTY_FIELD)


def test_certified_files_pass_external_checks(certified, tmp_path):
    for pdf in certified.values():
        external_checks(pdf, tmp_path, expected_signatures=1)


def test_a_certification_claimed_by_a_later_unsigned_revision_counts_for_nothing(
        author, trust):
    """The level is read from the first signature's own (signed) dictionary, not from a
    /Perms entry a later revision can write."""
    signed = m.approve(m.form_pdf(make_demo_pdf(1)), author)
    w = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    fake = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Sig"),
        pdf_name("/Reference"): generic.ArrayObject([generic.DictionaryObject({
            pdf_name("/TransformMethod"): pdf_name("/DocMDP"),
            pdf_name("/TransformParams"): generic.DictionaryObject(
                {pdf_name("/P"): generic.NumberObject(3)}),
        })]),
    }))
    w.root[pdf_name("/Perms")] = generic.DictionaryObject({pdf_name("/DocMDP"): fake})
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    report = validate_pdf(m.add_annotation(out.getvalue()), trust)
    assert report.verdict is Verdict.INVALID and report.certification_level is None


def test_a_field_lock_without_the_signatures_fieldmdp_reference_still_holds(
        author, trust, monkeypatch):
    """pyHanko's analysis reads a lock only from the signature's /Reference FieldMDP; another
    product may write only the field's /Lock. Our check falls back to it."""
    import dataclasses

    from pyhanko.sign.signers.pdf_signer import PdfSigningSession

    original = PdfSigningSession._apply_locking_rules

    def without_fieldmdp_reference(self):
        return dataclasses.replace(original(self), field_lock=None)

    locked = m.form_pdf(make_demo_pdf(1), lock_first=m.lock("include", (m.TEXT_FIELD,)))
    monkeypatch.setattr(PdfSigningSession, "_apply_locking_rules", without_fieldmdp_reference)
    signed = m.approve(locked, author)
    monkeypatch.undo()
    assert b"/FieldMDP" not in signed and b"/Lock" in signed
    report = validate_pdf(m.fill_text(signed), trust)
    assert report.reason == "field_locked", report.explanation
