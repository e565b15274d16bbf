"""Blob storage: the ``BlobStore`` port and its local-directory and S3 implementations.

Use :func:`create_blob_store` with the app config; see ``docs/storage.md``.
This package depends on neither Flask nor the rest of ``ioffice``.
"""

from .base import BlobInfo, BlobStore, StoredItem
from .errors import (
    BlobCorrupted,
    BlobNotFound,
    InvalidBlobKey,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
)
from .factory import create_blob_store
from .local import LocalBlobStore

__all__ = [
    "BlobCorrupted",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "InvalidBlobKey",
    "LocalBlobStore",
    "S3BlobStore",
    "StorageConfigError",
    "StorageError",
    "StorageUnavailable",
    "StoredItem",
    "create_blob_store",
]


def __getattr__(name: str) -> object:
    """``S3BlobStore`` is imported on first use: the minio SDK is ~5 % of the application's
    import time, and a deployment on local storage never needs it."""
    if name == "S3BlobStore":
        from .s3 import S3BlobStore

        return S3BlobStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
