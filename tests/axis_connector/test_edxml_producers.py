"""Packages as other producers write them: each tolerance of docs/edxml.md ("Received as other
producers write it") on a hand-written package, and what stays refused."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from axis_connector.edxml import (
    VIETNAM_TZ,
    BusinessDocType,
    DocumentPackage,
    EdxmlError,
    EnvelopeSignature,
    SignatureError,
    StatusCode,
    StatusPackage,
    open_package,
    open_received_package,
    parse_package,
)
from axis_connector.edxml.values import parse_date, parse_timestamp

from .pki import Identity
from .producers import (
    DSIG,
    Producer,
    axis_trace_header,
    status_package,
    xmldsig_sha1,
)

SENDER, RECIPIENT = "000.00.00.H12", "000.00.00.G22"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def producer(**changes) -> Producer:
    values = dict(sender=SENDER, sender_name="UBND tỉnh Cà Mau", recipient=RECIPIENT,
                  document_id=f"{SENDER},2026/11/20,215/UBND-VP",
                  files=(("cong-van-215.pdf", "application/pdf", PDF),))
    values.update(changes)
    return Producer(**values)


def test_unprefixed_root_with_the_prefix_declared_and_attachments_beside_the_envelope() -> None:
    """rule unprefixed-root, wrapped-base64"""
    package = parse_package(producer().document())
    assert isinstance(package, DocumentPackage)
    assert package.sender.organ_id == SENDER and package.recipients[0].organ_id == RECIPIENT
    assert package.subject == "V/v triển khai kết nối trục liên thông văn bản quốc gia"
    assert [(a.name, a.data) for a in package.attachments] == [("cong-van-215.pdf", PDF)]
    assert package.business.doc_type is BusinessDocType.NEW
    assert package.business.document_id == package.document_id  # an empty Bussiness/DocumentId


def test_base64_on_one_line_or_wrapped_reads_the_same() -> None:
    assert (parse_package(producer(wrap=False).document()).attachments
            == parse_package(producer(wrap=True).document()).attachments)


def test_malformed_base64_is_still_refused() -> None:
    data = producer(wrap=False).document()
    encoded = base64.b64encode(PDF)
    broken = data.replace(encoded[:8], b"%%%%%%%%")
    with pytest.raises(EdxmlError) as info:
        parse_package(broken)
    assert info.value.code == "invalid_base64"


def test_real_sha1_xmldsig_verifies_with_a_warning(ca_mau_seal: Identity, root_ca: Identity) -> None:
    """rule envelope-xmldsig-sha1: inclusive C14N, rsa-sha1, sha1 digest, enveloped transform."""
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    check, package = open_received_package(signed, [root_ca.certificate])
    assert check.signature is EnvelopeSignature.VERIFIED
    assert check.verification is not None and check.verification.weak_algorithm
    assert check.verification.signature_method.endswith("#rsa-sha1")
    assert "SHA-1" in check.detail
    assert package.document_id == f"{SENDER},2026/11/20,215/UBND-VP"
    # the strict entry point (our hub, our own packages) judges it the same way
    assert open_package(signed, [root_ca.certificate])[0].weak_algorithm


def test_real_sha1_xmldsig_with_an_exc_c14n_transform_verifies(ca_mau_seal: Identity,
                                                                root_ca: Identity) -> None:
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate,
                          exclusive_transform=True)
    assert b"xml-exc-c14n#" in signed
    check, _ = open_received_package(signed, [root_ca.certificate])
    assert check.signature is EnvelopeSignature.VERIFIED


def test_axis_trace_header_without_organ_id_keeps_the_signature_valid(
        ca_mau_seal: Identity, root_ca: Identity) -> None:
    """rule axis-trace-without-organ-id"""
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    hopped = axis_trace_header(signed)
    check, package = open_received_package(hopped, [root_ca.certificate])
    assert check.verified and check.verification.trace_headers_after_signing == 1
    assert [t.organ_id for t in package.trace] == [SENDER, ""]
    assert package.trace[1].timestamp == dt.datetime(2026, 11, 20, 8, 15, 9, tzinfo=VIETNAM_TZ)


def test_a_trace_header_with_a_bad_organ_id_is_still_refused() -> None:
    data = producer().document().replace(f"<OrganId>{SENDER}</OrganId>\n<Timestamp>".encode(),
                                         b"<OrganId>a b</OrganId>\n<Timestamp>")
    with pytest.raises(EdxmlError) as info:
        parse_package(data)
    assert info.value.code == "invalid_organ_id"


def test_tampered_real_xmldsig_is_refused(ca_mau_seal: Identity, root_ca: Identity) -> None:
    """A real XML-DSig that fails on its digest: refused, never downgraded to "unsigned"."""
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    tampered = signed.replace("V/v triển khai".encode(), "V/v hủy bỏ".encode())
    with pytest.raises(SignatureError) as info:
        open_received_package(tampered, [root_ca.certificate])
    assert info.value.code == "digest_mismatch"


def test_real_xmldsig_with_a_forged_value_of_real_length_is_refused(ca_mau_seal: Identity,
                                                                   root_ca: Identity) -> None:
    forged = base64.b64encode(bytes(256)).decode()
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate,
                          signature_value=forged)
    with pytest.raises(SignatureError) as info:
        open_received_package(signed, [root_ca.certificate])
    assert info.value.code == "signature_invalid"


def test_real_xmldsig_by_a_foreign_ca_is_refused(rogue_ca: Identity, root_ca: Identity) -> None:
    from .pki import make_agency

    rogue = make_agency(rogue_ca, SENDER, "UBND tỉnh Cà Mau (giả)")
    signed = xmldsig_sha1(producer().document(), rogue.key, rogue.certificate)
    with pytest.raises(SignatureError) as info:
        open_received_package(signed, [root_ca.certificate])
    assert info.value.code == "untrusted_certificate"


@pytest.mark.parametrize(("signature", "kind"), [
    ("", EnvelopeSignature.ABSENT),
    ("<Signature/>", EnvelopeSignature.EMPTY),
    (f'<Signature xmlns="{DSIG}"/>', EnvelopeSignature.EMPTY),
    ("<Signature>MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A</Signature>", EnvelopeSignature.NOT_XMLDSIG),
    ("<Signature><SignatureValue>abc</SignatureValue></Signature>", EnvelopeSignature.NOT_XMLDSIG),
], ids=["absent", "empty", "empty-xmldsig", "bare-qcvn-text", "bare-qcvn-children"])
def test_unsigned_envelopes_are_received_and_say_which(signature: str, kind: EnvelopeSignature,
                                                       root_ca: Identity) -> None:
    """rules envelope-absent, envelope-empty, envelope-not-xmldsig"""
    check, package = open_received_package(producer(signature=signature).document(),
                                           [root_ca.certificate])
    assert check.signature is kind and check.verification is None
    assert check.detail.startswith("phong bì không ký số")
    assert package.attachments[0].data == PDF
    with pytest.raises(SignatureError) as info:  # the strict entry point still refuses
        open_package(producer(signature=signature).document(), [root_ca.certificate])
    assert info.value.code in ("signature_missing", "signature_invalid")


@pytest.mark.parametrize("value", ["", "...", "SignatureValue", base64.b64encode(b"x" * 20).decode()],
                         ids=["empty", "dots", "word", "too-short"])
def test_placeholder_signature_value_is_received_as_unverifiable(
        value: str, ca_mau_seal: Identity, root_ca: Identity) -> None:
    """rule envelope-placeholder (the gray case): XML-DSig in shape, a value no signer made."""
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate,
                          signature_value=value)
    check, _ = open_received_package(signed, [root_ca.certificate])
    assert check.signature is EnvelopeSignature.PLACEHOLDER
    assert check.detail.startswith("chữ ký phong bì không kiểm tra được")


def test_placeholder_certificate_is_received_as_unverifiable(ca_mau_seal: Identity,
                                                             root_ca: Identity) -> None:
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    start = signed.index(b"<X509Certificate>") + len(b"<X509Certificate>")
    end = signed.index(b"</X509Certificate>")
    check, _ = open_received_package(signed[:start] + b"MIIC" + signed[end:], [root_ca.certificate])
    assert check.signature is EnvelopeSignature.PLACEHOLDER


def test_two_signatures_are_still_refused(ca_mau_seal: Identity, root_ca: Identity) -> None:
    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    start = signed.index(b"<Signature xmlns=")
    end = signed.index(b"</Signature>") + len(b"</Signature>")
    twice = signed[:end] + signed[start:end] + signed[end:]
    with pytest.raises(SignatureError) as info:
        open_received_package(twice, [root_ca.certificate])
    assert info.value.code == "signature_multiple"


def test_revocation_names_its_target_in_response_for() -> None:
    """rule business-targets"""
    target = f"{SENDER},2026/11/01,200/UBND-VP"
    package = parse_package(producer(doc_type=1, reason="Ban hành nhầm", response_for=target).document())
    assert package.business.doc_type is BusinessDocType.REVOKE
    assert package.response_for[0].document_id == target


def test_revocation_without_response_for_is_refused() -> None:
    with pytest.raises(EdxmlError) as info:
        parse_package(producer(doc_type=1, reason="Ban hành nhầm").document())
    assert (info.value.code, info.value.path.endswith("/ResponseFor")) == ("missing_element", True)


def test_update_without_response_for_names_its_target_in_business() -> None:
    """rule target-without-response-for (update)"""
    target = f"{SENDER},2026/11/01,200/UBND-VP"
    package = parse_package(producer(doc_type=2, reason="Sửa trích yếu",
                                     business_document_id=target).document())
    assert package.business.doc_type is BusinessDocType.UPDATE
    assert package.response_for == () and package.business.document_id == target


def test_replacement_without_response_for_names_its_targets_in_the_list() -> None:
    """rule target-without-response-for (replacement)"""
    old = f"{SENDER},2026/11/01,200/UBND-VP"
    package = parse_package(producer(doc_type=3, reason="Thay thế",
                                     replacements=((old, (RECIPIENT,)),)).document())
    assert package.response_for == ()
    assert [(r.document_id, r.organ_ids) for r in package.business.replacements] == [(old, (RECIPIENT,))]


def test_replacement_without_any_target_is_refused() -> None:
    with pytest.raises(EdxmlError) as info:
        parse_package(producer(doc_type=3, reason="Thay thế").document())
    assert info.value.path.endswith("/ReplacementInfoList")


def test_day_first_dates_are_read() -> None:
    """rule date-day-first"""
    package = parse_package(producer(date="20/11/2026", timestamp="20/11/2026 08:15:02").document())
    assert package.promulgation.date == dt.date(2026, 11, 20)
    assert package.trace[0].timestamp == dt.datetime(2026, 11, 20, 8, 15, 2, tzinfo=VIETNAM_TZ)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026/03/04", dt.date(2026, 3, 4)),
    ("04/03/2026", dt.date(2026, 3, 4)),   # day first, never month first
    ("31/12/2026", dt.date(2026, 12, 31)),
])
def test_both_date_forms(text: str, expected: dt.date) -> None:
    assert parse_date(text, "/p") == expected


@pytest.mark.parametrize("text", [
    "12/25/2026",     # month first (US): not a real day-first date, never re-read
    "04/03/26",       # two-digit year
    "4/3/2026",       # one-digit fields
    "2026-03-04",     # another separator
    "31/02/2026",     # not a real date
    "2026/25/12",
])
def test_other_date_forms_are_refused(text: str) -> None:
    with pytest.raises(EdxmlError) as info:
        parse_date(text, "/p")
    assert info.value.code == "invalid_date"


def test_day_first_timestamp_and_refusals() -> None:
    assert parse_timestamp("21/11/2026 09:00:00", "/p").day == 21
    with pytest.raises(EdxmlError):
        parse_timestamp("11/21/2026 09:00:00", "/p")


def test_status_package_as_the_spec_writes_it() -> None:
    """rule status-shape: no To, no body, unprefixed, unsigned."""
    document_id = f"{RECIPIENT},2026/11/20,215/VPCP"
    check, package = open_received_package(
        status_package(SENDER, RECIPIENT, document_id, date="20/11/2026"),
        trust_callback=lambda *_: None, expect=StatusPackage)
    assert check.signature is EnvelopeSignature.ABSENT
    assert package.status is StatusCode.REGISTERED
    assert package.response_for.document_id == document_id
    assert package.recipients == () and package.staff.staff == "Phạm Thị Thu"


def test_plain_signxml_fails_such_a_signature_which_is_why_the_verifier_canonicalizes_apart(
        ca_mau_seal: Identity) -> None:
    """libxml2 writes a wrong xmlns="" inside SignedInfo under <Signature xmlns="...xmldsig#">
    in a document whose default namespace is QCVN; when this test fails, libxml2 is fixed and
    ``_Verifier._c14n`` can go."""
    import signxml

    signed = xmldsig_sha1(producer().document(), ca_mau_seal.key, ca_mau_seal.certificate)
    config = signxml.SignatureConfiguration(signature_methods=frozenset(signxml.SignatureMethod),
                                            digest_algorithms=frozenset(signxml.DigestAlgorithm))
    with pytest.raises(signxml.exceptions.InvalidSignature):
        signxml.XMLVerifier().verify(signed, x509_cert=ca_mau_seal.certificate, expect_config=config)


def test_our_output_never_uses_the_tolerated_forms(ca_mau_seal: Identity, root_ca: Identity) -> None:
    """Our own packages stay strict: prefixed, dates yyyy/MM/dd, trace headers with OrganId,
    ResponseFor on updates and replacements, one line of base64, signed with SHA-256, valid
    against our XSD."""
    import re

    from lxml import etree

    from axis_connector.edxml import (
        NAMESPACE,
        build_document_package,
        build_status_package,
        sign_package,
        validate_schema,
        verify_package,
    )
    from axis_connector.edxml.safe_xml import parse_xml

    from .conftest import make_document, make_status

    date = re.compile(r"\d{4}/\d{2}/\d{2}( \d{2}:\d{2}:\d{2})?")
    built = [build_document_package(make_document(kind)) for kind in BusinessDocType]
    built.append(build_status_package(make_status()))
    for data in built:
        signed = sign_package(data, ca_mau_seal.key, [ca_mau_seal.certificate])
        validate_schema(signed)
        result = verify_package(signed, [root_ca.certificate], require_sender_match=False)
        assert result.signature_method.endswith("rsa-sha256") and result.digest_method.endswith("sha256")
        assert not result.weak_algorithm
        assert re.findall(rb"<(?!edXML:|ds:|/|\?)", signed) == []  # every element prefixed
        root = parse_xml(signed)
        for element in root.iter(f"{{{NAMESPACE}}}*"):
            name = etree.QName(element).localname
            if name in ("PromulgationDate", "DueDate", "Timestamp"):
                assert date.fullmatch(element.text or ""), (name, element.text)
            if name == "TraceHeader":
                assert element.find(f"{{{NAMESPACE}}}OrganId").text
            if name == "ContentTransferEncoded":
                assert not re.search(r"\s", element.text or "")
        package = parse_package(signed)
        if isinstance(package, DocumentPackage) and package.business.doc_type is not BusinessDocType.NEW:
            assert package.response_for
        check, _ = open_received_package(signed, [root_ca.certificate], require_sender_match=False)
        assert check.verified and check.detail == ""


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "sha1-xmldsig"])
def test_received_through_files_as_in_memory(signed: bool, ca_mau_seal: Identity,
                                              root_ca: Identity) -> None:
    """A large package (read through temporary files, see docs/edxml.md "Large packages") is
    judged by open_received_package exactly as a small one."""
    from axis_connector.edxml import ParseLimits

    data = producer().document()
    if signed:
        data = axis_trace_header(xmldsig_sha1(data, ca_mau_seal.key, ca_mau_seal.certificate))
    small = open_received_package(data, [root_ca.certificate])
    large = open_received_package(data, [root_ca.certificate], limits=ParseLimits(stream_above=0))
    assert large[0].signature is small[0].signature
    assert large[1] == small[1] and large[1].attachments[0].data == PDF
