"""Benchmark of the signing library against plain pyHanko, on one core.

    python bench/signing.py [--quick]

On the same 2-page Vietnamese PDF, for RSA-2048 and ECDSA P-256, signatures per second and
median latency of:
  (a) plain pyHanko as its documentation shows (SimpleSigner loaded from key files, a visible
      TextStampStyle stamp with the Noto Sans font and the same signature image);
  (b) our sign_pdf with the same visible Vietnamese stamp (PAdES B-B);
  (c) our two-phase prepare + finish (the browser's signature made in-process);
  (d) validate_pdf on the output of (b);
  (g) our sign_pdf as (b) with the key in a PKCS#11 token (SoftHSM2, if installed: pyHanko's
      PKCS11Signer through signing.pkcs11), beside (b), not in the ratio;
  (h) one raw signature in that token through the key object (what signxml calls for an
      edXML envelope).
Then, for an RSA agency seal at PAdES B-T: (e) sign_pdf with the timestamp from the app's own
TSA endpoint (``POST /pki/tsa``) over HTTP, served by another process on the other core (as a
TSA host would be), through pyHanko's HTTP client and our checks of the token; (f) the same
with pyHanko's in-process DummyTimeStamper (what signing used before), for the HTTP cost;
(e) and (f) take turns, call by call, with (i): the seal as ioffice makes it, PAdES B-LTA
(signature timestamp, DSS, document timestamp: two HTTP timestamps); (j) adding an archival
timestamp to that B-LTA seal (the re-timestamp job's work per document).
Then the RSS growth while signing a 50 MB PDF in place, measured in a fresh process.
The last line is ``signing: <sigs/s of (b), RSA> sig/s ratio=<(b)/(a), RSA>``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.stamp import TextStampStyle

from signing import AgencyStamp, Box, PersonalStamp, Pki, install_speedups, sign_pdf, validate_pdf
from signing.appearance import demo_signature_png
from signing.archival import add_archival_timestamp
from signing.demo import make_demo_pdf
from signing.tsa import TsaClient
from signing.twophase import FilesystemPendingStore, finish, prepare

NOTO = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
BOX = Box(1, 330, 560, 530, 690)


def _median_rate(fn, n: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return med * 1000, 1 / med


def _interleaved(fns: dict[str, object], n: int) -> dict[str, tuple[float, float]]:
    """Like :func:`_median_rate` for each, the cases taking turns: on a shared machine whose
    load drifts, each case then sees the same load."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(n):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(v) * 1000, 1 / statistics.median(v)) for k, v in times.items()}


def _plain_pyhanko(pdf: bytes, key_path: str, cert_path: str, chain_paths: list[str]):
    def run():
        signer = signers.SimpleSigner.load(key_path, cert_path, ca_chain_files=chain_paths)
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        style = TextStampStyle(
            stamp_text="%(title)s\n\n\n\n\n%(name)s",
            text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(NOTO, font_size=10)),
            background=PdfImage(NOTO_IMG), background_opacity=1.0, border_width=0,
        )
        meta = signers.PdfSignatureMetadata(
            field_name="Sig1", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
        )
        spec = fields.SigFieldSpec("Sig1", on_page=1, box=(330, 560, 530, 690))
        signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec).sign_pdf(
            w, appearance_text_params={"title": "CHỦ TỊCH", "name": "Nguyễn Văn An"}
        )
    return run


NOTO_IMG = None


def _raw_sign(key, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _memory_child(path: str, pki_dir: str, serial: int) -> None:
    pki = Pki.open(pki_dir, "bench")
    cred, trust = pki.credential(serial), pki.trust_store()
    sign_pdf(make_demo_pdf(2), cred, trust=trust)  # warm up imports, caches
    with contextlib.suppress(OSError):  # reset the peak (VmHWM): measure this signature only
        Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    with open(path, "r+b") as f:
        sign_pdf(f, cred, trust=trust, in_place=True)
    peak = _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((peak - before) / 1024)


SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_PIN = "246810"


def _softhsm(tmp: Path) -> bool:
    """A SoftHSM2 token store of this run (before the module is first loaded)."""
    import shutil

    if not (Path(SOFTHSM).exists() and shutil.which("softhsm2-util")):
        return False
    (tmp / "tokens").mkdir()
    conf = tmp / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    os.environ["BENCH_TOKEN_PIN"] = TOKEN_PIN
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin",
                    TOKEN_PIN, "--so-pin", "13579135"], check=True, capture_output=True)
    return True


