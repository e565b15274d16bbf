"""A simulated government PKI: root CA, issuing CA, timestamp authority, CRLs and OCSP.

The directory layout (all certificates PEM, all private keys PKCS#8 encrypted under the PKI
passphrase)::

    root.crt root.key              the root (stand-in for Ban Cơ yếu Chính phủ)
    issuing.crt issuing.key        the CA issuing agency seal and personal certificates
    tsa.crt tsa.key                the timestamp authority (issued by the root)
    certs/<serial>.crt             every end-entity certificate issued
    keys/<serial>.key              end-entity keys generated here (server-held keys)
    revoked.json                   serial -> revocation time and reason
    crl/root.crl crl/issuing.crl   current CRLs (DER)
    ocsp/<serial>.der              current OCSP response for each end-entity certificate

Nothing but :class:`Pki` needs the passphrase: :meth:`TrustStore.load` reads the public part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import AuthorityWithCert
from pyhanko_certvalidator.ltv.poe import (
    KnownPOE,
    POEManager,
    POEType,
    ValidationObject,
    ValidationObjectType,
    digest_for_poe,
)
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.registry import CertificateRegistry
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer, sort_freshest_first
from pyhanko_certvalidator.revinfo.manager import RevinfoManager

from .errors import PkiError

__all__ = [
    "CertificateKind",
    "Credential",
    "KeyType",
    "Pki",
    "TrustStore",
    "generate_key",
    "make_csr",
]

VN_TZ = dt.timezone(dt.timedelta(hours=7))
_BASE_URL = "http://pki.ioffice.invalid"
_REVINFO_DAYS = 7
REFRESH_MARGIN = dt.timedelta(days=3)
"""Revocation data is reissued once it has less than this left before its next update."""
_VIETNAM = "VN"

CRL_ISSUER_TTL = 60.0
"""Seconds for which a CRL issuer established by one validation is reused by the next ones.

The issuer's certification path was validated at that validation's moment; the trust store
is immutable, so only the passing of time (a CA certificate expiring) could change the result,
and CA certificates live for years. Validated certification paths are kept as long (see
:class:`_PathMemo`)."""

_PATH_MEMO_SIZE = 256
"""Validated paths a trust store keeps at most (the signers a server meets are few)."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(StrEnum):
    """Key algorithms the government PKI accepts."""

    RSA = "rsa"
    """RSA-2048."""
    EC = "ec"
    """ECDSA on P-256 (what a browser's WebCrypto makes)."""


class CertificateKind(StrEnum):
    """What an end-entity certificate is for."""

    SEAL = "seal"
    """An agency's seal (the agency signature)."""
    PERSONAL = "personal"
    """A competent person's personal signature."""


def generate_key(key_type: KeyType | str = KeyType.RSA) -> PrivateKey:
    """Make a fresh RSA-2048 or ECDSA P-256 private key."""
    if KeyType(key_type) is KeyType.EC:
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_csr(key: PrivateKey, common_name: str) -> bytes:
    """Make a PEM certificate signing request, as a browser would (for tests and the CLI)."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Credential:
    """A private key with its certificate and the chain up to (and including) the root."""

    certificate: asn1_x509.Certificate
    """The end-entity certificate (asn1crypto, as pyHanko uses it)."""
    private_key: PrivateKey = field(repr=False)
    """The parsed private key, kept parsed so that signing never re-parses it."""
    chain: tuple[asn1_x509.Certificate, ...] = ()
    """Issuing CA certificate(s) then the root."""

    @property
    def serial(self) -> int:
        """The certificate's serial number."""
        return int(self.certificate.serial_number)


@dataclass(frozen=True)
class _RevocationIssuers:
    names: frozenset[bytes]
    """DER of the issuer name of each CRL."""
    name_sha1s: frozenset[bytes]
    """SHA-1 of the same."""


