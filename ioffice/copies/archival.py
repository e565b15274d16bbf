"""Copies in the re-timestamp round (:mod:`ioffice.outgoing.archival`): a copy is sealed at
PAdES B-LTA like an outgoing document, and is kept as long as its use requires, so its last
timestamp is renewed the same way before the TSA certificate expires. Only what is a copy's
own is here: which copies are due (``document_copies.timestamp_expires``), and the swap (the
copy's file replaced, the previous one kept in :class:`CopyArchivalRevision`, the audit event
on the original document's history as every copy event)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import record
from ioffice.copies.models import CopyArchivalRevision, CopyStatus, DocumentCopy
from ioffice.outgoing.archival import WORKER_CONTEXT, Due, Renewed, learn_timestamps
from ioffice.storage import BlobStore

__all__ = ["COPIES", "TAG"]

TAG = "copies:copy:archival"
TIMESTAMPED = ("B-T", "B-LT", "B-LTA")


class _Copies:
    name = "copy"
    tally = "copies"

    def due(self, session: Session, blobs: BlobStore, horizon: dt.datetime, limit: int
            ) -> list[Due]:
        # copies made before the expiry was recorded: read from their files once
        legacy = session.scalars(select(DocumentCopy).where(
            DocumentCopy.status == CopyStatus.MADE, DocumentCopy.level.in_(TIMESTAMPED),
            DocumentCopy.timestamp_expires.is_(None)).order_by(DocumentCopy.id).limit(limit)).all()
        learn_timestamps(session, blobs, list(legacy), lambda c: c.sha256, "copy")
        rows = session.execute(
            select(DocumentCopy.id, DocumentCopy.agency_id, DocumentCopy.sha256,
                   DocumentCopy.timestamp_expires)
            .where(DocumentCopy.status == CopyStatus.MADE,
                   DocumentCopy.timestamp_expires.is_not(None),
                   DocumentCopy.timestamp_expires <= horizon)
            .order_by(DocumentCopy.timestamp_expires, DocumentCopy.id).limit(limit))
        return [Due(*row) for row in rows]

    def swap(self, session: Session, item: Due, renewed: Renewed) -> bool:
        copy = session.scalars(select(DocumentCopy).where(
            DocumentCopy.id == item.id).with_for_update()).one_or_none()
        if copy is None or copy.sha256 != item.sha256:
            return False
        session.add(CopyArchivalRevision(
            copy_id=copy.id, sha256=renewed.sha256, previous_sha256=item.sha256,
            size=renewed.size, certificate_serial=renewed.serial,
            timestamp_at=renewed.after.time, timestamp_expires=renewed.after.expires))
        copy.sha256, copy.size, copy.level = renewed.sha256, renewed.size, "B-LTA"
        copy.timestamp_at, copy.timestamp_expires = renewed.after.time, renewed.after.expires
        source, document_id = ("incoming", copy.incoming_id) if copy.incoming_id is not None \
            else ("outgoing", copy.outgoing_id)
        record(session, WORKER_CONTEXT, TAG, subject_type=source, subject_id=document_id,
               agency_id=copy.agency_id,
               details={"copy_id": copy.id, "number_notation": copy.number_notation,
                        **renewed.details(item.sha256)})
        return True


COPIES = _Copies()
