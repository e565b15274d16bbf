"""The pyHanko speed-ups are active on the pinned versions and behave exactly as the originals."""

from __future__ import annotations

import io
import random
from importlib.metadata import version

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.sign.validation import generic_cms

from signing import _pyhanko_speedups

HEX = "generic.read_hex_string_from_stream"
PREP = "NameTypeAndValue._ldap_string_prep"
NAME_EQ = "Name.__eq__"
CERT_USAGE = "generic_cms.validate_cert_usage"
CERT_EXTRACTION = "generic_cms.extract_certs_for_validation"
ESS_CERTID = "generic_cms.check_ess_certid"
WHITESPACE = b"\x00\t\n\x0c\r "


def test_active_with_the_pinned_versions():
    assert version("pyhanko").startswith("0.38.") and version("asn1crypto") == "1.5.1"
    assert _pyhanko_speedups.active() == {HEX: True, PREP: True, NAME_EQ: True,
                                          CERT_USAGE: True, CERT_EXTRACTION: True,
                                          ESS_CERTID: True}, (
        "a pyHanko or asn1crypto upgrade changed a function signing/_pyhanko_speedups.py "
        "replaces: check the replacement against the new code, then update its fingerprint"
    )
    assert generic.read_hex_string_from_stream.__wrapped__ is _pyhanko_speedups.original(HEX)


@pytest.mark.parametrize(("label", "current", "other"), [
    (HEX, lambda: generic.read_hex_string_from_stream, NAME_EQ),
    (CERT_USAGE, lambda: generic_cms.validate_cert_usage, HEX),
    (CERT_EXTRACTION, lambda: generic_cms.extract_certs_for_validation, CERT_USAGE),
    (ESS_CERTID, lambda: generic_cms.check_ess_certid, CERT_EXTRACTION),
], ids=["hex-reader", "cert-usage", "cert-extraction", "ess-certid"])
def test_a_changed_original_is_left_alone(monkeypatch, label, current, other):
    patch = next(p for p in _pyhanko_speedups._PATCHES if p.label == label)
    original = _pyhanko_speedups.original(label)
    try:
        _pyhanko_speedups.uninstall()
        assert current() is original
        monkeypatch.setattr(patch, "fingerprint", "0" * 64)  # as if pyHanko had changed it
        _pyhanko_speedups.install()
        assert current() is original
        assert _pyhanko_speedups.active()[label] is False
        assert _pyhanko_speedups.active()[other] is True
    finally:
        monkeypatch.undo()
        _pyhanko_speedups.install()
    assert _pyhanko_speedups.active()[label] is True


# --- the hex string reader ------------------------------------------------------------------

