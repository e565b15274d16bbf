"""A real S3 server for tests: SeaweedFS started by the fixtures, or one named by
IOFFICE_TEST_S3_ENDPOINT (with IOFFICE_TEST_S3_ACCESS_KEY / IOFFICE_TEST_S3_SECRET_KEY)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from minio import Minio

from ioffice.storage import S3BlobStore
from tests.support.seaweed import SeaweedServer


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str | None
    secret_key: str | None

    def client(self) -> Minio:
        parts = urlsplit(self.endpoint)
        return Minio(
            parts.netloc,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=parts.scheme == "https",
        )

    def store(self, bucket: str, **options: object) -> S3BlobStore:
        return S3BlobStore(
            self.endpoint, self.access_key, self.secret_key, bucket, **options  # type: ignore[arg-type]
        )


def s3_server_session() -> Iterator[S3Server]:
    endpoint = os.environ.get("IOFFICE_TEST_S3_ENDPOINT")
    if endpoint:
        yield S3Server(
            endpoint,
            os.environ.get("IOFFICE_TEST_S3_ACCESS_KEY") or None,
            os.environ.get("IOFFICE_TEST_S3_SECRET_KEY") or None,
        )
        return
    # stop_timeout: weed never exited within the default 3 s of its SIGTERM (3.06 s every time
    # measured), so each worker's session ended 3 s later (teardowns of 4-8 s in CI); its data
    # is thrown away with its folder, nothing needs draining: SIGKILL after 0.2 s
    with SeaweedServer(stop_timeout=0.2) as server:
        print(f"\nSeaweedFS ready on {server.endpoint} in {server.startup_seconds:.1f}s")
        yield S3Server(server.endpoint, server.access_key, server.secret_key)
