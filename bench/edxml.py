"""Benchmark of the edXML library on a package carrying a 200 KB PDF (about 280 KB of XML).

    python bench/edxml.py [--quick] [--runs N]

Median milliseconds of build, parse, sign, verify (as received from the sender, and after one
and two axes appended a TraceHeader), add_trace_header, and of what an axis (parse, verify, add
its trace header; the package as the sender sent it) and a recipient (verify, parse; after one
axis) do with one package.  Each operation is timed against its baseline in the same loop, runs
interleaved, so both see the same machine load:
  * sign: signxml's XMLSigner given our tree, as sign_package did before;
  * verify: signxml's plain XMLVerifier run on the package as received and, while the digest does
    not match, again after removing the last TraceHeader (one full verification per attempt), as
    verify_package did before; the other checks (chain, sender) are the library's own;
  * axis and recipient: the separate functions, each parsing the bytes again.
RSA-2048 seal, CA chain checked.  The last line is
``edxml: <verify after one axis, ms> ms ratio=<baseline / now>``.

    python bench/edxml.py --large [--quick] [--mb N]

A package with one 100 MB attachment (``--quick``: 20 MB), its base64 unwrapped and wrapped at
76 columns: receiving it (parse, decode, verify the signature, copy the attachment to a file) and
sending it (build from the attachment's file, sign, write), each in a fresh process whose peak
RSS growth (VmHWM, reset before, minus VmRSS before) and time are measured; the baseline is the
in-memory functions (``open_package`` of the bytes, ``sign_package(build_document_package())``
of the attachment's bytes), the streaming ones are ``open_package_file`` and
``build_package_file`` + ``sign_package_file``. The last line is
``edxml-large: <receive peak growth / package size> x ratio=<baseline growth / streaming growth>``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import signxml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureConfiguration, SignatureMethod
from signxml.exceptions import InvalidDigest

from axis_connector.edxml import (
    VIETNAM_TZ,
    Attachment,
    Business,
    Code,
    DocumentPackage,
    DocumentType,
    Organization,
    PromulgationInfo,
    TraceHeader,
    add_trace_header,
    build_document_package,
    open_package,
    parse_document_package,
    parse_package,
    read_package,
    sign_package,
    verify_package,
)
from axis_connector.edxml import signature as sig
from axis_connector.edxml.safe_xml import parse_xml

SENDER = "000.00.00.H12"
NOW = dt.datetime.now(dt.UTC)


def _pki() -> tuple[x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "UBND tỉnh Cà Mau"),
                         x509.NameAttribute(NameOID.USER_ID, SENDER)])
    seal = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, key, seal


def _package(pdf_bytes: int) -> DocumentPackage:
    document_id = f"{SENDER},2024/05/02,1234/UBND-VP"
    pdf = b"%PDF-1.7\n" + os.urandom(pdf_bytes)
    return DocumentPackage(
        sender=Organization(SENDER, organ_name="UBND tỉnh Cà Mau"),
        recipients=(Organization("000.00.00.G22", organ_name="Văn phòng Chính phủ"),),
        document_id=document_id,
        code=Code("1234", "UBND-VP"),
        promulgation=PromulgationInfo("Cà Mau", dt.date(2024, 5, 2)),
        document_type=DocumentType(1, 2, "Công văn"),
        subject="Về việc triển khai trục liên thông văn bản",
        business=Business(document_id),
        trace=(TraceHeader(SENDER, dt.datetime(2024, 5, 2, 8, 30, tzinfo=VIETNAM_TZ)),),
        attachments=(Attachment("cid:1", "vb.pdf", "application/pdf", pdf),),
    )


# --- baselines: the library as it was before verification learnt to pick the candidate ---------

def baseline_sign(data: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    root = parse_xml(data)
    etree.SubElement(sig._header(root), f"{sig._DS}Signature", {"Id": "placeholder"},
                     nsmap={"ds": "http://www.w3.org/2000/09/xmldsig#"})
    signer = signxml.XMLSigner(
        method=signxml.methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    return etree.tostring(signer.sign(root, key=key, cert=[cert]), xml_declaration=True, encoding="UTF-8")


def baseline_verify(data: bytes, cas: list[x509.Certificate]) -> int:
    root = parse_xml(data)
    header = sig._header(root)
    signature = header.find(f"{sig._DS}Signature")
    sig._check_signed_info(signature)
    signer, others = sig._certificates(signature)
    sig._trusted_chain(signer, others, cas, None)
    assert sig.organ_id_from_certificate(signer) == sig._sender_organ_id(root)
    config = SignatureConfiguration(location=".//", signature_methods=sig._SIGNATURE_METHODS,
                                    digest_algorithms=sig._DIGESTS)
    stripped = 0
    while True:
        try:
            signxml.XMLVerifier().verify(root, x509_cert=signer, expect_config=config)
            return stripped
        except InvalidDigest:
            if sig._strip_last_trace_header(header) is None:
                raise
            stripped += 1


# --- measurement --------------------------------------------------------------------------------

def _medians(runs: int, *actions: Callable[[], object]) -> list[float]:
    """Median ms of each action, the actions taking turns so that they share the machine's load."""
    for action in actions:
        action()  # warm-up
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, spent in zip(actions, times, strict=True):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return [statistics.median(t) * 1000 for t in times]


