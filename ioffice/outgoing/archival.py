"""Re-timestamping stored documents: an archival timestamp before the last one's TSA
certificate expires, so that a sealed document kept for years stays verifiable.

Which documents: every outgoing document whose current file is a signed revision (the seal,
or an earlier archival timestamp) with a timestamp whose TSA certificate expires within
``days`` (``IOFFICE_RETIMESTAMP_DAYS``), in every agency. Received documents are not touched:
the file an agency received is the evidence of what was sent to it (its hash is in the
register and the receipt), and its long-term proof is the sender's to keep.

How, per document, with no database lock held while the TSA is asked: read the file (a
short read), add the validation data of the last timestamp and a new document timestamp
(pyHanko, :func:`signing.archival.add_archival_timestamp`, an incremental update), check
the result validates, store it as a new blob, then in one short transaction swap the
document's current file to it, only if the document still has the file that was
timestamped, and record a new :class:`SignedRevision` (``kind="archival"``) and an audit
event in the document's agency. The previous bytes stay in storage (each revision's blob is
kept). A TSA that cannot answer stops the round (logged); the next round (the next day)
tries again. docs/signing.md, "Long-term validation".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext, record
from ioffice.outgoing.models import OutgoingDocument, SignedRevision
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.storage import BlobStore
from signing import SigningError, TrustStore, validate_pdf
from signing.archival import add_archival_timestamp, last_timestamp
from signing.tsa import TimestampUnavailable

__all__ = ["DEFAULT_DAYS", "RetimestampRun", "due", "retimestamp"]

log = logging.getLogger(__name__)

DEFAULT_DAYS = 180
"""Renew a timestamp whose TSA certificate expires within this many days (half a year: a
daily job has many chances, and a TSA outage of weeks does not lose the chain)."""

BATCH = 200
"""Documents looked at in one round at most (the oldest expiry first); the rest next round."""

TAG = "outgoing:signature:archival"
WORKER_CONTEXT = AuditContext(actor_id=None, agency_id=None, remote_addr="worker")


@dataclass
class RetimestampRun:
    """What a round did."""

    due: list[int] = field(default_factory=list)
    """Ids of the documents found due."""
    renewed: list[int] = field(default_factory=list)
    """Documents given a new archival timestamp."""
    skipped: dict[int, str] = field(default_factory=dict)
    """Documents left as they were, and why."""
    stopped: str = ""
    """Why the round stopped early (the TSA cannot answer), "" if it did not."""


@dataclass(frozen=True)
class _Due:
    document_id: int
    agency_id: int
    sha256: str
    expires: dt.datetime


def _current_revisions(horizon: dt.datetime, limit: int):
    return (select(SignedRevision.document_id, OutgoingDocument.agency_id, SignedRevision.sha256,
                   SignedRevision.timestamp_expires)
            .join(OutgoingDocument, OutgoingDocument.id == SignedRevision.document_id)
            .where(SignedRevision.sha256 == OutgoingDocument.current_sha256,
                   SignedRevision.timestamp_expires.is_not(None),
                   SignedRevision.timestamp_expires <= horizon)
            .order_by(SignedRevision.timestamp_expires, SignedRevision.document_id)
            .limit(limit))


def _learn(session: Session, blobs: BlobStore, limit: int) -> int:
    """Fill the level and last timestamp of current seals stored before they were recorded
    (``level == ""``): read from their files, a bounded number per round."""
    rows = session.scalars(
        select(SignedRevision)
        .join(OutgoingDocument, OutgoingDocument.id == SignedRevision.document_id)
        .where(SignedRevision.sha256 == OutgoingDocument.current_sha256,
               SignedRevision.kind == "agency", SignedRevision.level == "")
        .order_by(SignedRevision.id).limit(limit)).all()
    for row in rows:
        try:
            last = last_timestamp(blobs.read_bytes(row.sha256))
        except Exception as exc:  # a missing blob: noted, looked at again next round
            log.warning("re-timestamp: cannot read %s of document %s: %s", row.sha256,
                        row.document_id, exc)
            continue
        row.level = last.level if last else "B-B"
        if last is not None:
            row.timestamp_at, row.timestamp_expires = last.time, last.expires
    session.commit()
    return len(rows)


def due(session: Session, blobs: BlobStore, *, days: float = DEFAULT_DAYS,
        now: dt.datetime | None = None, limit: int = BATCH) -> list[_Due]:
    """The documents whose current file's last timestamp expires within ``days`` of ``now``,
    the soonest first (seals recorded before their timestamps were are read first). Ends
    the session's transaction."""
    now = now or dt.datetime.now(dt.UTC)
    _learn(session, blobs, limit)
    horizon = now + dt.timedelta(days=days)
    found = [_Due(*row) for row in session.execute(_current_revisions(horizon, limit))]
    session.commit()
    return found


