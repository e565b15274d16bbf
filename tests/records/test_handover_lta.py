"""The hand-over record's signatures carry timestamps from the agency's TSA: the keeper's
PAdES B-T, the archive's B-LTA (validation data and a document timestamp after it), so the
record stays verifiable for as long as it is kept; a TSA that is down refuses the signature,
or with the fallback signs without a timestamp (noted); the record's timestamp is renewed by
the same step as the re-timestamp job's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice import maintenance
from ioffice.audit.models import AuditEvent
from ioffice.demo import DEMO_PIN
from ioffice.outgoing import archival
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.records import archival as records_archival
from ioffice.records import handover as handovers
from ioffice.records import service as records
from ioffice.records.models import Handover, HandoverArchivalRevision, HandoverStatus
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from signing import Pki, TrustStore, validate_pdf
from signing.archival import last_timestamp
from tests.outgoing.test_archival import (  # noqa: F401 (the fixture)
    _closed_port_policy,
    _external_checks,
    sessions,
    short_lived_tsa,
)
from tests.records.conftest import ARCHIVIST, KEEPER, TODAY, make_year
from tests.support.factories import actor


def _handover(db: Session, blobs: BlobStore) -> Handover:
    year = make_year(db)
    keeper = actor(db, KEEPER)
    records.open_dossier(db, keeper, year.dossier.id, "2026-02-01", TODAY)
    records.add_file(db, blobs, keeper, year.dossier.id, "Tài liệu", "a.pdf", b"%PDF-1.4 x")
    records.close_dossier(db, keeper, year.dossier.id, "2026-11-30", "3", TODAY)
    return handovers.start(db, blobs, keeper, [year.dossier.id], TODAY)


def _details(db: Session, h: Handover, tag: str) -> dict:
    return db.scalars(select(AuditEvent.details).where(
        AuditEvent.subject_type == "handover", AuditEvent.subject_id == str(h.id),
        AuditEvent.tag == tag)).one()


def _signed(db: Session, blobs: BlobStore, trust: TrustStore, tsa: TimestampPolicy
            ) -> Handover:
    h = _handover(db, blobs)
    handovers.sign_as_keeper(db, blobs, trust, actor(db, KEEPER), h.id, DEMO_PIN, tsa=tsa)
    handovers.accept(db, blobs, trust, actor(db, ARCHIVIST), h.id, DEMO_PIN, tsa=tsa)
    return h


def test_both_signatures_are_timestamped_and_the_record_is_b_lta(
        db: Session, blobs: BlobStore, trust: TrustStore, tsa: TimestampPolicy, keeper_key,
        tmp_path: Path) -> None:
    h = _handover(db, blobs)
    handovers.sign_as_keeper(db, blobs, trust, actor(db, KEEPER), h.id, DEMO_PIN, tsa=tsa)
    kept = blobs.read_bytes(h.record_sha256)
    report = validate_pdf(kept, trust)
    assert report.valid and report.level == "B-T", report.explanation
    assert _details(db, h, "records:handover:submit")["level"] == "B-T"

    handovers.accept(db, blobs, trust, actor(db, ARCHIVIST), h.id, DEMO_PIN, tsa=tsa)
    assert h.status is HandoverStatus.ACCEPTED
    pdf = blobs.read_bytes(h.record_sha256)
    assert pdf.startswith(kept)
    report = validate_pdf(pdf, trust)
    assert report.valid, report.explanation
    assert report.level == "B-LTA"
    assert [r.kind for r in report.signatures] == ["signature", "signature", "timestamp"]
    assert all(r.timestamp_time for r in report.signatures[:2])  # each signature's own
    assert report.signatures[-1].coverage == "entire_file" and b"/DSS" in pdf
    last = last_timestamp(pdf)
    assert last is not None and last.kind == "document"
    details = _details(db, h, "records:handover:accept")
    assert details["level"] == "B-LTA" and "without_timestamp" not in details
    _external_checks(pdf, tmp_path, 2)


def test_tsa_down_refuses_the_signature_and_changes_nothing(
        db: Session, blobs: BlobStore, trust: TrustStore, tsa: TimestampPolicy,
        keeper_key) -> None:
    down = _closed_port_policy()
    h = _handover(db, blobs)
    unsigned = h.record_sha256
    with pytest.raises(RecordsError) as info:
        handovers.sign_as_keeper(db, blobs, trust, actor(db, KEEPER), h.id, DEMO_PIN, tsa=down)
    assert info.value.message.startswith("Chưa ký được biên bản: Không lấy được dấu thời gian")
    assert "Biên bản chưa thay đổi gì" in info.value.message
    assert h.status is HandoverStatus.DRAFT and h.record_sha256 == unsigned
    handovers.sign_as_keeper(db, blobs, trust, actor(db, KEEPER), h.id, DEMO_PIN, tsa=tsa)
    submitted = h.record_sha256
    with pytest.raises(RecordsError, match="Không lấy được dấu thời gian"):
        handovers.accept(db, blobs, trust, actor(db, ARCHIVIST), h.id, DEMO_PIN, tsa=down)
    assert h.status is HandoverStatus.SUBMITTED and h.record_sha256 == submitted


def test_tsa_down_with_the_fallback_signs_without_a_timestamp(
        db: Session, blobs: BlobStore, trust: TrustStore, keeper_key) -> None:
    fallback = dataclasses.replace(_closed_port_policy(), fallback_bb=True)
    h = _signed(db, blobs, trust, fallback)
    assert h.status is HandoverStatus.ACCEPTED
    report = validate_pdf(blobs.read_bytes(h.record_sha256), trust)
    assert report.valid and report.level == "B-B", report.explanation
    for tag in ("records:handover:submit", "records:handover:accept"):
        details = _details(db, h, tag)
        assert details["level"] == "B-B" and "TSA" in details["without_timestamp"]


def test_the_accepted_record_keeps_its_timestamps_expiry(
        db: Session, blobs: BlobStore, trust: TrustStore, tsa: TimestampPolicy,
        keeper_key) -> None:
    h = _signed(db, blobs, trust, tsa)
    last = last_timestamp(blobs.read_bytes(h.record_sha256))
    assert last is not None and last.kind == "document"
    assert (h.level, h.timestamp_at, h.timestamp_expires) == ("B-LTA", last.time, last.expires)


def _round(session_factory, blobs: BlobStore, tsa: TimestampPolicy, trust: TrustStore, **kwargs
           ) -> archival.RetimestampRun:
    return archival.retimestamp(session_factory, blobs, tsa, lambda: trust, **kwargs)


def test_the_records_timestamp_near_expiry_is_renewed_by_the_daily_round(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        keeper_key, sessions, tmp_path: Path) -> None:  # noqa: F811
    """A record whose TSA certificate expires within the job's horizon: the re-timestamp round
    (the worker's daily job) adds a document timestamp; the previous file stays referenced, the
    event is on the hand-over's history; the next round leaves it."""
    with short_lived_tsa(pki) as short:
        h = _signed(db, blobs, trust, short)
    db.commit()
    signed_sha, signed_pdf = h.record_sha256, blobs.read_bytes(h.record_sha256)
    before = last_timestamp(signed_pdf)

    dry = _round(sessions, blobs, tsa, trust, dry_run=True)
    assert h.id in dry.records.due and not dry.records.renewed
    run = _round(sessions, blobs, tsa, trust)
    assert run.records.renewed == [h.id] and not run.stopped, run
    db.expire_all()
    assert h.record_sha256 != signed_sha and h.level == "B-LTA"
    archived = blobs.read_bytes(h.record_sha256)
    assert archived.startswith(signed_pdf)
    (revision,) = db.scalars(select(HandoverArchivalRevision).where(
        HandoverArchivalRevision.handover_id == h.id)).all()
    assert (revision.sha256, revision.previous_sha256) == (h.record_sha256, signed_sha)
    assert h.timestamp_expires == revision.timestamp_expires > before.expires
    assert {signed_sha, h.record_sha256} <= maintenance.referenced_blobs(db)
    report = validate_pdf(archived, trust)
    assert report.valid and report.level == "B-LTA", report.explanation
    assert [r.kind for r in report.signatures] == [
        "signature", "signature", "timestamp", "timestamp"]
    _external_checks(archived, tmp_path, 2)
    event = _details(db, h, records_archival.TAG)
    assert (event["previous_sha256"], event["sha256"]) == (signed_sha, h.record_sha256)

    again = _round(sessions, blobs, tsa, trust)
    assert h.id not in again.records.due


def test_records_accepted_before_the_column_are_read_from_their_files(
        db: Session, blobs: BlobStore, trust: TrustStore, tsa: TimestampPolicy,
        keeper_key, sessions) -> None:  # noqa: F811
    h = _signed(db, blobs, trust, tsa)  # not due: ten years
    expires = h.timestamp_expires
    h.level, h.timestamp_at, h.timestamp_expires = "", None, None
    db.commit()
    run = _round(sessions, blobs, tsa, trust)
    assert h.id not in run.records.due
    db.expire_all()
    assert (h.level, h.timestamp_expires) == ("B-LTA", expires)


def test_a_returned_record_is_not_renewed(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa: TimestampPolicy,
        keeper_key, sessions) -> None:  # noqa: F811
    """Only the record the archive accepted is kept; a returned one is not timestamped again."""
    h = _handover(db, blobs)
    with short_lived_tsa(pki) as short:
        handovers.sign_as_keeper(db, blobs, trust, actor(db, KEEPER), h.id, DEMO_PIN, tsa=short)
    handovers.return_handover(db, actor(db, ARCHIVIST), h.id, "Thiếu mục lục văn bản.")
    db.commit()
    run = _round(sessions, blobs, tsa, trust)
    assert h.id not in run.records.due
