"""Hand-over records in the re-timestamp round (:mod:`ioffice.outgoing.archival`): the record
the archive accepted is PAdES B-LTA and is kept as long as the dossiers it lists (permanently
for some), so its last timestamp is renewed the same way as an outgoing document's before the
TSA certificate expires. Only what is a record's own is here: which records are due
(``handovers.timestamp_expires``) and the swap (the record's file replaced, the previous one
kept in :class:`HandoverArchivalRevision`, the audit event on the hand-over)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import record
from ioffice.outgoing.archival import WORKER_CONTEXT, Due, Renewed, learn_timestamps
from ioffice.records.models import Handover, HandoverArchivalRevision, HandoverStatus
from ioffice.storage import BlobStore

__all__ = ["HANDOVERS", "TAG"]

TAG = "records:handover:archival"


class _Handovers:
    name = "hand-over record"
    tally = "records"

    def due(self, session: Session, blobs: BlobStore, horizon: dt.datetime, limit: int
            ) -> list[Due]:
        # records accepted before their timestamps were recorded: read from their files once
        legacy = session.scalars(select(Handover).where(
            Handover.status == HandoverStatus.ACCEPTED, Handover.level == "")
            .order_by(Handover.id).limit(limit)).all()
        learn_timestamps(session, blobs, list(legacy), lambda h: h.record_sha256,
                         self.name)
        rows = session.execute(
            select(Handover.id, Handover.agency_id, Handover.record_sha256,
                   Handover.timestamp_expires)
            .where(Handover.status == HandoverStatus.ACCEPTED,
                   Handover.timestamp_expires.is_not(None),
                   Handover.timestamp_expires <= horizon)
            .order_by(Handover.timestamp_expires, Handover.id).limit(limit))
        return [Due(*row) for row in rows]

    def swap(self, session: Session, item: Due, renewed: Renewed) -> bool:
        handover = session.scalars(select(Handover).where(
            Handover.id == item.id).with_for_update()).one_or_none()
        if handover is None or handover.record_sha256 != item.sha256:
            return False
        session.add(HandoverArchivalRevision(
            handover_id=handover.id, sha256=renewed.sha256, previous_sha256=item.sha256,
            size=renewed.size, certificate_serial=renewed.serial,
            timestamp_at=renewed.after.time, timestamp_expires=renewed.after.expires))
        handover.record_sha256, handover.level = renewed.sha256, "B-LTA"
        handover.timestamp_at = renewed.after.time
        handover.timestamp_expires = renewed.after.expires
        record(session, WORKER_CONTEXT, TAG, subject_type="handover", subject_id=handover.id,
               agency_id=handover.agency_id, details=renewed.details(item.sha256))
        return True


HANDOVERS = _Handovers()
