"""Housekeeping of the blob store: what no row references any more, after a grace period.

A blob is written before the transaction that records it commits (the upload comes first), so
a refused or rolled-back registration, a crashed worker or a failed signature leaves blobs no
row points to; a crash between a temporary file and its rename leaves the temporary file; and a
page preview outlives the blob it was drawn from. :func:`cleanup` removes all three once they
are older than the grace period (and files held for a refused form, ``held/``, once they have
expired: :mod:`ioffice.documents.held`), which must exceed the longest transaction that can still be
writing its rows (a blob younger than that may belong to one that has not committed yet).

A blob that any row references is never removed: the references are read after the listing,
so a row committed while the store was being listed is seen. The store must belong to this
database alone: a bucket or folder shared by two installations would see each other's blobs as
orphans.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.documents import held
from ioffice.documents.pdf import RENDER_VERSION
from ioffice.exchange.models import ExchangeOutbox
from ioffice.incoming.models import DocumentFile, IncomingDocument
from ioffice.outgoing.models import DraftVersion, OutgoingDocument, SignedRevision
from ioffice.records.models import DossierItem, Handover, ImportedDocument, ImportedPackage
from ioffice.storage import BlobStore, StoredItem

__all__ = ["DEFAULT_GRACE", "PREVIEWS", "Removed", "cleanup", "referenced_blobs"]

DEFAULT_GRACE = dt.timedelta(hours=24)
PREVIEWS = "previews/"
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


@dataclass(frozen=True, slots=True)
class Removed:
    """One thing :func:`cleanup` removed (or would remove, in a dry run)."""

    kind: str
    """``blob``, ``preview``, ``temporary`` or ``held``."""
    key: str
    """The blob's SHA-256, the preview's name (``previews/...``), the temporary file's name,
    the held file's name (``held/<token>/...``)."""
    size: int
    modified: dt.datetime


def referenced_blobs(session: Session) -> set[str]:
    """Every SHA-256 that a row points to: incoming files, outgoing versions (PDF and source),
    the current PDF and each signed revision (and the one it replaced), the copies made
    (sao y, sao lục, trích sao) with every file an archival timestamp replaced, the files of
    restored dossiers not destroyed (a destroyed one's package, table of contents and files are
    no longer referenced), and the files of outbox messages not yet sent. A destroyed
    dossier's own files are no longer referenced (its items are gone; the destruction's record
    keeps their hashes as history, not as references), so they go, as
    ``records.retention.purge`` deletes them. A document destroyed with it
    (``destruction_id`` set: nothing else needed it) no longer references its files, versions,
    signed revisions and OCR copies; the documents it kept (in a live dossier, copied, still
    being handled) keep theirs."""
    from ioffice.copies.models import CopyArchivalRevision, DocumentCopy
    from ioffice.records.models import HandoverArchivalRevision

    columns = (DossierItem.sha256, Handover.record_sha256, HandoverArchivalRevision.sha256,
               HandoverArchivalRevision.previous_sha256, DocumentCopy.sha256,
               CopyArchivalRevision.sha256, CopyArchivalRevision.previous_sha256)
    found: set[str] = set()
    for column in columns:
        found.update(v for v in session.scalars(select(column).distinct()) if v)
    # a restored dossier's package, table of contents and files (records.package), listed per
    # document; a destroyed one (``destruction_id`` set) references nothing any more
    live_package = ImportedPackage.destruction_id.is_(None)
    for column in (ImportedPackage.sha256, ImportedPackage.toc_sha256):
        found.update(v for v in session.scalars(select(column).distinct().where(live_package))
                     if v)
    for files in session.scalars(select(ImportedDocument.files).join(
            ImportedPackage, ImportedPackage.id == ImportedDocument.package_id)
            .where(live_package)):
        found.update(f["sha256"] for f in files or () if f.get("sha256"))
    # a document destroyed with its dossier (``destruction_id`` set) references nothing any more
    live_in = IncomingDocument.destruction_id.is_(None)
    live_out = OutgoingDocument.destruction_id.is_(None)
    found.update(v for v in session.scalars(select(DocumentFile.sha256).distinct().join(
        IncomingDocument, IncomingDocument.id == DocumentFile.document_id).where(live_in)) if v)
    found.update(v for v in session.scalars(select(OutgoingDocument.current_sha256).distinct()
                                            .where(live_out)) if v)
    for model, column in ((DraftVersion, DraftVersion.sha256),
                          (DraftVersion, DraftVersion.source_sha256),
                          (SignedRevision, SignedRevision.sha256),
                          (SignedRevision, SignedRevision.previous_sha256)):
        found.update(v for v in session.scalars(select(column).distinct().join(
            OutgoingDocument, OutgoingDocument.id == model.document_id).where(live_out)) if v)
    # a scan's original and its searchable copy: a registered document's, or a form's scan
    # not yet registered (one never registered is let go a day after its held file expired)
    from ioffice.db import utcnow
    from ioffice.ocr.models import OcrJob

    recent = utcnow() - held.DEFAULT_TTL - dt.timedelta(days=1)
    destroyed = select(IncomingDocument.id).where(IncomingDocument.destruction_id.is_not(None))
    for source, output in session.execute(select(OcrJob.source_sha256, OcrJob.output_sha256).where(
            ((OcrJob.document_id.is_not(None)) | (OcrJob.updated_at > recent))
            & ((OcrJob.document_id.is_(None)) | OcrJob.document_id.not_in(destroyed)))):
        found.update(v for v in (source, output) if v)
    for payload in session.scalars(select(ExchangeOutbox.payload)):
        # the payload's shape belongs to the exchange; any hash in it counts as a reference
        found.update(_SHA256.findall(json.dumps(payload)))
    return found


