"""Cấp số, đóng dấu và phát hành: the clerk's three steps as one action.

Each step is still its own service (:func:`numbering.assign_number`,
:func:`signatures.apply_agency_signature`, :func:`dispatch.dispatch`) and records its own
audit event, in the caller's one transaction: a sealing or dispatch that fails takes no number.

The seal is the slow step (signing, timestamp, checking the result) and its signed bytes hold
the number, so it is made *before* the number is taken, over the number the register would give
now (read without a lock). Only then are the document and the register locked, and the number
taken if it is still that one; the caller's commit follows at once, so the register's row (on
SQLite the database's write lock) is held for milliseconds, not for the seal. If another clerk
took that number meanwhile, the locks are released (the savepoint is rolled back) and the seal is
made again with the next number: the register stays gap-free and duplicate-free, and the clerk
sees one action that either happened whole or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.outgoing import dispatch, numbering, signatures
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import WrongState
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.registers.numbering import NumberTaken
from ioffice.storage import BlobStore
from signing import Pki, TrustStore

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens

__all__ = ["issue"]

STEPS = (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED, OutgoingStatus.SEALED)
"""Where the action may start: it does the steps that remain."""
ATTEMPTS = 5
"""Seals made before giving up when other clerks keep taking the expected number."""


def _require_step(doc: OutgoingDocument) -> None:
    if doc.status not in STEPS:
        raise WrongState("Chỉ cấp số, đóng dấu và phát hành được văn bản đã có chữ ký của người "
                         f"có thẩm quyền và chưa phát hành (hiện: «{doc.status.label}»).")


class _Changed(Exception):
    """The document was numbered or sealed by someone else while this seal was made."""


def issue(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, actor: Actor,
          document_id: int, *, tsa: TimestampPolicy,
          tokens: SealTokens | None = None) -> OutgoingDocument:
    """Number (if not yet), seal (if not yet) and dispatch a signed document, in the caller's
    transaction: the caller commits only if every step succeeded. Nothing is written or locked
    before the seal is made. ``tokens``: agency seals held in PKCS#11 tokens."""
    for op in (Op.NUMBER, Op.SEAL, Op.DISPATCH):
        actor.check(op)
    doc = get_document(session, actor, document_id)
    _require_step(doc)
    for _attempt in range(ATTEMPTS):
        if doc.status is OutgoingStatus.SEALED:
            break
        plan = numbering.plan_number(session, doc) if doc.status is OutgoingStatus.SIGNED else None
        seal = signatures.make_agency_seal(session, blobs, pki, trust, actor, doc, plan, tsa=tsa,
                                           tokens=tokens)
        try:
            with session.begin_nested():  # rolled back on a conflict: its row locks go with it
                doc = _number_and_seal(session, actor, document_id, plan, seal)
            break
        except (NumberTaken, _Changed):
            session.expire_all()  # see what the other clerk committed
            doc = get_document(session, actor, document_id)
            _require_step(doc)
    else:
        raise WrongState("Sổ văn bản đi đang được cấp số liên tục cho văn bản khác; chưa cấp số "
                         "văn bản này. Hãy thử lại.")
    return dispatch.dispatch(session, actor, doc.id)


def _number_and_seal(session: Session, actor: Actor, document_id: int,
                     plan: numbering.NumberPlan | None, seal: signatures.AgencySeal
                     ) -> OutgoingDocument:
    """The short locked part: take the planned number and keep the seal made over it."""
    doc = get_document(session, actor, document_id, for_update=True)
    _require_step(doc)
    if doc.status is OutgoingStatus.SEALED:
        return doc  # sealed by another clerk meanwhile: ours is not needed
    if (doc.status is OutgoingStatus.SIGNED) != (plan is not None):
        raise _Changed  # numbered by another clerk meanwhile: seal again with its number
    if plan is not None:
        numbering.assign_number(session, actor, doc.id, plan=plan)
    signatures.store_agency_seal(session, actor, doc, seal)
    return doc
