"""Copies in the re-timestamp job: a copy whose last timestamp's TSA certificate nears its
expiry gets an archival timestamp as outgoing documents do (the same round, the same checks),
the previous file is kept, the event goes on the original's history; a copy changed
meanwhile is not replaced; a TSA that is down changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.audit.models import AuditEvent
from ioffice.copies import archival as copy_archival
from ioffice.copies import service as copies
from ioffice.copies.models import CopyArchivalRevision, DocumentCopy
from ioffice.outgoing import archival
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, validate_pdf
from signing.archival import last_timestamp
from tests.copies.test_copies import CLERK, LEADER, ask
from tests.outgoing.test_archival import (  # noqa: F401 (the fixture)
    SHORT_DAYS,
    _closed_port_policy,
    _external_checks,
    sessions,
    short_lived_tsa,
)
from tests.support.factories import actor, register


def _copy(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy
          ) -> DocumentCopy:
    clerk = actor(db, CLERK)
    incoming = register(db, blobs, clerk)
    made = copies.make_copy(db, blobs, pki, trust, clerk,
                            ask(db, blobs, LEADER, "incoming", incoming.id).id, tsa=tsa)
    db.commit()
    return made


def _events(db: Session, copy: DocumentCopy) -> list[AuditEvent]:
    return [e for e in db.scalars(select(AuditEvent).where(
        AuditEvent.tag == copy_archival.TAG, AuditEvent.subject_type == "incoming",
        AuditEvent.subject_id == str(copy.incoming_id))) if e.details["copy_id"] == copy.id]


def _run(sessions, blobs, tsa, trust, **kwargs) -> archival.RetimestampRun:  # noqa: F811
    return archival.retimestamp(sessions, blobs, tsa, lambda: trust, **kwargs)


def test_a_copy_records_its_timestamp_expiry(db: Session, blobs: BlobStore, pki: Pki,
                                             trust: TrustStore, tsa: TimestampPolicy) -> None:
    made = _copy(db, blobs, pki, trust, tsa)
    last = last_timestamp(blobs.read_bytes(made.sha256))
    assert last is not None and last.kind == "document"
    assert (made.level, made.timestamp_at, made.timestamp_expires) == (
        "B-LTA", last.time, last.expires)


def test_a_copy_near_expiry_gets_an_archival_timestamp(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        sessions, tmp_path: Path) -> None:  # noqa: F811
    with short_lived_tsa(pki) as short:
        made = _copy(db, blobs, pki, trust, short)
    sealed_sha, sealed_pdf = made.sha256, blobs.read_bytes(made.sha256)
    assert made.timestamp_expires - made.timestamp_at <= dt.timedelta(days=SHORT_DAYS)

    dry = _run(sessions, blobs, tsa, trust, dry_run=True)
    assert made.id in dry.copies.due and made.id not in dry.copies.renewed

    run = _run(sessions, blobs, tsa, trust)
    assert made.id in run.copies.renewed and not run.stopped
    db.expire_all()
    assert made.sha256 != sealed_sha and made.level == "B-LTA"
    archived = blobs.read_bytes(made.sha256)
    assert archived.startswith(sealed_pdf) and made.size == len(archived)
    assert blobs.read_bytes(sealed_sha) == sealed_pdf
    (revision,) = db.scalars(select(CopyArchivalRevision).where(
        CopyArchivalRevision.copy_id == made.id)).all()
    assert (revision.sha256, revision.previous_sha256) == (made.sha256, sealed_sha)
    assert made.timestamp_expires == revision.timestamp_expires > \
        made.timestamp_at + dt.timedelta(days=SHORT_DAYS)
    # both files stay referenced: blob cleanup keeps them
    assert {sealed_sha, made.sha256} <= maintenance.referenced_blobs(db)
    report = validate_pdf(archived, trust)
    assert report.valid, report.explanation
    assert [r.kind for r in report.signatures] == ["signature", "timestamp", "timestamp"]
    assert report.level == "B-LTA" and report.archival_time == made.timestamp_at
    _external_checks(archived, tmp_path, 1)
    (event,) = _events(db, made)
    assert event.agency_id == made.agency_id and event.actor_id is None
    assert (event.details["previous_sha256"], event.details["sha256"]) == (sealed_sha, made.sha256)

    again = _run(sessions, blobs, tsa, trust)
    assert made.id not in again.copies.due


def test_a_copy_changed_meanwhile_is_not_replaced(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        sessions, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    with short_lived_tsa(pki) as short:
        made = _copy(db, blobs, pki, trust, short)
    original = archival.add_archival_timestamp
    meanwhile = blobs.put_bytes(b"%PDF-1.7 changed meanwhile").sha256

    def racing(pdf, timestamper, trust_):
        out = original(pdf, timestamper, trust_)
        with sessions() as other:
            other.get(DocumentCopy, made.id).sha256 = meanwhile
            other.commit()
        return out

    monkeypatch.setattr(archival, "add_archival_timestamp", racing)
    run = _run(sessions, blobs, tsa, trust)
    assert run.copies.skipped[made.id] == "changed" and not run.copies.renewed
    db.expire_all()
    assert made.sha256 == meanwhile and not _events(db, made)
    assert not db.scalars(select(CopyArchivalRevision).where(
        CopyArchivalRevision.copy_id == made.id)).all()


def test_tsa_down_leaves_the_copy_and_the_next_round_renews(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        sessions, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    with short_lived_tsa(pki) as short:
        made = _copy(db, blobs, pki, trust, short)
    sha = made.sha256
    down = _run(sessions, blobs, _closed_port_policy(), trust)
    assert down.stopped and made.id in down.copies.due and not down.copies.renewed
    assert "re-timestamp stopped" in caplog.text
    db.expire_all()
    assert made.sha256 == sha and not _events(db, made)
    later = _run(sessions, blobs, tsa, trust)
    assert made.id in later.copies.renewed
    db.expire_all()
    assert made.sha256 != sha and len(_events(db, made)) == 1


def test_copies_made_before_the_column_are_read_from_their_files(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        sessions) -> None:  # noqa: F811
    made = _copy(db, blobs, pki, trust, tsa)  # not due: ten years
    expires = made.timestamp_expires
    made.timestamp_at = made.timestamp_expires = None
    db.commit()
    run = _run(sessions, blobs, tsa, trust)
    assert made.id not in run.copies.due
    db.expire_all()
    assert made.timestamp_expires == expires and not _events(db, made)
