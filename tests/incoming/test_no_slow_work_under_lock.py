"""Registering a scan or PDF: its checks, repair, blob and text come before the document's
INSERT and the register's number (issue 17; a guard: the order was already so)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ioffice.incoming import registration
from ioffice.incoming.models import DocumentStatus
from ioffice.storage import BlobStore
from tests.support.factories import actor, register
from tests.support.locks import lock_watch


def test_a_paper_registration_checks_its_files_before_it_writes(
        db: Session, engine: Engine, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = {"inspect_pdf": (registration, "inspect_pdf"),
               "make_signable": (registration, "make_signable"),
               "extract_text": (registration, "extract_text"),
               "put_bytes": (type(blobs), "put_bytes")}
    clerk = actor(db, "vanthu.camau")
    db.commit()
    with lock_watch(engine, monkeypatch, targets) as watch:
        doc = register(db, blobs, clerk)
    assert set(targets) <= watch.called()
    assert watch.under_lock() == []
    assert doc.status is DocumentStatus.REGISTERED and doc.incoming_number