# --- large packages: peak memory and time, each operation in a fresh process -----------------

_LIMITS_HUGE = {"max_bytes": 1 << 34, "allow_huge_text": True}


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _large_package(attachment: object) -> DocumentPackage:
    return dataclasses.replace(_package(1), attachments=(
        Attachment("cid:1", "vb.pdf", "application/pdf", attachment),))  # type: ignore[arg-type]


class _File:
    """An attachment source: a file on disk (as a blob store would hand one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self):
        return open(self.path, "rb")


def large_child(op: str, work: Path) -> None:
    """One operation, printing ``<seconds> <peak growth in bytes> <package bytes>``."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from axis_connector.edxml import ParseLimits
    from axis_connector.edxml.stream import build_package_file, open_package_file, sign_package_file

    key = load_pem_private_key((work / "key.pem").read_bytes(), None)
    seal = x509.load_pem_x509_certificate((work / "seal.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((work / "ca.pem").read_bytes())
    streaming = ParseLimits(**_LIMITS_HUGE)
    tree = ParseLimits(**_LIMITS_HUGE, stream_above=1 << 62)  # the in-memory path, as before
    action, _, variant = op.partition(":")
    package_path = work / f"{variant}.xml"
    out_path = work / "out.bin"
    hub_client = _hub(work, ca, seal) if action.startswith("hub-") else None
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    cpu = time.process_time()
    if action in ("receive-before", "receive-bytes"):
        data = package_path.read_bytes()
        _, package = open_package(data, [ca], expect=DocumentPackage,
                                  limits=tree if action == "receive-before" else streaming)
        out_path.write_bytes(package.attachments[0].data)
        size = len(data)
    elif action == "receive-now":
        _, streamed = open_package_file(package_path, [ca], expect=DocumentPackage, limits=streaming,
                                        directory=work)
        with streamed, streamed.package.attachments[0].data.open() as f, open(out_path, "wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
        size = package_path.stat().st_size
    elif action in ("axis-before", "axis-bytes"):
        data = package_path.read_bytes()
        received = read_package(data, limits=tree if action == "axis-before" else streaming)
        received.verify([ca])
        out_path.write_bytes(received.with_trace_header(TraceHeader("H12.LGSP", NOW)))
        size = len(data)
    elif action in ("send-before", "send-bytes"):
        package = _large_package((work / "attachment.bin").read_bytes())
        data = sign_package(build_document_package(package), key, [seal],
                            limits=tree if action == "send-before" else streaming)
        out_path.write_bytes(data)
        size = len(data)
    elif action in ("hub-before", "hub-bytes"):
        data = package_path.read_bytes()
        client, hub = hub_client
        if action == "hub-before":  # the hub's limits as before: the in-memory path
            type(hub.settings).limits = property(lambda settings: ParseLimits(
                max_bytes=settings.max_package_bytes, allow_huge_text=True, stream_above=1 << 62))
        [result] = client.send_edocs([(data, "edoc")])
        assert not isinstance(result, Exception), result
        size = len(data)
    elif action == "send-now":
        unsigned = work / "unsigned.tmp"
        with open(unsigned, "wb") as f:
            build_package_file(_large_package(_File(work / "attachment.bin")), f)
        with open(out_path, "wb") as out:
            sign_package_file(unsigned, out, key, [seal], limits=streaming, directory=work)
        unsigned.unlink()
        size = out_path.stat().st_size
    else:
        raise SystemExit(f"unknown operation {op}")
    spent = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = _status_kb("VmHWM") or 0
    print(spent, (peak - before) * 1024, size, cpu)


def _hub(work: Path, ca: x509.Certificate, seal: x509.Certificate) -> tuple[object, object]:
    """A hub (SQLite, in this process) taking packages of up to 512 MB, the sender's and the
    recipient's systems connected, and the sender's client talking to it through Flask's test
    client: a sendEdoc as the worker makes it and the hub accepts it, without a network."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from axis_connector.client import AxisClient
    from axis_connector.hub import create_app, migrate
    from axis_connector.hub.services import OPERATOR, AgencyInput, add_system, register_agency
    from tests.support.flask_pool import FlaskPool

    url = f"sqlite:///{work / 'hub.db'}"
    (work / "hub.db").unlink(missing_ok=True)
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "ORGAN_ID": "000.00.00.H12.LGSP", "NAME": "LGSP",
                      "TRUSTED_CA_PEM": ca.public_bytes(Encoding.PEM).decode(), "MAX_PACKAGE_MB": 512,
                      "PUSH_INLINE": False})
    hub = app.extensions["axis_hub"]
    with hub.db.session() as session:
        for system_id, pattern in (("sys-sender", "*.H12"), ("sys-recipient", "*.G22")):
            add_system(session, system_id, system_id, f"{system_id}-secret-0123456789",
                       register_patterns=pattern)
        register_agency(session, hub.settings, OPERATOR, AgencyInput(
            SENDER, "UBND tỉnh Cà Mau", certificate_pem=seal.public_bytes(Encoding.PEM).decode(),
            system_id="sys-sender"))
        register_agency(session, hub.settings, OPERATOR, AgencyInput(
            "000.00.00.G22", "Văn phòng Chính phủ", system_id="sys-recipient"))
        session.commit()
    client = AxisClient("http://hub", "sys-sender", "sys-sender-secret-0123456789",
                        pool=FlaskPool(app.test_client()))
    return client, hub


def _run_child(op: str, work: Path) -> tuple[float, int, int, float]:
    output = subprocess.run([sys.executable, __file__, "--child", op, str(work)], check=True,
                            capture_output=True, text=True).stdout.split()
    return float(output[0]), int(output[1]), int(output[2]), float(output[3])


def large_main(megabytes: int) -> None:
    from cryptography.hazmat.primitives import serialization

    from axis_connector.edxml import ParseLimits
    from axis_connector.edxml.stream import build_package_file, sign_package_file

    ca, key, seal = _pki()
    with tempfile.TemporaryDirectory(prefix="bench-edxml-") as name:
        work = Path(name)
        (work / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (work / "seal.pem").write_bytes(seal.public_bytes(serialization.Encoding.PEM))
        (work / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        with open(work / "attachment.bin", "wb") as f:
            f.write(b"%PDF-1.7\n")
            for _ in range(megabytes):
                f.write(os.urandom(1 << 20))
        limits = ParseLimits(**_LIMITS_HUGE)
        unsigned = work / "unsigned.xml"
        with open(unsigned, "wb") as f:
            build_package_file(_large_package(_File(work / "attachment.bin")), f)
        with open(work / "unwrapped.xml", "wb") as out:
            sign_package_file(unsigned, out, key, [seal], limits=limits)
        # the same package as a producer that wraps its base64 at 76 columns writes it
        wrapped_unsigned = work / "wrapped-unsigned.xml"
        with open(unsigned, "rb") as f, open(wrapped_unsigned, "wb") as out, \
                open(work / "attachment.bin", "rb") as attachment:
            head, _, _ = f.read(64 * 1024).partition(b"<edXML:ContentTransferEncoded>")
            out.write(head + b"<edXML:ContentTransferEncoded>")
            while chunk := attachment.read(57 * 16384):
                out.write(base64.encodebytes(chunk))
            f.seek(-64 * 1024, os.SEEK_END)
            out.write(b"</edXML:ContentTransferEncoded>" + f.read().partition(
                b"</edXML:ContentTransferEncoded>")[2])
        with open(work / "wrapped.xml", "wb") as out:
            sign_package_file(wrapped_unsigned, out, key, [seal], limits=limits)
        unsigned.unlink()
        wrapped_unsigned.unlink()

        print(f"edXML package with a {megabytes} MB attachment; RSA-2048 seal, CA chain checked; "
              "each figure a fresh process: peak RSS growth (and as a multiple of the package's size), "
              "seconds (wall and CPU: the machine is shared)")
        print("before: the in-memory path (ParseLimits.stream_above beyond the package's size); now: "
              "through files, by the *_file functions or by the bytes functions themselves")
        print(f"{'operation':34} {'package MB':>10} {'before MiB':>11} {'x':>5} {'s':>6} {'cpu s':>6} "
              f"{'now MiB':>8} {'x':>5} {'s':>6} {'cpu s':>6}")
        rows = {}
        for op, now in (("receive:unwrapped", "now"), ("receive:wrapped", "now"),
                        ("receive:unwrapped", "bytes"), ("receive:wrapped", "bytes"),
                        ("axis:unwrapped", "bytes"), ("hub:unwrapped", "bytes"),
                        ("send:unwrapped", "now"), ("send:unwrapped", "bytes")):
            action, _, variant = op.partition(":")
            b_time, b_growth, size, b_cpu = _run_child(f"{action}-before:{variant}", work)
            n_time, n_growth, _, n_cpu = _run_child(f"{action}-{now}:{variant}", work)
            rows[op, now] = (b_time, b_growth, n_time, n_growth, size, b_cpu, n_cpu)
            mib = 1024 * 1024
            label = f"{op} ({'files' if now == 'now' else 'bytes API'})"
            print(f"{label:34} {size / 1e6:10.1f} {b_growth / mib:11.0f} {b_growth / size:5.2f} "
                  f"{b_time:6.2f} {b_cpu:6.2f} {n_growth / mib:8.0f} {n_growth / size:5.2f} {n_time:6.2f} "
                  f"{n_cpu:6.2f}")
        receiving = [rows["receive:unwrapped", "now"], rows["receive:wrapped", "now"]]
        worst = max(receiving, key=lambda r: r[3] / r[4])
        slowest = max(r[2] for r in receiving)
        print(f"receive through files (decode, verify, copy out): slowest {slowest:.2f} s wall, "
              f"{max(r[6] for r in receiving):.2f} s CPU (target < 3 s)")
        print(f"edxml-large: {worst[3] / worst[4]:.2f} x ratio={worst[1] / max(worst[3], 1):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a 20 KB PDF, 7 runs")
    parser.add_argument("--runs", type=int, help="runs per operation (default 51, quick 7)")
    parser.add_argument("--large", action="store_true", help="a 100 MB attachment (quick: 20 MB)")
    parser.add_argument("--mb", type=int, help="the large attachment's size in MB")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        large_child(args.child[0], Path(args.child[1]))
        return
    if args.large:
        large_main(args.mb or (20 if args.quick else 100))
        return
    runs = args.runs or (7 if args.quick else 51)
    ca, key, seal = _pki()
    cas = [ca]
    package = _package(20 * 1024 if args.quick else 200 * 1024)
    data = build_document_package(package)
    signed = sign_package(data, key, [seal])
    assert signed == baseline_sign(data, key, seal)  # RSA PKCS#1 v1.5 is deterministic
    stamp = dt.datetime.now(VIETNAM_TZ)
    hops = [signed]
    for axis in ("H12.LGSP", "VPCP.AXIS"):
        hops.append(add_trace_header(hops[-1], TraceHeader(axis, stamp)))
    for count, received in enumerate(hops):
        assert verify_package(received, cas).trace_headers_after_signing == count
        assert baseline_verify(received, cas) == count
    trace = TraceHeader("000.00.00.A01", stamp)

    def verify_package_before(received: bytes) -> int:
        return baseline_verify(received, cas)

    def axis_before() -> bytes:
        parse_package(signed)
        verify_package_before(signed)
        return add_trace_header(signed, trace)

    def axis_now() -> bytes:
        received = read_package(signed)
        received.verify(cas)
        return received.with_trace_header(trace)

    assert axis_before() == axis_now()

    print(f"edXML package: {len(package.attachments[0].data) // 1024} KB PDF, {len(signed) // 1024} KB "
          f"signed XML; RSA-2048 seal; median of {runs} runs, baseline and now interleaved")
    print(f"{'operation':44} {'baseline ms':>12} {'now ms':>8} {'ratio':>6}")

    def row(name: str, before: Callable[[], object] | None, now: Callable[[], object]) -> tuple[float, float]:
        if before is None:
            (now_ms,) = _medians(runs, now)
            print(f"{name:44} {'':>12} {now_ms:8.2f}")
            return now_ms, now_ms
        before_ms, now_ms = _medians(runs, before, now)
        print(f"{name:44} {before_ms:12.2f} {now_ms:8.2f} {before_ms / now_ms:6.2f}")
        return before_ms, now_ms

    row("build_document_package", None, lambda: build_document_package(package))
    row("parse_package", None, lambda: parse_package(signed))
    row("sign_package", lambda: baseline_sign(data, key, seal), lambda: sign_package(data, key, [seal]))
    timings = {}
    for count, received in enumerate(hops):
        timings[count] = row(f"verify_package after {count} axes",
                             lambda r=received: verify_package_before(r),
                             lambda r=received: verify_package(r, cas))
    row("add_trace_header", None, lambda: add_trace_header(hops[1], trace))
    row("axis: parse, verify, add trace (as sent)", axis_before, axis_now)
    row("recipient: verify, parse (after 1 axis)",
        lambda: (verify_package_before(hops[1]), parse_document_package(hops[1])),
        lambda: open_package(hops[1], cas, expect=DocumentPackage))
    before_ms, now_ms = timings[1]
    print(f"edxml: {now_ms:.2f} ms ratio={before_ms / now_ms:.2f}")


if __name__ == "__main__":
    main()
