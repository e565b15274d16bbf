"""XML-DSig over edXML packages: sign as the sender, verify against the PKI, refuse everything else."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import signxml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from axis_connector.edxml import (
    VIETNAM_TZ,
    SignatureError,
    StatusCode,
    TraceHeader,
    add_trace_header,
    build_document_package,
    build_status_package,
    organ_id_from_certificate,
    parse_package,
    sign_package,
    validate_schema,
    verify_package,
)
from axis_connector.edxml import signature as signature_module
from axis_connector.edxml.safe_xml import parse_xml

from .conftest import make_document, make_status
from .pki import Identity, make_agency

HEADER = "/edXML/edXMLEnvelope/edXMLHeader"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


@pytest.fixture(scope="module")
def document() -> bytes:
    return build_document_package(make_document())


@pytest.fixture(scope="module")
def signed(document: bytes, ca_mau_seal: Identity) -> bytes:
    return sign_package(document, ca_mau_seal.key, [ca_mau_seal.certificate])


def _refusal(data: bytes, trusted: list[x509.Certificate], **kwargs) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        verify_package(data, trusted, **kwargs)
    return info.value


def test_rsa_signed_package_verifies_and_names_its_signer(
    signed: bytes, root_ca: Identity, ca_mau_seal: Identity
) -> None:
    result = verify_package(signed, [root_ca.certificate])
    assert result.signer_certificate == ca_mau_seal.certificate
    assert result.chain == (ca_mau_seal.certificate, root_ca.certificate)
    assert result.signer_organ_id == result.sender_organ_id == "000.00.00.H12"
    assert result.signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert result.digest_method == "http://www.w3.org/2001/04/xmlenc#sha256"
    assert (result.weak_algorithm, result.warnings, result.trace_headers_after_signing) == (False, (), 0)


def test_signed_package_keeps_its_shape_and_content(signed: bytes) -> None:
    root = parse_xml(signed)
    header = root[0][0]
    assert [etree.QName(c).localname for c in header] == ["MessageHeader", "TraceHeaderList", "Signature"]
    signature = header[2]
    assert signature.find(f"{DS}SignedInfo/{DS}Reference").get("URI") == ""
    assert signature.find(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate") is not None
    assert signature.get("Id") is None
    assert b"<edXML:MessageHeader>" in signed and b"<edXML:Bussiness>" in signed
    validate_schema(signed)
    assert parse_package(signed) == make_document()


def test_ecdsa_signature_verifies(document: bytes, root_ca: Identity) -> None:
    seal = make_agency(
        root_ca, "000.00.00.H12", "UBND tỉnh Cà Mau (EC)", key=ec.generate_private_key(ec.SECP256R1())
    )
    result = verify_package(sign_package(document, seal.key, [seal.certificate]), [root_ca.certificate])
    assert result.signature_method.endswith("#ecdsa-sha256")
    assert result.signer_certificate == seal.certificate


def test_intermediate_ca_in_x509data_is_used_to_build_the_chain(document: bytes, root_ca: Identity) -> None:
    from .pki import make_ca

    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    self_signed = make_ca("Provincial CA", key=intermediate_key)
    # Re-issue the provincial CA under the root.
    builder = (
        x509.CertificateBuilder()
        .subject_name(self_signed.certificate.subject)
        .issuer_name(root_ca.certificate.subject)
        .public_key(intermediate_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(self_signed.certificate.not_valid_before_utc)
        .not_valid_after(self_signed.certificate.not_valid_after_utc)
    )
    for extension in self_signed.certificate.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    from cryptography.hazmat.primitives import hashes

    intermediate = Identity(intermediate_key, builder.sign(root_ca.key, hashes.SHA256()))
    seal = make_agency(intermediate, "000.00.00.H12", "UBND tỉnh Cà Mau")
    data = sign_package(document, seal.key, [seal.certificate, intermediate.certificate])
    result = verify_package(data, [root_ca.certificate])
    assert result.chain == (seal.certificate, intermediate.certificate, root_ca.certificate)
    with pytest.raises(SignatureError) as info:
        verify_package(sign_package(document, seal.key, [seal.certificate]), [root_ca.certificate])
    assert info.value.code == "untrusted_certificate"


def test_status_package_signs_and_verifies(root_ca: Identity, vpcp_seal: Identity) -> None:
    data = sign_package(
        build_status_package(make_status(StatusCode.REJECTED)), vpcp_seal.key, [vpcp_seal.certificate]
    )
    assert verify_package(data, [root_ca.certificate]).signer_organ_id == "000.00.00.G22"
    validate_schema(data)
    assert parse_package(data) == make_status(StatusCode.REJECTED)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Về việc triển khai", "Về viêc triển khai"),  # one letter of the subject
        ("<edXML:Priority>3<", "<edXML:Priority>2<"),  # a code
        ("<edXML:OrganId>000.00.00.G22<", "<edXML:OrganId>000.00.00.G23<"),  # a recipient
    ],
)
def test_one_character_changed_after_signing_is_refused(
    signed: bytes, root_ca: Identity, old: str, new: str
) -> None:
    text = signed.decode()
    tampered_text = text.replace(old, new, 1)
    assert sum(a != b for a, b in zip(text, tampered_text, strict=True)) == 1
    tampered = tampered_text.encode()
    error = _refusal(tampered, [root_ca.certificate])
    assert (error.code, error.path) == ("digest_mismatch", HEADER + "/Signature/SignedInfo/Reference")


def test_one_byte_of_the_attachment_changed_is_refused(signed: bytes, root_ca: Identity) -> None:
    start = signed.index(b"<edXML:ContentTransferEncoded>") + 1000
    flipped = b"B" if signed[start : start + 1] != b"B" else b"C"
    tampered = signed[:start] + flipped + signed[start + 1 :]
    assert _refusal(tampered, [root_ca.certificate]).code == "digest_mismatch"


def test_forged_signature_value_is_refused(signed: bytes, root_ca: Identity) -> None:
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", signed).group(1)
    raw = bytearray(base64.b64decode(value))
    raw[10] ^= 1
    tampered = signed.replace(value, base64.b64encode(bytes(raw)))
    assert _refusal(tampered, [root_ca.certificate]).code == "signature_invalid"


def test_signed_by_another_agency_is_refused_but_exposed(
    document: bytes, root_ca: Identity, vpcp_seal: Identity
) -> None:
    # VPCP's genuine seal signs a package that claims to come from Cà Mau.
    data = sign_package(document, vpcp_seal.key, [vpcp_seal.certificate])
    error = _refusal(data, [root_ca.certificate])
    assert (error.code, error.path) == ("sender_mismatch", HEADER + "/MessageHeader/From/OrganId")
    assert "000.00.00.H12" in str(error) and "000.00.00.G22" in str(error)
    result = verify_package(data, [root_ca.certificate], require_sender_match=False)
    assert (result.signer_organ_id, result.sender_organ_id) == ("000.00.00.G22", "000.00.00.H12")


def test_certificate_claiming_the_sender_from_an_untrusted_ca_is_refused(
    document: bytes, root_ca: Identity, rogue_ca: Identity
) -> None:
    impostor = make_agency(rogue_ca, "000.00.00.H12", "UBND tỉnh Cà Mau")
    data = sign_package(document, impostor.key, [impostor.certificate, rogue_ca.certificate])
    error = _refusal(data, [root_ca.certificate])
    assert (error.code, error.path) == ("untrusted_certificate", HEADER + "/Signature/KeyInfo/X509Data")
    assert verify_package(data, [rogue_ca.certificate]).signer_organ_id == "000.00.00.H12"


def test_expired_certificate_is_refused_unless_checked_at_signing_time(
    document: bytes, root_ca: Identity
) -> None:
    now = dt.datetime.now(dt.UTC)
    seal = make_agency(root_ca, "000.00.00.H12", "UBND tỉnh Cà Mau", not_after=now + dt.timedelta(hours=1))
    data = sign_package(document, seal.key, [seal.certificate])
    assert verify_package(data, [root_ca.certificate]).signer_certificate == seal.certificate
    later = now + dt.timedelta(days=2)
    assert _refusal(data, [root_ca.certificate], at=later).code == "untrusted_certificate"


def test_trust_callback_replaces_the_ca_list(
    signed: bytes, ca_mau_seal: Identity, vpcp_seal: Identity
) -> None:
    directory = {"000.00.00.H12": ca_mau_seal.certificate}
    seen: list[x509.Certificate] = []

    def trust(signer: x509.Certificate, others) -> None:
        seen.append(signer)
        if directory.get(organ_id_from_certificate(signer)) != signer:
            raise LookupError("không khớp danh bạ")

    assert verify_package(signed, trust_callback=trust).chain == (ca_mau_seal.certificate,)
    assert seen == [ca_mau_seal.certificate]
    directory["000.00.00.H12"] = vpcp_seal.certificate
    with pytest.raises(SignatureError) as info:
        verify_package(signed, trust_callback=trust)
    assert info.value.code == "untrusted_certificate" and "không khớp danh bạ" in str(info.value)
    with pytest.raises(TypeError):
        verify_package(signed)


class _Sha1Signer(signxml.XMLSigner):
    def check_deprecated_methods(self) -> None:  # an older system that still signs with SHA-1
        pass


def test_sha1_signature_from_an_older_system_verifies_with_a_warning(
    document: bytes, root_ca: Identity, ca_mau_seal: Identity
) -> None:
    root = parse_xml(document)
    etree.SubElement(root[0][0], f"{DS}Signature", {"Id": "placeholder"})
    signer = _Sha1Signer(
        signature_algorithm=signxml.SignatureMethod.RSA_SHA1,
        digest_algorithm=signxml.DigestAlgorithm.SHA1,
        c14n_algorithm=signxml.CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    data = etree.tostring(signer.sign(root, key=ca_mau_seal.key, cert=[ca_mau_seal.certificate]))
    result = verify_package(data, [root_ca.certificate])
    assert result.weak_algorithm is True and result.warnings
    assert result.signature_method.endswith("#rsa-sha1")


def test_trace_headers_added_by_the_axes_keep_the_signature_valid(signed: bytes, root_ca: Identity) -> None:
    stamp = dt.datetime(2024, 5, 2, 8, 31, tzinfo=VIETNAM_TZ)
    hopped = add_trace_header(signed, TraceHeader("H12.LGSP", stamp))
    hopped = add_trace_header(hopped, TraceHeader("VPCP.AXIS", stamp + dt.timedelta(seconds=2)))
    result = verify_package(hopped, [root_ca.certificate])
    assert result.trace_headers_after_signing == 2
    package = parse_package(hopped)
    assert [t.organ_id for t in package.trace] == ["000.00.00.H12", "H12.LGSP", "VPCP.AXIS"]
    validate_schema(hopped)
    # ...but the trace headers the sender signed are still protected.
    forged = hopped.replace(
        b"<edXML:Timestamp>2024/05/02 08:30:05<", b"<edXML:Timestamp>2024/05/02 08:30:06<"
    )
    assert _refusal(forged, [root_ca.certificate]).code == "digest_mismatch"


def test_trace_header_on_a_status_package_without_trace_list(root_ca: Identity, vpcp_seal: Identity) -> None:
    data = sign_package(build_status_package(make_status()), vpcp_seal.key, [vpcp_seal.certificate])
    hopped = add_trace_header(
        data, TraceHeader("VPCP.AXIS", dt.datetime(2024, 5, 2, 15, 0, tzinfo=VIETNAM_TZ))
    )
    assert verify_package(hopped, [root_ca.certificate]).trace_headers_after_signing == 2  # header + its list
    assert [t.organ_id for t in parse_package(hopped).trace] == ["VPCP.AXIS"]


def test_unsigned_package_is_refused(document: bytes, root_ca: Identity) -> None:
    error = _refusal(document, [root_ca.certificate])
    assert (error.code, error.path) == ("signature_missing", HEADER + "/Signature")


def test_signature_that_covers_only_part_of_the_package_is_refused(signed: bytes, root_ca: Identity) -> None:
    partial = signed.replace(b'<ds:Reference URI="">', b'<ds:Reference URI="#body">')
    assert _refusal(partial, [root_ca.certificate]).code == "signature_scope"


def test_second_or_misplaced_signature_is_refused(signed: bytes, root_ca: Identity) -> None:
    signature = re.search(rb"<ds:Signature .*</ds:Signature>", signed, re.DOTALL).group(0)
    doubled = signed.replace(b"</edXML:edXMLBody>", b"</edXML:edXMLBody>" + signature, 1)
    assert _refusal(doubled, [root_ca.certificate]).code == "signature_multiple"
    moved = signed.replace(signature, b"").replace(b"</edXML:edXMLBody>", signature + b"</edXML:edXMLBody>")
    assert _refusal(moved, [root_ca.certificate]).code == "signature_misplaced"


def test_signing_twice_is_refused(signed: bytes, ca_mau_seal: Identity) -> None:
    with pytest.raises(SignatureError) as info:
        sign_package(signed, ca_mau_seal.key, [ca_mau_seal.certificate])
    assert info.value.code == "already_signed"


def test_organ_id_convention_is_the_subject_uid(ca_mau_seal: Identity, root_ca: Identity) -> None:
    assert organ_id_from_certificate(ca_mau_seal.certificate) == "000.00.00.H12"
    assert organ_id_from_certificate(root_ca.certificate) is None


# --- how many trace headers were added after signing, with one signxml verification -------------

def _hops(data: bytes, *axes: str) -> bytes:
    stamp = dt.datetime(2024, 5, 2, 9, 0, tzinfo=VIETNAM_TZ)
    for axis in axes:
        data = add_trace_header(data, TraceHeader(axis, stamp))
    return data


@pytest.fixture
def signxml_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the full signxml verifications verify_package runs."""
    runs: list[int] = []
    original = signature_module._Verifier.verify

    def counted(self, *args, **kwargs):
        runs.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(signature_module._Verifier, "verify", counted)
    return runs


