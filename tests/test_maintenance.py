"""Storage cleanup: orphaned blobs, their previews and temporary leftovers go after the grace
period; a blob a row references never does (run on the configured backend: local or S3)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.documents.pdf import preview_name
from ioffice.exchange import worker
from ioffice.exchange.runtime import exchange
from ioffice.storage import BlobStore, LocalBlobStore, create_blob_store
from tests.conftest import test_storage
from tests.storage.conftest import fresh_bucket
from tests.support.factories import actor, register

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)  # everything stored now is old by then


@pytest.fixture
def store(storage_config: dict[str, object]) -> BlobStore:
    """A store of its own (on S3 a fresh bucket): cleaning must not touch other tests' blobs."""
    config = dict(storage_config)
    if test_storage() == "s3":
        config["S3_BUCKET"] = fresh_bucket()
    return create_blob_store(config)


def _referenced_document(db: Session, store: BlobStore) -> str:
    doc = register(db, store, actor(db, "vanthu.camau"))
    db.flush()
    return doc.files[0].sha256


def test_orphans_go_and_referenced_blobs_stay(db: Session, store: BlobStore) -> None:
    kept = _referenced_document(db, store)
    orphan = store.put_bytes(b"upload of a registration that was rolled back").sha256
    store.put_named(preview_name(kept, 1), b"png kept")
    store.put_named(f"previews/{kept}/page-2.png", b"png of the renderer before issue 16")
    store.put_named(preview_name(orphan, 1), b"png orphan")
    store.put_named("other/artifact.bin", b"not a preview: never touched")

    removed = maintenance.cleanup(db, store, now=LATER)

    assert {(r.kind, r.key) for r in removed} == {
        ("blob", orphan), ("preview", preview_name(orphan, 1)),
        ("preview", f"previews/{kept}/page-2.png")}
    assert store.exists(kept) and not store.exists(orphan)
    assert store.get_named(preview_name(kept, 1)) == b"png kept"
    assert store.get_named("other/artifact.bin")
    assert store.read_bytes(kept)  # still whole
    assert maintenance.cleanup(db, store, now=LATER) == []  # nothing left to do


def test_nothing_younger_than_the_grace_period_goes(db: Session, store: BlobStore) -> None:
    orphan = store.put_bytes(b"an upload whose transaction may not have committed yet").sha256
    now = dt.datetime.now(dt.UTC)
    assert maintenance.cleanup(db, store, now=now, grace=dt.timedelta(hours=24)) == []
    assert store.exists(orphan)
    removed = maintenance.cleanup(db, store, now=now + dt.timedelta(hours=25),
                                  grace=dt.timedelta(hours=24))
    assert [r.key for r in removed] == [orphan]


def test_a_dry_run_lists_and_removes_nothing(db: Session, store: BlobStore) -> None:
    orphan = store.put_bytes(b"orphan for the dry run").sha256
    removed = maintenance.cleanup(db, store, now=LATER, dry_run=True)
    assert [r.key for r in removed] == [orphan] and store.exists(orphan)


def test_blobs_referenced_by_signed_revisions_versions_and_the_outbox_stay(
        db: Session, store: BlobStore) -> None:
    from ioffice.exchange.models import ExchangeOutbox

    in_outbox = store.put_bytes(b"a file an unsent outbox message carries").sha256
    db.add(ExchangeOutbox(agency_id=actor(db, "vanthu.camau").agency_id, kind="edoc",
                          document_identifier="000.00.00.H12,2026/12/03,1",
                          recipients=["000.00.00.G09"],
                          payload={"files": [["van-ban.pdf", in_outbox]]}))
    db.flush()
    assert in_outbox in maintenance.referenced_blobs(db)
    assert maintenance.cleanup(db, store, now=LATER) == []
    assert store.exists(in_outbox)


def test_temporary_leftovers_of_a_crashed_write_go(db: Session, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put_bytes(b"x")  # makes the folders
    stray = tmp_path / "blobs" / ".tmp" / "put-crashed"
    stray.write_bytes(b"half")
    removed = maintenance.cleanup(db, store, now=LATER)
    assert ("temporary", "put-crashed") in {(r.kind, r.key) for r in removed}
    assert not stray.exists()


def test_the_cli_reports_what_it_removed(app: Flask, db: Session, store: BlobStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _referenced_document(db, store)
    orphan = store.put_bytes(b"cli orphan").sha256
    monkeypatch.setattr(app.extensions["ioffice.services"], "_blobs", store)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["maintenance", "cleanup", "--dry-run", "--list",
                              "--grace-hours", "0"])
    assert out.exit_code == 0, out.output
    assert "Sẽ xóa 1 tệp không còn tham chiếu" in out.output and orphan in out.output
    assert store.exists(orphan)
    out = runner.invoke(args=["maintenance", "cleanup", "--grace-hours", "0"])
    assert out.exit_code == 0 and "Đã xóa 1 tệp không còn tham chiếu" in out.output
    assert not store.exists(orphan) and store.exists(kept)


def test_the_worker_cleans_up_and_logs(app: Flask, db: Session, store: BlobStore,
                                       caplog: pytest.LogCaptureFixture) -> None:
    kept = _referenced_document(db, store)
    orphan = store.put_bytes(b"worker orphan").sha256
    rt = exchange(app)
    rt._blobs, rt.cleanup_grace_hours = store, 0
    with caplog.at_level(logging.INFO, logger="ioffice.exchange.worker"):
        assert worker.cleanup_storage(rt) == 1
    assert any(orphan in r.getMessage() for r in caplog.records)
    assert store.exists(kept) and not store.exists(orphan)


def test_expired_held_uploads_go_and_fresh_ones_stay(db: Session, store: BlobStore) -> None:
    from ioffice.documents import held

    now = dt.datetime.now(dt.UTC)
    old = held.hold(store, user_id=1, agency_id=1, filename="a.pdf", data=b"%PDF-1", now=now)
    removed = maintenance.cleanup(db, store, now=now + dt.timedelta(hours=1),
                                  held_ttl=dt.timedelta(hours=4))
    assert not [r for r in removed if r.kind == "held"]
    assert held.take(store, old.token, user_id=1, agency_id=1, now=now) is not None
    removed = maintenance.cleanup(db, store, now=now + dt.timedelta(hours=5),
                                  held_ttl=dt.timedelta(hours=4))
    assert sorted(r.key for r in removed if r.kind == "held") == [
        f"held/{old.token}/file", f"held/{old.token}/meta.json"]
    assert held.take(store, old.token, user_id=1, agency_id=1, now=now) is None
