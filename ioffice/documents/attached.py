"""What a document's page may have beside the document: in one statement.

The incoming document's page shows the dossiers holding the document, its copies, the exchange's revoke /
update / replace requests about it (received documents) and its files' OCR jobs (incoming);
the outgoing document's page its dossiers, copies, review comments and signed revisions.
Each is a list of its capability, read by its own statement, and most documents have none of
them: four statements of mapped objects, each returning no rows, were a quarter of the
incoming page's CPU. One statement of ``EXISTS`` answers which of them to read; a list whose
``EXISTS`` is false is empty without its statement. Each ``EXISTS`` holds at least every row
its list would read (the list's own conditions, or fewer), so a false one is never wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Select, bindparam, exists, false, select
from sqlalchemy.orm import Session

INCOMING, OUTGOING = "incoming", "outgoing"


@dataclass(frozen=True)
class Attached:
    """Whether the document may have each (False: it has none)."""

    dossiers: bool
    copies: bool
    requests: bool
    ocr_jobs: bool
    unread: bool
    """Whether the reader has unread notifications about it (False: none to mark read)."""
    comments: bool = False
    """An outgoing document's review comments (False for an incoming one)."""
    signatures: bool = False
    """An outgoing document's signed revisions (False for an incoming one)."""
    open_kept: bool = False
    """Whether the reader keeps open dossiers in the agency (the page's form to file the
    document in one; False without a reader)."""


@lru_cache(maxsize=2)
def _statement(kind: str) -> Select:
    # imported here: the capabilities import this package, not the other way at import time
    from ioffice.copies.models import DocumentCopy
    from ioffice.exchange.models import ExchangeInbox
    from ioffice.exchange.requests import VERBS
    from ioffice.notifications.service import unread_about
    from ioffice.ocr.models import OcrJob
    from ioffice.outgoing.models import OutgoingComment, SignedRevision
    from ioffice.records.models import Dossier, DossierItem, DossierStatus

    doc = bindparam("document_id")
    incoming = kind == INCOMING
    item = DossierItem.incoming_id if incoming else DossierItem.outgoing_id
    copy = DocumentCopy.incoming_id if incoming else DocumentCopy.outgoing_id
    requests = exists().where(
        ExchangeInbox.agency_id == bindparam("agency_id"),
        ExchangeInbox.business_type.in_(tuple(VERBS)),
        (ExchangeInbox.target_document_id == doc) | (ExchangeInbox.incoming_document_id == doc),
    ) if incoming else false()
    ocr = exists().where(OcrJob.document_id == doc) if incoming else false()
    unread = unread_about(kind, doc, bindparam("reader_id"))
    comments = false() if incoming else exists().where(OutgoingComment.document_id == doc)
    signatures = false() if incoming else exists().where(SignedRevision.document_id == doc)
    # the document's agency is the reader's: the pages use the answer once the read rule,
    # which requires it, has let them read the document
    open_kept = exists().where(Dossier.agency_id == bindparam("agency_id"),
                               Dossier.keeper_id == bindparam("reader_id"),
                               Dossier.status == DossierStatus.OPEN)
    return select(exists().where(item == doc), exists().where(copy == doc), requests, ocr,
                  unread, comments, signatures, open_kept)


def attached(session: Session, kind: str, agency_id: int, document_id: int,
             reader_id: int | None = None) -> Attached:
    """Which of its side lists the ``kind`` (``incoming``, ``outgoing``) document of
    ``agency_id`` (the document's own agency) may have, whether ``reader_id`` has unread
    notifications about it, and whether they keep open dossiers there."""
    row = session.execute(_statement(kind), {"document_id": document_id, "agency_id": agency_id,
                                             "reader_id": reader_id}).one()
    return Attached(*(bool(v) for v in row))