@dataclass(frozen=True)
class TrustStore:
    """Trust roots and revocation data: everything a validator needs, no secrets.

    Immutable: after a revocation, load a new one (the library caches per instance).
    """

    roots: tuple[asn1_x509.Certificate, ...]
    """Trusted root certificates."""
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    """Other CA certificates that may be needed to build a path (issuing CA, TSA)."""
    crls: tuple[bytes, ...] = ()
    """DER CRLs."""
    ocsps: tuple[bytes, ...] = ()
    """DER OCSP responses."""
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TrustStore:
        """Read the public part of a PKI directory (no passphrase needed)."""
        d = Path(directory)
        try:
            roots = (_read_cert(d / "root.crt"),)
            inter = (_read_cert(d / "issuing.crt"), _read_cert(d / "tsa.crt"))
            crls = tuple(p.read_bytes() for p in sorted((d / "crl").glob("*.crl")))
            ocsps = tuple(p.read_bytes() for p in sorted((d / "ocsp").glob("*.der")))
        except OSError as exc:
            raise PkiError(f"Không đọc được thư mục PKI {d}: {exc}") from exc
        return cls(roots=roots, intermediates=inter, crls=crls, ocsps=ocsps)

    def with_anchors(
        self, roots: tuple[asn1_x509.Certificate, ...] = (),
        intermediates: tuple[asn1_x509.Certificate, ...] = (),
        crls: tuple[bytes, ...] = (), ocsps: tuple[bytes, ...] = (),
    ) -> TrustStore:
        """A new store trusting these roots too (certificates an administrator imported),
        with these CA certificates for path building and this revocation data besides its
        own. New, so nothing this one learnt is reused under other anchors."""
        return TrustStore(roots=self.roots + tuple(roots),
                          intermediates=self.intermediates + tuple(intermediates),
                          crls=self.crls + tuple(crls), ocsps=self.ocsps + tuple(ocsps))

    def revocation_issuers(self) -> _RevocationIssuers:
        """Who this store's CRLs come from: the DER of each issuer name and its SHA-1 (as an
        OCSP response's certificate id names the issuer)."""
        cached = self._cache.get("revocation_issuers")
        if cached is None:
            names = frozenset(asn1_crl.CertificateList.load(c).issuer.dump() for c in self.crls)
            cached = self._cache["revocation_issuers"] = _RevocationIssuers(
                names, frozenset(asn1_x509.Name.load(n).sha1 for n in names))
        return cached

    def validation_context(
        self, *, moment: dt.datetime | None = None, revocation_mode: str = "require"
    ) -> ValidationContext:
        """A fresh pyHanko validation context over these roots and revocation data, no fetching.

        Fresh each call: its clock, certificate registry (which collects the certificates
        embedded in the PDFs it validates) and validated paths belong to one validation. What
        is shared: the parsed CRLs and OCSP responses (immutable), and, for a validation now
        with revocation required, what was established in the last :data:`CRL_ISSUER_TTL`
        seconds: which of these CRLs was found issued by which of these CA certificates (see
        :meth:`remember_crl_issuers`) and which certificates' paths validated, under exactly
        the same conditions (see :class:`_PathMemo`)."""
        prepared = self._prepared_revinfo()
        registry = CertificateRegistry.build(self.intermediates)
        poe = POEManager()
        vc = _Context(
            trust_roots=list(self.roots),
            certificate_registry=registry,
            poe_manager=poe,
            revinfo_manager=_StoreRevinfo(registry, poe, prepared),
            allow_fetching=False,
            revocation_mode=revocation_mode,
            moment=moment,
            retroactive_revinfo=moment is not None,
        )
        if moment is None and revocation_mode == "require":
            vc.reusable = True
            since = vc.created
            known = self._cache.get("crl_issuers")
            if known is not None and vc.created - known[0] <= CRL_ISSUER_TTL:
                for crl, issuer in known[1].values():
                    vc.revinfo_manager.record_crl_issuer(crl, issuer)
                vc.seeded = True
                since = min(since, known[0])  # its paths also rest on those issuers
            dates = self._dates()
            if dates is not None:
                vc.path_memo = _PathMemo(self, vc, since, dates)
        return vc

    def remember_crl_issuers(self, vc: ValidationContext) -> None:
        """Keep, for the next validations, the issuers pyHanko established for these CRLs
        during a validation with ``vc`` (from :meth:`validation_context`, at the current time).

        pyHanko finds a CRL's issuer by validating the issuer's certification path and the CRL's
        signature, then remembers it in the context (``RevinfoManager.record_crl_issuer``); a
        new context would redo both for every document. Only issuers that are certificates of
        this trust store are kept, only from a context that was not itself seeded, and for at
        most :data:`CRL_ISSUER_TTL` seconds from that context's creation: the path was
        validated at that moment. :func:`validate_pdf` calls it after a validation in which
        every signature was valid."""
        if not isinstance(vc, _Context) or not vc.reusable or vc.seeded:
            return
        ours = self._ca_certificates()
        found = {}
        for container in self._revinfo()[0]:
            crl = container.crl_data
            issuer = vc.revinfo_manager.check_crl_issuer(crl)
            if issuer is not None and issuer.dump() in ours:
                found[crl.signature] = (crl, issuer)
        if not found:
            return
        known = self._cache.get("crl_issuers")
        if known is not None and time.monotonic() - known[0] <= CRL_ISSUER_TTL:
            found = {**known[1], **found}
            self._cache["crl_issuers"] = (min(known[0], vc.created), found)
        else:
            self._cache["crl_issuers"] = (vc.created, found)

    def _registry_baseline(self, vc: ValidationContext) -> _Baseline:
        """The certificates every context of this store starts with (its CA certificates and
        those inside its OCSP responses), from a context no document has added to yet."""
        cached = self._cache.get("registry_baseline")
        if cached is None:
            certs = list(vc.certificate_registry)
            cached = self._cache["registry_baseline"] = _Baseline(
                ders=frozenset(c.dump() for c in certs), objects={id(c): c for c in certs}
            )
        return cached

    def _dates(self) -> _StoreDates | None:
        """The dates in this store's certificates, CRLs and OCSP responses at which a
        validation's outcome may change (see :class:`_StoreDates`); None if asn1crypto cannot
        decode them all (then no path is remembered)."""
        cached = self._cache.get("dates")
        if cached is None:
            try:
                dates = _StoreDates.of(self)
            except Exception:  # undecodable: remember nothing
                dates = None
            cached = self._cache["dates"] = (dates,)
        return cached[0]

    def _ca_certificates(self) -> frozenset[bytes]:
        cached = self._cache.get("ca_ders")
        if cached is None:
            cached = self._cache["ca_ders"] = frozenset(
                c.dump() for c in (*self.roots, *self.intermediates)
            )
        return cached

    def _revinfo(self) -> tuple[tuple[CRLContainer, ...], tuple[OCSPContainer, ...]]:
        cached = self._cache.get("revinfo")
        if cached is None:
            crls = tuple(CRLContainer(asn1_crl.CertificateList.load(der)) for der in self.crls)
            ocsps = tuple(
                c for der in self.ocsps
                for c in OCSPContainer.load_multi(asn1_ocsp.OCSPResponse.load(der))
            )
            cached = self._cache["revinfo"] = (crls, ocsps)
        return cached

    def _prepared_revinfo(self) -> _PreparedRevinfo:
        cached = self._cache.get("prepared")
        if cached is None:
            cached = self._cache["prepared"] = _PreparedRevinfo.of(*self._revinfo())
        return cached

    def revoked_serials(self) -> frozenset[int]:
        """Serial numbers listed in any of the CRLs."""
        cached = self._cache.get("revoked")
        if cached is None:
            serials: set[int] = set()
            for der in self.crls:
                lst = asn1_crl.CertificateList.load(der)
                for entry in lst["tbs_cert_list"]["revoked_certificates"] or ():
                    serials.add(int(entry["user_certificate"].native))
            cached = self._cache["revoked"] = frozenset(serials)
        return cached


