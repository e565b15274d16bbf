"""Revocation over HTTP: the simulated CA's certificates name URLs the app serves (CRL, OCSP,
caIssuers), and a validator outside the app, trusting only the root, checks them there.

A real HTTP server on 127.0.0.1 (werkzeug's, in a thread) serves the test's app; pyHanko's
validation API with fetching, pyHanko's CLI (pyhanko-cli) and ``openssl ocsp`` ask it."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import io
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import pem
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp
from flask import Flask
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from ioffice.agencies.models import Agency
from ioffice.audit.models import AuditEvent
from ioffice.cli import CLI_CONTEXT
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder, SigningCertificate
from ioffice.services import services
from ioffice.web import pki_http
from signing import Credential, Pki, sign_pdf, validate_pdf
from signing.demo import make_demo_pdf
from tests.conftest import PKI_PASSPHRASE

TIMEOUT = 10
OCSP_REQUEST = "application/ocsp-request"


@dataclass
class Recorder:
    """The served app, with a record of every request that reached it."""

    app: Flask | None = None
    requests: list[str] = field(default_factory=list)

    def __call__(self, environ, start_response):
        self.requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        assert self.app is not None, "no app plugged in"
        return self.app(environ, start_response)


@dataclass(frozen=True)
class Live:
    url: str
    pki_dir: Path
    recorder: Recorder


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server on 127.0.0.1 and a PKI whose certificates name its URLs (the port is known
    before the PKI is made); each test plugs its app in."""
    recorder = Recorder()
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    pki_dir = tmp_path_factory.mktemp("pki-http") / "pki"
    Pki.create(pki_dir, PKI_PASSPHRASE, public_url=url)
    try:
        yield Live(url, pki_dir, recorder)
    finally:
        server.shutdown()
        thread.join(TIMEOUT)


@pytest.fixture
def app_config(app_config: dict[str, object], live: Live) -> dict[str, object]:
    return {**app_config, "PKI_DIR": str(live.pki_dir), "PUBLIC_URL": live.url}


@pytest.fixture
def served(app: Flask, live: Live) -> Iterator[Live]:
    live.recorder.app = app
    live.recorder.requests.clear()
    yield live
    live.recorder.app = None


@pytest.fixture
def our_pki(app: Flask) -> Pki:
    return services(app).pki


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _post(url: str, body: bytes, content_type: str = OCSP_REQUEST) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _crypto(cert) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, *,
                  algorithm: hashes.HashAlgorithm | None = None, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _seal(our_pki: Pki) -> tuple[Credential, x509.Certificate, x509.Certificate]:
    seal = our_pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    return seal, _crypto(seal.certificate), _crypto(seal.chain[0])


def _pem(tmp_path: Path, name: str, cert) -> Path:
    path = tmp_path / f"{name}.pem"
    path.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return path


# --- the URLs in the certificates, and what they serve ------------------------------------------


