"""The trust store: trust anchors, intermediate CA certificates, revocation data (CRLs and
OCSP responses) and what validations learn from them (CRL issuers, validated certification
paths), for pyHanko's validator. No secrets: nothing here needs the simulated CA's passphrase.

:meth:`TrustStore.load` reads the public part of the simulated CA's directory (see
:mod:`signing.pki`); a store can also be built from certificates and revocation data directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
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

__all__ = ["CRL_ISSUER_TTL", "TrustStore"]

CRL_ISSUER_TTL = 60.0
"""Seconds for which a CRL issuer established by one validation is reused by the next ones.

The issuer's certification path was validated at that validation's moment; the trust store
is immutable, so only the passing of time (a CA certificate expiring) could change the result,
and CA certificates live for years. Validated certification paths are kept as long (see
:class:`_PathMemo`)."""

_PATH_MEMO_SIZE = 256
"""Validated paths a trust store keeps at most (the signers a server meets are few)."""


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


