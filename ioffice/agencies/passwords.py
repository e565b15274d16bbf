"""Password hashing with Argon2id (argon2-cffi's tuned defaults: RFC 9106's low-memory choice,
3 passes over 64 MiB in 4 lanes).

A test process may lower the cost for the hashes it makes (``use_test_cost``): still Argon2id,
one pass over 1 MiB. Nothing in the application calls it; the tests' conftest does, and the
servers the browser tests start hash at the full cost."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY, Parameters

STANDARD = RFC_9106_LOW_MEMORY
# the unit tests' cost: verifying the demo password took a third of their time at STANDARD
# (docs/testing.md "Suite time"); salt and hash keep STANDARD's lengths
TEST = Parameters(type=Type.ID, version=STANDARD.version, salt_len=STANDARD.salt_len,
                  hash_len=STANDARD.hash_len, time_cost=1, memory_cost=1024, parallelism=1)

_hasher = PasswordHasher.from_parameters(STANDARD)


def use_test_cost() -> None:
    """Hash (and judge ``needs_rehash``) at the TEST cost in this process from now on. For test
    processes only: every hash made afterwards is cheap to attack."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(TEST)
    _dummy.cache_clear()


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
