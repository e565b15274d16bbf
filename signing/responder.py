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

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
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

    ``malformedRequest`` for anything that is not one well-formed request for a single
    certificate with a supported hash (validators ask for one certificate at a time);
    ``unauthorized`` for a certificate of an issuer that is not one of ours; ``unknown`` for a
    serial number our CA never issued; otherwise ``good`` or ``revoked``, signed by the CA
    that issued the certificate (it is its own responder), valid until that CA's CRL's next
    update."""
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
