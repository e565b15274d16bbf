"""Large packages through files (axis_connector.edxml.stream): the same bytes, objects, verdicts and
refusals as the in-memory functions, in bounded memory."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from axis_connector.edxml import (
    DocumentPackage,
    EdxmlError,
    ParseLimits,
    SignatureError,
    StatusPackage,
    TraceHeader,
    add_trace_header,
    build_document_package,
    build_package,
    parse_package,
    sign_package,
)
from axis_connector.edxml.stream import (
    SpooledFile,
    build_package_file,
    open_package_file,
    read_package_file,
    sign_package_file,
)

from .conftest import PDF, make_document, make_status
from .pki import Identity
from .test_edxml_safe_parsing import BILLION_LAUGHS, _nested, _xxe

HUGE = ParseLimits(max_bytes=1 << 30, allow_huge_text=True)
STAMP = make_document().trace[0].timestamp


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self):
        return open(self.path, "rb")


def _sign(unsigned: bytes, seal: Identity) -> bytes:
    out = io.BytesIO()
    sign_package_file(unsigned, out, seal.key, [seal.certificate], limits=HUGE)
    return out.getvalue()


def _without_attachments(package: DocumentPackage) -> DocumentPackage:
    return dataclasses.replace(package, attachments=())


# --- the same bytes and objects as the in-memory functions ---------------------------------------

def test_build_and_sign_write_the_bytes_of_the_in_memory_functions(ca_mau_seal: Identity) -> None:
    package = make_document()
    unsigned = build_document_package(package)
    out = io.BytesIO()
    build_package_file(package, out)
    assert out.getvalue() == unsigned
    # RSA PKCS#1 v1.5 is deterministic: the very same signature
    assert _sign(unsigned, ca_mau_seal) == sign_package(unsigned, ca_mau_seal.key, [ca_mau_seal.certificate])
    status = build_package(make_status())
    out = io.BytesIO()
    build_package_file(make_status(), out)
    assert out.getvalue() == status


def test_read_gives_the_package_parse_gives(ca_mau_seal: Identity, root_ca: Identity) -> None:
    package = make_document()
    signed = sign_package(build_document_package(package), ca_mau_seal.key, [ca_mau_seal.certificate])
    with read_package_file(signed) as streamed:
        assert streamed.verify([root_ca.certificate]).trace_headers_after_signing == 0
        assert _without_attachments(streamed.package) == _without_attachments(parse_package(signed))
        attachment, appendix = streamed.package.attachments
        assert isinstance(attachment.data, SpooledFile)
        assert attachment.data.read_bytes() == PDF
        assert (attachment.data.size, attachment.data.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
        assert appendix.data.read_bytes() == package.attachments[1].data
        out = io.BytesIO()
        streamed.write(out)
        assert out.getvalue() == signed
        out = io.BytesIO()
        streamed.write(out, trace=TraceHeader("H12.LGSP", STAMP))
        assert out.getvalue() == add_trace_header(signed, TraceHeader("H12.LGSP", STAMP))
        spool = attachment.data.path.parent
    assert not spool.exists()  # closing removes the attachments' files


def test_status_packages_are_read_too(vpcp_seal: Identity, root_ca: Identity) -> None:
    signed = sign_package(build_package(make_status()), vpcp_seal.key, [vpcp_seal.certificate])
    result, streamed = open_package_file(signed, [root_ca.certificate], expect=StatusPackage)
    with streamed:
        assert streamed.package == parse_package(signed)
        assert result.sender_organ_id == "000.00.00.G22"
    with pytest.raises(EdxmlError) as info:
        open_package_file(signed, [root_ca.certificate], expect=DocumentPackage)
    assert info.value.code == "wrong_message_type"


# --- a large package round-trips, wrapped or not, and tampering is still found -------------------

@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory, ca_mau_seal: Identity) -> dict[str, Path]:
    """A package of a 20 MB attachment built and signed through files; the same, its base64
    wrapped at 76 columns with CRLF line ends, as some producers write it (signed over that)."""
    work = tmp_path_factory.mktemp("large")
    attachment = work / "attachment.pdf"
    attachment.write_bytes(b"%PDF-1.7\n" + os.urandom(20 * 1024 * 1024) + b"\n%%EOF\n")
    package = make_document(attachments=(dataclasses.replace(make_document().attachments[0],
                                                             data=_File(attachment)),))
    unsigned = io.BytesIO()
    build_package_file(package, unsigned)
    paths = {"attachment": attachment}
    with open(work / "unwrapped.xml", "wb") as out:
        sign_package_file(unsigned.getvalue(), out, ca_mau_seal.key, [ca_mau_seal.certificate], limits=HUGE)
    text = base64.b64encode(attachment.read_bytes())
    wrapped = base64.encodebytes(attachment.read_bytes()).replace(b"\n", b"\r\n")
    with open(work / "wrapped.xml", "wb") as out:
        sign_package_file(unsigned.getvalue().replace(text, wrapped), out, ca_mau_seal.key,
                          [ca_mau_seal.certificate], limits=HUGE)
    paths["unwrapped"], paths["wrapped"] = work / "unwrapped.xml", work / "wrapped.xml"
    return paths


@pytest.mark.parametrize("variant", ["unwrapped", "wrapped"])
def test_a_large_package_round_trips_byte_identically(large: dict[str, Path], root_ca: Identity,
                                                      variant: str) -> None:
    expected = large["attachment"].read_bytes()
    result, streamed = open_package_file(large[variant], [root_ca.certificate], expect=DocumentPackage,
                                         limits=HUGE)
    with streamed:
        (attachment,) = streamed.package.attachments
        assert attachment.data.read_bytes() == expected
        assert attachment.data.sha256 == hashlib.sha256(expected).hexdigest()
        assert result.signer_organ_id == "000.00.00.H12"
        relayed = io.BytesIO()
        streamed.write(relayed, trace=TraceHeader("H12.LGSP", STAMP))
    # what an axis passes on still verifies, the trace header reported as added after signing
    result, streamed = open_package_file(relayed.getvalue(), [root_ca.certificate], limits=HUGE)
    with streamed:
        assert result.trace_headers_after_signing == 1
        assert streamed.package.attachments[0].data.read_bytes() == expected


def test_the_in_memory_functions_verify_what_was_signed_through_files(large: dict[str, Path],
                                                                        root_ca: Identity) -> None:
    from axis_connector.edxml import open_package

    for variant in ("unwrapped", "wrapped"):
        _, package = open_package(large[variant].read_bytes(), [root_ca.certificate], limits=HUGE)
        assert package.attachments[0].data == large["attachment"].read_bytes()


def _tampered(path: Path, old: bytes, new: bytes, offset: int = 0) -> bytes:
    data = path.read_bytes()
    at = data.index(old, offset)
    return data[:at] + new + data[at + len(old):]


@pytest.mark.parametrize("variant", ["unwrapped", "wrapped"])
def test_tampering_with_a_large_package_is_detected(large: dict[str, Path], root_ca: Identity,
                                                     variant: str) -> None:
    path = large[variant]
    middle = path.stat().st_size // 2
    data = path.read_bytes()
    char = data[middle:middle + 1]
    replacement = b"A" if char != b"A" else b"B"
    in_attachment = data[:middle] + replacement + data[middle + 1:]
    subject = _tampered(path, "triển khai".encode(), "tạm dừng".encode())
    for tampered in (in_attachment, subject):
        with pytest.raises(SignatureError) as info:
            open_package_file(tampered, [root_ca.certificate], limits=HUGE)
        assert info.value.code == "digest_mismatch"
    forged = _tampered(path, b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA")
    with pytest.raises(SignatureError) as info:
        open_package_file(forged, [root_ca.certificate], limits=HUGE)
    assert info.value.code == "signature_invalid"


def test_peak_memory_stays_far_below_the_package_size(large: dict[str, Path], root_ca: Identity,
                                                      tmp_path: Path) -> None:
    """Receive (parse, decode, verify, copy out) and send (build, sign) in a fresh process: peak
    RSS growth under 2x the package's size is the target; the in-memory functions take ~6x."""
    ca_pem = tmp_path / "ca.pem"
    from cryptography.hazmat.primitives import serialization

    ca_pem.write_bytes(root_ca.certificate.public_bytes(serialization.Encoding.PEM))
    script = textwrap.dedent(f"""
        import shutil, sys
        from pathlib import Path
        from cryptography import x509
        from axis_connector.edxml import ParseLimits
        from axis_connector.edxml.stream import open_package_file

        def kb(field):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])

        ca = x509.load_pem_x509_certificate(Path({str(ca_pem)!r}).read_bytes())
        limits = ParseLimits(max_bytes=1 << 30, allow_huge_text=True)
        Path("/proc/self/clear_refs").write_text("5")
        before = kb("VmRSS")
        for name in ("unwrapped", "wrapped"):
            _, streamed = open_package_file(Path({str(large["unwrapped"].parent)!r}) / (name + ".xml"),
                                            [ca], limits=limits, directory={str(tmp_path)!r})
            with streamed, streamed.package.attachments[0].data.open() as f, \\
                    open({str(tmp_path / "out.bin")!r}, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 20)
        print((kb("VmHWM") - before) * 1024)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    growth = int(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                text=True, env=env).stdout)
    size = large["unwrapped"].stat().st_size
    assert (tmp_path / "out.bin").read_bytes() == large["attachment"].read_bytes()
    assert growth < 2 * size
    assert growth < size // 2  # in fact: a few chunks and the envelope, not the attachment


# --- hostile input: refused as parse_package refuses it ------------------------------------------

def _refused(data: bytes, limits: ParseLimits | None = None) -> EdxmlError:
    with pytest.raises(EdxmlError) as info:
        read_package_file(data, limits=limits or ParseLimits())
    with pytest.raises(EdxmlError) as expected:
        parse_package(data, limits=limits or ParseLimits())
    assert info.value.code == expected.value.code
    return info.value


@pytest.mark.parametrize("data", [
    b"",
    b"not xml at all",
    b"<edXML><edXMLEnvelope></edXML>",
    b'<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><a>&undefined;</a></edXML>',
    b"<edXML>\xff\xfe</edXML>",
    BILLION_LAUGHS,
    _xxe("file:///etc/passwd"),
    _xxe("http://127.0.0.1:9/evil.dtd"),
    _xxe("file:///etc/passwd").replace(b"<!DOCTYPE", b"<!-- " + b"x" * 100_000 + b" -->\n<!DOCTYPE", 1),
    _xxe("file:///etc/passwd").decode().replace('<?xml version="1.0"?>',
                                                '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
    _nested(100),
    b"<edXML>" + b"<x/>" * 60_000 + b"</edXML>",
])
def test_hostile_input_is_refused_with_the_same_code(data: bytes) -> None:
    error = _refused(data)
    assert "root:" not in str(error)


def test_limits_hold_while_streaming() -> None:
    data = build_document_package(make_document())
    assert _refused(data, ParseLimits(max_bytes=len(data) - 1)).code == "too_large"
    assert _refused(data, ParseLimits(max_depth=4)).code == "too_deep"
    # a huge value outside the attachments is held in the tree: capped as libxml2 caps it
    huge = build_document_package(make_document(content="x" * 11_000_000, attachments=()))
    with pytest.raises(EdxmlError) as info:
        read_package_file(huge)
    assert info.value.code == "value_too_large"
    with read_package_file(huge, limits=ParseLimits(allow_huge_text=True)) as streamed:
        assert len(streamed.package.content) == 11_000_000


@pytest.mark.parametrize("bad", [b"QUJD!", b"QUJD=QUJD", b"QUJ"])
@pytest.mark.parametrize("where", ["start", "end"])
def test_invalid_base64_is_refused_wherever_it_is(bad: bytes, where: str) -> None:
    good = base64.b64encode(os.urandom(3 * 400_000))  # over a decoding chunk
    text = bad + good if where == "start" else good + bad
    package = make_document()
    data = build_document_package(package).replace(base64.b64encode(PDF), text)
    with pytest.raises(EdxmlError) as info:
        read_package_file(data, limits=HUGE)
    assert (info.value.code, info.value.path) == (
        "invalid_base64", "/edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded")
    with pytest.raises(EdxmlError) as info:
        parse_package(data, limits=HUGE)
    assert info.value.code == "invalid_base64"


def test_comments_and_entities_cannot_change_what_is_read(ca_mau_seal: Identity) -> None:
    data = build_document_package(make_document(subject="Chi 1000 triệu"))
    tricked = data.replace(b"Chi 1000", b"Chi 1<!-- -->000").replace(b"JVBE", b"JV<!-- x -->BE", 1)
    with read_package_file(tricked) as streamed:
        assert streamed.package.subject == "Chi 1000 triệu"
        assert streamed.package.attachments[0].data.read_bytes() == PDF
