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

Copies (sao y, sao lục, trích sao: :mod:`ioffice.copies.archival`) and the hand-over records
the archive accepted (:mod:`ioffice.records.archival`) go through the same round:
what is shared (finding the last timestamp, adding the new one, checking it extends the proof
and validates) is :func:`renew_file`; each kind of document only says which files are due and
how the new file replaces the old one (:class:`Target`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext, record
from ioffice.outgoing.models import OutgoingDocument, SignedRevision
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.storage import BlobStore
from signing import SigningError, TrustStore, validate_pdf
from signing.archival import LastTimestamp, add_archival_timestamp, last_timestamp
from signing.tsa import TimestampUnavailable

__all__ = ["DEFAULT_DAYS", "Renewed", "RetimestampRun", "Tally", "due", "renew_file",
           "retimestamp"]

log = logging.getLogger(__name__)

DEFAULT_DAYS = 180
"""Renew a timestamp whose TSA certificate expires within this many days (half a year: a
daily job has many chances, and a TSA outage of weeks does not lose the chain)."""

BATCH = 200
"""Documents looked at in one round at most (the oldest expiry first); the rest next round."""

TAG = "outgoing:signature:archival"
WORKER_CONTEXT = AuditContext(actor_id=None, agency_id=None, remote_addr="worker")


@dataclass
class Tally:
    """What a round did to one kind of document."""

    due: list[int] = field(default_factory=list)
    """Ids found due."""
    renewed: list[int] = field(default_factory=list)
    """Given a new archival timestamp."""
    skipped: dict[int, str] = field(default_factory=dict)
    """Left as they were, and why."""


@dataclass
class RetimestampRun:
    """What a round did: outgoing documents (``due``, ``renewed``, ``skipped``), copies and
    hand-over records."""

    documents: Tally = field(default_factory=Tally)
    copies: Tally = field(default_factory=Tally)
    records: Tally = field(default_factory=Tally)
    stopped: str = ""
    """Why the round stopped early (the TSA cannot answer), "" if it did not."""

    @property
    def due(self) -> list[int]:
        return self.documents.due

    @property
    def renewed(self) -> list[int]:
        return self.documents.renewed

    @property
    def skipped(self) -> dict[int, str]:
        return self.documents.skipped


@dataclass(frozen=True)
class Due:
    """One file due: the row that holds it (an outgoing document, a copy), its agency, the
    file's SHA-256 and its last timestamp's expiry."""

    id: int
    agency_id: int
    sha256: str
    expires: dt.datetime


@dataclass(frozen=True)
class Renewed:
    """A file given an archival timestamp, stored, not yet swapped in."""

    sha256: str
    size: int
    before: LastTimestamp
    after: LastTimestamp

    @property
    def serial(self) -> str:
        """The new TSA certificate's serial (hex)."""
        return f"{int(self.after.tsa_certificate.serial_number):x}"

    def details(self, previous_sha256: str) -> dict[str, str]:
        """The audit event's details."""
        return {"sha256": self.sha256, "previous_sha256": previous_sha256,
                "timestamp_at": self.after.time.isoformat(), "tsa_certificate": self.serial,
                "tsa_expires": self.after.expires.isoformat(),
                "previous_expires": self.before.expires.isoformat()}


class Target(Protocol):
    """A kind of stored signed file the round renews."""

    name: str
    """How the log names one (``outgoing document``, ``copy``)."""
    tally: str
    """Its :class:`Tally` in :class:`RetimestampRun` (``documents``, ``copies``, ``records``)."""

    def due(self, session: Session, blobs: BlobStore, horizon: dt.datetime, limit: int
            ) -> list[Due]:
        """The files whose last timestamp expires by ``horizon``, soonest first."""

    def swap(self, session: Session, item: Due, renewed: Renewed) -> bool:
        """In the caller's short transaction: lock the row, put ``renewed`` in place of
        ``item.sha256`` if it is still the row's file (else False), record and audit it."""


def _current_revisions(horizon: dt.datetime, limit: int):
    return (select(SignedRevision.document_id, OutgoingDocument.agency_id, SignedRevision.sha256,
                   SignedRevision.timestamp_expires)
            .join(OutgoingDocument, OutgoingDocument.id == SignedRevision.document_id)
            .where(SignedRevision.sha256 == OutgoingDocument.current_sha256,
                   SignedRevision.timestamp_expires.is_not(None),
                   SignedRevision.timestamp_expires <= horizon)
            .order_by(SignedRevision.timestamp_expires, SignedRevision.document_id)
            .limit(limit))


def learn_timestamps(session: Session, blobs: BlobStore, rows: list,
                     sha256: Callable[[object], str],
                     what: str) -> None:
    """Fill ``level``, ``timestamp_at`` and ``timestamp_expires`` of rows stored before they
    were recorded, from their files; a file that cannot be read is looked at again next
    round."""
    for row in rows:
        try:
            last = last_timestamp(blobs.read_bytes(sha256(row)))
        except Exception as exc:  # a missing blob: noted, looked at again next round
            log.warning("re-timestamp: cannot read %s of %s %s: %s", sha256(row), what, row.id,
                        exc)
            continue
        row.level = last.level if last else "B-B"
        if last is not None:
            row.timestamp_at, row.timestamp_expires = last.time, last.expires
    session.commit()


class _Outgoing:
    name = "outgoing document"
    tally = "documents"

    def due(self, session: Session, blobs: BlobStore, horizon: dt.datetime, limit: int
            ) -> list[Due]:
        legacy = session.scalars(
            select(SignedRevision)
            .join(OutgoingDocument, OutgoingDocument.id == SignedRevision.document_id)
            .where(SignedRevision.sha256 == OutgoingDocument.current_sha256,
                   SignedRevision.kind == "agency", SignedRevision.level == "")
            .order_by(SignedRevision.id).limit(limit)).all()
        learn_timestamps(session, blobs, list(legacy), lambda r: r.sha256, "outgoing seal")
        return [Due(*row) for row in session.execute(_current_revisions(horizon, limit))]

    def swap(self, session: Session, item: Due, renewed: Renewed) -> bool:
        doc = session.scalars(select(OutgoingDocument).where(
            OutgoingDocument.id == item.id).with_for_update()).one_or_none()
        if doc is None or doc.current_sha256 != item.sha256:
            return False
        session.add(SignedRevision(
            document_id=doc.id, kind="archival", method="tsa", sha256=renewed.sha256,
            previous_sha256=item.sha256, size=renewed.size, certificate_serial=renewed.serial,
            signer_id=None, level="B-LTA", timestamp_at=renewed.after.time,
            timestamp_expires=renewed.after.expires))
        doc.current_sha256 = renewed.sha256
        record(session, WORKER_CONTEXT, TAG, subject_type="outgoing", subject_id=doc.id,
               agency_id=doc.agency_id, details=renewed.details(item.sha256))
        return True


OUTGOING = _Outgoing()


def _targets() -> list[Target]:
    # copies and records build on outgoing: imported late
    from ioffice.copies.archival import COPIES
    from ioffice.records.archival import HANDOVERS

    return [OUTGOING, COPIES, HANDOVERS]


def due(session: Session, blobs: BlobStore, *, days: float = DEFAULT_DAYS,
        now: dt.datetime | None = None, limit: int = BATCH,
        targets: list[Target] | None = None) -> list[tuple[Target, Due]]:
    """The files whose last timestamp expires within ``days`` of ``now``, soonest first (rows
    recorded before their timestamps were are read first). Ends the session's transaction."""
    now = now or dt.datetime.now(dt.UTC)
    horizon = now + dt.timedelta(days=days)
    found = [(target, item) for target in (targets or _targets())
             for item in target.due(session, blobs, horizon, limit)]
    session.commit()
    found.sort(key=lambda pair: pair[1].expires)
    return found


def _tally(run: RetimestampRun, target: Target) -> Tally:
    return getattr(run, target.tally)


def retimestamp(session_factory: Callable[[], Session], blobs: BlobStore,
                tsa: TimestampPolicy | None, trust: Callable[[], TrustStore], *,
                days: float = DEFAULT_DAYS, now: dt.datetime | None = None,
                dry_run: bool = False, limit: int = BATCH) -> RetimestampRun:
    """One round: renew the archival timestamp of every document, copy and record due (see the
    module). ``dry_run``: only find them. Never raises for one file; a TSA that cannot answer
    stops the round (:attr:`RetimestampRun.stopped`)."""
    run = RetimestampRun()
    with session_factory() as session:
        found = due(session, blobs, days=days, now=now, limit=limit)
    for target, item in found:
        _tally(run, target).due.append(item.id)
    if dry_run or not found:
        return run
    if tsa is None or tsa.client is None:
        run.stopped = "Chưa cấu hình máy chủ cấp dấu thời gian (IOFFICE_TSA_URL)."
        log.warning("re-timestamp: %d file(s) due, but no TSA is configured", len(found))
        return run
    not_renewed_until: dt.datetime | None = None
    done = 0
    for target, item in found:
        tally = _tally(run, target)
        if not_renewed_until is not None and item.expires >= not_renewed_until:
            tally.skipped[item.id] = "tsa_not_renewed"
            continue
        try:
            outcome = _renew(session_factory, blobs, tsa, trust(), target, item)
        except TimestampUnavailable as exc:
            run.stopped = str(exc)
            log.warning("re-timestamp stopped (TSA: %s): %s; %d file(s) wait for the next "
                        "round", exc.reason, exc, len(found) - done)
            break
        except Exception as exc:  # one file's trouble must not stop the others
            log.exception("re-timestamp of %s %s failed", target.name, item.id)
            tally.skipped[item.id] = f"error: {exc}"
            continue
        if isinstance(outcome, dt.datetime):  # the TSA's certificate expires no later
            not_renewed_until = outcome
            tally.skipped[item.id] = "tsa_not_renewed"
            log.warning("re-timestamp: the TSA's certificate expires %s, no later than the "
                        "timestamp it would renew: renew the TSA's certificate",
                        outcome.isoformat())
        elif outcome:
            tally.skipped[item.id] = outcome
        else:
            tally.renewed.append(item.id)
            done += 1
    log.info("re-timestamp: %d due, %d renewed (%d documents, %d copies, %d hand-over records), "
             "%d skipped%s", len(found), done, len(run.documents.renewed),
             len(run.copies.renewed), len(run.records.renewed),
             len(run.documents.skipped) + len(run.copies.skipped) + len(run.records.skipped),
             " (stopped: TSA unavailable)" if run.stopped else "")
    return run


def renew_file(pdf: bytes, blobs: BlobStore, tsa: TimestampPolicy, trust: TrustStore,
               what: str) -> Renewed | str | dt.datetime:
    """The shared step, no lock held: ``pdf`` with its last timestamp's validation data and a
    new document timestamp, checked (it extends the proof, everything validates) and stored
    as a blob. A :class:`Renewed`; a reason when not; the new TSA certificate's expiry when
    it would not extend the proof. :class:`TimestampUnavailable` passes through."""
    before = last_timestamp(pdf)
    if before is None:
        return "no_timestamp"
    try:
        renewed = add_archival_timestamp(pdf, tsa.timestamper(trust), trust)
    except TimestampUnavailable:
        raise
    except SigningError as exc:
        log.warning("re-timestamp of %s refused: %s", what, exc)
        return f"refused: {exc}"
    after = last_timestamp(renewed)
    if after is None or after.kind != "document":
        return "no_document_timestamp"
    if after.expires <= before.expires:
        return after.expires
    report = validate_pdf(renewed, trust)
    if not report.valid:
        log.warning("re-timestamp of %s does not validate: %s", what, report.explanation)
        return f"invalid: {report.reason}"
    info = blobs.put_bytes(renewed)  # an orphan if the swap does not happen: cleaned up
    return Renewed(info.sha256, info.size, before, after)


def _renew(session_factory: Callable[[], Session], blobs: BlobStore, tsa: TimestampPolicy,
           trust: TrustStore, target: Target, item: Due) -> str | dt.datetime:
    """"" when renewed; a reason when left alone; the new TSA certificate's expiry when it
    would not extend the proof."""
    outcome = renew_file(blobs.read_bytes(item.sha256), blobs, tsa, trust,
                         f"{target.name} {item.id}")
    if not isinstance(outcome, Renewed):
        return outcome
    with session_factory() as session:
        if not target.swap(session, item, outcome):
            session.rollback()
            return "changed"
        session.commit()
    return ""