@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_a_package_that_passed_axes_is_verified_once(
    signed: bytes, root_ca: Identity, signxml_runs: list[int], hops: int
) -> None:
    received = _hops(signed, *[f"AXIS.{n}" for n in range(hops)])
    assert verify_package(received, [root_ca.certificate]).trace_headers_after_signing == hops
    assert len(signxml_runs) == 1


def test_a_tampered_package_that_passed_axes_is_refused_as_before(
    signed: bytes, root_ca: Identity, signxml_runs: list[int]
) -> None:
    received = _hops(signed, "H12.LGSP", "VPCP.AXIS")
    tampered = received.replace(b"<edXML:CodeNumber>1234<", b"<edXML:CodeNumber>1235<")
    error = _refusal(tampered, [root_ca.certificate])
    assert (error.code, error.path) == ("digest_mismatch", HEADER + "/Signature/SignedInfo/Reference")
    assert error.detail == "nội dung gói tin đã bị thay đổi sau khi ký (sai giá trị băm)"
    # No candidate matched (with 0 to 3 trace headers removed, the sender's own included), so signxml
    # has the last word on each, as before.
    assert len(signxml_runs) == 4


def test_a_forged_signature_value_after_axes_is_refused_as_before(signed: bytes, root_ca: Identity) -> None:
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", signed).group(1)
    raw = bytearray(base64.b64decode(value))
    raw[10] ^= 1
    forged = _hops(signed.replace(value, base64.b64encode(bytes(raw))), "VPCP.AXIS")
    assert _refusal(forged, [root_ca.certificate]).code == "signature_invalid"