@dataclass(frozen=True)
class _PreparedOcsp:
    digest: bytes
    """POE digest of the response (``digest_for_poe`` of its data)."""
    vo: ValidationObject
    certs: tuple[tuple[asn1_x509.Certificate, bytes, ValidationObject], ...]
    """The certificates it carries, each with its POE digest and validation object."""


@dataclass(frozen=True)
class _PreparedRevinfo:
    """A trust store's revocation data in the form pyHanko's ``RevinfoManager`` makes of it for
    every context: sorted freshest first, with the POE digests of each OCSP response and of the
    certificates it carries. Made once per trust store (the containers are immutable), so that
    a new context costs the same whatever the number of certificates the PKI has issued (one
    OCSP response each, ~9 µs each per context before)."""

    crls: tuple[CRLContainer, ...]
    ocsps: tuple[OCSPContainer, ...]
    ocsp_poe: tuple[_PreparedOcsp, ...]

    @classmethod
    def of(cls, crls: tuple[CRLContainer, ...], ocsps: tuple[OCSPContainer, ...]) -> _PreparedRevinfo:
        ordered = tuple(sort_freshest_first(ocsps))
        prepared = []
        for container in ordered:
            basic = container.extract_basic_ocsp_response()
            carried = tuple(basic["certs"]) if basic is not None and basic["certs"] else ()
            prepared.append(_PreparedOcsp(
                digest_for_poe(container.ocsp_response_data.dump()),
                ValidationObject(ValidationObjectType.OCSP_RESPONSE, container),
                tuple((cert, digest_for_poe(cert.dump()),
                       ValidationObject(ValidationObjectType.CERTIFICATE, cert)) for cert in carried),
            ))
        return cls(tuple(sort_freshest_first(crls)), ordered, tuple(prepared))


class _StoreRevinfo(RevinfoManager):
    """``RevinfoManager(registry, poe, crls, ocsps)`` built from a :class:`_PreparedRevinfo`.

    Leaves the state pyHanko's constructor leaves (pyhanko-certvalidator 0.33): the lists
    sorted freshest first and, per OCSP response in that order, a POE at the current time for
    it, then each certificate it carries registered in the context's registry and, if new
    there, kept as a revocation certificate with a POE at the same time
    (``_extract_ocsp_certs``). Only the sorting and the hashing, whose results never change,
    are done once per trust store. tests/signing/test_trust_store.py compares the two."""

    def __init__(self, registry: CertificateRegistry, poe: POEManager,
                 prepared: _PreparedRevinfo) -> None:
        super().__init__(certificate_registry=registry, poe_manager=poe, crls=(), ocsps=())
        self._crls = list(prepared.crls)
        self._ocsps = list(prepared.ocsps)
        now = dt.datetime.now(dt.UTC)
        for ocsp_ in prepared.ocsp_poe:
            at = poe.register_known_poe(KnownPOE(POEType.VALIDATION, ocsp_.digest, now, ocsp_.vo)).poe_time
            for cert, digest, vo in ocsp_.certs:
                if registry.register(cert):
                    self._revocation_certs[cert.issuer_serial] = cert
                    poe.register_known_poe(KnownPOE(POEType.VALIDATION, digest, at, vo))


class _Context(ValidationContext):
    """A ValidationContext that knows whether it may share what it learnt with the next ones."""

    def __init__(self, **kwargs) -> None:
        self.created = time.monotonic()
        self.reusable = False
        """Validation at the current time, revocation required."""
        self.seeded = False
        """Started with CRL issuers learnt by an earlier context."""
        self.path_memo: _PathMemo | None = None
        """On a reusable context: the trust store's memo of validated certification paths
        (``signing/_pyhanko_speedups.py`` consults it around pyHanko's
        ``validate_cert_usage``)."""
        super().__init__(**kwargs)


