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

MIN_LENGTH = 10


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, in Vietnamese, or None when it may be used."""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự."
    if not password.strip():
        return "Mật khẩu không được chỉ gồm dấu cách."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