def cleanup(session: Session, blobs: BlobStore, *, now: dt.datetime,
            grace: dt.timedelta = DEFAULT_GRACE, held_ttl: dt.timedelta = held.DEFAULT_TTL,
            dry_run: bool = False) -> list[Removed]:
    """Remove orphaned blobs, previews of orphaned blobs or of an older renderer and temporary
    leftovers older than ``grace``, and held uploads older than ``held_ttl``; returns what was
    removed (what would be, with ``dry_run``)."""
    cutoff = now - grace
    old_blobs = [i for i in blobs.list_blobs() if i.modified < cutoff]
    old_previews = [i for i in blobs.list_named(PREVIEWS) if i.modified < cutoff]
    old_temporary = [i for i in blobs.list_temporary() if i.modified < cutoff]
    referenced = referenced_blobs(session)  # after listing: see rows committed meanwhile
    removed = [*_removed("blob", (i for i in old_blobs if i.key not in referenced)),
               *_removed("preview", (i for i in old_previews
                                     if _preview_blob(i.key) not in referenced
                                     or not is_current_preview(i.key))),
               *_removed("temporary", old_temporary),
               *_removed("held", iter(held.expired(blobs, now=now, ttl=held_ttl)))]
    if not dry_run:
        for item in removed:
            if item.kind == "blob":
                blobs.delete(item.key)
            elif item.kind in ("preview", "held"):
                blobs.delete_named(item.key)
            else:
                blobs.delete_temporary(item.key)
    return removed


def _removed(kind: str, items: Iterator[StoredItem]) -> list[Removed]:
    return [Removed(kind, i.key, i.size, i.modified) for i in items]


def is_current_preview(name: str) -> bool:
    """Whether the preview was rendered by the current renderer (older ones, e.g. without the
    signatures' appearances, are never served again: see ``documents.pdf.RENDER_VERSION``)."""
    return name.endswith(f".r{RENDER_VERSION}.png")


def _preview_blob(name: str) -> str:
    """``previews/<sha256>/page-1.png`` -> ``<sha256>``."""
    return name.removeprefix(PREVIEWS).split("/", 1)[0]