def _token_credential(pki: Pki, key_type: str):
    from signing.pkcs11 import (
        TokenConfig,
        generate_token_key,
        open_token_credential,
        store_certificate,
        token_csr,
    )

    config = TokenConfig(module=SOFTHSM, token_label="bench", key_label=f"seal-{key_type}",
                         pin_env="BENCH_TOKEN_PIN")
    generate_token_key(config, key_type)
    cert = pki.issue_from_csr(token_csr(config, "bench"), kind="seal",
                              agency_id="000.00.00.H12", agency_name="UBND tỉnh Cà Mau")
    store_certificate(config, cert)
    trust = pki.trust_store()
    return open_token_credential(config, (*trust.intermediates[:1], *trust.roots))


def _status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tsa_child(pki_dir: str, tmp: str) -> None:
    """The app serving only what the bench needs of it: the simulated TSA over HTTP."""
    import logging

    from werkzeug.serving import make_server

    from ioffice import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/tsa.db", "SECRET_KEY": "bench",
                      "PKI_DIR": pki_dir, "PKI_PASSPHRASE": "bench", "TSA_SERVE": True,
                      "TSA_RATE_LIMIT": "1000000 per minute", "LOG_LEVEL": "WARNING"})
    app.instance_path = tmp
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


@contextlib.contextmanager
def _tsa_server(pki_dir: Path, tmp: str):
    """URL of the TSA child process, on the core the bench does not use (if there is one)."""
    proc = subprocess.Popen([sys.executable, __file__, "--tsa-child", str(pki_dir), tmp],
                            stdout=subprocess.PIPE, text=True)
    try:
        if hasattr(os, "sched_setaffinity"):
            cores = sorted(range(os.cpu_count() or 1))
            with contextlib.suppress(OSError):
                os.sched_setaffinity(proc.pid, set(cores[1:]) or set(cores))
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/pki/tsa"
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    global NOTO_IMG
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--tsa-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    install_speedups()  # as the application does (both plain pyHanko and ours run with them)
    if args.memory_child:
        _memory_child(args.memory_child[0], args.memory_child[1], int(args.memory_child[2]))
        return
    if args.tsa_child:
        _tsa_child(*args.tsa_child)
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    n = 5 if args.quick else 30
    from PIL import Image

    NOTO_IMG = Image.open(io.BytesIO(demo_signature_png()))
    pdf = make_demo_pdf(2)
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        token = _softhsm(Path(tmp))
        pki = Pki.create(Path(tmp) / "pki", "bench")
        trust = pki.trust_store()
        store = FilesystemPendingStore(Path(tmp) / "pending")
        chain_paths = [str(Path(tmp) / "pki" / "issuing.crt"), str(Path(tmp) / "pki" / "root.crt")]
        big_serial = 0
        for kt, label in (("rsa", "RSA-2048"), ("ec", "ECDSA P-256")):
            cred = pki.issue_personal("Nguyễn Văn An", "CHỦ TỊCH", "000.00.00.H12",
                                      "UBND tỉnh Cà Mau", key_type=kt)
            big_serial = big_serial or cred.serial
            key_path = Path(tmp) / f"{kt}.key"
            key_path.write_bytes(cred.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            cert_path = Path(tmp) / "pki" / "certs" / f"{cred.serial:x}.crt"
            stamp = PersonalStamp(BOX, "CHỦ TỊCH", "Nguyễn Văn An")
            signed = sign_pdf(pdf, cred, trust=trust, stamp=stamp)

            def two_phase(cred=cred, stamp=stamp):
                prep = prepare(pdf, cred.certificate, chain=cred.chain, signer_id="b",
                               trust=trust, store=store, stamp=stamp)
                finish(prep.handle, _raw_sign(cred.private_key, prep.to_sign), signer_id="b",
                       store=store, trust=trust)

            results[label] = {
                "a": _median_rate(_plain_pyhanko(pdf, str(key_path), str(cert_path),
                                                 chain_paths), n),
                "b": _median_rate(lambda cred=cred, stamp=stamp: sign_pdf(
                    pdf, cred, trust=trust, stamp=stamp), n),
                "c": _median_rate(two_phase, n),
                "d": _median_rate(lambda signed=signed: validate_pdf(signed, trust), n),
            }
            if token:
                in_token = _token_credential(pki, kt)
                token_trust = pki.trust_store()  # with the token certificate's OCSP response
                results[label]["g"] = _median_rate(
                    lambda c=in_token, t=token_trust, stamp=stamp: sign_pdf(
                        pdf, c, trust=t, stamp=stamp), n)
                # what an edXML envelope costs in the token: one raw signature (signxml)
                results[label]["h"] = _median_rate(
                    lambda k=in_token.private_key: _raw_sign(k, bytes(240)), n * 4)
        seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="rsa")
        seal_stamp = AgencyStamp(BOX, "15/UBND-VP")
        with _tsa_server(Path(tmp) / "pki", tmp) as tsa_url:
            client = TsaClient(tsa_url)
            bt = _interleaved({
                "e": lambda: sign_pdf(pdf, seal, trust=trust, stamp=seal_stamp, level="B-T",
                                      timestamper=client.timestamper(trust)),
                "f": lambda: sign_pdf(pdf, seal, trust=trust, stamp=seal_stamp, level="B-T",
                                      timestamper=pki.timestamper()),
                "i": lambda: sign_pdf(pdf, seal, trust=trust, stamp=seal_stamp, level="B-LTA",
                                      timestamper=client.timestamper(trust)),
            }, n)
            lta = sign_pdf(pdf, seal, trust=trust, stamp=seal_stamp, level="B-LTA",
                           timestamper=client.timestamper(trust))
            bt["j"] = _median_rate(lambda: add_archival_timestamp(
                lta, client.timestamper(trust), trust), n)
        big = Path(tmp) / "big.pdf"
        big.write_bytes(make_demo_pdf(2, padding_bytes=50 * 1024 * 1024))
        size_mb = big.stat().st_size / 1e6
        growth = float(subprocess.run(
            [sys.executable, __file__, "--memory-child", str(big), str(Path(tmp) / "pki"),
             str(big_serial)],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1])
    names = {"a": "(a) plain pyHanko", "b": "(b) sign_pdf", "c": "(c) prepare+finish",
             "d": "(d) validate_pdf", "g": "(g) sign_pdf, SoftHSM2",
             "h": "(h) raw sign, SoftHSM2"}
    print(f"one core, n={n} per case, 2-page PDF, visible Vietnamese stamp, PAdES B-B")
    for label, res in results.items():
        print(label)
        for k, (ms, rate) in res.items():
            print(f"  {names[k]:22s} median {ms:7.1f} ms  {rate:6.1f}/s")
        print(f"  ratio (b)/(a) = {res['a'][0] / res['b'][0]:.1f}x")
    print("RSA agency seal, PAdES B-T")
    print(f"  {'(e) TSA over HTTP':22s} median {bt['e'][0]:7.1f} ms  {bt['e'][1]:6.1f}/s")
    print(f"  {'(f) TSA in-process':22s} median {bt['f'][0]:7.1f} ms  {bt['f'][1]:6.1f}/s")
    print(f"  HTTP TSA cost (e)-(f) = {bt['e'][0] - bt['f'][0]:.1f} ms")
    print("RSA agency seal, PAdES B-LTA (what ioffice seals), TSA over HTTP")
    print(f"  {'(i) B-LTA seal':22s} median {bt['i'][0]:7.1f} ms  {bt['i'][1]:6.1f}/s")
    print(f"  B-LTA cost (i)-(e) = {bt['i'][0] - bt['e'][0]:.1f} ms")
    print(f"  {'(j) re-timestamp':22s} median {bt['j'][0]:7.1f} ms  {bt['j'][1]:6.1f}/s")
    print(f"RSS growth signing a {size_mb:.0f} MB PDF in place: {growth:.1f} MB")
    rsa_res = results["RSA-2048"]
    print(f"signing: {rsa_res['b'][1]:.1f} sig/s ratio={rsa_res['a'][0] / rsa_res['b'][0]:.1f}")


if __name__ == "__main__":
    main()
