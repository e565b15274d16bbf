"""Fixtures: a real SeaweedFS S3 server per session, and a store per backend.

Set ``IOFFICE_TEST_S3_ENDPOINT`` (plus ``IOFFICE_TEST_S3_ACCESS_KEY`` and
``IOFFICE_TEST_S3_SECRET_KEY`` if it needs them) to use a running server
instead of starting one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ioffice.storage import BlobStore, LocalBlobStore
from tests.support.s3 import S3Server


def fresh_bucket() -> str:
    return f"test-{uuid.uuid4().hex[:24]}"


@dataclass
class Backend:
    """A store plus raw access to what it stored, to check and tamper behind its back."""

    name: str
    store: BlobStore
    stored_keys: Callable[[], set[str]]
    """Every stored object or file, relative to the store."""
    overwrite_raw: Callable[[str, bytes], None]
    """Replace the stored bytes of a blob, bypassing the store."""
    scratch: Path
    """Where the store may put temporary files (must be empty after each operation)."""


def _local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)

    def stored_keys() -> set[str]:
        if not root.exists():
            return set()
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    def overwrite_raw(sha256: str, data: bytes) -> None:
        (root / sha256[:2] / sha256[2:4] / sha256).write_bytes(data)

    return Backend("local", store, stored_keys, overwrite_raw, root / ".tmp")


def _s3_backend(server: S3Server, tmp_path: Path) -> Backend:
    bucket = fresh_bucket()
    spool = tmp_path / "spool"
    spool.mkdir()
    store = server.store(bucket, spool_dir=spool)
    client = server.client()

    def stored_keys() -> set[str]:
        if not client.bucket_exists(bucket):
            return set()
        return {o.object_name or "" for o in client.list_objects(bucket, recursive=True)}

    def overwrite_raw(sha256: str, data: bytes) -> None:
        import io

        client.put_object(bucket, f"sha256/{sha256}", io.BytesIO(data), len(data))

    return Backend("s3", store, stored_keys, overwrite_raw, spool)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path)
    return _s3_backend(request.getfixturevalue("s3_server"), tmp_path)


@pytest.fixture
def blob_store(backend: Backend) -> BlobStore:
    return backend.store
