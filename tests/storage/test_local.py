"""Behaviour specific to the local-directory store."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from ioffice.storage import LocalBlobStore, StorageUnavailable


def test_layout_is_two_levels_of_hash_prefix(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    info = store.put_bytes(b"to trinh")
    sha = hashlib.sha256(b"to trinh").hexdigest()

    assert (tmp_path / sha[:2] / sha[2:4] / sha).read_bytes() == b"to trinh"
    assert info.sha256 == sha
    store.put_named("previews/a/page-1.png", b"png")
    assert (tmp_path / "named" / "previews" / "a" / "page-1.png").read_bytes() == b"png"


def test_a_half_written_blob_is_never_visible(tmp_path: Path) -> None:
    """While the stream is still being read, nothing exists under the final name."""
    store = LocalBlobStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024)
    sha = hashlib.sha256(data).hexdigest()
    midway = threading.Event()
    resume = threading.Event()

    class Slow(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            if self.tell() >= len(data) // 2 and not midway.is_set():
                midway.set()
                resume.wait(10)
            return chunk

    writer = threading.Thread(target=store.put, args=(Slow(data),))
    writer.start()
    assert midway.wait(10)
    try:
        assert not store.exists(sha)
        assert [p.parent.name for p in tmp_path.rglob("put-*")] == [".tmp"]
    finally:
        resume.set()
        writer.join(10)
    assert store.read_bytes(sha) == data
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_disk_errors_become_storage_unavailable(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = store.put_bytes(b"x").sha256
    # Make the shard a file: the next blob in it can be neither read nor written.
    shard = tmp_path / sha[:2] / sha[2:4]
    for child in shard.iterdir():
        child.unlink()
    shard.rmdir()
    shard.write_bytes(b"")

    with pytest.raises(StorageUnavailable, match=f"cục bộ tại {tmp_path}"):
        store.put_bytes(b"x")
    with pytest.raises(StorageUnavailable):
        store.read_bytes(sha)
    assert list((tmp_path / ".tmp").iterdir()) == []
