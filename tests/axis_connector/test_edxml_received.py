"""Parse once: read_package (an axis) and open_package (a recipient) give what the separate functions give."""

from __future__ import annotations

import datetime as dt

import pytest

from axis_connector.edxml import (
    VIETNAM_TZ,
    DocumentPackage,
    EdxmlError,
    SignatureError,
    StatusPackage,
    TraceHeader,
    add_trace_header,
    build_document_package,
    build_status_package,
    open_package,
    parse_document_package,
    parse_package,
    parse_status_package,
    read_package,
    sign_package,
    verify_package,
)

from .conftest import make_document, make_status
from .pki import Identity

STAMP = dt.datetime(2024, 5, 2, 9, 0, tzinfo=VIETNAM_TZ)


@pytest.fixture(scope="module")
def received(ca_mau_seal: Identity) -> bytes:
    """A document package as a recipient gets it after two axes."""
    data = sign_package(build_document_package(make_document()), ca_mau_seal.key, [ca_mau_seal.certificate])
    for axis in ("H12.LGSP", "VPCP.AXIS"):
        data = add_trace_header(data, TraceHeader(axis, STAMP))
    return data


def _error(call) -> EdxmlError:
    with pytest.raises(EdxmlError) as info:
        call()
    return info.value


def test_read_package_is_parse_verify_and_add_trace_header_from_one_parse(
    received: bytes, root_ca: Identity
) -> None:
    read = read_package(received)
    assert read.package == parse_package(received)
    assert read.verify([root_ca.certificate]) == verify_package(received, [root_ca.certificate])
    trace = TraceHeader("000.00.00.A01", STAMP)
    stored = read.with_trace_header(trace)
    assert stored == add_trace_header(received, trace)
    # Neither verifying nor adding a trace header changed what was read.
    assert read.with_trace_header(trace) == stored
    assert read.verify([root_ca.certificate]).trace_headers_after_signing == 2
    assert verify_package(stored, [root_ca.certificate]).trace_headers_after_signing == 3


def test_read_package_adds_a_trace_list_to_a_status_package_as_add_trace_header_does(
    root_ca: Identity, vpcp_seal: Identity
) -> None:
    data = sign_package(build_status_package(make_status()), vpcp_seal.key, [vpcp_seal.certificate])
    read = read_package(data)
    trace = TraceHeader("VPCP.AXIS", STAMP)
    assert read.with_trace_header(trace) == add_trace_header(data, trace)
    assert read.verify([root_ca.certificate]).trace_headers_after_signing == 0
    assert read.package == make_status()


def test_read_package_refuses_what_the_separate_functions_refuse(received: bytes, root_ca: Identity) -> None:
    broken = received.replace(b"<edXML:Priority>3<", b"<edXML:Priority>9<")
    error = _error(lambda: read_package(broken))
    expected = _error(lambda: parse_package(broken))
    assert (error.code, error.path, error.detail) == (expected.code, expected.path, expected.detail)
    tampered = read_package(received.replace(b"<edXML:CodeNumber>1234<", b"<edXML:CodeNumber>1235<"))
    with pytest.raises(SignatureError) as info:
        tampered.verify([root_ca.certificate])
    assert info.value.code == "digest_mismatch"
    with pytest.raises(EdxmlError) as bad_trace:
        read_package(received).with_trace_header(TraceHeader("has space", STAMP))
    assert bad_trace.value.code == "invalid_organ_id"
    with pytest.raises(TypeError):
        read_package(received).verify()


def test_open_package_is_verify_then_parse(received: bytes, root_ca: Identity, ca_mau_seal: Identity) -> None:
    result, package = open_package(received, [root_ca.certificate])
    assert result == verify_package(received, [root_ca.certificate])
    assert package == parse_package(received)
    assert open_package(received, [root_ca.certificate], expect=DocumentPackage)[1] == package

    def trust(signer, _others) -> None:
        if signer != ca_mau_seal.certificate:
            raise ValueError("không phải chứng thư đã đăng ký")

    assert open_package(received, trust_callback=trust)[0].chain == (ca_mau_seal.certificate,)
    with pytest.raises(TypeError):
        open_package(received)


def test_open_package_refuses_what_verify_then_parse_refuse(received: bytes, root_ca: Identity) -> None:
    cas = [root_ca.certificate]
    error = _error(lambda: open_package(received, cas, expect=StatusPackage))
    expected = _error(lambda: parse_status_package(received))
    assert (error.code, error.path, error.detail) == (expected.code, expected.path, expected.detail)
    # The signature is checked first: a tampered package that is also invalid is a digest mismatch.
    both = received.replace(b"<edXML:Priority>3<", b"<edXML:Priority>9<")
    with pytest.raises(SignatureError) as info:
        open_package(both, cas)
    assert info.value.code == "digest_mismatch"
    malformed = _error(lambda: open_package(received[:-20], cas))
    assert malformed.code == _error(lambda: verify_package(received[:-20], cas)).code == "malformed_xml"


def test_open_package_expecting_a_document_refuses_a_status(root_ca: Identity, vpcp_seal: Identity) -> None:
    data = sign_package(build_status_package(make_status()), vpcp_seal.key, [vpcp_seal.certificate])
    error = _error(lambda: open_package(data, [root_ca.certificate], expect=DocumentPackage))
    expected = _error(lambda: parse_document_package(data))
    assert (error.code, error.path, error.detail) == (expected.code, expected.path, expected.detail)
    assert open_package(data, [root_ca.certificate], expect=StatusPackage)[1] == make_status()
