"""create_blob_store: choosing and configuring the store from the app config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioffice.storage import (
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    StorageConfigError,
    create_blob_store,
)


def test_local_is_the_default(tmp_path: Path) -> None:
    store = create_blob_store({"BLOB_DIR": str(tmp_path)})
    assert isinstance(store, LocalBlobStore)
    assert isinstance(store, BlobStore)
    assert store.root == tmp_path
    assert list(tmp_path.iterdir()) == []  # building the store touches nothing


def test_s3_from_config() -> None:
    store = create_blob_store(
        {
            "STORAGE": "S3",
            "S3_ENDPOINT": "https://s3.camau.gov.vn",
            "S3_ACCESS_KEY": "ak",
            "S3_SECRET_KEY": "sk",
            "S3_REGION": "vn-south-1",
        }
    )
    assert isinstance(store, S3BlobStore)
    assert isinstance(store, BlobStore)
    assert store.endpoint == "https://s3.camau.gov.vn"
    assert store.bucket == "ioffice"


def test_s3_bucket_is_configurable() -> None:
    store = create_blob_store(
        {"STORAGE": "s3", "S3_ENDPOINT": "http://127.0.0.1:8333", "S3_BUCKET": "van-ban"}
    )
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "van-ban"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"STORAGE": "ftp"}, "IOFFICE_STORAGE='ftp'"),
        ({"STORAGE": "s3"}, "IOFFICE_S3_ENDPOINT"),
        ({"STORAGE": "s3", "S3_ENDPOINT": "http://h:1", "S3_ACCESS_KEY": "ak"}, "IOFFICE_S3_SECRET_KEY"),
        ({"STORAGE": "s3", "S3_ENDPOINT": "h:1/x://"}, "không hợp lệ"),
    ],
)
def test_bad_config_is_explained(config: dict[str, str], message: str) -> None:
    with pytest.raises(StorageConfigError) as caught:
        create_blob_store(config)
    assert message in str(caught.value)