def test_new_certificates_name_the_served_urls_and_each_serves_der(served: Live, our_pki: Pki) -> None:
    _, cert, issuing = _seal(our_pki)
    base = f"{served.url}/pki"
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name] == [f"{base}/crl/issuing.crl"]
    access = {(a.access_method, a.access_location.value) for a in
              cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value}
    assert access == {(x509.oid.AuthorityInformationAccessOID.OCSP, f"{base}/ocsp"),
                      (x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, f"{base}/ca/issuing.crt")}
    # the issuing CA's own certificate points at the root's CRL and certificate
    ca_points = issuing.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in ca_points for n in p.full_name] == [f"{base}/crl/root.crl"]

    status, headers, body = _get(f"{base}/crl/issuing.crl")
    assert status == 200 and headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(body)
    assert crl.is_signature_valid(issuing.public_key())
    max_age = int(headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= pki_http.MAX_AGE
    assert max_age <= (crl.next_update_utc - dt.datetime.now(dt.UTC)).total_seconds()
    assert "Set-Cookie" not in headers  # no session for a validator
    revalidated = urllib.request.Request(f"{base}/crl/issuing.crl",
                                         headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as not_modified:  # urllib raises on a 304
        urllib.request.urlopen(revalidated, timeout=TIMEOUT)
    assert not_modified.value.code == 304

    status, headers, body = _get(f"{base}/ca/issuing.crt")
    assert status == 200 and headers["Content-Type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(body) == issuing
    status, _, body = _get(f"{base}/ca/root.crt")
    assert x509.load_der_x509_certificate(body).subject == issuing.issuer


def test_ocsp_over_post_and_get_answers_signed_with_the_nonce_echoed(served: Live, our_pki: Pki) -> None:
    seal, cert, issuing = _seal(our_pki)
    status, headers, body = _post(f"{served.url}/pki/ocsp",
                                  _ocsp_request(cert, issuing, nonce=b"n" * 16))
    assert status == 200 and headers["Content-Type"] == "application/ocsp-response"
    assert headers["Cache-Control"] == "no-store"  # an answer to that request only
    answer = ocsp.load_der_ocsp_response(body)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == seal.serial
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    issuing.public_key().verify(answer.signature, answer.tbs_response_bytes,
                                padding.PKCS1v15(), answer.signature_hash_algorithm)

    # GET: base64 in the path, as-is (slashes kept) or URL-encoded; cacheable without a nonce
    request = _ocsp_request(cert, issuing, algorithm=hashes.SHA256())
    encoded = base64.b64encode(request).decode()
    for path in (encoded, urllib.parse.quote(encoded, safe="")):
        status, headers, body = _get(f"{served.url}/pki/ocsp/{path}")
        assert status == 200, body
        answer = ocsp.load_der_ocsp_response(body)
        assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
        assert answer.hash_algorithm.name == "sha256"
        max_age = int(headers["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert 0 < max_age <= pki_http.MAX_AGE
        assert headers["ETag"] and headers["Last-Modified"]
    # a request whose base64 holds "//" (found by varying the nonce): the slashes are kept
    nonce, encoded = next((n, e) for n in (i.to_bytes(8, "big") for i in range(100_000))
                          if "//" in (e := base64.b64encode(
                              _ocsp_request(cert, issuing, nonce=n)).decode()))
    status, headers, body = _get(f"{served.url}/pki/ocsp/{encoded}")
    assert status == 200, body
    answer = ocsp.load_der_ocsp_response(body)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce


def test_the_responder_finds_the_issuer_whatever_the_certid_hash(our_pki: Pki) -> None:
    from signing import responder

    seal, cert, issuing = _seal(our_pki)
    for algorithm in (hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        answer = ocsp.load_der_ocsp_response(responder.ocsp_response(
            our_pki, _ocsp_request(cert, issuing, algorithm=algorithm)).body)
        assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD, algorithm.name
    # the root answers for the certificates it issued (the issuing CA)
    root = _crypto(seal.chain[1])
    answer = ocsp.load_der_ocsp_response(
        responder.ocsp_response(our_pki, _ocsp_request(issuing, root)).body)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    root.public_key().verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(),
                             answer.signature_hash_algorithm)


# --- bad input ---------------------------------------------------------------------------------


def _status_of(body: bytes) -> ocsp.OCSPResponseStatus:
    return ocsp.load_der_ocsp_response(body).response_status


def test_garbage_ocsp_requests_are_answered_malformed_request(served: Live, our_pki: Pki) -> None:
    _, cert, issuing = _seal(our_pki)
    good = _ocsp_request(cert, issuing)
    two = asn1_ocsp.OCSPRequest.load(good)
    too_many = asn1_ocsp.OCSPRequest({"tbs_request": {
        "request_list": [two["tbs_request"]["request_list"][0]] * 51}}).dump()
    for body in (b"", b"garbage", good[:-3], good + b"\x00", too_many):
        status, headers, answer = _post(f"{served.url}/pki/ocsp", body)
        assert status == 200 and headers["Content-Type"] == "application/ocsp-response"
        assert _status_of(answer) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST, body
        assert headers["Cache-Control"] == "no-store"
    for path in ("not-base64!", "Zm9v", base64.b64encode(b"garbage").decode()):
        status, _, answer = _get(f"{served.url}/pki/ocsp/{path}")
        assert status == 200 and _status_of(answer) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_an_oversize_ocsp_request_is_refused_with_413(served: Live, client) -> None:
    big = b"\x30" * (pki_http.MAX_OCSP_REQUEST + 1)
    status, _, body = _post(f"{served.url}/pki/ocsp", big)
    assert status == 413 and "quá lớn" in body.decode()
    # a body without a length (chunked) is bounded too
    conn = http.client.HTTPConnection("127.0.0.1", int(served.url.rsplit(":", 1)[1]),
                                      timeout=TIMEOUT)
    try:
        conn.request("POST", "/pki/ocsp", body=iter([big]), encode_chunked=True,
                     headers={"Content-Type": OCSP_REQUEST, "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        assert resp.status == 413, resp.read()
    finally:
        conn.close()
    status, _, _ = _get(f"{served.url}/pki/ocsp/{'A' * (pki_http.MAX_OCSP_REQUEST * 2)}")
    assert status == 413


def test_unknown_authorities_and_serials(served: Live, our_pki: Pki, tmp_path: Path) -> None:
    for path in ("/pki/crl/tsa.crl", "/pki/crl/other.crl", "/pki/ca/tsa.crt"):
        status, headers, body = _get(served.url + path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("text/plain")
    for path in ("/pki/crl/..%2Froot.crl", "/pki/ca/..%2F..%2Froot.crt", "/pki/crl/root.key",
                 "/pki/ca/root.key", "/pki/crl/"):
        assert _get(served.url + path)[0] == 404, path  # no route: the app's 404 page
    assert "Không có CRL của CA «other»" in _get(served.url + "/pki/crl/other.crl")[2].decode()

    _, cert, issuing = _seal(our_pki)
    # a serial this CA never issued: "unknown", still a signed, successful answer
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    never = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(issuing.subject)
             .public_key(stranger_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc)
             .sign(stranger_key, hashes.SHA256()))
    _, _, body = _post(f"{served.url}/pki/ocsp", _ocsp_request(never, issuing))
    answer = ocsp.load_der_ocsp_response(body)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert answer.serial_number == never.serial_number
    # a certificate of another issuer: we are not authoritative
    _, _, body = _post(f"{served.url}/pki/ocsp", _ocsp_request(cert, never))
    assert _status_of(body) is ocsp.OCSPResponseStatus.UNAUTHORIZED


# --- outside validators ------------------------------------------------------------------------


def _agency_seal(db: Session, our_pki: Pki) -> tuple[SigningCertificate, Credential]:
    """A demo agency's seal issued anew, by this module's PKI, through the app's service."""
    agency = db.scalars(select(Agency).where(Agency.code == "000.00.00.H12")).one()  # Cà Mau
    for row in db.scalars(select(SigningCertificate).where(
            SigningCertificate.agency_id == agency.id,
            SigningCertificate.holder == KeyHolder.AGENCY_SEAL)):
        row.active = False
    db.flush()
    row = keys.ensure_agency_seal(db, our_pki, CLI_CONTEXT, agency)
    return row, our_pki.credential(int(row.serial))


def _outside_validation(pdf: bytes, root) -> object:
    """pyHanko's own validation, as a recipient runs it: only our root trusted, revocation
    required and fetched from the URLs in the certificates."""
    vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail")
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(sig, signer_validation_context=vc)


def _revoke_through_the_cli(app: Flask, serial: int) -> None:
    result = app.test_cli_runner().invoke(args=["pki", "revoke", f"{serial:x}"])
    assert result.exit_code == 0, result.output
    assert f"Đã thu hồi chứng thư số {serial:x}" in result.output


def test_an_outside_validator_checks_revocation_through_the_served_urls(
        app: Flask, served: Live, our_pki: Pki, db: Session) -> None:
    row, seal = _agency_seal(db, our_pki)
    pdf = sign_pdf(make_demo_pdf(1), seal, trust=our_pki.trust_store())
    served.recorder.requests.clear()

    status = _outside_validation(pdf, seal.chain[-1])
    assert status.bottom_line, status.pretty_print_details()
    assert not status.revoked
    assert "POST /pki/ocsp" in served.recorder.requests  # the seal, over OCSP
    assert "GET /pki/crl/root.crl" in served.recorder.requests  # the issuing CA, over the CRL

    _revoke_through_the_cli(app, seal.serial)
    status = _outside_validation(pdf, seal.chain[-1])
    assert status.revoked and not status.bottom_line
    db.refresh(row)
    assert not row.active
    replacement = keys.agency_seal(db, row.agency_id)  # the agency keeps sealing
    assert replacement is not None and replacement.serial != row.serial
    new_seal = our_pki.credential(int(replacement.serial))
    again = sign_pdf(make_demo_pdf(1), new_seal, trust=our_pki.trust_store())
    assert _outside_validation(again, new_seal.chain[-1]).bottom_line
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "keys:certificate:revoke")
                       .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.subject_id == str(seal.serial)
    # the served CRL lists it at once, too
    crl = x509.load_der_x509_crl(_get(f"{served.url}/pki/crl/issuing.crl")[2])
    entry = crl.get_revoked_certificate_by_serial_number(seal.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason \
        is x509.ReasonFlags.key_compromise


@pytest.mark.slow
def test_pyhanko_cli_and_openssl_see_the_revocation(app: Flask, served: Live, our_pki: Pki,
                                                     tmp_path: Path) -> None:
    seal, _, _ = _seal(our_pki)
    pdf = tmp_path / "sealed.pdf"
    pdf.write_bytes(sign_pdf(make_demo_pdf(1), seal, trust=our_pki.trust_store()))
    root_pem = _pem(tmp_path, "root", seal.chain[-1])
    issuing_pem = _pem(tmp_path, "issuing", seal.chain[0])
    seal_pem = _pem(tmp_path, "seal", seal.certificate)

    def pyhanko_cli() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pyhanko", "sign", "validate", "--pretty-print",
             "--trust", str(root_pem), "--trust-replace", "--force-revinfo", str(pdf)],
            capture_output=True, text=True, timeout=120, check=False)

    def openssl_ocsp() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["openssl", "ocsp", "-issuer", str(issuing_pem), "-cert", str(seal_pem),
             "-url", f"{served.url}/pki/ocsp", "-CAfile", str(root_pem), "-timeout", "10"],
            capture_output=True, text=True, timeout=60, check=False)

    valid = pyhanko_cli()
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "The signature is judged VALID." in valid.stdout
    assert "POST /pki/ocsp" in served.recorder.requests
    assert shutil.which("openssl"), "openssl is installed by .ci/run"
    good = openssl_ocsp()
    assert "Response verify OK" in good.stderr + good.stdout, good.stderr
    assert f"{seal_pem}: good" in good.stdout

    _revoke_through_the_cli(app, seal.serial)
    revoked = pyhanko_cli()
    assert revoked.returncode != 0
    assert "The signer's certificate is revoked." in revoked.stdout, revoked.stdout
    assert "The signature is judged INVALID." in revoked.stdout
    out = openssl_ocsp()
    assert "Response verify OK" in out.stderr + out.stdout, out.stderr
    assert f"{seal_pem}: revoked" in out.stdout and "keyCompromise" in out.stdout


# --- several certificates in one request, and the rate limit ---------------------------------


def _several_request(pairs, *, nonce: bytes | None = None, algorithm: str = "sha1") -> bytes:
    """An OCSP request for several certificates (cryptography builds one for one only)."""
    import hashlib

    from asn1crypto import x509 as asn1_x509

    items = []
    for cert, issuer in pairs:
        issuer_asn1 = asn1_x509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
        items.append({"req_cert": {
            "hash_algorithm": {"algorithm": algorithm},
            "issuer_name_hash": hashlib.new(algorithm, issuer_asn1.subject.dump()).digest(),
            "issuer_key_hash": hashlib.new(
                algorithm, issuer_asn1.public_key["public_key"].contents[1:]).digest(),
            "serial_number": cert if isinstance(cert, int) else cert.serial_number}})
    tbs: dict[str, object] = {"request_list": items}
    if nonce is not None:
        tbs["request_extensions"] = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}]
    return asn1_ocsp.OCSPRequest({"tbs_request": tbs}).dump()


def test_openssl_asks_about_several_certificates_at_once(
        app: Flask, served: Live, our_pki: Pki, tmp_path: Path) -> None:
    """One request, three certificates (good, revoked, never issued): three answers in one
    response signed by the issuing CA, which openssl verifies."""
    good, _, _ = _seal(our_pki)
    revoked, _, _ = _seal(our_pki)
    _revoke_through_the_cli(app, revoked.serial)
    root_pem = _pem(tmp_path, "root", good.chain[-1])
    issuing_pem = _pem(tmp_path, "issuing", good.chain[0])
    good_pem, revoked_pem = _pem(tmp_path, "good", good.certificate), _pem(
        tmp_path, "revoked", revoked.certificate)
    out = subprocess.run(
        ["openssl", "ocsp", "-issuer", str(issuing_pem), "-cert", str(good_pem),
         "-cert", str(revoked_pem), "-serial", "0x7777777777", "-url",
         f"{served.url}/pki/ocsp", "-CAfile", str(root_pem), "-timeout", "10"],
        capture_output=True, text=True, timeout=60, check=False)
    assert "Response verify OK" in out.stderr + out.stdout, out.stderr + out.stdout
    assert f"{good_pem}: good" in out.stdout
    assert f"{revoked_pem}: revoked" in out.stdout and "keyCompromise" in out.stdout
    assert "0x7777777777: unknown" in out.stdout, out.stdout


def test_several_certificates_answered_each_in_order(served: Live, our_pki: Pki) -> None:
    seal, cert, issuing = _seal(our_pki)
    root = _crypto(seal.chain[-1])
    nonce = b"n" * 16
    body = _several_request([(cert, issuing), (issuing, root), (0x1234567, issuing)],
                            nonce=nonce, algorithm="sha256")
    status, headers, answer = _post(f"{served.url}/pki/ocsp", body)
    assert status == 200 and headers["Cache-Control"] == "no-store"  # a nonce: never cached
    parsed = ocsp.load_der_ocsp_response(answer)
    assert parsed.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    # signed by the issuing CA, the responder for its own certificates
    issuing.public_key().verify(parsed.signature, parsed.tbs_response_bytes,
                                padding.PKCS1v15(), hashes.SHA256())
    assert parsed.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    answers = [(r.serial_number, r.certificate_status) for r in parsed.responses]
    assert answers == [
        (cert.serial_number, ocsp.OCSPCertStatus.GOOD),
        # the issuing CA's own certificate is the root's to answer for: not this responder's
        (issuing.serial_number, ocsp.OCSPCertStatus.UNKNOWN),
        (0x1234567, ocsp.OCSPCertStatus.UNKNOWN),
    ]
    # pyHanko's parser (what validators use) reads it too
    basic = asn1_ocsp.OCSPResponse.load(answer).basic_ocsp_response
    assert len(basic["tbs_response_data"]["responses"]) == 3


def test_several_certificates_none_of_ours_is_unauthorized(served: Live, our_pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Other CA")])
    now = dt.datetime.now(dt.UTC)
    other = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
             .public_key(key.public_key()).serial_number(7).not_valid_before(now)
             .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    body = _several_request([(5, other), (6, other)])
    _, _, answer = _post(f"{served.url}/pki/ocsp", body)
    assert _status_of(answer) is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ocsp_is_rate_limited_per_address(app: Flask, our_pki: Pki) -> None:
    app.config["OCSP_RATE_LIMIT"] = "3 per minute"
    _, cert, issuing = _seal(our_pki)
    body = _ocsp_request(cert, issuing)
    client = app.test_client()
    codes = [client.post("/pki/ocsp", data=body, content_type=OCSP_REQUEST).status_code
             for _ in range(2)]
    encoded = base64.b64encode(body).decode()
    codes.append(client.get(f"/pki/ocsp/{encoded}").status_code)  # GET and POST share it
    refused = client.post("/pki/ocsp", data=body, content_type=OCSP_REQUEST)
    assert codes == [200, 200, 200] and refused.status_code == 429
    assert "Quá nhiều yêu cầu kiểm tra trạng thái chứng thư (OCSP)" in refused.get_data(
        as_text=True)
    other = app.test_client()  # another address has its own allowance
    assert other.post("/pki/ocsp", data=body, content_type=OCSP_REQUEST,
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


# --- inside the app: offline, and kept current by the worker -----------------------------------


def test_validation_inside_the_app_never_fetches(served: Live, our_pki: Pki) -> None:
    """The certificates now name reachable URLs: the app's own signing and validation still
    use only the trust store's pre-fetched data (``allow_fetching=False``)."""
    seal, _, _ = _seal(our_pki)
    served.recorder.requests.clear()
    pdf = sign_pdf(make_demo_pdf(1), seal, trust=our_pki.trust_store(), level="B-LT",
                   timestamper=our_pki.timestamper())
    report = validate_pdf(pdf, our_pki.trust_store())
    assert report.valid, report.explanation
    our_pki.revoke(seal.serial)
    report = validate_pdf(pdf, our_pki.trust_store())
    assert not report.valid
    assert served.recorder.requests == []


def test_the_worker_reissues_what_is_served(app: Flask, served: Live, our_pki: Pki,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from ioffice.exchange.runtime import exchange
    from ioffice.exchange.worker import refresh_revocation_data
    from signing import pki as pki_module

    def served_crl() -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(_get(f"{served.url}/pki/crl/root.crl")[2])

    before = served_crl()
    rt = exchange(app)
    assert not refresh_revocation_data(rt)  # a week left: nothing to do
    monkeypatch.setattr(pki_module, "REFRESH_MARGIN", dt.timedelta(days=8))  # now it is due
    assert refresh_revocation_data(rt)
    after = served_crl()
    number = x509.CRLNumber
    assert (after.extensions.get_extension_for_class(number).value.crl_number
            > before.extensions.get_extension_for_class(number).value.crl_number)
    assert after.next_update_utc >= before.next_update_utc


def test_revoking_an_unknown_or_malformed_serial_is_refused_clearly(app: Flask, served: Live) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pki", "revoke", "abc123"])
    assert result.exit_code != 0 and "Không có chứng thư số abc123" in result.output
    result = runner.invoke(args=["pki", "revoke", "xyz"])
    assert result.exit_code != 0 and "không phải số hiệu hex" in result.output
    result = runner.invoke(args=["pki", "revoke", "abc123", "--reason", "bored"])
    assert result.exit_code != 0 and "bored" in result.output


def test_the_admin_revokes_the_seal_on_the_keys_page_and_the_served_ocsp_says_so(
        client, served: Live, our_pki: Pki, db: Session) -> None:
    from tests.conftest import csrf_token, login

    row, seal = _agency_seal(db, our_pki)
    db.commit()  # the savepoint: the app's requests see the new row
    cert, issuing = _crypto(seal.certificate), _crypto(seal.chain[0])
    assert login(client, "vanthu.camau").status_code == 302
    page = client.get("/quan-tri/chu-ky-so").get_data(as_text=True)
    assert "Con dấu số của cơ quan" in page and row.serial[:16] in page and "Lộ khóa bí mật" in page
    token = csrf_token(client, "/quan-tri/chu-ky-so")

    resp = client.post(f"/quan-tri/chu-ky-so/{row.id}/thu-hoi",
                       data={"csrf_token": token, "reason": "bored"}, follow_redirects=True)
    assert "Chọn lý do thu hồi trong danh sách." in resp.get_data(as_text=True)
    db.refresh(row)
    assert row.active  # nothing revoked
    answer = ocsp.load_der_ocsp_response(
        _post(f"{served.url}/pki/ocsp", _ocsp_request(cert, issuing))[2])
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD

    resp = client.post(f"/quan-tri/chu-ky-so/{row.id}/thu-hoi",
                       data={"csrf_token": token, "reason": "superseded"}, follow_redirects=True)
    assert "Đã thu hồi chứng thư số" in resp.get_data(as_text=True)
    assert "Cơ quan đã có con dấu số mới." in resp.get_data(as_text=True)
    answer = ocsp.load_der_ocsp_response(
        _post(f"{served.url}/pki/ocsp", _ocsp_request(cert, issuing))[2])
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason is x509.ReasonFlags.superseded
    db.refresh(row)
    assert not row.active and keys.agency_seal(db, row.agency_id).serial != row.serial
    # revoked already: nothing to revoke any more
    resp = client.post(f"/quan-tri/chu-ky-so/{row.id}/thu-hoi",
                       data={"csrf_token": token, "reason": "superseded"})
    assert resp.status_code == 404
