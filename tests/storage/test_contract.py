"""The BlobStore contract: every test runs against the local and the S3 store."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ioffice.storage import (
    BlobCorrupted,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    InvalidBlobKey,
    LocalBlobStore,
    S3BlobStore,
    StorageUnavailable,
)
from tests.storage.conftest import Backend

MiB = 1024 * 1024
MISSING = hashlib.sha256(b"never stored").hexdigest()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class GeneratedStream(io.RawIOBase):
    """``size`` pseudo-random bytes produced on demand: never all in memory at once."""

    def __init__(self, size: int, seed: bytes = b"seed") -> None:
        self.remaining = size
        self.block = hashlib.sha512(seed).digest() * 1024  # 64 KiB pattern
        self.offset = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.remaining, len(self.block) - self.offset)
        chunk = self.block[self.offset : self.offset + n]
        buffer[:n] = chunk
        self.digest.update(chunk)
        self.offset = (self.offset + n) % len(self.block)
        self.remaining -= n
        return n


def test_round_trip(blob_store: BlobStore) -> None:
    data = "Công văn số 12/UBND-VP về việc họp giao ban".encode() * 100
    info = blob_store.put_bytes(data)

    assert info == BlobInfo(sha(data), len(data))
    assert blob_store.exists(info.sha256)
    assert blob_store.size(info.sha256) == len(data)
    assert blob_store.read_bytes(info.sha256) == data
    with blob_store.open(info.sha256) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]


def test_put_reads_a_stream(blob_store: BlobStore) -> None:
    data = os.urandom(3 * MiB + 17)
    assert blob_store.put(io.BytesIO(data)) == BlobInfo(sha(data), len(data))
    assert blob_store.read_bytes(sha(data)) == data


def test_empty_blob(blob_store: BlobStore) -> None:
    info = blob_store.put_bytes(b"")
    assert info == BlobInfo(sha(b""), 0)
    assert blob_store.read_bytes(info.sha256) == b""
    assert blob_store.size(info.sha256) == 0


def test_large_blob_streams_in_bounded_memory(blob_store: BlobStore) -> None:
    size = 40 * MiB
    source = GeneratedStream(size)
    tracemalloc.start()
    try:
        info = blob_store.put(source)  # type: ignore[arg-type]
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        check = hashlib.sha256()
        total = 0
        with blob_store.open(info.sha256) as stream:
            while chunk := stream.read(256 * 1024):
                check.update(chunk)
                total += len(chunk)
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info == BlobInfo(source.digest.hexdigest(), size)
    assert (check.hexdigest(), total) == (info.sha256, size)
    # The local store holds one 1 MiB chunk at a time. S3 holds a 5 MiB multipart
    # part, and briefly two (minio reads the next part before dropping the last).
    assert put_peak < 11 * MiB, f"put peaked at {put_peak / MiB:.1f} MiB"
    assert get_peak < 4 * MiB, f"read peaked at {get_peak / MiB:.1f} MiB"


def test_put_is_idempotent(backend: Backend) -> None:
    store = backend.store
    data = b"%PDF-1.7 same bytes twice"
    first = store.put_bytes(data)
    keys = backend.stored_keys()
    second = store.put(io.BytesIO(data))

    assert first == second
    assert backend.stored_keys() == keys
    assert len(keys) == 1
    assert store.read_bytes(first.sha256) == data


def test_missing_blob(blob_store: BlobStore) -> None:
    assert not blob_store.exists(MISSING)
    with pytest.raises(BlobNotFound) as caught:
        blob_store.read_bytes(MISSING)
    assert caught.value.key == MISSING
    assert "Không tìm thấy" in str(caught.value)
    with pytest.raises(BlobNotFound):
        blob_store.size(MISSING)
    with pytest.raises(BlobNotFound), blob_store.open(MISSING):
        pass


def test_delete(blob_store: BlobStore) -> None:
    info = blob_store.put_bytes(b"to be removed")
    blob_store.delete(info.sha256)
    assert not blob_store.exists(info.sha256)
    with pytest.raises(BlobNotFound):
        blob_store.read_bytes(info.sha256)
    blob_store.delete(info.sha256)  # deleting again is fine


@pytest.mark.parametrize(
    "tampered",
    [b"Same length, other bytes!!", b"shorter", b"much longer than the original content ..."],
    ids=["same-size", "truncated", "extended"],
)
def test_corrupted_blob_is_detected_on_read(backend: Backend, tampered: bytes) -> None:
    store = backend.store
    original = b"Quyet dinh so 45/QD-UBND!!"
    info = store.put_bytes(original)
    backend.overwrite_raw(info.sha256, tampered)

    with pytest.raises(BlobCorrupted) as caught:
        store.read_bytes(info.sha256)
    assert caught.value.expected == info.sha256
    assert caught.value.actual == sha(tampered)
    assert "bị hỏng" in str(caught.value)

    with pytest.raises(BlobCorrupted), store.open(info.sha256) as stream:
        while stream.read(4):
            pass


def test_putting_the_content_again_repairs_a_corrupted_blob(backend: Backend) -> None:
    original = b"van ban goc"
    info = backend.store.put_bytes(original)
    backend.overwrite_raw(info.sha256, b"hong")  # different size: S3 re-uploads too

    assert backend.store.put_bytes(original) == info
    assert backend.store.read_bytes(info.sha256) == original


def test_concurrent_puts_of_the_same_content(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(MiB + 3)
    start = threading.Barrier(8)

    def put(_: int) -> BlobInfo:
        start.wait()
        return store.put(io.BytesIO(data))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(put, range(8)))

    assert set(results) == {BlobInfo(sha(data), len(data))}
    assert len(backend.stored_keys()) == 1
    assert store.read_bytes(sha(data)) == data
    assert _leftovers(backend.scratch) == []


def test_concurrent_puts_of_different_content(blob_store: BlobStore) -> None:
    blobs = [os.urandom(50_000) for _ in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        infos = list(pool.map(blob_store.put_bytes, blobs))
    for data, info in zip(blobs, infos, strict=True):
        assert blob_store.read_bytes(info.sha256) == data


def test_no_temporary_files_left(backend: Backend) -> None:
    backend.store.put(io.BytesIO(os.urandom(6 * MiB)))
    backend.store.put_bytes(b"small")

    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            raise OSError("ổ USB bị rút giữa chừng")

    keys = backend.stored_keys()
    with pytest.raises(OSError, match="USB"):
        backend.store.put(Failing())  # type: ignore[arg-type]
    assert backend.stored_keys() == keys
    assert _leftovers(backend.scratch) == []


@pytest.mark.parametrize(
    "bad",
    ["", "abc", MISSING.upper(), MISSING[:-1] + "g", "../../etc/passwd", MISSING + "0", None],
)
def test_malformed_hash_is_rejected(blob_store: BlobStore, bad: object) -> None:
    for operation in (blob_store.read_bytes, blob_store.exists, blob_store.size, blob_store.delete):
        with pytest.raises(InvalidBlobKey) as caught:
            operation(bad)  # type: ignore[arg-type]
        assert "không hợp lệ" in str(caught.value)
    with pytest.raises(InvalidBlobKey), blob_store.open(bad):  # type: ignore[arg-type]
        pass


def test_named_artifacts(backend: Backend) -> None:
    store = backend.store
    name = f"previews/{MISSING}/page-1.png"
    with pytest.raises(BlobNotFound):
        store.get_named(name)

    store.put_named(name, b"\x89PNG first")
    store.put_named(name, b"\x89PNG second")  # replaced
    assert store.get_named(name) == b"\x89PNG second"
    assert not store.exists(sha(b"\x89PNG second"))  # not a content-addressed blob

    store.delete_named(name)
    store.delete_named(name)
    with pytest.raises(BlobNotFound):
        store.get_named(name)
    assert _leftovers(backend.scratch) == []


@pytest.mark.parametrize(
    "bad", ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", ".hidden", "a b", "ảnh.png"]
)
def test_malformed_artifact_name_is_rejected(blob_store: BlobStore, bad: str) -> None:
    with pytest.raises(InvalidBlobKey):
        blob_store.put_named(bad, b"x")
    with pytest.raises(InvalidBlobKey):
        blob_store.get_named(bad)


# -- the backend is unavailable ---------------------------------------------


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BlobStore, Path]]:
    """A store whose backend cannot be used, and the directory it may spool into."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    if request.param == "local":
        blocker = tmp_path / "not-a-directory"
        blocker.write_bytes(b"")  # the root lies under a file: every mkdir fails
        yield LocalBlobStore(blocker / "blobs"), scratch
    else:
        # Port 1 on loopback: nothing listens, the connection is refused.
        yield S3BlobStore("http://127.0.0.1:1", "key", "secret", "ioffice", spool_dir=scratch), scratch


