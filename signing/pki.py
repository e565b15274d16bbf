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


The three parts of the PKI live in three modules: this one, the simulated CA (:class:`Pki`:
issuing seal and personal certificates, revocation, CRLs and OCSP responses, the TSA's key);
:mod:`signing.trust` (:class:`TrustStore`: anchors, intermediates, revocation data, the
validation-path cache); :mod:`signing.credentials` (where a signing key lives:
:class:`DirectoryCredentials` for the keys in ``keys/``, the :class:`CredentialSource`
protocol a PKCS#11 token implements beside it).

Nothing but :class:`Pki` needs the passphrase: :meth:`TrustStore.load` reads the public part.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import unicodedata
from enum import StrEnum
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext

from .credentials import (
    Credential,
    DirectoryCredentials,
    KeyType,
    PrivateKey,
    _atomic_write,
    _dump_key,
    _load_key,
    _pw,
    generate_key,
    make_csr,
)
from .errors import PkiError
from .trust import TrustStore, _read_cert, _to_asn1

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
"""Where certificates point for revocation data when no public URL is configured (nowhere)."""
_REVINFO_DAYS = 7
REFRESH_MARGIN = dt.timedelta(days=3)
"""Revocation data is reissued once it has less than this left before its next update."""
_VIETNAM = "VN"


class CertificateKind(StrEnum):
    """What an end-entity certificate is for."""

    SEAL = "seal"
    """An agency's seal (the agency signature)."""
    PERSONAL = "personal"
    """A competent person's personal signature."""



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

    def __init__(self, directory: Path, passphrase: bytes, public_url: str | None = None) -> None:
        self.directory = directory
        self.public_url = (public_url or _BASE_URL).rstrip("/")
        """The base URL at which the app serves this PKI's CRLs, OCSP and CA certificates
        (``/pki/...``, see ``signing.responder``): certificates issued from now on name it."""
        self._passphrase = passphrase
        self._lock = threading.Lock()
        self._keys: dict[str, PrivateKey] = {}
        self._certs: dict[str, x509.Certificate] = {}
        self.credentials = DirectoryCredentials(directory, passphrase, self._credential)
        """The server-held keys this CA generated (``keys/``): a :class:`CredentialSource`."""

    # --- creating and opening ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        root_name: str = "Ban Cơ yếu Chính phủ (mô phỏng) - Root CA",
        issuing_name: str = "CA cấp chứng thư số chuyên dùng (mô phỏng)",
        public_url: str | None = None,
    ) -> Pki:
        """Generate a new PKI into an empty (or missing) directory and return it opened;
        its certificates point at ``public_url`` for revocation data."""
        d = Path(directory)
        if (d / "root.crt").exists():
            raise PkiError(f"Thư mục {d} đã có một PKI.")
        for sub in ("certs", "keys", "crl", "ocsp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        pki = cls(d, _pw(passphrase), public_url)
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
    def open(cls, directory: str | os.PathLike[str], passphrase: str | bytes,
             public_url: str | None = None) -> Pki:
        """Open an existing PKI; fails with :class:`PkiError` on a wrong passphrase.
        Certificates it issues point at ``public_url`` for revocation data."""
        d = Path(directory)
        if not (d / "root.crt").exists():
            raise PkiError(f"Không tìm thấy PKI trong thư mục {d}.")
        pki = cls(d, _pw(passphrase), public_url)
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
        """Load a server-held key issued by this PKI, with its certificate (see
        :class:`DirectoryCredentials`: decrypted once per serial while its files stay)."""
        return self.credentials.credential(serial)

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
                    entry = (
                        x509.RevokedCertificateBuilder()
                        .serial_number(int(serial_hex, 16))
                        .revocation_date(dt.datetime.fromisoformat(info["time"]))
                    )
                    reason = x509.ReasonFlags.__members__.get(info.get("reason", ""))
                    if reason is not None:  # the same reason as the OCSP answers give
                        entry = entry.add_extension(x509.CRLReason(reason), critical=False)
                    builder = builder.add_revoked_certificate(entry.build())
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

    def timestamp_authority(self) -> tuple[asn1_x509.Certificate, PrivateKey,
                                           tuple[asn1_x509.Certificate, ...]]:
        """The TSA's certificate, private key and chain (the root): what
        :class:`signing.tsa.TsaResponder` signs with when the app serves the simulated TSA."""
        return (_to_asn1(self._ca_cert("tsa")), self._ca_key("tsa"),
                (_to_asn1(self._ca_cert("root")),))

    def issue_timestamp_authority(self, valid_days: int, *, not_before: dt.datetime | None = None
                                  ) -> tuple[asn1_x509.Certificate, PrivateKey,
                                             tuple[asn1_x509.Certificate, ...]]:
        """A further TSA certificate from the root, living ``valid_days`` (RSA key; kept
        nowhere): :meth:`timestamp_authority`'s shape, for a :class:`signing.tsa.TsaResponder`
        whose certificate expires soon (the re-timestamp job's tests, a demo of a renewal).
        The root's CRL covers it (never revoked)."""
        now = not_before or _now() - dt.timedelta(days=1)
        key = generate_key(KeyType.RSA)
        cert = self._build(
            subject=_name(
                (NameOID.COUNTRY_NAME, _VIETNAM),
                (NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
                (NameOID.COMMON_NAME, f"Dịch vụ cấp dấu thời gian (mô phỏng, {valid_days} ngày)"),
            ),
            issuer=self._ca_cert("root").subject, public_key=key.public_key(),
            signing_key=self._ca_key("root"), not_before=now,
            not_after=now + dt.timedelta(days=valid_days), ca=False,
            eku=ExtendedKeyUsageOID.TIME_STAMPING, issuer_key=self._ca_key("root"),
            crl_name="root",
        )
        return _to_asn1(cert), key, (_to_asn1(self._ca_cert("root")),)

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
            for extension in self._revocation_extensions(crl_name, ocsp):
                b = b.add_extension(extension, critical=False)
        return b.sign(signing_key, hashes.SHA256())

    def _revocation_extensions(self, issuer: str, ocsp: bool) -> list[x509.ExtensionType]:
        """Where a validator finds the revocation data and the issuer's certificate of a
        certificate issued by CA ``issuer`` ("root" or "issuing"): the URLs the app serves
        (``ioffice/web/pki_http.py``) under :attr:`public_url`."""
        base = f"{self.public_url}/pki"
        access = [x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{base}/ca/{issuer}.crt"))]
        if ocsp:
            access.insert(0, x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{base}/ocsp")))
        return [
            x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(f"{base}/crl/{issuer}.crl")],
                relative_name=None, reasons=None, crl_issuer=None)]),
            x509.AuthorityInformationAccess(access),
        ]

    def _store_ca(self, name: str, cert: x509.Certificate, key: PrivateKey) -> None:
        _atomic_write(self.directory / f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM))
        _atomic_write(self.directory / f"{name}.key", _dump_key(key, self._passphrase))
        self._keys[name], self._certs[name] = key, cert

    def _store_leaf_key(self, cert: x509.Certificate, key: PrivateKey) -> None:
        self.credentials.store(cert, key)

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
