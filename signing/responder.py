"""What the simulated PKI publishes at the URLs its certificates name: CRLs, OCSP answers
(RFC 6960) and the CA certificates (caIssuers).

Everything is read from the PKI directory at each call, so that a revocation made by another
process (the CLI, the admin, a web worker) is answered at once: the CRLs are the files
:meth:`Pki.refresh_revocation_data` writes (after every revocation, and by the exchange worker
before they expire); OCSP answers are made for each request from ``revoked.json`` and
``certs/``, signed by the CA that issued the certificate asked about, with the request's nonce
echoed. The HTTP side (routes, size limits, cache headers) is ``ioffice/web/pki_http.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp

from .pki import Pki

__all__ = ["CA_NAMES", "Published", "UnknownAuthority", "ca_certificate", "crl", "ocsp_response"]

CA_NAMES = ("root", "issuing")
"""The certification authorities of the simulated PKI, as they are named in the URLs."""

_SKEW = dt.timedelta(minutes=5)
"""thisUpdate lies this far in the past, for validators whose clock runs behind."""

_FALLBACK_VALIDITY = dt.timedelta(hours=1)
"""How long an OCSP answer holds when the CA's CRL has expired (the worker is late)."""


class UnknownAuthority(LookupError):
    """A name in a URL that is not one of :data:`CA_NAMES`."""


@dataclass(frozen=True)
class Published:
    """One answer to publish, with what an HTTP cache needs to know about it."""

    body: bytes
    """DER: a CRL, an OCSP response or a certificate."""
    this_update: dt.datetime | None = None
    """When the data was produced (None: a certificate, or an unsuccessful OCSP answer)."""
    next_update: dt.datetime | None = None
    """When newer data will be there at the latest (None: unknown)."""
    cacheable: bool = True
    """False for OCSP answers to one request (a nonce echoed) and unsuccessful ones."""


def ca_certificate(pki: Pki, name: str) -> Published:
    """The DER certificate of CA ``name`` (what caIssuers URLs point at)."""
    _check(name)
    return Published(pki._ca_cert(name).public_bytes(serialization.Encoding.DER))


def crl(pki: Pki, name: str) -> Published:
    """CA ``name``'s current CRL, as last written by :meth:`Pki.refresh_revocation_data`."""
    _check(name)
    der = (pki.directory / "crl" / f"{name}.crl").read_bytes()
    parsed = x509.load_der_x509_crl(der)
    return Published(der, parsed.last_update_utc, parsed.next_update_utc)


def ocsp_response(pki: Pki, request: bytes, *, now: dt.datetime | None = None) -> Published:
    """The OCSP response (DER) to a DER OCSP request, from the current revocation state.

    A request for several certificates (several ``SingleRequest``) gets one answer per
    certificate (:func:`_several`). ``malformedRequest`` for anything that is not a
    well-formed request with a supported hash;
    ``unauthorized`` for a certificate of an issuer that is not one of ours; ``unknown`` for a
    serial number our CA never issued; otherwise ``good`` or ``revoked``, signed by the CA
    that issued the certificate (it is its own responder), valid until that CA's CRL's next
    update."""
    several = _request_list(request)
    if several is not None and len(several[0]) > 1:
        return _several(pki, *several, now=now)
    try:
        parsed = ocsp.load_der_ocsp_request(request)
        algorithm = parsed.hash_algorithm
        name_hash, key_hash = parsed.issuer_name_hash, parsed.issuer_key_hash
        serial = parsed.serial_number
        nonce = _nonce(parsed)
    except (ValueError, UnsupportedAlgorithm, NotImplementedError):  # the last: several requests
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    ca = _authority(pki, algorithm, name_hash, key_hash)
    if ca is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    status, revoked_at, reason = _status(pki, ca, serial)
    try:
        next_update = crl(pki, ca).next_update
    except OSError:  # no CRL written yet: the answer holds a short while
        next_update = None
    if next_update is None or next_update <= now:
        next_update = now + _FALLBACK_VALIDITY
    issuer = pki._ca_cert(ca)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=name_hash, issuer_key_hash=key_hash, serial_number=serial,
            algorithm=algorithm, cert_status=status, this_update=now - _SKEW,
            next_update=next_update, revocation_time=revoked_at, revocation_reason=reason)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        .certificates([issuer])
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    signed = builder.sign(pki._ca_key(ca), hashes.SHA256())
    return Published(signed.public_bytes(serialization.Encoding.DER), now - _SKEW, next_update,
                     cacheable=nonce is None)


MAX_CERTIFICATES = 50
"""Certificates one request may ask about (a validator asks for a chain: a handful)."""

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _request_list(request: bytes) -> tuple[list, bytes | None] | None:
    """The CertIDs and the nonce of a DER OCSPRequest (asn1crypto: cryptography reads only
    requests for one certificate); None if it does not parse."""
    try:
        parsed = asn1_ocsp.OCSPRequest.load(request, strict=True)
        tbs = parsed["tbs_request"]
        ids = [item["req_cert"] for item in tbs["request_list"]]
        _ = [(i["hash_algorithm"]["algorithm"].native, i["serial_number"].native) for i in ids]
        nonce = None
        for ext in tbs["request_extensions"] or []:
            if ext["extn_id"].native == "nonce":
                nonce = ext["extn_value"].parsed.native
        return ids, nonce
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None


