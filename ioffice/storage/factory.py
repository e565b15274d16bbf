"""Build the configured blob store from a plain mapping (the Flask config, or a dict)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import BlobStore
from .errors import StorageConfigError
from .local import LocalBlobStore

__all__ = ["DEFAULT_BLOB_DIR", "DEFAULT_BUCKET", "create_blob_store"]

DEFAULT_BLOB_DIR = "var/blobs"
DEFAULT_BUCKET = "ioffice"


def create_blob_store(config: Mapping[str, Any]) -> BlobStore:
    """Return the store named by ``config["STORAGE"]``: ``"local"`` (default) or ``"s3"``.

    Keys (``IOFFICE_``-prefixed in the environment):

    - ``STORAGE``: ``local`` or ``s3``.
    - ``BLOB_DIR``: directory of the local store (default ``var/blobs``).
    - ``S3_ENDPOINT``: ``http://host:port`` or ``https://host``; required for s3.
    - ``S3_ACCESS_KEY``, ``S3_SECRET_KEY``: both, or neither for anonymous access.
    - ``S3_BUCKET``: default ``ioffice``; created on first write.
    - ``S3_REGION``: optional; without it the SDK asks the server.

    Builds the object only; nothing is read, written or contacted here.
    """
    kind = str(config.get("STORAGE") or "local").strip().lower()
    if kind == "local":
        return LocalBlobStore(config.get("BLOB_DIR") or DEFAULT_BLOB_DIR)
    if kind == "s3":
        from .s3 import S3BlobStore  # the minio SDK only where S3 is configured (docs/storage.md)

        if not config.get("S3_ENDPOINT"):
            raise StorageConfigError("Thiếu cấu hình kho lưu trữ S3: IOFFICE_S3_ENDPOINT.")
        access_key = config.get("S3_ACCESS_KEY") or None
        secret_key = config.get("S3_SECRET_KEY") or None
        if (access_key is None) != (secret_key is None):
            raise StorageConfigError(
                "Cần khai báo cả IOFFICE_S3_ACCESS_KEY và IOFFICE_S3_SECRET_KEY "
                "(hoặc bỏ trống cả hai để truy cập ẩn danh)."
            )
        return S3BlobStore(
            str(config["S3_ENDPOINT"]),
            access_key,
            secret_key,
            bucket=str(config.get("S3_BUCKET") or DEFAULT_BUCKET),
            region=config.get("S3_REGION") or None,
        )
    raise StorageConfigError(
        f"Kiểu kho lưu trữ không hợp lệ IOFFICE_STORAGE={kind!r}: chỉ nhận 'local' hoặc 's3'."
    )
