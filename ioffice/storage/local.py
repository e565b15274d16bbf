"""Blob store in a local directory: ``root/ab/cd/<sha256>``, written atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .base import (
    _SHA256,
    BlobInfo,
    StoredItem,
    VerifyingReader,
    check_name,
    check_sha256,
    hashing_copy,
    verified_stream,
)
from .errors import BlobNotFound, StorageUnavailable

__all__ = ["LocalBlobStore"]

_TMP = ".tmp"
_NAMED = "named"


class LocalBlobStore:
    """Blobs as files under ``root``; derived artifacts under ``root/named/``.

    Writes go to a temporary file in ``root/.tmp`` (same filesystem), are
    fsynced, then renamed into place with :func:`os.replace`, so a reader sees
    either nothing or the whole file, and a crash leaves at most a stray file in
    ``.tmp``. Suitable for one host; several hosts need the S3 store.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    # -- blobs -------------------------------------------------------------

    def put(self, stream: BinaryIO) -> BlobInfo:
        with self._temp_file() as (tmp, path):
            # Errors reading the caller's stream are the caller's; ours are translated.
            info = hashing_copy(stream, self._guarded(tmp.write))
            self._commit(tmp, path, self._blob_path(info.sha256))
        return info

    def put_bytes(self, data: bytes) -> BlobInfo:
        return self.put(io.BytesIO(data))

    @contextlib.contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        path = self._blob_path(check_sha256(sha256))
        try:
            file = path.open("rb", buffering=0)
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc
        with file, verified_stream(VerifyingReader(file, sha256)) as stream:
            yield stream

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as stream:
            return stream.read()

    def exists(self, sha256: str) -> bool:
        try:
            self.size(sha256)
        except BlobNotFound:
            return False
        return True

    def size(self, sha256: str) -> int:
        try:
            return self._blob_path(check_sha256(sha256)).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def delete(self, sha256: str) -> None:
        self._blob_path(check_sha256(sha256)).unlink(missing_ok=True)

    # -- named artifacts ---------------------------------------------------

    def put_named(self, name: str, data: bytes) -> None:
        target = self._named_path(name)
        with self._temp_file() as (tmp, path):
            self._guarded(tmp.write)(data)
            self._commit(tmp, path, target)

    def get_named(self, name: str) -> bytes:
        try:
            return self._named_path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(name) from None

    def delete_named(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self._named_path(name).unlink()

    # -- listing -----------------------------------------------------------

    def list_blobs(self) -> Iterator[StoredItem]:
        for path in self._files(self.root, "??/??/*"):
            if _SHA256.fullmatch(path.name) and path.parent.parent.parent == self.root:
                yield _item(path.name, path)

    def list_named(self, prefix: str = "") -> Iterator[StoredItem]:
        base = self.root / _NAMED
        for path in self._files(base, "**/*"):
            name = path.relative_to(base).as_posix()
            if name.startswith(prefix):
                yield _item(name, path)

    def list_temporary(self) -> Iterator[StoredItem]:
        for path in self._files(self.root / _TMP, "*"):
            yield _item(path.name, path)

    def delete_temporary(self, key: str) -> None:
        if "/" in key or key.startswith("."):
            raise ValueError(key)
        (self.root / _TMP / key).unlink(missing_ok=True)

    def _files(self, base: Path, pattern: str) -> Iterator[Path]:
        try:
            for path in base.glob(pattern):
                if path.is_file():
                    yield path
        except OSError as exc:
            raise self._unavailable(exc) from exc

    # -- internals ---------------------------------------------------------

    def _blob_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _named_path(self, name: str) -> Path:
        return self.root / _NAMED / check_name(name)

    def _unavailable(self, exc: OSError) -> StorageUnavailable:
        return StorageUnavailable(f"cục bộ tại {self.root}", exc)

    @contextlib.contextmanager
    def _temp_file(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A temporary file next to the blobs, removed unless committed."""
        try:
            tmp_dir = self.root / _TMP
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        except OSError as exc:
            raise self._unavailable(exc) from exc
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as tmp:
                yield tmp, path
        finally:
            path.unlink(missing_ok=True)  # a no-op once committed

    def _guarded(self, write: Callable[[bytes], object]) -> Callable[[bytes], object]:
        def guarded(data: bytes) -> object:
            try:
                return write(data)
            except OSError as exc:  # disk full, I/O error
                raise self._unavailable(exc) from exc

        return guarded

    def _commit(self, tmp: BinaryIO, path: Path, target: Path) -> None:
        try:
            tmp.flush()
            os.fsync(tmp.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            # Replacing an existing blob is harmless (same content, or healing a
            # corrupted copy) and keeps concurrent puts of one content race-free.
            os.replace(path, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise self._unavailable(exc) from exc


def _item(key: str, path: Path) -> StoredItem:
    stat = path.stat()
    return StoredItem(key, stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC))


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