def _several(pki: Pki, ids: list, nonce: bytes | None, *, now: dt.datetime | None) -> Published:
    """One response for a request about several certificates: a ``SingleResponse`` per
    ``SingleRequest``, in the same order, signed by the CA that issued the first one we know
    (a CA is the responder for its own certificates only: one of another of our CAs, or of an
    issuer that is not ours, is answered ``unknown``, RFC 6960 §2.2). ``unauthorized`` if no
    certificate asked about is one of ours, ``malformedRequest`` past
    :data:`MAX_CERTIFICATES` or with an unsupported hash."""
    if len(ids) > MAX_CERTIFICATES:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    asked = []
    for cert_id in ids:
        algorithm = _HASHES.get(cert_id["hash_algorithm"]["algorithm"].native)
        if algorithm is None:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        ca = _authority(pki, algorithm(), cert_id["issuer_name_hash"].native,
                        cert_id["issuer_key_hash"].native)
        asked.append((cert_id, ca))
    signer = next((ca for _, ca in asked if ca is not None), None)
    if signer is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        next_update = crl(pki, signer).next_update
    except OSError:
        next_update = None
    if next_update is None or next_update <= now:
        next_update = now + _FALLBACK_VALIDITY
    responses = []
    for cert_id, ca in asked:
        if ca == signer:
            status, revoked_at, reason = _status(pki, ca, cert_id["serial_number"].native)
        else:
            status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        if status is ocsp.OCSPCertStatus.REVOKED:
            cert_status = asn1_ocsp.CertStatus(name="revoked", value=asn1_ocsp.RevokedInfo({
                "revocation_time": revoked_at,
                "revocation_reason": reason.name if reason is not None else None,
            }))
        else:
            cert_status = asn1_ocsp.CertStatus(
                name="good" if status is ocsp.OCSPCertStatus.GOOD else "unknown",
                value=core.Null())
        responses.append({"cert_id": cert_id, "cert_status": cert_status,
                          "this_update": now - _SKEW, "next_update": next_update})
    issuer = pki._ca_cert(signer)
    issuer_asn1 = asn1_x509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
    tbs = {
        "version": "v1",
        "responder_id": asn1_ocsp.ResponderId(
            name="by_key", value=issuer_asn1.public_key.sha1),
        "produced_at": now,
        "responses": responses,
    }
    if nonce is not None:
        tbs["response_extensions"] = [{"extn_id": "nonce", "critical": False,
                                       "extn_value": nonce}]
    data = asn1_ocsp.ResponseData(tbs)
    key = pki._ca_key(signer)
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm_name = "sha256_rsa"
        value = key.sign(data.dump(), padding.PKCS1v15(), hashes.SHA256())
    else:
        algorithm_name = "sha256_ecdsa"
        value = key.sign(data.dump(), ec.ECDSA(hashes.SHA256()))
    basic = asn1_ocsp.BasicOCSPResponse({
        "tbs_response_data": data,
        "signature_algorithm": {"algorithm": algorithm_name},
        "signature": value,
        "certs": [issuer_asn1],
    })
    response = asn1_ocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
    })
    return Published(response.dump(), now - _SKEW, next_update, cacheable=nonce is None)


def _check(name: str) -> None:
    if name not in CA_NAMES:
        raise UnknownAuthority(name)


def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _authority(pki: Pki, algorithm: hashes.HashAlgorithm, name_hash: bytes,
               key_hash: bytes) -> str | None:
    """Which of our CAs the request's CertID names (hashes in the request's algorithm)."""
    for name in CA_NAMES:
        cert = pki._ca_cert(name)
        key = cert.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        ours_name = hashlib.new(algorithm.name, cert.subject.public_bytes()).digest()
        ours_key = hashlib.new(algorithm.name, _subject_public_key(key)).digest()
        if ours_name == name_hash and ours_key == key_hash:
            return name
    return None


def _subject_public_key(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING's bytes of a SubjectPublicKeyInfo (what RFC 6960's
    issuerKeyHash hashes: without tag, length and unused-bits octet)."""
    return bytes(asn1_keys.PublicKeyInfo.load(spki_der)["public_key"])


def _status(pki: Pki, ca: str, serial: int
            ) -> tuple[ocsp.OCSPCertStatus, dt.datetime | None, x509.ReasonFlags | None]:
    if ca == "root":  # it issued the issuing CA and the TSA, and revokes neither
        known = {pki._ca_cert(name).serial_number for name in ("issuing", "tsa")}
        return (ocsp.OCSPCertStatus.GOOD if serial in known else ocsp.OCSPCertStatus.UNKNOWN,
                None, None)
    if not (pki.directory / "certs" / f"{serial:x}.crt").exists():
        return ocsp.OCSPCertStatus.UNKNOWN, None, None
    revoked = json.loads((pki.directory / "revoked.json").read_text()).get(f"{serial:x}")
    if revoked is None:
        return ocsp.OCSPCertStatus.GOOD, None, None
    reason = x509.ReasonFlags.__members__.get(revoked.get("reason", ""))
    return ocsp.OCSPCertStatus.REVOKED, dt.datetime.fromisoformat(revoked["time"]), reason


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> Published:
    return Published(ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER), cacheable=False)
