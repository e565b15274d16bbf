"""Remote signing with a PIN: a personal key held by the server, encrypted under the PIN.

The key is wrapped with AES-256-GCM under a key derived from the PIN with scrypt
(n=2**15, r=8, p=1: ~50 ms, so guessing offline is slow and a 6-digit PIN is not enough on
its own — the lock is what protects it online). A wrong PIN fails the GCM tag check: the
error says nothing beyond "wrong PIN". After ``max_attempts`` wrong PINs in a row the key is
locked; the counter lives in a pluggable :class:`AttemptStore` (filesystem by default), so it
survives restarts and is shared between worker processes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .credentials import Credential, PrivateKey
from .errors import PinLocked, SigningError, WrongPin

__all__ = ["AttemptStore", "FilesystemAttemptStore", "PinProtectedKey"]

_N, _R, _P = 2**15, 8, 1
_TEST_N = 2**10
_seal_n = _N  # the cost of keys sealed from now on in this process (``use_test_cost``)


def use_test_cost() -> None:
    """Seal keys made from now on in this process with scrypt's N = 2**10 instead of 2**15: for
    test processes only (a PIN is six digits; the cost is what stands against guessing it from a
    stolen key file). Each key records its N, so keys sealed before keep theirs."""
    global _seal_n
    _seal_n = _TEST_N


class AttemptStore(Protocol):
    """Counts consecutive wrong PINs per key id."""

    def failures(self, key_id: str) -> int:
        """Wrong PINs since the last success."""

    def record_failure(self, key_id: str) -> int:
        """Add one wrong PIN; return the new count."""

    def reset(self, key_id: str) -> None:
        """Forget the wrong PINs (after a right one, or when an officer unlocks the key)."""


class FilesystemAttemptStore:
    """An :class:`AttemptStore` with one small file per key id, updated under ``flock``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key_id: str) -> Path:
        if not key_id or not all(c.isalnum() or c in "-_." for c in key_id):
            raise SigningError("Invalid key id.")
        return self.directory / f"{key_id}.attempts"

    def failures(self, key_id: str) -> int:
        try:
            return int(self._path(key_id).read_text() or 0)
        except FileNotFoundError:
            return 0

    def record_failure(self, key_id: str) -> int:
        import fcntl

        path = self._path(key_id)
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            count = int(f.read() or 0) + 1
            f.seek(0)
            f.truncate()
            f.write(str(count))
        return count

    def reset(self, key_id: str) -> None:
        self._path(key_id).unlink(missing_ok=True)


def _kek(pin: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=_R, p=_P).derive(pin.encode())


@dataclass(frozen=True)
class PinProtectedKey:
    """A server-held personal key sealed under a PIN, with its certificate chain.

    Serialise with :meth:`to_bytes` and store it where the application keeps keys.
    """

    key_id: str
    """Stable id (the certificate serial in hex) used by the attempt counter."""
    certificate_der: bytes
    """The personal certificate."""
    chain_der: tuple[bytes, ...]
    """Issuing CA then root."""
    salt: bytes
    """scrypt salt."""
    nonce: bytes
    """AES-GCM nonce."""
    sealed_key: bytes
    """The PKCS#8 private key, AES-256-GCM encrypted (tag appended)."""
    max_attempts: int = 5
    """Wrong PINs in a row before the key locks."""
    scrypt_n: int = _N
    """scrypt's cost N the key was sealed with (files without it: 2**15)."""

    @classmethod
    def seal(cls, credential: Credential, pin: str, *, max_attempts: int = 5) -> PinProtectedKey:
        """Wrap the credential's key under ``pin``."""
        if len(pin) < 6:
            raise SigningError("Mã PIN phải có ít nhất 6 ký tự.")
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        der = credential.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_id = f"{credential.serial:x}"
        sealed = AESGCM(_kek(pin, salt, _seal_n)).encrypt(nonce, der, key_id.encode())
        return cls(
            key_id=key_id, certificate_der=credential.certificate.dump(),
            chain_der=tuple(c.dump() for c in credential.chain), salt=salt, nonce=nonce,
            sealed_key=sealed, max_attempts=max_attempts, scrypt_n=_seal_n,
        )

    def unlock(self, pin: str, attempts: AttemptStore) -> Credential:
        """The usable credential, or :class:`WrongPin` / :class:`PinLocked`."""
        from asn1crypto import x509 as asn1_x509

        if attempts.failures(self.key_id) >= self.max_attempts:
            raise PinLocked(
                "Khóa ký số đã bị khóa do nhập sai mã PIN quá nhiều lần; "
                "hãy liên hệ quản trị viên để mở khóa."
            )
        try:
            der = AESGCM(_kek(pin, self.salt, self.scrypt_n)).decrypt(
                self.nonce, self.sealed_key, self.key_id.encode()
            )
        except InvalidTag:
            count = attempts.record_failure(self.key_id)
            left = self.max_attempts - count
            if left <= 0:
                raise PinLocked(
                    "Nhập sai mã PIN quá nhiều lần: khóa ký số đã bị khóa; "
                    "hãy liên hệ quản trị viên để mở khóa."
                ) from None
            raise WrongPin(f"Mã PIN không đúng. Còn {left} lần thử.") from None
        attempts.reset(self.key_id)
        key: PrivateKey = serialization.load_der_private_key(der, password=None)  # type: ignore[assignment]
        return Credential(
            certificate=asn1_x509.Certificate.load(self.certificate_der),
            private_key=key,
            chain=tuple(asn1_x509.Certificate.load(c) for c in self.chain_der),
        )

    def to_bytes(self) -> bytes:
        """JSON serialisation (no secret in clear)."""
        def b64(b: bytes) -> str:
            return base64.b64encode(b).decode()

        return json.dumps({
            "key_id": self.key_id, "certificate": b64(self.certificate_der),
            "chain": [b64(c) for c in self.chain_der], "salt": b64(self.salt),
            "nonce": b64(self.nonce), "sealed_key": b64(self.sealed_key),
            "max_attempts": self.max_attempts, "scrypt_n": self.scrypt_n,
        }).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PinProtectedKey:
        """Inverse of :meth:`to_bytes`."""
        d = json.loads(data)
        dec = base64.b64decode
        n = int(d.get("scrypt_n", _N))
        if n not in (_N, _TEST_N):
            raise SigningError(f"Tệp khóa ký số không hợp lệ: tham số scrypt N = {n} không được hỗ trợ.")
        return cls(
            key_id=d["key_id"], certificate_der=dec(d["certificate"]),
            chain_der=tuple(dec(c) for c in d["chain"]), salt=dec(d["salt"]),
            nonce=dec(d["nonce"]), sealed_key=dec(d["sealed_key"]),
            max_attempts=int(d["max_attempts"]), scrypt_n=n,
        )
