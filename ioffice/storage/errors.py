"""Storage errors, with messages a clerk or an operator can act on."""

from __future__ import annotations

__all__ = [
    "BlobCorrupted",
    "BlobNotFound",
    "InvalidBlobKey",
    "StorageConfigError",
    "StorageError",
    "StorageUnavailable",
]


class StorageError(Exception):
    """Base class of every error raised by a blob store."""


class InvalidBlobKey(StorageError, ValueError):
    """A SHA-256 or artifact name that is malformed (or tries to escape the store)."""

    def __init__(self, key: object, expected: str) -> None:
        self.key = key
        super().__init__(f"Khóa lưu trữ không hợp lệ {key!r}: cần {expected}.")


class StorageConfigError(StorageError, ValueError):
    """The storage configuration is incomplete or contradictory."""


class BlobNotFound(StorageError, LookupError):
    """No blob (or named artifact) is stored under this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Không tìm thấy tệp trong kho lưu trữ: {key}.")


class BlobCorrupted(StorageError):
    """The stored bytes no longer match the SHA-256 they are stored under."""

    def __init__(self, expected: str, actual: str, size: int) -> None:
        self.expected = expected
        self.actual = actual
        self.size = size
        super().__init__(
            f"Tệp {expected} trong kho lưu trữ đã bị hỏng: nội dung đọc được "
            f"({size} byte) có mã SHA-256 {actual}, không khớp mã đã lưu. "
            "Cần khôi phục tệp từ bản sao lưu."
        )


class StorageUnavailable(StorageError):
    """The store cannot be reached or written (server down, disk full, bad directory)."""

    def __init__(self, where: str, reason: object) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"Không kết nối được kho lưu trữ {where}: {reason}")