def test_unavailable_backend_fails_fast_and_writes_nothing(
    broken: tuple[BlobStore, Path], tmp_path: Path
) -> None:
    store, scratch = broken
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        store.put(io.BytesIO(os.urandom(2 * MiB)))
    elapsed = time.monotonic() - started

    assert elapsed < 5
    message = str(caught.value)
    assert message.startswith("Không kết nối được kho lưu trữ")
    if isinstance(store, S3BlobStore):
        assert "S3 tại http://127.0.0.1:1" in message
        assert "refused" in message.lower()
    assert _leftovers(scratch) == []
    assert sorted(p.name for p in tmp_path.iterdir()) in (
        ["scratch"],
        ["not-a-directory", "scratch"],
    )
    for operation in (store.read_bytes, store.exists, store.size):
        with pytest.raises(StorageUnavailable):
            operation(MISSING)


def _leftovers(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir())


def test_listing_blobs_named_artifacts_and_temporaries(backend: Backend) -> None:
    store = backend.store
    assert list(store.list_blobs()) == [] and list(store.list_named()) == []
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    a, b = store.put_bytes(b"van ban A"), store.put_bytes(b"van ban B" * 1000)
    store.put_named("previews/" + a.sha256 + "/page-1.png", b"png")
    store.put_named("other/thing.bin", b"x" * 7)
    blobs = {item.key: item for item in store.list_blobs()}
    assert set(blobs) == {a.sha256, b.sha256}
    assert blobs[b.sha256].size == b.size
    assert all(before < item.modified <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
               for item in blobs.values())
    assert {i.key for i in store.list_named()} == {f"previews/{a.sha256}/page-1.png",
                                                  "other/thing.bin"}
    assert [i.key for i in store.list_named("previews/")] == [f"previews/{a.sha256}/page-1.png"]
    assert [i.size for i in store.list_named("other/")] == [7]
    assert list(store.list_temporary()) == []  # every write above finished
    store.delete(a.sha256)
    assert {i.key for i in store.list_blobs()} == {b.sha256}


def test_a_crashed_write_is_listed_as_temporary_and_removable(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put_bytes(b"x")
    stray = tmp_path / "blobs" / ".tmp" / "put-crashed"
    stray.write_bytes(b"half a file")
    assert [(i.key, i.size) for i in store.list_temporary()] == [("put-crashed", 11)]
    assert len(list(store.list_blobs())) == 1  # the stray file is not a blob
    store.delete_temporary("put-crashed")
    assert list(store.list_temporary()) == [] and not stray.exists()
    with pytest.raises(ValueError):
        store.delete_temporary("../ab")
