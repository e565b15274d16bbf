"""Each pyHanko/asn1crypto speed-up measured alone: is it still worth its patch?

    python bench/speedups.py [--quick]

Two workloads, as the application runs them (one TrustStore instance kept, as the composition
root keeps it; every speed-up's memo warm, as on a server that has run for a while):

  validate  validate_pdf of ~220 KB PDFs sealed at PAdES B-T (a timestamp from the PKI's
            in-process TSA), in a PKI that has issued 21 certificates: what receiving a
            document over the exchange does;
  sign      sign_pdf of the agency seal (B-T) over a PDF the competent person already signed
            (B-B, visible stamp): what issuing a document does.

Times are the process's CPU time (``time.process_time``), not wall time: the machine the
figures in docs/signing.md come from was shared (load ~10 on 2 cores), and CPU time is what a
speed-up saves. Variants, rotated in every round so that all see the same machine load:
"none" (every original restored), "only <label>" and "all but <label>" for each speed-up,
"all". Outcomes (reports, signed or not) must be identical in every variant. Prints per
workload the median of each variant, each speed-up's gain alone, (none - only) / none, and
what is lost without it, (all but - all) / all. The last line is
``speedups: <ms, all> ms ratio=<none/all> (<workload>)``, validate's when it ran.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing import Box, PersonalStamp, Pki, _pyhanko_speedups, sign_pdf, validate_pdf
from signing.demo import make_text_pdf

PADDING = 200 * 1024


def _only(variant: str) -> None:
    _pyhanko_speedups.install()
    if variant == "none":
        _pyhanko_speedups.uninstall()
    elif variant.startswith("only "):
        label = variant.removeprefix("only ")
        _pyhanko_speedups.uninstall(*(x for x in _pyhanko_speedups.active() if x != label))
    elif variant.startswith("all but "):
        _pyhanko_speedups.uninstall(variant.removeprefix("all but "))


def _measure(work, inputs, variants, rounds):
    times = {v: [] for v in variants}
    for r in range(rounds):
        for i, item in enumerate(inputs):
            shift = (r * len(inputs) + i) % len(variants)
            outcomes = {}
            for variant in variants[shift:] + variants[:shift]:
                _only(variant)
                t = time.process_time()
                outcomes[variant] = work(item)
                times[variant].append(time.process_time() - t)
            if len({repr(o) for o in outcomes.values()}) != 1:
                sys.exit(f"outcomes differ for input {i}: {outcomes}")
    _pyhanko_speedups.install()
    return {v: statistics.median(t) * 1000 for v, t in times.items()}


def _report(name: str, medians: dict[str, float]) -> None:
    none, every = medians["none"], medians["all"]
    print(f"{name}: none {none:.2f} ms, all {every:.2f} ms (ratio {none / every:.2f})")
    print(f"  {'speed-up':42s} {'only it':>9s} {'gain alone':>10s} {'all but it':>11s} "
          f"{'loss without':>12s}")
    for variant, ms in medians.items():
        if variant.startswith("only "):
            label = variant.removeprefix("only ")
            without = medians[f"all but {label}"]
            print(f"  {label:42s} {ms:6.2f} ms {(none - ms) / none:10.1%} {without:8.2f} ms "
                  f"{(without - every) / every:12.1%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workload", choices=("validate", "sign", "both"), default="both")
    args = ap.parse_args()
    n, rounds = (4, 3) if args.quick else (10, 4)
    _pyhanko_speedups.install()
    labels = list(_pyhanko_speedups.active())
    variants = ["none", *(f"only {x}" for x in labels), *(f"all but {x}" for x in labels),
                "all"]
    with tempfile.TemporaryDirectory() as tmp:
        pki = Pki.create(Path(tmp) / "pki", "bench")
        seal = pki.issue_seal("000.00.00.G09", "Bộ Nội vụ")
        person = pki.issue_personal("Nguyễn Văn An", "BỘ TRƯỞNG", "000.00.00.G09", "Bộ Nội vụ")
        for i in range(19):
            pki.issue_personal(f"Cán bộ {i}", "CHUYÊN VIÊN", "000.00.00.G09", "Bộ Nội vụ")
        trust, tsa = pki.trust_store(), pki.timestamper()
        texts = [make_text_pdf([f"Công văn số {i}/BNV"], padding_bytes=PADDING) for i in range(n)]
        sealed = [sign_pdf(t, seal, trust=trust, level="B-T", timestamper=tsa) for t in texts]
        stamp = PersonalStamp(Box(0, 330, 560, 530, 690), "BỘ TRƯỞNG", "Nguyễn Văn An")
        personal = [sign_pdf(t, person, trust=trust, stamp=stamp) for t in texts]

        def validate(pdf):
            return validate_pdf(pdf, trust)

        def sign(pdf):
            return len(sign_pdf(pdf, seal, trust=trust, level="B-T", timestamper=tsa)) > 0

        def run(work, inputs):
            _measure(work, inputs[:1], variants, 1)  # warm-up: imports, memos
            return _measure(work, inputs, variants, rounds)

        headline = None
        if args.workload in ("validate", "both"):
            validated = run(validate, sealed)
            _report("validate (B-T seal, 220 KB)", validated)
            headline = ("validate", validated)
        if args.workload in ("sign", "both"):
            signed = run(sign, personal)
            _report("sign (seal B-T over a personal signature)", signed)
            headline = headline or ("sign", signed)
    name, medians = headline
    print(f"speedups: {medians['all']:.2f} ms ratio={medians['none'] / medians['all']:.2f} "
          f"({name})")


if __name__ == "__main__":
    main()
