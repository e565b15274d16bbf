"""Blob store in an S3 bucket through the ``minio`` SDK (AWS S3, MinIO, SeaweedFS)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import BinaryIO, NoReturn
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import check_bucket_name
from urllib3.exceptions import HTTPError as Urllib3Error

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
from .errors import BlobNotFound, StorageConfigError, StorageError, StorageUnavailable

__all__ = ["S3BlobStore"]

#: Multipart part size: the S3 minimum, so an upload holds at most this much in memory.
PART_SIZE = 5 * 1024 * 1024

_BLOBS = "sha256/"
_NAMED = "named/"
_MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"})
_BUCKET_TAKEN = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})


class S3BlobStore:
    """Blobs as objects ``sha256/<hex>`` and artifacts as ``named/<name>`` in one bucket.

    Nothing touches the network until the first operation; the bucket is
    created on the first write. Uploads are first spooled to an anonymous
    temporary file while hashing (the key is the hash, known only at the end),
    then sent with their exact length in 5 MiB parts, one part at a time.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str = "ioffice",
        *,
        secure: bool = False,
        region: str | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 60.0,
        retries: int = 1,
        spool_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """
        ``endpoint`` is ``host:port`` or a URL (``http://127.0.0.1:8333``); a
        URL's scheme overrides ``secure``. ``retries`` counts extra attempts on
        connection errors and 5xx answers, so an unreachable server fails after
        about ``(retries + 1) * connect_timeout`` seconds. ``spool_dir`` holds
        the (already unlinked) upload spool files; default: the system temp dir.
        """
        host, secure = _parse_endpoint(endpoint, secure)
        self.endpoint = f"{'https' if secure else 'http'}://{host}"
        self.bucket = bucket
        self.spool_dir = os.fspath(spool_dir) if spool_dir is not None else None
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=urllib3.Retry(
                total=retries,
                backoff_factor=0.2,
                status_forcelist=(500, 502, 503, 504),
                allowed_methods=None,  # S3 PUTs of whole objects/parts are idempotent
                raise_on_status=False,
            ),
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        try:
            check_bucket_name(bucket)
            self.client = Minio(
                host,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=http,
            )
        except ValueError as exc:
            raise StorageConfigError(f"Cấu hình S3 không hợp lệ ({endpoint}): {exc}") from exc
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3BlobStore({self.endpoint!r}, bucket={self.bucket!r})"

    # -- blobs -------------------------------------------------------------

    def put(self, stream: BinaryIO) -> BlobInfo:
        with tempfile.TemporaryFile(dir=self.spool_dir) as spool:
            info = hashing_copy(stream, spool.write)
            spool.seek(0)
            self._store(info, spool)
        return info

    def put_bytes(self, data: bytes) -> BlobInfo:
        """Bytes already in memory: hashed and uploaded from memory, without the spool file.

        Up to one part, uploaded without asking first whether the store holds them: the key is
        their hash, so a second upload writes the same content, and for a new blob (nearly
        always, e.g. a received document) the question is a round trip of its own (a HEAD,
        ~0.8 ms of the client's CPU per blob, measured in bench/exchange.py). Larger ones go
        through :meth:`put`, which does ask."""
        if len(data) > PART_SIZE:
            return self.put(io.BytesIO(data))
        info = BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
        self._store(info, io.BytesIO(data), ask_first=False)
        return info

    def _store(self, info: BlobInfo, content: BinaryIO, *, ask_first: bool = True) -> None:
        """Upload ``content`` under its hash; ``ask_first``: unless the store holds it already."""
        key = _BLOBS + info.sha256
        with self._errors(key):
            self._ensure_bucket()
            # same key, same length: the same content
            if not ask_first or self._stored_size(key) != info.size:
                self._upload(key, content, info.size)

    @contextlib.contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        key = _BLOBS + check_sha256(sha256)
        with self._errors(key):
            response = self.client.get_object(self.bucket, key)
        try:
            raw = VerifyingReader(
                response,  # type: ignore[arg-type]  # urllib3 response: read(n) -> bytes
                sha256,
                translate=lambda exc: self._translate(exc, key),
            )
            with verified_stream(raw) as stream:
                yield stream
        finally:
            response.close()
            response.release_conn()

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as stream:
            return stream.read()

    def exists(self, sha256: str) -> bool:
        key = _BLOBS + check_sha256(sha256)
        with self._errors(key):
            return self._stored_size(key) is not None

    def size(self, sha256: str) -> int:
        key = _BLOBS + check_sha256(sha256)
        with self._errors(key):
            size = self._stored_size(key)
        if size is None:
            raise BlobNotFound(sha256)
        return size

    def delete(self, sha256: str) -> None:
        self._remove(_BLOBS + check_sha256(sha256))

    # -- named artifacts ---------------------------------------------------

    def put_named(self, name: str, data: bytes) -> None:
        key = _NAMED + check_name(name)
        with self._errors(key):
            self._ensure_bucket()
            self._upload(key, io.BytesIO(data), len(data))

    def get_named(self, name: str) -> bytes:
        key = _NAMED + check_name(name)
        with self._errors(key):
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def delete_named(self, name: str) -> None:
        self._remove(_NAMED + check_name(name))

    # -- listing -----------------------------------------------------------

    def list_blobs(self) -> Iterator[StoredItem]:
        for item in self._list(_BLOBS):
            if _SHA256.fullmatch(item.key):
                yield item

    def list_named(self, prefix: str = "") -> Iterator[StoredItem]:
        yield from self._list(_NAMED + prefix, strip=_NAMED)

    def list_temporary(self) -> Iterator[StoredItem]:
        """Uploads are spooled to anonymous temporary files that vanish with their process, and
        an object appears only once its upload completed: nothing is left behind."""
        return iter(())

    def delete_temporary(self, key: str) -> None:
        return None

    def _list(self, prefix: str, *, strip: str | None = None) -> Iterator[StoredItem]:
        strip = prefix if strip is None else strip
        with self._errors(prefix):
            try:
                objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                for obj in objects:
                    if obj.is_dir or obj.object_name is None:
                        continue
                    yield StoredItem(obj.object_name.removeprefix(strip), obj.size or 0,
                                     obj.last_modified or dt.datetime.now(dt.UTC))
            except S3Error as exc:
                if exc.code != "NoSuchBucket":
                    raise

    # -- internals ---------------------------------------------------------

    def _ensure_bucket(self) -> None:
        """Create the bucket once; tolerate another process creating it first."""
        if self._bucket_ready:
            return
        with self._bucket_lock:
            if self._bucket_ready:
                return
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in _BUCKET_TAKEN:
                        raise
            self._bucket_ready = True

    def _upload(self, key: str, data: BinaryIO, length: int) -> None:
        self.client.put_object(
            self.bucket,
            key,
            data,
            length,
            part_size=PART_SIZE,
            num_parallel_uploads=1,  # parallel parts would each sit in memory
        )

    def _stored_size(self, key: str) -> int | None:
        try:
            stat = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise
        return stat.size

    def _remove(self, key: str) -> None:
        with self._errors(key):
            try:
                self.client.remove_object(self.bucket, key)
            except S3Error as exc:
                if exc.code not in _MISSING:
                    raise

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Map SDK and transport errors to storage errors."""
        try:
            yield
        except StorageError:
            raise
        except (MinioException, Urllib3Error, OSError) as exc:
            raise self._translate(exc, key) from exc

    def _translate(self, exc: Exception, key: str) -> Exception:
        where = f"S3 tại {self.endpoint}"
        if isinstance(exc, S3Error):
            if exc.code in _MISSING:
                return BlobNotFound(key.removeprefix(_BLOBS).removeprefix(_NAMED))
            return StorageError(
                f"Kho lưu trữ {where} (bucket {self.bucket}) từ chối yêu cầu với "
                f"{key}: {exc.code} — {exc.message}"
            )
        if isinstance(exc, (ServerError, InvalidResponseError)):
            return StorageUnavailable(where, f"máy chủ trả lỗi: {exc}")
        if isinstance(exc, (Urllib3Error, OSError)):
            return StorageUnavailable(where, _reason(exc))
        return StorageError(f"Lỗi kho lưu trữ {where}: {exc}")


def _parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    if not endpoint or not isinstance(endpoint, str):
        _bad_endpoint(endpoint)
    if "://" not in endpoint:
        return endpoint, secure
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _bad_endpoint(endpoint)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        _bad_endpoint(endpoint)
    return parts.netloc, parts.scheme == "https"


def _bad_endpoint(endpoint: object) -> NoReturn:
    raise StorageConfigError(
        f"Địa chỉ kho lưu trữ S3 không hợp lệ: {endpoint!r} "
        "(cần dạng http://máy-chủ:cổng hoặc máy-chủ:cổng)."
    )


def _reason(exc: BaseException) -> str:
    """The innermost cause, e.g. 'Connection refused', not urllib3's retry wrapper."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None)
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    return str(inner) or type(inner).__name__
