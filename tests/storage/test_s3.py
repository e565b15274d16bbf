"""Behaviour specific to the S3 store, against the real SeaweedFS server."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ioffice.storage import (
    BlobInfo,
    S3BlobStore,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
)
from tests.storage.conftest import S3Server, fresh_bucket

pytestmark = pytest.mark.s3


def test_bucket_is_created_on_first_write(s3_server: S3Server) -> None:
    bucket = fresh_bucket()
    client = s3_server.client()
    store = s3_server.store(bucket)

    assert not store.exists("0" * 64)  # reading a missing bucket is just "not found"
    assert not client.bucket_exists(bucket)  # and does not create it

    info = store.put_bytes(b"first document")
    assert client.bucket_exists(bucket)
    assert [o.object_name for o in client.list_objects(bucket, recursive=True)] == [
        f"sha256/{info.sha256}"
    ]


def test_bucket_creation_races_are_harmless(s3_server: S3Server) -> None:
    """Several workers (separate store objects) create the same bucket at once."""
    bucket = fresh_bucket()
    stores = [s3_server.store(bucket) for _ in range(6)]
    start = threading.Barrier(len(stores))

    def put(pair: tuple[int, S3BlobStore]) -> BlobInfo:
        index, store = pair
        start.wait()
        return store.put_bytes(f"worker {index}".encode())

    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        infos = list(pool.map(put, enumerate(stores)))

    assert len({i.sha256 for i in infos}) == len(stores)
    for index, info in enumerate(infos):
        assert stores[0].read_bytes(info.sha256) == f"worker {index}".encode()


def test_an_existing_object_is_not_streamed_again(s3_server: S3Server) -> None:
    bucket = fresh_bucket()
    store = s3_server.store(bucket)
    client = s3_server.client()
    info = store.put(io.BytesIO(b"same content"))
    etag = client.stat_object(bucket, f"sha256/{info.sha256}").etag
    modified = client.stat_object(bucket, f"sha256/{info.sha256}").last_modified

    time.sleep(1.1)  # Last-Modified has one-second resolution
    assert store.put(io.BytesIO(b"same content")) == info

    stat = client.stat_object(bucket, f"sha256/{info.sha256}")
    assert (stat.etag, stat.last_modified) == (etag, modified)


def test_small_bytes_are_written_without_asking_and_keep_their_content(s3_server: S3Server) -> None:
    """put_bytes skips the HEAD: writing the same bytes again rewrites the same object."""
    bucket = fresh_bucket()
    store = s3_server.store(bucket)
    client = s3_server.client()
    info = store.put_bytes(b"same content")
    modified = client.stat_object(bucket, f"sha256/{info.sha256}").last_modified

    time.sleep(1.1)
    assert store.put_bytes(b"same content") == info

    stat = client.stat_object(bucket, f"sha256/{info.sha256}")
    assert stat.last_modified != modified  # written again, not asked about
    assert stat.size == len(b"same content")
    assert store.read_bytes(info.sha256) == b"same content"


def test_large_upload_goes_multipart(s3_server: S3Server) -> None:
    bucket = fresh_bucket()
    store = s3_server.store(bucket)
    data = os.urandom(12 * 1024 * 1024)
    info = store.put_bytes(data)

    etag = s3_server.client().stat_object(bucket, f"sha256/{info.sha256}").etag or ""
    assert etag.endswith("-3")  # three 5 MiB parts (the last one short)
    assert store.read_bytes(info.sha256) == data


def test_wrong_credentials_are_reported(s3_server: S3Server) -> None:
    store = S3BlobStore(s3_server.endpoint, "ioffice-test", "wrong-secret", fresh_bucket())
    with pytest.raises(StorageError) as caught:
        store.put_bytes(b"x")
    assert not isinstance(caught.value, StorageUnavailable)
    assert "từ chối" in str(caught.value)
    assert "SignatureDoesNotMatch" in str(caught.value) or "AccessDenied" in str(caught.value)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_server_that_never_answers_times_out(silent_server: str, tmp_path: os.PathLike[str]) -> None:
    store = S3BlobStore(
        silent_server, "k", "s", "ioffice", read_timeout=0.5, retries=1, spool_dir=tmp_path
    )
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        store.put(io.BytesIO(b"content"))
    assert time.monotonic() - started < 5
    assert silent_server in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("endpoint", "host", "secure"),
    [
        ("http://127.0.0.1:8333", "127.0.0.1:8333", False),
        ("https://s3.example.vn", "s3.example.vn", True),
        ("https://s3.example.vn/", "s3.example.vn", True),
        ("127.0.0.1:8333", "127.0.0.1:8333", False),
    ],
)
def test_endpoint_forms(endpoint: str, host: str, secure: bool) -> None:
    store = S3BlobStore(endpoint, "k", "s")
    assert store.endpoint == f"{'https' if secure else 'http'}://{host}"


@pytest.mark.parametrize(
    "endpoint", ["", "ftp://host:21", "http://host:8333/bucket", "http://", "http://host:8333?x=1"]
)
def test_malformed_endpoint_is_a_config_error(endpoint: str) -> None:
    with pytest.raises(StorageConfigError, match="không hợp lệ"):
        S3BlobStore(endpoint, "k", "s")


def test_invalid_bucket_name_is_a_config_error() -> None:
    with pytest.raises(StorageConfigError):
        S3BlobStore("http://127.0.0.1:8333", "k", "s", "Bad_Bucket!")