@dataclass(frozen=True)
class _RememberedPath:
    path: ValidationPath
    since: float
    """time.monotonic() when what it rests on was last checked from scratch."""
    moment: dt.datetime
    """The validation time at which it was validated."""
    until: dt.datetime | None
    """Reusable only by a validation at a time before this (None: no date ahead)."""


class _PathMemo:
    """Certification paths validated by earlier contexts of one trust store, for a context
    validating at the current time with revocation required.

    pyHanko's ``validate_cert_usage`` (path building, path validation with CRL/OCSP checks,
    key usage) depends on: the certificate, the key usage settings, the trust roots and
    revocation data (the trust store's, immutable), the certificates the context's registry
    holds (the store's, then those the documents validated with this context carried, in the
    order registered) and the validation time. A success is remembered in the trust store's
    cache under (certificate DER, key usage settings, DER of every registry certificate
    beyond the store's own, in order), and reused by another context of the same store only:

    * within :data:`CRL_ISSUER_TTL` seconds of when it was established from scratch (the
      validating context's creation or, if that context was seeded with CRL issuers, when
      those were established);
    * at a validation time not earlier than the one it was validated at, and before the next
      date after that time (± pyHanko's time tolerance) at which the answer could change
      (:meth:`_StoreDates.next_change`): any certificate of the path or of the registry
      expiring, a CRL or an OCSP response running out, a revocation of one of them taking
      effect.

    Failures and errors are never remembered. A new trust store (after a revocation) starts
    empty."""

    def __init__(
        self, trust: TrustStore, vc: _Context, since: float, dates: _StoreDates
    ) -> None:
        self._cache = trust._cache
        """The trust store's cache; its ``paths`` entry maps a key to a :class:`_RememberedPath`."""
        self._since = since
        self._created = vc.created
        self._moment = vc.moment
        self._tolerance = vc.time_tolerance
        self._registry = vc.certificate_registry
        self._baseline = trust._registry_baseline(vc)
        self._dates = dates

    def key(self, cert, key_usage_settings) -> tuple | None:
        """What a validation of ``cert`` depends on, beyond the store and the time; None if
        the settings are not the plain kind this memo can describe."""
        usage = _usage_description(key_usage_settings)
        if usage is None:
            return None
        baseline = self._baseline
        extra = []
        for c in self._registry:
            if baseline.objects.get(id(c)) is c:  # the store's own object: no need to encode
                continue
            der = c.dump()
            if der not in baseline.ders:
                extra.append(der)
        return cert.dump(), usage, tuple(extra)

    def get(self, key: tuple) -> ValidationPath | None:
        """The path remembered under ``key``, if it may be reused by this context."""
        entry = self._cache.get("paths", {}).get(key)
        if entry is None:
            return None
        if not 0 <= self._created - entry.since <= CRL_ISSUER_TTL:
            return None
        if self._moment < entry.moment:
            return None
        if entry.until is not None and self._moment >= entry.until:
            return None
        return entry.path

    def put(self, key: tuple, path: ValidationPath) -> None:
        """Remember a path that ``validate_cert_usage`` just validated with this context."""
        if not isinstance(path.trust_anchor.authority, AuthorityWithCert):
            return  # a key-only anchor has no validity period to bound the reuse by
        m0 = self._moment
        until = self._dates.next_change(
            (*path.iter_certs(include_root=True), *self._registry), m0, self._tolerance
        )
        if until is not None and until <= m0:
            return
        paths = self._cache.setdefault("paths", {})
        if len(paths) >= _PATH_MEMO_SIZE:  # replaced, never changed while others may read it
            now = time.monotonic()
            paths = {k: e for k, e in list(paths.items()) if now - e.since <= CRL_ISSUER_TTL}
            if len(paths) >= _PATH_MEMO_SIZE:
                paths = {}
            self._cache["paths"] = paths
        paths[key] = _RememberedPath(path=path, since=self._since, moment=m0, until=until)


@dataclass(frozen=True)
class _Baseline:
    ders: frozenset[bytes]
    objects: dict[int, object]
    """The same certificates by id (held here, so that no id is reused)."""


_USAGE_FIELDS = tuple(f.name for f in dataclasses.fields(KeyUsageConstraints))


def _usage_description(settings) -> tuple | None:
    if type(settings) is not KeyUsageConstraints:
        return None
    described = []
    for name in _USAGE_FIELDS:
        value = getattr(settings, name)
        if value is None or isinstance(value, bool):
            described.append((name, value))
        elif isinstance(value, set | frozenset | list | tuple) and all(
            type(v) is str for v in value
        ):
            described.append((name, tuple(sorted(set(value)))))
        else:
            return None
    return tuple(described)


