"""Benchmark of the OCR of scanned paper: speed of the engine and accuracy of the fields.

    python bench/ocr.py [--quick] [--docs N] [--seed S]

The corpus is generated here (ioffice.ocr.specimen): Vietnamese administrative documents laid
out per Decree 30/2020 Appendix I (agency, "Số: 12/QĐ-UBND", "Cà Mau, ngày 05 tháng 03 năm
2026", type and subject or "V/v", signature block), drawn in Liberation Serif, and "printed and
scanned" under three conditions:

  * clean-300: 300 dpi, no fault (the target's condition);
  * noisy-300: 300 dpi, speckle, a skew up to 1.5 degrees, JPEG quality 45;
  * noisy-200: 200 dpi, the same faults, JPEG quality 35.

Each page goes through :func:`ioffice.ocr.engine.ocr_pdf` (OCRmyPDF, ``-l vie --jobs 1``, one
page per run, as the worker does for a short scan) and :func:`ioffice.ocr.fields.read_fields`.
Printed: pages per minute of the engine on this machine (wall time, one job at a time), and for
each condition the share of each field read exactly right (the string the form would be filled
with equals the document's). The target: >= 90 % of numbers/notations and of dates right on
clean 300 dpi scans. The last line is
``ocr: <all fields right on clean-300, %> % ratio=<pages per minute>``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ioffice.ocr import engine, specimen
from ioffice.ocr.fields import read_fields

FIELDS = ("issuer_name", "number_notation", "document_date", "doc_type", "subject", "signer")
CONDITIONS = {
    "clean-300": {"dpi": 300},
    "noisy-300": {"dpi": 300, "noise": 0.0015, "skew": 1.5, "jpeg_quality": 45},
    "noisy-200": {"dpi": 200, "noise": 0.0015, "skew": 1.5, "jpeg_quality": 35},
}


def scan(spec: specimen.Specimen, condition: dict, rng: random.Random) -> bytes:
    dpi = condition["dpi"]
    page = specimen.render_page(spec, dpi)
    if len(condition) > 1:
        page = specimen.degrade(page, rng=rng, noise=condition["noise"],
                                skew=rng.uniform(-condition["skew"], condition["skew"]),
                                jpeg_quality=condition["jpeg_quality"])
    return specimen.to_pdf([page], dpi)


def score(spec: specimen.Specimen, found: dict[str, str]) -> dict[str, bool]:
    expected = spec.expected()
    right = {name: found.get(name, "") == expected[name]
             for name in ("issuer_name", "document_date", "doc_type", "subject", "signer")}
    right["number_notation"] = (found.get("number"), found.get("notation")) == (
        expected["number"], expected["notation"])
    return right


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 documents per condition")
    parser.add_argument("--docs", type=int, default=None, help="documents per condition (10)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    problem = engine.problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    docs = args.docs or (3 if args.quick else 10)
    rng = random.Random(args.seed)
    specs = [specimen.random_specimen(rng) for _ in range(docs)]
    right: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    pages = 0
    ocr_seconds = 0.0
    for name, condition in CONDITIONS.items():
        for spec in specs:
            data = scan(spec, condition, rng)
            began = time.perf_counter()
            out = engine.ocr_pdf(data, 1)
            ocr_seconds += time.perf_counter() - began
            pages += 1
            found = read_fields(out.pages[0])
            for field, ok in score(spec, found).items():
                right[name][field] += ok
                if not ok and args.show_misses:
                    expected = spec.expected()
                    want = (f"{expected['number']}/{expected['notation']}"
                            if field == "number_notation" else expected[field])
                    got = (f"{found.get('number')}/{found.get('notation')}"
                           if field == "number_notation" else found.get(field))
                    print(f"  miss {name} {field}: want {want!r} got {got!r}")
        line = " ".join(f"{f}={100 * right[name][f] / docs:.0f}%" for f in FIELDS)
        print(f"{name:10s} ({docs} pages): {line}", flush=True)
    per_minute = pages / (ocr_seconds / 60)
    clean = right["clean-300"]
    overall = 100 * sum(clean[f] for f in FIELDS) / (docs * len(FIELDS))
    target = clean["number_notation"] / docs >= 0.9 and clean["document_date"] / docs >= 0.9
    print(f"engine: {pages} pages in {ocr_seconds:.0f} s = {per_minute:.1f} pages/min "
          f"(ocrmypdf --jobs 1, one page per run, {sys.platform})")
    print(f"target (>= 90 % of numbers/notations and dates right on clean 300 dpi): "
          f"{'met' if target else 'NOT met'} ({100 * clean['number_notation'] / docs:.0f} %, "
          f"{100 * clean['document_date'] / docs:.0f} %)")
    print(f"ocr: {overall:.1f} % ratio={per_minute:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