def _outcome(fn, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = fn(stream)
    except Exception as exc:  # the exception itself is the outcome to compare
        return ("raised", type(exc), str(exc), stream.tell())
    return (type(value), value, getattr(value, "autodetected_encoding", None), stream.tell())


def _same_as_original(data: bytes) -> None:
    fast = _outcome(generic.read_hex_string_from_stream, data)
    assert fast == _outcome(_pyhanko_speedups.original(HEX), data), data[:80]


def _sprinkle(rng: random.Random, digits: bytes, rate: float) -> bytes:
    out = bytearray()
    for d in digits:
        while rng.random() < rate:
            out += rng.choice(WHITESPACE).to_bytes(1, "big")
        out.append(d)
    return bytes(out)


@pytest.mark.parametrize("data", [
    b"<>", b"< >", b"<\x00\t\n\x0c\r >", b"<41>", b"<4>", b"<414>", b"<aBcDeF>", b"<ABCDEF>",
    b"<FEFF00410042>", b"<FEFF004>", b"<EFBBBF41>", b"<c3a9>", b"<ff>",
    b"<41 42\n43\r\n44>", b"<4 1>", b"<41>>", b"<41> 0 R >>", b"<41><42>",
    b"<41 % a comment\n42>", b"<41%>\n42>", b"<%\n>", b"<4G>", b"<41 (42)>", b"<41/>",
    b"<41\x80>", b"<41\xff42>", b"<41<42>", b"<41", b"<41 ", b"<", b"", b"<41 % no end",
    b"<41>" + b"\x00" * 20_000, b"< 4 >trailing bytes", b"<0>", b"<00>", b"<" + b"9" * 7 + b">",
])
def test_hex_reader_same_result_errors_and_position(data):
    _same_as_original(data)


def test_hex_reader_random_strings():
    rng = random.Random(20240502)
    for _ in range(400):
        n = rng.choice([0, 1, 2, 3, rng.randrange(200), rng.randrange(40_000)])
        digits = bytes(rng.choice(b"0123456789abcdefABCDEF") for _ in range(n))
        body = _sprinkle(rng, digits, rng.choice([0.0, 0.05, 0.5]))
        tail = rng.choice([b"", b">", b"> /Type /Sig >>", b">>", b"\n%%EOF"])
        if rng.random() < 0.2 and body:  # an invalid byte somewhere
            i = rng.randrange(len(body))
            body = body[:i] + bytes([rng.choice(b"gGxz%(<[/\x80\xff")]) + body[i:]
        _same_as_original(b"<" + body + tail)


@pytest.mark.parametrize("at", [16 * 1024 - 2, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1])
def test_hex_reader_around_its_read_size(at):
    body = b"a" * at
    _same_as_original(b"<" + body + b">tail")
    _same_as_original(b"<" + body + b"%c\n>tail")
    _same_as_original(b"<" + body + b"z>tail")
    _same_as_original(b"<" + body)


def test_hex_reader_from_an_offset_inside_a_larger_stream():
    data = b"1 0 obj\n<</Contents <" + b"0a" * 9000 + b"> /Type /Sig>>\nendobj\n"
    start = data.index(b"<0a")
    results = []
    for fn in (generic.read_hex_string_from_stream, _pyhanko_speedups.original(HEX)):
        stream = io.BytesIO(data)
        stream.seek(start)
        results.append((fn(stream), stream.tell(), stream.read(7)))
    assert results[0] == results[1]
    assert results[0][2] == b" /Type "


def test_read_object_goes_through_the_module_global(monkeypatch):
    calls = []
    fast = generic.read_hex_string_from_stream
    monkeypatch.setattr(generic, "read_hex_string_from_stream",
                        lambda stream: calls.append(1) or fast(stream))
    obj = generic.read_object(io.BytesIO(b"[<3031> <FEFF0041>]"), None)
    assert list(obj) == ["01", "A"] and len(calls) == 2


# --- the name comparison memos ----------------------------------------------------------------

PREP_CASES = [
    "Bộ Nội vụ", "BỘ NỘI VỤ", "Bo\u0323\u0302 No\u0323\u0302i vu\u0323", "  spaced   out  ", "",
    "tab\there", "soft\u00adhyphen", "ZERO\u200bWIDTH", "ﬁ ligature", "Ⅻ", "ß straße",
    "\ue000 private use", "\ufffd replacement", "\U000e0001 tag", "\u05d0\u05d1 hebrew",
    "\u05d0 mixed a", "a \u0627", "\u0378 unassigned", "\ud800", "x" * 200,
]


def _prep_outcome(fn, value):
    try:
        return ("ok", fn(None, value))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("value", PREP_CASES)
def test_string_prep_memo_same_result_or_error(value):
    original = _pyhanko_speedups.original(PREP)
    memo = asn1_x509.NameTypeAndValue._ldap_string_prep
    expected = _prep_outcome(original, value)
    assert _prep_outcome(memo, value) == expected
    assert _prep_outcome(memo, value) == expected  # a refused value raises again


def test_string_prep_memo_passes_other_types_to_the_original():
    with pytest.raises(TypeError):
        _pyhanko_speedups.original(PREP)(None, b"bytes")
    with pytest.raises(TypeError):
        asn1_x509.NameTypeAndValue._ldap_string_prep(None, b"bytes")


def _name(*rdns, kind: str = "utf8_string") -> asn1_x509.Name:
    seq = []
    for rdn in rdns:
        seq.append(asn1_x509.RelativeDistinguishedName([
            asn1_x509.NameTypeAndValue({"type": t, "value": asn1_x509.DirectoryString(
                name="printable_string" if t == "country_name" else kind, value=v)})
            for t, v in rdn
        ]))
    # round-trip through DER, as names arrive in certificates
    return asn1_x509.Name.load(asn1_x509.Name(name="", value=asn1_x509.RDNSequence(seq)).dump())


def _names() -> list[asn1_x509.Name]:
    c, o = ("country_name", "VN"), ("organization_name", "Ban Cơ yếu Chính phủ")
    return [
        _name([c], [o], [("common_name", "Bộ Nội vụ")]),
        _name([c], [o], [("common_name", "Bộ Nội vụ")], kind="bmp_string"),  # other encoding
        _name([c], [o], [("common_name", "BỘ NỘI  VỤ ")]),  # case and spaces
        _name([c], [o], [("common_name", "Bo\u0323\u0302 No\u0323\u0302i vu\u0323")]),  # NFD
        _name([c], [o], [("common_name", "Bộ Tư pháp")]),
        _name([c], [o]),
        _name([o], [c], [("common_name", "Bộ Nội vụ")]),  # order matters
        _name([c, o], [("common_name", "Bộ Nội vụ")]),  # multi-valued RDN
        _name([o, c], [("common_name", "Bộ Nội vụ")]),
        _name([c], [o], [("common_name", "Bộ Nội vụ"), ("common_name", "Bộ Nội vụ")]),
        _name([c], [o], [("common_name", "\ue000 riêng")]),  # refused by the preparation
        _name([c], [("organization_name", "Ban Cơ yếu \ue000")], [("common_name", "Bộ Nội vụ")]),
    ]


def _eq_outcome(fn, a, b):
    try:
        return ("ok", fn(a, b))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def test_name_equality_memo_same_as_original_on_every_pair():
    original = _pyhanko_speedups.original(NAME_EQ)
    names = _names()
    for _ in range(2):  # the second time from the memo
        for a in names:
            for b in [*_names(), None, "Bộ Nội vụ"]:
                expected = _eq_outcome(original, a, b)
                assert _eq_outcome(asn1_x509.Name.__eq__, a, b) == expected
                if expected[0] == "ok":
                    assert (a != b) is not expected[1]
    # the cases compare as intended: encodings, case, spaces and NFD do not matter
    assert names[0] == names[1] == names[2] == names[3] and names[0] != names[4]
    assert names[7] == names[8] and names[9] != names[0]
    with pytest.raises(ValueError):
        assert names[0] == names[10]


# --- the CMS certificates of a signature ------------------------------------------------------

def _signed_data(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0].signed_data


def test_cert_extraction_remembered_per_signed_data_object(seal, seal_ec, trust, demo_pdf,
                                                            monkeypatch):
    import gc

    from signing import sign_pdf, validate_pdf

    original = _pyhanko_speedups.original(CERT_EXTRACTION)
    pdf = sign_pdf(demo_pdf, seal, trust=trust)
    calls: list[int] = []
    replacement = generic_cms.extract_certs_for_validation
    memo = replacement.remembered
    # the replacement calls the original it was built from: count through a wrapper around it
    patch = next(p for p in _pyhanko_speedups._PATCHES if p.label == CERT_EXTRACTION)
    counting = _pyhanko_speedups._memo_cert_extraction(
        lambda sd: calls.append(id(sd)) or original(sd))
    monkeypatch.setattr(generic_cms, "extract_certs_for_validation", counting)
    try:
        report = validate_pdf(pdf, trust)
        assert report.verdict.value == "valid" and report.signatures[0].signer_name
        assert len(calls) == 1  # signer_cert for the report, then cms_basic_validation: once
        signed_data = _signed_data(pdf)
        expected = original(signed_data)
        first = counting(signed_data)
        # another object holding the same certificates, signer and signing-certificate
        # attribute (another document sealed by the same agency): what it reads decides
        assert counting(signed_data) is first and len(calls) == 1
        other = _signed_data(sign_pdf(demo_pdf, seal_ec, trust=trust))  # another seal
        assert counting(other).signer_cert.dump() == original(other).signer_cert.dump()
        assert len(calls) == 2
        assert first.signer_cert.dump() != counting(other).signer_cert.dump() and len(calls) == 2
        assert len(counting.remembered_by_inputs) == 2  # one entry per seal
        del other
        assert first.signer_cert.dump() == expected.signer_cert.dump()
        assert [c.dump() for c in first.other_certs] == [c.dump() for c in expected.other_certs]
        key = id(signed_data)
        assert key in counting.remembered
        del signed_data, first
        gc.collect()
        assert key not in counting.remembered  # gone with the object it was about
    finally:
        monkeypatch.undo()
    assert generic_cms.extract_certs_for_validation is replacement and patch.installed
    assert isinstance(memo, dict)


def test_cert_extraction_errors_are_not_remembered(seal, trust, demo_pdf):
    from pyhanko.sign.validation.errors import SignatureValidationError

    from signing import sign_pdf

    signed_data = _signed_data(sign_pdf(demo_pdf, seal, trust=trust))
    # a signature whose CMS carries no certificates: the signer's cannot be found
    signed_data["certificates"] = None
    for _ in range(2):
        with pytest.raises(SignatureValidationError, match="signer certificate not included"):
            generic_cms.extract_certs_for_validation(signed_data)
    assert id(signed_data) not in generic_cms.extract_certs_for_validation.remembered


# --- the signing-certificate attribute ----------------------------------------

def test_signing_certificate_checks_match_the_original(seal, seal_ec, trust, demo_pdf) -> None:
    from signing import sign_pdf

    original = _pyhanko_speedups.original(ESS_CERTID)
    sealed = {key: _signed_data(sign_pdf(demo_pdf, credential, trust=trust))
              for key, credential in (("rsa", seal), ("ec", seal_ec))}
    certs = {k: generic_cms.extract_certs_for_validation(sd).signer_cert for k, sd in sealed.items()}
    certids = {k: generic_cms.get_signing_cert_attr(
        generic_cms.extract_signer_info(sd)["signed_attrs"])["certs"][0] for k, sd in sealed.items()}
    for cert_of in ("rsa", "ec"):
        for certid_of in ("rsa", "ec"):
            expected = original(certs[cert_of], certids[certid_of])
            assert expected is (cert_of == certid_of)
            for _ in range(2):
                assert generic_cms.check_ess_certid(certs[cert_of], certids[certid_of]) is expected