def test_verification_leaves_the_parsed_tree_as_it_was(signed: bytes, root_ca: Identity) -> None:
    received = _hops(signed, "H12.LGSP", "VPCP.AXIS")
    root = parse_xml(received)
    before = etree.tostring(root)
    assert signature_module.verify_tree(root, [root_ca.certificate]).trace_headers_after_signing == 2
    assert etree.tostring(root) == before
    tampered = parse_xml(received.replace(b"<edXML:CodeNumber>1234<", b"<edXML:CodeNumber>1235<"))
    before = etree.tostring(tampered)
    with pytest.raises(SignatureError):
        signature_module.verify_tree(tampered, [root_ca.certificate])
    assert etree.tostring(tampered) == before


def test_signing_gives_what_signxml_gives(document: bytes, ca_mau_seal: Identity) -> None:
    root = parse_xml(document)
    etree.SubElement(root[0][0], f"{DS}Signature", {"Id": "placeholder"}, nsmap={"ds": DS[1:-1]})
    signer = signxml.XMLSigner(
        signature_algorithm=signxml.SignatureMethod.RSA_SHA256,
        digest_algorithm=signxml.DigestAlgorithm.SHA256,
        c14n_algorithm=signxml.CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    plain = signer.sign(root, key=ca_mau_seal.key, cert=[ca_mau_seal.certificate])
    # RSA PKCS#1 v1.5 signatures are deterministic, so the bytes must be the same.
    expected = etree.tostring(plain, xml_declaration=True, encoding="UTF-8")
    assert sign_package(document, ca_mau_seal.key, [ca_mau_seal.certificate]) == expected


def _signed_by_another_system(document: bytes, seal: Identity) -> bytes:
    """Pretty-printed, the signature between MessageHeader and TraceHeaderList with text after it,
    exclusive C14N: what a different producer might send."""
    root = parse_xml(etree.tostring(parse_xml(document), pretty_print=True))
    header = root[0][0]
    placeholder = etree.Element(f"{DS}Signature", {"Id": "placeholder"}, nsmap={"ds": DS[1:-1]})
    header.insert(1, placeholder)
    placeholder.tail = "\n      "
    signer = signxml.XMLSigner(
        signature_algorithm=signxml.SignatureMethod.RSA_SHA256,
        digest_algorithm=signxml.DigestAlgorithm.SHA512,
        c14n_algorithm=signxml.CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(root, key=seal.key, cert=[seal.certificate])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def test_another_producers_signature_after_axes_is_verified_once(
    document: bytes, root_ca: Identity, ca_mau_seal: Identity, signxml_runs: list[int]
) -> None:
    data = _signed_by_another_system(document, ca_mau_seal)
    assert b"</ds:Signature>\n      <edXML:TraceHeaderList>" in data
    received = _hops(data, "H12.LGSP", "VPCP.AXIS")
    result = verify_package(received, [root_ca.certificate])
    assert (result.trace_headers_after_signing, len(signxml_runs)) == (2, 1)
    assert result.digest_method.endswith("#sha512")
    root = parse_xml(received)
    before = etree.tostring(root)
    signature_module.verify_tree(root, [root_ca.certificate])
    assert etree.tostring(root) == before


def test_a_status_package_that_passed_an_axis_is_verified_once(
    root_ca: Identity, vpcp_seal: Identity, signxml_runs: list[int]
) -> None:
    data = sign_package(build_status_package(make_status()), vpcp_seal.key, [vpcp_seal.certificate])
    result = verify_package(_hops(data, "VPCP.AXIS"), [root_ca.certificate])
    assert (result.trace_headers_after_signing, len(signxml_runs)) == (2, 1)  # the header and its list


@pytest.mark.parametrize(("guess", "runs"), [(2, 1), (0, 3), (1, 3), (5, 2), (3, 2)])
def test_without_a_right_guess_each_candidate_is_tried_in_order(
    signed: bytes,
    root_ca: Identity,
    signxml_runs: list[int],
    monkeypatch: pytest.MonkeyPatch,
    guess: int | None,
    runs: int,
) -> None:
    # 2: right; else a wrong guess (5: more than the package holds, skipped; then 3), the nearest
    # candidates to it tried first (the package holds three trace headers, the sender's own
    # included: 0 to 3 can be removed).
    monkeypatch.setattr(signature_module, "_guessed_trace_count", lambda *_: guess)
    result = verify_package(_hops(signed, "H12.LGSP", "VPCP.AXIS"), [root_ca.certificate])
    assert (result.trace_headers_after_signing, len(signxml_runs)) == (2, runs)


@pytest.fixture
def chain_validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the certificate-chain validations verify_package really runs (cache misses)."""
    runs: list[int] = []
    real = signature_module._validate_chain
    monkeypatch.setattr(signature_module, "_chain_cache", type(signature_module._chain_cache)())
    monkeypatch.setattr(signature_module, "_validate_chain",
                        lambda *a: runs.append(1) or real(*a))
    return runs


def test_a_validated_chain_is_remembered_only_for_the_same_certificates_and_anchors(
        signed: bytes, root_ca: Identity, rogue_ca: Identity, chain_validations: list[int]) -> None:
    verify_package(signed, [root_ca.certificate])
    verify_package(signed, [root_ca.certificate])
    assert len(chain_validations) == 1
    # the same anchor read again (another object, the same DER): remembered; the anchor and
    # another certificate beside it: validated again
    from cryptography.hazmat.primitives.serialization import Encoding
    copy = x509.load_der_x509_certificate(root_ca.certificate.public_bytes(Encoding.DER))
    assert copy is not root_ca.certificate
    verify_package(signed, [copy])
    assert len(chain_validations) == 1
    verify_package(signed, [root_ca.certificate, rogue_ca.certificate])
    assert len(chain_validations) == 2
    del chain_validations[1:]
    with pytest.raises(SignatureError) as refused:  # other trust anchors: validated again, refused
        verify_package(signed, [rogue_ca.certificate])
    assert refused.value.code == "untrusted_certificate" and len(chain_validations) == 2
    with pytest.raises(SignatureError):  # refusals are never remembered
        verify_package(signed, [rogue_ca.certificate])
    assert len(chain_validations) == 3
    verify_package(signed, [root_ca.certificate], at=dt.datetime.now(dt.UTC))  # a given time: no cache
    assert len(chain_validations) == 4


def test_a_remembered_chain_expires_with_its_certificates(
        document: bytes, root_ca: Identity, chain_validations: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    seal = make_agency(root_ca, "000.00.00.H12", "UBND tỉnh Cà Mau", not_after=soon)
    package = sign_package(document, seal.key, [seal.certificate])
    verify_package(package, [root_ca.certificate])
    verify_package(package, [root_ca.certificate])
    assert len(chain_validations) == 1
    later = soon.timestamp() + 1  # past the certificate's expiry (within the 60 s): validated again
    monkeypatch.setattr(signature_module.time, "time", lambda: later)
    verify_package(package, [root_ca.certificate])
    assert len(chain_validations) == 2


# --- the verifier's copies: the same judgement as plain signxml ---------------------------------

def _config() -> signxml.SignatureConfiguration:
    return signxml.SignatureConfiguration(location=".//",
                                          signature_methods=signature_module._SIGNATURE_METHODS,
                                          digest_algorithms=signature_module._DIGESTS)


def _plain_signxml_accepts(root: etree._Element, cert: x509.Certificate) -> str:
    """Plain signxml (serialising and parsing its copies, as it does by itself) on the bytes of
    ``root``: "ok" or the name of the exception it raised."""
    try:
        signxml.XMLVerifier().verify(etree.tostring(root), x509_cert=cert, expect_config=_config())
    except Exception as exc:  # what it raised is what we compare
        return type(exc).__name__
    return "ok"


def _our_verifier_accepts(root: etree._Element, cert: x509.Certificate) -> str:
    before = etree.tostring(root)
    try:
        result = signature_module._Verifier().verify(root, x509_cert=cert, expect_config=_config())
    except Exception as exc:
        return type(exc).__name__
    finally:
        assert etree.tostring(root) == before  # the tree it was given is left as it was
    assert result.signed_data  # the canonical bytes signxml hashed are still handed back
    return "ok"


def _variants(signed: bytes, other: bytes) -> dict[str, bytes]:
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", signed).group(1)
    raw = bytearray(base64.b64decode(value))
    raw[7] ^= 4
    return {
        "as signed": signed,
        "another producer (pretty-printed, exclusive C14N, SHA-512)": other,
        "one character of the subject changed": signed.replace(b"<edXML:CodeNumber>1234<",
                                                               b"<edXML:CodeNumber>1235<"),
        "one character of the attachment changed": signed.replace(b">JVBERi0xLjcKAAECAwQF",
                                                                  b">JVBERi0xLjcKAAECAwQG", 1),
        "an attribute added to the root": signed.replace(b"<edXML:edXML ", b'<edXML:edXML data-x="1" ', 1),
        "whitespace added inside the body": signed.replace(b"<edXML:edXMLBody>", b"<edXML:edXMLBody>\n  ", 1),
        "the signature value forged": signed.replace(value, base64.b64encode(bytes(raw))),
        "the digest value changed": re.sub(rb"<ds:DigestValue>[^<]{4}", b"<ds:DigestValue>AAAA", signed,
                                           count=1),
    }


def test_verifier_judges_as_plain_signxml(document: bytes, signed: bytes, root_ca: Identity,
                                          ca_mau_seal: Identity) -> None:
    other = _signed_by_another_system(document, ca_mau_seal)
    outcomes = {}
    untouched = {"as signed", "another producer (pretty-printed, exclusive C14N, SHA-512)"}
    for name, data in _variants(signed, other).items():
        assert data != signed or name == "as signed", name  # each variant really changed something
        for hops in (0, 1, 2):
            root = parse_xml(_hops(data, *[f"AXIS.{n}" for n in range(hops)]))
            header = signature_module._header(root)
            for removed in range(hops + 1):  # every candidate verify_package may try
                with signature_module._without_last_trace_headers(header, removed):
                    ours = _our_verifier_accepts(root, ca_mau_seal.certificate)
                    plain = _plain_signxml_accepts(root, ca_mau_seal.certificate)
                assert ours == plain, (name, hops, removed)
                outcomes[(name, hops, removed)] = ours
    # and the comparison covered both answers: the untouched packages pass with exactly the
    # trace headers the axes added removed, the changed ones never
    for (name, hops, removed), outcome in outcomes.items():
        assert (outcome == "ok") == (name in untouched and removed == hops), (name, hops, removed, outcome)


@pytest.mark.parametrize("when", ["before", "inside", "after"])
def test_the_certificate_dates_are_judged_as_plain_signxml(signed: bytes, ca_mau_seal: Identity,
                                                            when: str) -> None:
    """_Verifier compares the certificate's dates before writing signxml's message: the same
    outcome and, outside the validity period, the same message."""
    cert = ca_mau_seal.certificate
    at = {"before": cert.not_valid_before_utc - dt.timedelta(days=1),
          "inside": cert.not_valid_before_utc + dt.timedelta(minutes=1),
          "after": cert.not_valid_after_utc + dt.timedelta(days=1)}[when]
    config = signxml.SignatureConfiguration(location=".//",
                                            signature_methods=signature_module._SIGNATURE_METHODS,
                                            digest_algorithms=signature_module._DIGESTS,
                                            verification_time=at)
    outcomes = []
    for verifier in (signxml.XMLVerifier(), signature_module._Verifier()):
        try:
            verifier.verify(parse_xml(signed), x509_cert=cert, expect_config=config)
            outcomes.append("ok")
        except signxml.exceptions.InvalidCertificate as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0] == "ok") == (when == "inside")


def test_signxml_copies_nodes_as_the_verifier_expects() -> None:
    """_Verifier hands a whole document from ``_tostring`` to ``_fromstring`` as a tree, and skips
    the parse of what ``_get_digest`` hashed: right only while signxml uses those methods that way.
    A signxml release that changes it fails here, not in production."""
    import inspect

    from signxml import processor, verifier

    for module in (processor, verifier):
        source = inspect.getsource(module)
        uses = source.count("self._tostring(")
        assert uses == source.count("self._fromstring(self._tostring("), module.__name__
    reference = inspect.getsource(verifier.XMLVerifier._verify_reference)
    assert reference.count("self._get_digest(payload_c14n") == 1
    assert "payload_c14n_xml = self._fromstring(payload_c14n)" in reference
    assert "except etree.XMLSyntaxError:\n            payload_c14n_xml = None" in reference


@pytest.mark.parametrize(("trace", "hops", "runs"), [
    ((), 1, 1),                      # the axes' trace headers only
    (("000.00.00.H12",), 2, 1),      # the sender's own trace header stays: it was signed
    (("H12.OTHER",), 1, 2),          # a trace header the sender signed under another code: one more try
])
def test_the_guess_reads_who_wrote_the_trace_headers(
    ca_mau_seal: Identity, root_ca: Identity, signxml_runs: list[int], trace: tuple[str, ...],
    hops: int, runs: int,
) -> None:
    stamp = dt.datetime(2024, 5, 2, 8, 0, tzinfo=VIETNAM_TZ)
    package = make_document(trace=tuple(TraceHeader(organ, stamp) for organ in trace))
    data = sign_package(build_document_package(package), ca_mau_seal.key, [ca_mau_seal.certificate])
    received = _hops(data, *[f"AXIS.{n}" for n in range(hops)])
    result = verify_package(received, [root_ca.certificate])
    assert (result.trace_headers_after_signing, len(signxml_runs)) == (hops, runs)
