"""No slow work (signing, checking a signed PDF, storing a blob) while the transaction holds a
write or a row lock (issue 17): the register row and, on SQLite, the database's one write lock
are held only for the short write at the end."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ioffice.outgoing import combined, drafts, issue, numbering, signatures
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore
from tests.outgoing.conftest import (
    CLERK,
    LEADER,
    PIN,
    SPECIALIST,
    approve_all,
    new_draft,
    pdf_bytes,
)
from tests.outgoing.test_combined import at_leader_step
from tests.outgoing.test_issue import last_number, signed
from tests.support.factories import actor
from tests.support.locks import lock_watch


def slow_parts(blobs: BlobStore) -> dict[str, tuple[object, str]]:
    return {"sign_pdf": (signatures, "sign_pdf"),
            "check_next_signature": (signatures, "check_next_signature"),
            "put_bytes": (type(blobs), "put_bytes")}


def test_the_one_action_seals_before_it_locks(db: Session, engine: Engine, blobs: BlobStore,
                                              pki: Pki, trust: TrustStore, tsa, pin_key,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    doc = signed(db, blobs, trust)
    before = last_number(db, doc)
    db.commit()
    with lock_watch(engine, monkeypatch, slow_parts(blobs)) as watch:
        issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    assert watch.called() == {"sign_pdf", "check_next_signature", "put_bytes"}
    assert watch.under_lock() == []
    assert doc.status is OutgoingStatus.DISPATCHED and doc.number == before + 1


def test_the_separate_seal_seals_before_it_locks(db: Session, engine: Engine, blobs: BlobStore,
                                                 pki: Pki, trust: TrustStore, tsa, pin_key,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    doc = signed(db, blobs, trust)
    numbering.assign_number(db, actor(db, CLERK), doc.id)
    db.commit()
    with lock_watch(engine, monkeypatch, slow_parts(blobs)) as watch:
        signatures.apply_agency_signature(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    assert "sign_pdf" in watch.called() and watch.under_lock() == []
    assert doc.status is OutgoingStatus.SEALED


def test_a_number_taken_during_the_seal_is_not_duplicated(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, pin_key,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another clerk numbers (and commits) a document while this seal is being made: the seal
    is made again with the next number; no number is lost or given twice."""
    doc, other = signed(db, blobs, trust), signed(db, blobs, trust)
    before = last_number(db, doc)
    db.commit()
    real = signatures.sign_pdf
    seals: list[str] = []

    def sign_while_another_clerk_numbers(*args, **kwargs):
        seals.append(kwargs["stamp"].number_notation if "stamp" in kwargs else "")
        if len(seals) == 1:
            numbering.assign_number(db, actor(db, CLERK), other.id)
            db.commit()
        return real(*args, **kwargs)

    monkeypatch.setattr(signatures, "sign_pdf", sign_while_another_clerk_numbers)
    issue.issue(db, blobs, pki, trust, actor(db, CLERK), doc.id, tsa=tsa)
    assert other.number == before + 1 and doc.number == before + 2
    assert last_number(db, doc) == before + 2
    assert len(seals) == 2 and seals[1] == doc.number_notation  # the seal shows its own number


def test_the_leaders_signatures_are_made_before_anything_is_locked(
        db: Session, engine: Engine, blobs: BlobStore, trust: TrustStore, pin_key,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ký bằng PIN, «Duyệt và ký» and signing several at once: the PIN's reset of the failure
    count, the approval and each kept signature are written after the signing."""
    leader = actor(db, LEADER)
    one = approve_all(db, new_draft(db, blobs))
    both = [approve_all(db, new_draft(db, blobs)) for _ in range(2)]
    last_step = at_leader_step(db, new_draft(db, blobs))
    db.commit()
    with lock_watch(engine, monkeypatch, slow_parts(blobs)) as watch:
        signatures.sign_with_pin(db, blobs, trust, leader, one.id, PIN)
        db.commit()
        combined.approve_and_sign_with_pin(db, blobs, trust, leader, last_step.id, PIN)
        db.commit()
        results = combined.sign_many_with_pin(db, blobs, trust, leader, [d.id for d in both], PIN)
    assert [r.signed for r in results] == [True, True]
    assert [name for name, _ in watch.calls].count("sign_pdf") == 4
    assert watch.under_lock() == []
    assert all(d.status is OutgoingStatus.SIGNED for d in (one, last_step, *both))


def test_a_draft_and_its_versions_are_checked_before_anything_is_written(
        db: Session, engine: Engine, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF's checks, repair, text extraction and blob (a DOCX's LibreOffice conversion goes
    the same way) come before the draft's INSERT or the version's row lock."""
    targets = {"docx_to_pdf": (drafts.convert, "docx_to_pdf"), "check_pdf": (drafts, "check_pdf"),
               "signable": (drafts, "signable"), "extract_text": (drafts, "extract_text"),
               "put_bytes": (type(blobs), "put_bytes")}
    db.commit()
    with lock_watch(engine, monkeypatch, targets) as watch:
        doc = new_draft(db, blobs)
        db.commit()
        drafts.upload_version(db, blobs, actor(db, SPECIALIST), doc.id,
                              drafts.Upload("ban-2.pdf", pdf_bytes("Phiên bản thứ hai")), "sửa")
    assert {"check_pdf", "signable", "extract_text", "put_bytes"} <= watch.called()
    assert watch.under_lock() == []
    assert [v.version_no for v in doc.versions] == [1, 2]
