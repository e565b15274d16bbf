"""Benchmark of validate_pdf on received documents, before and after the speed-ups.

    python bench/validate_pdf.py [--quick]

Documents of ~220 KB (a text page padded with 200 KB), validated in rounds. In each round every
PDF is validated "before" (pyHanko's and asn1crypto's original functions restored, a new
TrustStore so that nothing parsed or learnt is reused: the code before
signing/_pyhanko_speedups.py and the trust store's caches), "no memo" (every speed-up but the
memo of validated certification paths, generic_cms.validate_cert_usage, with one TrustStore
instance) and "after" (all speed-ups and that TrustStore instance, as the application keeps
it), rotating which goes first, so all see the same machine load. All must give identical
reports. Two cases:

  (1) the agency seal as the outgoing flow makes it (PAdES B-T, a timestamp from the PKI's
      in-process TSA), in a PKI that has issued 21 certificates (21 OCSP responses to load);
  (2) a plain PAdES B-B seal in a PKI with a single certificate.

Prints per-case medians; the last line is ``validate_pdf: <ms of (1) after> ms
ratio=<(1) before/after>``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing import Pki, TrustStore, _pyhanko_speedups, sign_pdf, validate_pdf
from signing.demo import make_text_pdf

PADDING = 200 * 1024
PATH_MEMO = "generic_cms.validate_cert_usage"
VARIANTS = ("before", "no memo", "after")


def _validate(pdf: bytes, trust: TrustStore, variant: str):
    if variant == "before":
        _pyhanko_speedups.uninstall()
        trust = TrustStore(trust.roots, trust.intermediates, trust.crls, trust.ocsps)
    else:
        _pyhanko_speedups.install()
        if variant == "no memo":
            _pyhanko_speedups.uninstall(PATH_MEMO)
    t = time.perf_counter()
    report = validate_pdf(pdf, trust)
    return time.perf_counter() - t, report


def _measure(pdfs: list[bytes], trust: TrustStore, rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        for i, pdf in enumerate(pdfs):
            shift = (r + i) % len(VARIANTS)
            reports = {}
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                elapsed, reports[variant] = _validate(pdf, trust, variant)
                times[variant].append(elapsed)
            if any(reports[v] != reports["before"] for v in VARIANTS):
                sys.exit(f"reports differ for PDF {i}:\n" + "\n".join(map(str, reports.items())))
            if not reports["after"].valid:
                sys.exit(f"PDF {i} not valid: {reports['after'].explanation}")
    _pyhanko_speedups.install()
    return {v: statistics.median(t) * 1000 for v, t in times.items()}


def _case(directory: Path, *, level: str, certificates: int, n: int, rounds: int):
    pki = Pki.create(directory, "bench")
    seal = pki.issue_seal("000.00.00.G09", "Bộ Nội vụ")
    for i in range(certificates - 1):
        pki.issue_personal(f"Cán bộ {i}", "CHUYÊN VIÊN", "000.00.00.G09", "Bộ Nội vụ")
    trust = pki.trust_store()
    tsa = pki.timestamper() if level != "B-B" else None
    pdfs = [
        sign_pdf(make_text_pdf([f"Công văn số {i}/BNV"], padding_bytes=PADDING), seal,
                 trust=trust, level=level, timestamper=tsa)
        for i in range(n)
    ]
    _measure(pdfs[:2], trust, 1)  # warm-up
    medians = _measure(pdfs, trust, rounds)
    before, no_memo, after = (medians[v] for v in VARIANTS)
    size = sum(map(len, pdfs)) / len(pdfs) / 1024
    print(f"PAdES {level}, {size:.0f} KB, PKI with {certificates} certificate(s), "
          f"{n} PDFs x {rounds} rounds")
    print(f"  before   median {before:6.2f} ms")
    print(f"  no memo  median {no_memo:6.2f} ms   ratio {before / no_memo:.2f}   "
          "(all speed-ups but the path memo)")
    print(f"  after    median {after:6.2f} ms   ratio {before / after:.2f}   "
          f"(path memo: {no_memo / after:.2f}x)")
    return before, after


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, rounds = (6, 2) if args.quick else (30, 5)
    _pyhanko_speedups.install()  # `import signing` installs nothing; the application does this
    print(f"speed-ups: {', '.join(k for k, on in _pyhanko_speedups.active().items() if on)}")
    with tempfile.TemporaryDirectory() as tmp:
        before, after = _case(Path(tmp) / "bt", level="B-T", certificates=21, n=n,
                              rounds=rounds)
        _case(Path(tmp) / "bb", level="B-B", certificates=1, n=n, rounds=rounds)
    print(f"validate_pdf: {after:.2f} ms ratio={before / after:.2f}")


if __name__ == "__main__":
    main()