def retimestamp(session_factory: Callable[[], Session], blobs: BlobStore,
                tsa: TimestampPolicy | None, trust: Callable[[], TrustStore], *,
                days: float = DEFAULT_DAYS, now: dt.datetime | None = None,
                dry_run: bool = False, limit: int = BATCH) -> RetimestampRun:
    """One round: renew the archival timestamp of every document due (see the module).
    ``dry_run``: only find them. Never raises for one document; a TSA that cannot answer
    stops the round (:attr:`RetimestampRun.stopped`)."""
    run = RetimestampRun()
    with session_factory() as session:
        found = due(session, blobs, days=days, now=now, limit=limit)
    run.due = [d.document_id for d in found]
    if dry_run or not found:
        return run
    if tsa is None or tsa.client is None:
        run.stopped = "Chưa cấu hình máy chủ cấp dấu thời gian (IOFFICE_TSA_URL)."
        log.warning("re-timestamp: %d document(s) due, but no TSA is configured", len(found))
        return run
    not_renewed_until: dt.datetime | None = None
    for item in found:
        if not_renewed_until is not None and item.expires >= not_renewed_until:
            run.skipped[item.document_id] = "tsa_not_renewed"
            continue
        try:
            outcome = _renew(session_factory, blobs, tsa, trust(), item)
        except TimestampUnavailable as exc:
            run.stopped = str(exc)
            log.warning("re-timestamp stopped (TSA: %s): %s; %d document(s) wait for the next "
                        "round", exc.reason, exc, len(found) - len(run.renewed))
            break
        except Exception as exc:  # one document's trouble must not stop the others
            log.exception("re-timestamp of outgoing document %s failed", item.document_id)
            run.skipped[item.document_id] = f"error: {exc}"
            continue
        if isinstance(outcome, dt.datetime):  # the TSA's certificate expires no later
            not_renewed_until = outcome
            run.skipped[item.document_id] = "tsa_not_renewed"
            log.warning("re-timestamp: the TSA's certificate expires %s, no later than the "
                        "timestamp it would renew: renew the TSA's certificate",
                        outcome.isoformat())
        elif outcome:
            run.skipped[item.document_id] = outcome
        else:
            run.renewed.append(item.document_id)
    log.info("re-timestamp: %d due, %d renewed, %d skipped%s", len(found), len(run.renewed),
             len(run.skipped), " (stopped: TSA unavailable)" if run.stopped else "")
    return run


def _renew(session_factory: Callable[[], Session], blobs: BlobStore, tsa: TimestampPolicy,
           trust: TrustStore, item: _Due) -> str | dt.datetime:
    """"" when renewed; a reason when left alone; the new TSA certificate's expiry when it
    would not extend the proof."""
    pdf = blobs.read_bytes(item.sha256)
    before = last_timestamp(pdf)
    if before is None:
        return "no_timestamp"
    try:
        renewed = add_archival_timestamp(pdf, tsa.timestamper(trust), trust)
    except TimestampUnavailable:
        raise
    except SigningError as exc:
        log.warning("re-timestamp of outgoing document %s refused: %s", item.document_id, exc)
        return f"refused: {exc}"
    after = last_timestamp(renewed)
    if after is None or after.kind != "document":
        return "no_document_timestamp"
    if after.expires <= before.expires:
        return after.expires
    report = validate_pdf(renewed, trust)
    if not report.valid:
        log.warning("re-timestamp of outgoing document %s does not validate: %s",
                    item.document_id, report.explanation)
        return f"invalid: {report.reason}"
    info = blobs.put_bytes(renewed)  # an orphan if the swap below does not happen: cleaned up
    with session_factory() as session:
        doc = session.scalars(select(OutgoingDocument).where(
            OutgoingDocument.id == item.document_id).with_for_update()).one_or_none()
        if doc is None or doc.current_sha256 != item.sha256:
            session.rollback()
            return "changed"
        serial = f"{int(after.tsa_certificate.serial_number):x}"
        session.add(SignedRevision(
            document_id=doc.id, kind="archival", method="tsa", sha256=info.sha256,
            previous_sha256=item.sha256, size=info.size, certificate_serial=serial,
            signer_id=None, level="B-LTA", timestamp_at=after.time,
            timestamp_expires=after.expires))
        doc.current_sha256 = info.sha256
        record(session, WORKER_CONTEXT, TAG, subject_type="outgoing", subject_id=doc.id,
               agency_id=doc.agency_id,
               details={"sha256": info.sha256, "previous_sha256": item.sha256,
                        "timestamp_at": after.time.isoformat(),
                        "tsa_certificate": serial,
                        "tsa_expires": after.expires.isoformat(),
                        "previous_expires": before.expires.isoformat()})
        session.commit()
    return ""