@dataclass(frozen=True)
class _StoreDates:
    """The dates a trust store holds, for :meth:`next_change`.

    pyHanko compares the validation time (give or take its tolerance) with: the validity
    period of each certificate it uses, the this/next update of the CRLs and OCSP responses,
    and the revocation time of a listed certificate (which concerns that serial number only).
    Between two consecutive such dates (± the tolerance) its answer cannot change."""

    general: tuple[dt.datetime, ...]
    """Validity of the store's certificates and of those inside its OCSP responses; this and
    next update of its CRLs."""
    by_serial: dict[int, tuple[dt.datetime, ...]]
    """Per serial number: its CRL entries' revocation and invalidity dates, its OCSP
    responses' this/next update and revocation time."""

    @classmethod
    def of(cls, trust: TrustStore) -> _StoreDates:
        general: list = []
        by_serial: dict[int, list] = {}
        for cert in (*trust.roots, *trust.intermediates):
            general.extend(_validity(cert))
        crls, ocsps = trust._revinfo()
        for container in crls:
            tbs = container.crl_data["tbs_cert_list"]
            general += [tbs["this_update"].native, tbs["next_update"].native]
            for entry in tbs["revoked_certificates"] or ():
                invalidity = entry.invalidity_date_value
                by_serial.setdefault(int(entry["user_certificate"].native), []).extend((
                    entry["revocation_date"].native,
                    invalidity.native if invalidity is not None else None,
                ))
        for container in ocsps:
            basic = container.ocsp_response_data.basic_ocsp_response
            for cert in basic["certs"] or ():
                general.extend(_validity(cert))
            single = basic["tbs_response_data"]["responses"][container.index]
            status = single["cert_status"]
            by_serial.setdefault(int(single["cert_id"]["serial_number"].native), []).extend((
                single["this_update"].native,
                single["next_update"].native,
                status.chosen["revocation_time"].native if status.name == "revoked" else None,
            ))
        return cls(
            general=_only_dates(general),
            by_serial={serial: _only_dates(d) for serial, d in by_serial.items()},
        )

    def next_change(
        self, certs, moment: dt.datetime, tolerance: dt.timedelta
    ) -> dt.datetime | None:
        """The earliest instant at or after ``moment`` at which a validation using ``certs``
        might be answered differently; None if there is none."""
        dates = list(self.general)
        for cert in certs:
            dates.extend(_validity(cert))
            dates.extend(self.by_serial.get(int(cert.serial_number), ()))
        return min(
            (p for d in dates for p in (d - tolerance, d, d + tolerance) if p >= moment),
            default=None,
        )


def _only_dates(values) -> tuple[dt.datetime, ...]:
    # asn1crypto gives a datetime, None (absent) or, for the year 0, an extended_datetime
    # (long past, so never a date ahead)
    return tuple(sorted({v for v in values if isinstance(v, dt.datetime)}))


def _validity(cert) -> tuple[dt.datetime, ...]:
    return _only_dates((cert.not_valid_before, cert.not_valid_after))


def _read_cert(path: Path) -> asn1_x509.Certificate:
    return _to_asn1(x509.load_pem_x509_certificate(path.read_bytes()))


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    # Vietnamese is stored NFC; X.520 caps a common name at 64 characters.
    return x509.Name([
        x509.NameAttribute(oid, _cap(v) if oid == NameOID.COMMON_NAME else _nfc(v))
        for oid, v in attrs
        if v
    ])


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _cap(value: str) -> str:
    value = _nfc(value)
    while len(value.encode()) > 64:  # cryptography counts UTF-8 bytes
        value = value[:-1]
    return value


