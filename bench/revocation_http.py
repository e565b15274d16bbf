"""Benchmark of the revocation URLs the app serves (ioffice/web/pki_http.py), through the app.

    python bench/revocation_http.py [--quick]

A fresh PKI with 20 certificates issued (RSA CAs, as ``Pki.create`` makes them); Flask's test
client (no network: what is measured is the app's work per request). Per round, in rotating
order: (a) an OCSP POST answered from the current state (parse, find the issuer, read
``revoked.json``, sign with the CA's RSA key, nonce echoed); (b) the same request's answer
read from the pre-made ``ocsp/<serial>.der`` (what a static responder would serve: the
baseline); (c) a CRL GET. Prints medians; the last line is ``revocation_http: <(a) ms> ms
ratio=<(b)/(a)>`` (below 1: a live answer costs more than a file read).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ioffice import create_app
from signing import Pki


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 50 if args.quick else 500
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        pki = Pki.create(tmp_path / "pki", "bench", public_url="http://127.0.0.1:5000")
        seals = [pki.issue_seal(f"000.00.00.H{i:02d}", f"Cơ quan {i}", key_type="ec")
                 for i in range(20)]
        pki.revoke(seals[0].serial)
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "PLAIN_HTTP": True,
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                          "PKI_DIR": str(tmp_path / "pki"), "PKI_PASSPHRASE": "bench",
                          "BLOB_DIR": str(tmp_path / "blobs")})
        client = app.test_client()
        issuing = pki._ca_cert("issuing")
        requests = []
        for seal in seals:
            cert = x509.load_der_x509_certificate(seal.certificate.dump())
            requests.append((seal.serial, ocsp.OCSPRequestBuilder()
                             .add_certificate(cert, issuing, hashes.SHA1())
                             .add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
                             .build().public_bytes(serialization.Encoding.DER)))
        times: dict[str, list[float]] = {"live": [], "file": [], "crl": []}

        def live(i: int) -> None:
            resp = client.post("/pki/ocsp", data=requests[i % 20][1],
                               content_type="application/ocsp-request")
            assert resp.status_code == 200 and len(resp.data) > 100

        def premade(i: int) -> None:
            data = (pki.directory / "ocsp" / f"{requests[i % 20][0]:x}.der").read_bytes()
            assert len(data) > 100

        def crl(i: int) -> None:
            resp = client.get("/pki/crl/issuing.crl")
            assert resp.status_code == 200

        steps = {"live": live, "file": premade, "crl": crl}
        for i in range(5):  # warm up: the CA key decrypted, imports done
            live(i)
            crl(i)
        order = list(steps)
        for i in range(rounds):
            order = order[1:] + order[:1]
            for name in order:
                start = time.perf_counter()
                steps[name](i)
                times[name].append(time.perf_counter() - start)
    live_ms, file_ms, crl_ms = (_median_ms(times[k]) for k in ("live", "file", "crl"))
    print(f"(a) OCSP POST, answered live, nonce echoed: {live_ms:.2f} ms median")
    print(f"(b) the pre-made OCSP file read (baseline): {file_ms:.3f} ms median")
    print(f"(c) CRL GET: {crl_ms:.2f} ms median")
    print(f"revocation_http: {live_ms:.2f} ms ratio={file_ms / live_ms:.3f}")


if __name__ == "__main__":
    main()
