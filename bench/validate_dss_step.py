"""What validate_pdf's DSS step (issue 20, trust anchors: a document's own revocation data for
issuers the trust store has none of) costs on our own documents: validate_pdf with and without
it, interleaved, medians. `--quick`: 15 rounds instead of 60."""
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package, not bench/signing.py

import signing.validate as v
from signing import PadesLevel, Pki, sign_pdf, validate_pdf
from signing.demo import make_demo_pdf

d = tempfile.mkdtemp()
pki = Pki.create(d, "x")
seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="rsa")
trust = pki.trust_store()
docs = {"B-B": sign_pdf(make_demo_pdf(2), seal, trust=trust),
        "B-LT": sign_pdf(make_demo_pdf(2), seal, trust=trust, level=PadesLevel.B_LT,
                         timestamper=pki.timestamper())}
orig = v._document_revinfo
for name, pdf in docs.items():
    assert validate_pdf(pdf, trust).valid
    with_, without = [], []
    for _ in range(15 if "--quick" in sys.argv else 60):
        for on in (True, False):
            v._document_revinfo = orig if on else (lambda r, t: t)
            t0 = time.perf_counter()
            validate_pdf(pdf, trust)
            (with_ if on else without).append(time.perf_counter() - t0)
    v._document_revinfo = orig
    a, b = statistics.median(without), statistics.median(with_)
    results = globals().setdefault("results", [])
    results.append(a / b)
    print(f"{name}: without DSS step {a * 1000:.2f} ms, with {b * 1000:.2f} ms")
print(f"validate_dss_step: {b * 1000:.2f} ms ratio={min(results):.2f}")