class Pki:
    """The simulated PKI, opened with its passphrase. Safe to share between threads."""

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._lock = threading.Lock()
        self._keys: dict[str, PrivateKey] = {}
        self._certs: dict[str, x509.Certificate] = {}
        # serial -> (the key and certificate files' identities, the credential loaded from them)
        self._credentials: dict[int, tuple[tuple[tuple[int, int, int], ...], Credential]] = {}

    # --- creating and opening ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        root_name: str = "Ban Cơ yếu Chính phủ (mô phỏng) - Root CA",
        issuing_name: str = "CA cấp chứng thư số chuyên dùng (mô phỏng)",
    ) -> Pki:
        """Generate a new PKI into an empty (or missing) directory and return it opened."""
        d = Path(directory)
        if (d / "root.crt").exists():
            raise PkiError(f"Thư mục {d} đã có một PKI.")
        for sub in ("certs", "keys", "crl", "ocsp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        pki = cls(d, _pw(passphrase))
        now = _now()
        root_key = generate_key(KeyType.RSA)
        root_subject = _name(
            (NameOID.COUNTRY_NAME, _VIETNAM),
            (NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
            (NameOID.COMMON_NAME, root_name),
        )
        root = pki._build(
            subject=root_subject, issuer=root_subject, public_key=root_key.public_key(),
            signing_key=root_key, not_before=now - dt.timedelta(days=1),
            not_after=now + dt.timedelta(days=365 * 20), ca=True, path_length=1,
            issuer_key=root_key, crl_name="root",
        )
        pki._store_ca("root", root, root_key)
        issuing_key = generate_key(KeyType.RSA)
        issuing = pki._build(
            subject=_name(
                (NameOID.COUNTRY_NAME, _VIETNAM),
                (NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
                (NameOID.COMMON_NAME, issuing_name),
            ),
            issuer=root_subject, public_key=issuing_key.public_key(), signing_key=root_key,
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365 * 10),
            ca=True, path_length=0, issuer_key=root_key, crl_name="root",
        )
        pki._store_ca("issuing", issuing, issuing_key)
        tsa_key = generate_key(KeyType.RSA)  # pyHanko's in-process TSA signs with RSA only
        tsa = pki._build(
            subject=_name(
                (NameOID.COUNTRY_NAME, _VIETNAM),
                (NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
                (NameOID.COMMON_NAME, "Dịch vụ cấp dấu thời gian (mô phỏng)"),
            ),
            issuer=root_subject, public_key=tsa_key.public_key(), signing_key=root_key,
            not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365 * 10),
            ca=False, eku=ExtendedKeyUsageOID.TIME_STAMPING, issuer_key=root_key,
            crl_name="root",
        )
        pki._store_ca("tsa", tsa, tsa_key)
        (d / "revoked.json").write_text("{}")
        (d / "pki.json").write_text(json.dumps({"created": now.isoformat(), "version": 1}))
        pki.refresh_revocation_data()
        return pki

    @classmethod
    def open(cls, directory: str | os.PathLike[str], passphrase: str | bytes) -> Pki:
        """Open an existing PKI; fails with :class:`PkiError` on a wrong passphrase."""
        d = Path(directory)
        if not (d / "root.crt").exists():
            raise PkiError(f"Không tìm thấy PKI trong thư mục {d}.")
        pki = cls(d, _pw(passphrase))
        pki._ca_key("issuing")  # checks the passphrase now rather than at first use
        return pki

    # --- issuing -------------------------------------------------------------------------------

    def issue_seal(
        self,
        agency_id: str,
        agency_name: str,
        *,
        key_type: KeyType | str = KeyType.RSA,
        valid_days: int = 365 * 3,
        not_before: dt.datetime | None = None,
    ) -> Credential:
        """Generate a key and an agency seal certificate (subject: agency id and name)."""
        key = generate_key(key_type)
        cert = self._issue_leaf(
            key.public_key(), self._seal_subject(agency_id, agency_name), valid_days, not_before
        )
        self._store_leaf_key(cert, key)
        return self._credential(cert, key)

    def issue_personal(
        self,
        full_name: str,
        position: str,
        agency_id: str,
        agency_name: str,
        *,
        key_type: KeyType | str = KeyType.RSA,
        valid_days: int = 365 * 3,
        not_before: dt.datetime | None = None,
        store_key: bool = True,
    ) -> Credential:
        """Generate a key and a personal certificate (full name, position, agency)."""
        key = generate_key(key_type)
        subject = self._personal_subject(full_name, position, agency_id, agency_name)
        cert = self._issue_leaf(key.public_key(), subject, valid_days, not_before)
        if store_key:
            self._store_leaf_key(cert, key)
        return self._credential(cert, key)

    def issue_from_csr(
        self,
        csr_pem: bytes,
        *,
        kind: CertificateKind | str,
        agency_id: str,
        agency_name: str,
        full_name: str = "",
        position: str = "",
        valid_days: int = 365 * 3,
    ) -> asn1_x509.Certificate:
        """Issue a certificate for a key made elsewhere (a browser). The subject is ours:
        the CSR only proves possession of the key, whose algorithm must be RSA-2048 or P-256."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError:
            csr = x509.load_der_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise PkiError("Yêu cầu cấp chứng thư (CSR) có chữ ký không hợp lệ.")
        pub = csr.public_key()
        ok = (isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048) or (
            isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, ec.SECP256R1)
        )
        if not ok:
            raise PkiError("Chỉ chấp nhận khóa RSA-2048 hoặc ECDSA P-256.")
        if CertificateKind(kind) is CertificateKind.SEAL:
            subject = self._seal_subject(agency_id, agency_name)
        else:
            subject = self._personal_subject(full_name, position, agency_id, agency_name)
        return _to_asn1(self._issue_leaf(pub, subject, valid_days, None))

    def credential(self, serial: int) -> Credential:
        """Load a server-held key issued by this PKI, with its certificate.

        Decrypting the key file costs ~28 ms (the passphrase's key derivation), paid once per
        serial: the credential is kept while neither file changes (checked by a ``stat`` on
        each call), like the CA keys this object holds already."""
        path = self.directory / "keys" / f"{serial:x}.key"
        cert_path = self.directory / "certs" / f"{serial:x}.crt"
        try:
            files = (_file_identity(path), _file_identity(cert_path))
            cached = self._credentials.get(serial)
            if cached is not None and cached[0] == files:
                return cached[1]
            key = _load_key(path.read_bytes(), self._passphrase)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except OSError as exc:
            raise PkiError(f"Không có khóa cho chứng thư số {serial:x}.") from exc
        credential = self._credential(cert, key)
        self._credentials[serial] = (files, credential)
        return credential

    def certificate(self, serial: int) -> asn1_x509.Certificate:
        """An end-entity certificate issued by this PKI."""
        try:
            return _read_cert(self.directory / "certs" / f"{serial:x}.crt")
        except OSError as exc:
            raise PkiError(f"Không có chứng thư số {serial:x}.") from exc

    # --- revocation ----------------------------------------------------------------------------

    def revoke(self, serial: int, reason: str = "key_compromise") -> None:
        """Revoke an end-entity certificate; the CRL and its OCSP response are reissued."""
        self.certificate(serial)
        with self._lock:
            path = self.directory / "revoked.json"
            revoked = json.loads(path.read_text())
            revoked[f"{serial:x}"] = {"time": _now().isoformat(), "reason": reason}
            _atomic_write(path, json.dumps(revoked, indent=1).encode())
        self.refresh_revocation_data()

    def revocation_data_expires(self) -> dt.datetime | None:
        """The earliest next update of the CRLs and OCSP responses (None: there are none)."""
        times = []
        for path in sorted((self.directory / "crl").glob("*.crl")):
            times.append(x509.load_der_x509_crl(path.read_bytes()).next_update_utc)
        for path in sorted((self.directory / "ocsp").glob("*.der")):
            times.append(ocsp.load_der_ocsp_response(path.read_bytes()).next_update_utc)
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def refresh_revocation_data_if_due(self, now: dt.datetime | None = None,
                                       margin: dt.timedelta | None = None) -> bool:
        """Reissue the revocation data if it expires within ``margin`` of ``now``; True if so.

        A validator requires current revocation data: a deployment left running past a week
        would otherwise find every signature indeterminate. The exchange worker calls this."""
        expires = self.revocation_data_expires()
        margin = REFRESH_MARGIN if margin is None else margin
        if expires is not None and expires - (now or _now()) > margin:
            return False
        self.refresh_revocation_data()
        return True

    def revocation_stamp(self) -> tuple[tuple[str, int, int], ...]:
        """What changes when the revocation data is reissued (names, sizes, modification
        times): a long-lived :class:`TrustStore` holder reloads when it differs."""
        stamp = []
        for folder in ("crl", "ocsp"):
            for path in sorted((self.directory / folder).iterdir()):
                info = path.stat()
                stamp.append((f"{folder}/{path.name}", info.st_size, info.st_mtime_ns))
        return tuple(stamp)

    def refresh_revocation_data(self) -> None:
        """Reissue both CRLs and every OCSP response (they are valid for a week)."""
        with self._lock:
            revoked = json.loads((self.directory / "revoked.json").read_text())
            now = _now()
            for ca, entries in (("root", {}), ("issuing", revoked)):
                builder = (
                    x509.CertificateRevocationListBuilder()
                    .issuer_name(self._ca_cert(ca).subject)
                    .last_update(now - dt.timedelta(minutes=5))
                    .next_update(now + dt.timedelta(days=_REVINFO_DAYS))
                    .add_extension(x509.CRLNumber(int(time.time() * 1000)), critical=False)
                    .add_extension(
                        x509.AuthorityKeyIdentifier.from_issuer_public_key(
                            self._ca_key(ca).public_key()
                        ),
                        critical=False,
                    )
                )
                for serial_hex, info in entries.items():
                    builder = builder.add_revoked_certificate(
                        x509.RevokedCertificateBuilder()
                        .serial_number(int(serial_hex, 16))
                        .revocation_date(dt.datetime.fromisoformat(info["time"]))
                        .build()
                    )
                crl = builder.sign(self._ca_key(ca), hashes.SHA256())
                _atomic_write(
                    self.directory / "crl" / f"{ca}.crl",
                    crl.public_bytes(serialization.Encoding.DER),
                )
            for cert_path in (self.directory / "certs").glob("*.crt"):
                cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
                info = revoked.get(f"{cert.serial_number:x}")
                self._write_ocsp(cert, info, now)

    def _write_ocsp(self, cert: x509.Certificate, info: dict | None, now: dt.datetime) -> None:
        issuer = self._ca_cert("issuing")
        if info is None:
            status, rev_time = ocsp.OCSPCertStatus.GOOD, None
        else:
            status, rev_time = ocsp.OCSPCertStatus.REVOKED, dt.datetime.fromisoformat(info["time"])
        resp = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert, issuer=issuer, algorithm=hashes.SHA1(), cert_status=status,
                this_update=now - dt.timedelta(minutes=5),
                next_update=now + dt.timedelta(days=_REVINFO_DAYS),
                revocation_time=rev_time,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
            .certificates([issuer])
            .sign(self._ca_key("issuing"), hashes.SHA256())
        )
        _atomic_write(
            self.directory / "ocsp" / f"{cert.serial_number:x}.der",
            resp.public_bytes(serialization.Encoding.DER),
        )

    # --- trust and timestamps ------------------------------------------------------------------

    def trust_store(self) -> TrustStore:
        """The current roots and revocation data."""
        return TrustStore.load(self.directory)

    def validation_context(self, **kwargs) -> ValidationContext:
        """Shortcut for ``self.trust_store().validation_context(**kwargs)``."""
        return self.trust_store().validation_context(**kwargs)

    def timestamper(self) -> DummyTimeStamper:
        """An in-process RFC 3161 timestamp authority signing with the PKI's TSA key.

        A test double in the sense of pyHanko's ``dummy_client``, but with a real key and a
        certificate chaining to the root, so that timestamps validate like a real TSA's."""
        key = self._ca_key("tsa")
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return DummyTimeStamper(
            tsa_cert=_to_asn1(self._ca_cert("tsa")),
            tsa_key=asn1_keys.PrivateKeyInfo.load(der),
            certs_to_embed=[_to_asn1(self._ca_cert("root"))],
        )

    # --- internals -----------------------------------------------------------------------------

    @staticmethod
    def _seal_subject(agency_id: str, agency_name: str) -> x509.Name:
        return _name(
            (NameOID.COUNTRY_NAME, _VIETNAM),
            (NameOID.ORGANIZATION_IDENTIFIER, agency_id),
            (NameOID.ORGANIZATION_NAME, agency_name),
            (NameOID.COMMON_NAME, agency_name),
        )

    @staticmethod
    def _personal_subject(
        full_name: str, position: str, agency_id: str, agency_name: str
    ) -> x509.Name:
        return _name(
            (NameOID.COUNTRY_NAME, _VIETNAM),
            (NameOID.ORGANIZATION_IDENTIFIER, agency_id),
            (NameOID.ORGANIZATION_NAME, agency_name),
            (NameOID.TITLE, position),
            (NameOID.COMMON_NAME, full_name),
        )

    def _issue_leaf(
        self,
        public_key,
        subject: x509.Name,
        valid_days: int,
        not_before: dt.datetime | None,
    ) -> x509.Certificate:
        start = not_before or (_now() - dt.timedelta(minutes=5))
        cert = self._build(
            subject=subject, issuer=self._ca_cert("issuing").subject, public_key=public_key,
            signing_key=self._ca_key("issuing"), not_before=start,
            not_after=start + dt.timedelta(days=valid_days), ca=False,
            issuer_key=self._ca_key("issuing"), crl_name="issuing", ocsp=True,
        )
        path = self.directory / "certs" / f"{cert.serial_number:x}.crt"
        _atomic_write(path, cert.public_bytes(serialization.Encoding.PEM))
        self._write_ocsp(cert, None, _now())
        return cert

    def _build(
        self,
        *,
        subject: x509.Name,
        issuer: x509.Name,
        public_key,
        signing_key: PrivateKey,
        not_before: dt.datetime,
        not_after: dt.datetime,
        ca: bool,
        issuer_key: PrivateKey,
        crl_name: str,
        path_length: int | None = None,
        eku: x509.ObjectIdentifier | None = None,
        ocsp: bool = False,
    ) -> x509.Certificate:
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        if ca:
            usage = {"key_cert_sign": True, "crl_sign": True, "digital_signature": False,
                     "content_commitment": False}
        else:
            usage = {"key_cert_sign": False, "crl_sign": False, "digital_signature": True,
                     "content_commitment": eku is None}
        b = b.add_extension(
            x509.KeyUsage(key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False, **usage),
            critical=True,
        )
        if eku is not None:
            b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
        if subject != issuer:
            b = b.add_extension(
                x509.CRLDistributionPoints([
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(
                            f"{_BASE_URL}/crl/{crl_name}.crl")],
                        relative_name=None, reasons=None, crl_issuer=None,
                    )
                ]),
                critical=False,
            )
        if ocsp:
            b = b.add_extension(
                x509.AuthorityInformationAccess([
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(f"{_BASE_URL}/ocsp"),
                    )
                ]),
                critical=False,
            )
        return b.sign(signing_key, hashes.SHA256())

    def _store_ca(self, name: str, cert: x509.Certificate, key: PrivateKey) -> None:
        _atomic_write(self.directory / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
        _atomic_write(self.directory / f"{name}.key", _dump_key(key, self._passphrase))
        self._keys[name], self._certs[name] = key, cert

    def _store_leaf_key(self, cert: x509.Certificate, key: PrivateKey) -> None:
        path = self.directory / "keys" / f"{cert.serial_number:x}.key"
        _atomic_write(path, _dump_key(key, self._passphrase))

    def _ca_key(self, name: str) -> PrivateKey:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = _load_key(
                (self.directory / f"{name}.key").read_bytes(), self._passphrase
            )
        return key

    def _ca_cert(self, name: str) -> x509.Certificate:
        cert = self._certs.get(name)
        if cert is None:
            cert = self._certs[name] = x509.load_pem_x509_certificate(
                (self.directory / f"{name}.crt").read_bytes()
            )
        return cert

    def _credential(self, cert: x509.Certificate, key: PrivateKey) -> Credential:
        return Credential(
            certificate=_to_asn1(cert),
            private_key=key,
            chain=(_to_asn1(self._ca_cert("issuing")), _to_asn1(self._ca_cert("root"))),
        )


def _pw(passphrase: str | bytes) -> bytes:
    return passphrase.encode() if isinstance(passphrase, str) else passphrase


def _dump_key(key: PrivateKey, passphrase: bytes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def _load_key(pem: bytes, passphrase: bytes) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise PkiError("Sai mật khẩu của PKI hoặc tệp khóa bị hỏng.") from exc
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key


def _file_identity(path: Path) -> tuple[int, int, int]:
    """What changes when a file is replaced or rewritten (``_atomic_write`` makes a new inode)."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

