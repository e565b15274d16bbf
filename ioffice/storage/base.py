"""The blob store port: what the rest of iOffice may rely on, whatever the backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from .errors import BlobCorrupted, InvalidBlobKey

__all__ = [
    "CHUNK_SIZE",
    "BlobInfo",
    "BlobStore",
    "StoredItem",
    "VerifyingReader",
    "check_name",
    "check_sha256",
]

#: Bytes moved per read while streaming; bounds the memory one transfer needs.
CHUNK_SIZE = 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Each segment starts with a letter or digit, so "." and ".." can never appear.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_NAME_MAX = 512


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What a store knows about a stored blob."""

    sha256: str
    """Lower-case hex SHA-256 of the content; the blob's key."""
    size: int
    """Length of the content in bytes."""


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One thing a store holds, as listed for housekeeping."""

    key: str
    """The blob's SHA-256, the artifact's name, or the temporary file's name."""
    size: int
    """Stored length in bytes."""
    modified: dt.datetime
    """When it was last written (timezone-aware, UTC)."""


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed storage of immutable files, plus named derived artifacts.

    Blobs (document files, attachments, signed PDFs) are keyed by the SHA-256 of
    their content: storing the same bytes twice stores them once, and every read
    is checked against the key. Named artifacts (cached previews, thumbnails) are
    things that can be rebuilt from a blob; they are keyed by a caller-chosen
    name such as ``previews/<sha256>/page-1.png`` and are not verified.
    """

    def put(self, stream: BinaryIO) -> BlobInfo:
        """Store everything readable from ``stream``, in bounded memory."""
        ...

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Store ``data``; for content that is already in memory."""
        ...

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """Open a blob for streaming reads.

        The stream raises :class:`BlobCorrupted` when it reaches the end of
        content that does not hash to ``sha256``; a reader that stops early
        gets no verdict. Raises :class:`BlobNotFound` on entry.
        """
        ...

    def read_bytes(self, sha256: str) -> bytes:
        """Return the whole blob, verified; for blobs small enough for memory."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int:
        """Stored length in bytes (not verified). Raises :class:`BlobNotFound`."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove a blob; removing a missing blob is not an error."""
        ...

    def put_named(self, name: str, data: bytes) -> None:
        """Store (or replace) a derived artifact under ``name``, atomically."""
        ...

    def get_named(self, name: str) -> bytes:
        """Return a derived artifact. Raises :class:`BlobNotFound`."""
        ...

    def delete_named(self, name: str) -> None:
        """Remove a derived artifact; removing a missing one is not an error."""
        ...

    def list_blobs(self) -> Iterator[StoredItem]:
        """Every stored blob (``key`` is its SHA-256), in no particular order."""
        ...

    def list_named(self, prefix: str = "") -> Iterator[StoredItem]:
        """Every derived artifact whose name starts with ``prefix``."""
        ...

    def list_temporary(self) -> Iterator[StoredItem]:
        """Leftovers of writes that never finished (a crash between the temporary file and its
        rename); empty for a store that leaves none."""
        ...

    def delete_temporary(self, key: str) -> None:
        """Remove one item of :meth:`list_temporary`; a missing one is not an error."""
        ...


def check_sha256(sha256: object) -> str:
    """Return ``sha256`` if it is 64 lower-case hex digits, else raise InvalidBlobKey."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidBlobKey(sha256, "mã SHA-256 gồm 64 chữ số hexa viết thường")
    return sha256


def check_name(name: object) -> str:
    """Return ``name`` if it is a safe relative artifact name, else raise InvalidBlobKey."""
    if not isinstance(name, str) or len(name) > _NAME_MAX or not _NAME.fullmatch(name):
        raise InvalidBlobKey(
            name,
            "tên tương đối gồm chữ Latin không dấu, chữ số, '.', '_', '-' và '/', "
            f"tối đa {_NAME_MAX} ký tự",
        )
    return name


class VerifyingReader(io.RawIOBase):
    """A readable stream that hashes what passes through and checks it at EOF.

    ``translate`` maps errors of the underlying source (a dropped connection) to
    storage errors; it returns the exception to raise instead.
    """

    def __init__(
        self,
        source: BinaryIO,
        expected_sha256: str,
        translate: Callable[[Exception], Exception] | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._expected = expected_sha256
        self._translate = translate
        self._hash = hashlib.sha256()
        self._size = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        try:
            chunk = self._source.read(len(view))
        except Exception as exc:
            if self._translate is None:
                raise
            raise self._translate(exc) from exc
        if not chunk:
            self._verify()
            return 0
        n = len(chunk)
        view[:n] = chunk
        self._hash.update(chunk)
        self._size += n
        return n

    def _verify(self) -> None:
        if self._verified:
            return
        actual = self._hash.hexdigest()
        if actual != self._expected:
            raise BlobCorrupted(self._expected, actual, self._size)
        self._verified = True


def hashing_copy(source: BinaryIO, write: Callable[[bytes], object]) -> BlobInfo:
    """Copy ``source`` to ``write`` chunk by chunk and return the content's BlobInfo."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        write(chunk)
        size += len(chunk)
    return BlobInfo(digest.hexdigest(), size)


def verified_stream(raw: VerifyingReader) -> BinaryIO:
    """Wrap a VerifyingReader in a buffered binary stream (read, readline, iteration)."""
    return io.BufferedReader(raw, buffer_size=CHUNK_SIZE // 4)
