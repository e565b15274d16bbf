"""Password hashing with Argon2id (argon2-cffi's tuned defaults)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """A real hash to verify against when the user does not exist, so timing reveals nothing.
    Made on first use, not at import: every process that imports the app (workers, commands)
    would otherwise spend an Argon2 hash (64 MiB, ~0.1 s) starting up."""
    return _hasher.hash("không-có-người-dùng-này")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
