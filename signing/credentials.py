"""Credentials: where a signing key lives, and what pyHanko signs with.

A :class:`SigningCredential` is what signing needs of a key, wherever it lives: the end-entity
certificate, the chain up to the root, and a pyHanko ``Signer`` (``signer()``) that makes the
signature value. A :class:`CredentialSource` hands out credentials by certificate serial.

One source ships here: :class:`DirectoryCredentials`, the server-held keys of the simulated CA
(``keys/<serial>.key``, PKCS#8 encrypted under the CA's passphrase, beside
``certs/<serial>.crt``), decrypted once and kept parsed in a :class:`Credential`. Another
source (a PKCS#11 token) implements the same two protocols: its credential's ``signer()`` is
pyHanko's PKCS#11 signer, and :func:`signing.sign_pdf` signs with it unchanged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import PkiError

__all__ = [
    "Credential",
    "CredentialSource",
    "DirectoryCredentials",
    "KeySigner",
    "KeyType",
    "PrivateKey",
    "SigningCredential",
    "generate_key",
    "make_csr",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(StrEnum):
    """Key algorithms the government PKI accepts."""

    RSA = "rsa"
    """RSA-2048."""
    EC = "ec"
    """ECDSA on P-256 (what a browser's WebCrypto makes)."""


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

    def signer(self) -> Signer:
        """A pyHanko signer over the key: the key's own when it has one (a key in a PKCS#11
        token gives pyHanko's ``PKCS11Signer``, see :mod:`signing.pkcs11`), else
        :class:`KeySigner` over the parsed key."""
        own = getattr(self.private_key, "pdf_signer", None)
        return own(self) if own is not None else KeySigner(self)


class KeySigner(Signer):
    """A pyHanko signer over an already parsed key (RSASSA-PKCS1-v1_5 or ECDSA, SHA-256)."""

    def __init__(self, credential: Credential) -> None:
        key = credential.private_key
        mech = "sha256_rsa" if isinstance(key, rsa.RSAPrivateKey) else "sha256_ecdsa"
        super().__init__(
            signing_cert=credential.certificate,
            cert_registry=SimpleCertificateStore.from_certs(
                [credential.certificate, *credential.chain]
            ),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mech}),
        )
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return bytes(256 if isinstance(self._key, rsa.RSAPrivateKey) else 72)
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


@runtime_checkable
class SigningCredential(Protocol):
    """What signing needs of a key, wherever it lives (a file here, a token elsewhere)."""

    @property
    def certificate(self) -> asn1_x509.Certificate:
        """The end-entity certificate (asn1crypto, as pyHanko uses it)."""
        ...

    @property
    def chain(self) -> tuple[asn1_x509.Certificate, ...]:
        """Issuing CA certificate(s) then the root."""
        ...

    def signer(self) -> Signer:
        """A pyHanko signer making signature values with this key for this certificate."""
        ...


@runtime_checkable
class CredentialSource(Protocol):
    """Where signing keys live: the credential of the certificate with a given serial."""

    def credential(self, serial: int) -> SigningCredential:
        """The credential for certificate ``serial``; :class:`PkiError` (a message a clerk
        can act on) when this source has no key for it or cannot open it."""
        ...


class DirectoryCredentials:
    """The server-held keys of the simulated CA's directory: ``keys/<serial>.key`` (PKCS#8,
    encrypted under the CA's passphrase) with ``certs/<serial>.crt``. Safe to share between
    threads.

    Decrypting a key file costs ~28 ms (the passphrase's key derivation), paid once per
    serial: the credential is kept while neither file changes (checked by a ``stat`` on each
    call)."""

    def __init__(
        self,
        directory: Path,
        passphrase: bytes,
        make: Callable[[x509.Certificate, PrivateKey], Credential],
    ) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._make = make
        """Builds the credential (with its chain, which the issuing CA knows)."""
        # serial -> (the key and certificate files' identities, the credential loaded from them)
        self._credentials: dict[int, tuple[tuple[tuple[int, int, int], ...], Credential]] = {}

    def credential(self, serial: int) -> Credential:
        """Load a server-held key issued by the simulated CA, with its certificate."""
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
        credential = self._make(cert, key)
        self._credentials[serial] = (files, credential)
        return credential

    def store(self, cert: x509.Certificate, key: PrivateKey) -> None:
        """Keep a key the CA generated for ``cert`` (a server-held key)."""
        path = self.directory / "keys" / f"{cert.serial_number:x}.key"
        _atomic_write(path, _dump_key(key, self._passphrase))


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

