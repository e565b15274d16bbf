"""Cấp số, đóng dấu và phát hành: the clerk's three steps as one action.

Each step is still its own service (:func:`numbering.assign_number`,
:func:`signatures.apply_agency_signature`, :func:`dispatch.dispatch`) and records its own
audit event; here they run in the caller's one transaction, so a sealing or dispatch that
fails rolls the number back with everything else: the register's counter is incremented by
an ``UPDATE`` of the same transaction, and the next document gets the same number.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.outgoing import dispatch, numbering, signatures
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import WrongState
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore

__all__ = ["issue"]

STEPS = (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)
"""Where the action may start: it does the steps that remain."""


def issue(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, actor: Actor,
          document_id: int) -> OutgoingDocument:
    """Number (if not yet), seal (if not yet) and dispatch a signed document, in the caller's
    transaction: the caller commits only if every step succeeded."""
    for op in (Op.NUMBER, Op.SEAL, Op.DISPATCH):
        actor.check(op)
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.status not in STEPS:
        raise WrongState("Chỉ cấp số, đóng dấu và phát hành được văn bản đã có chữ ký của người "
                         f"có thẩm quyền và chưa phát hành (hiện: «{doc.status.label}»).")
    if doc.status is OutgoingStatus.SIGNED:
        numbering.assign_number(session, actor, doc.id)
    if doc.status is OutgoingStatus.NUMBERED:
        signatures.apply_agency_signature(session, blobs, pki, trust, actor, doc.id)
    return dispatch.dispatch(session, actor, doc.id)
