"""One-step actions of the leader: "Duyệt và ký" (approve the last review step and sign with the
PIN at once) and signing several documents with one PIN entry.

Each step is still its own audited action (``outgoing:review:approve`` then
``outgoing:signature:personal`` per document); what is combined is the user's form.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.errors import DomainError, NotFound
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.outgoing import review, signatures
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import OutgoingError, PinRefused, WrongState
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, SignedRevision
from ioffice.outgoing.queries import URGENCY_RANK
from ioffice.storage import BlobStore
from signing import Credential, PinLocked, PinProtectedKey, TrustStore, WrongPin

__all__ = [
    "MAX_BATCH",
    "BatchResult",
    "approve_and_sign_with_pin",
    "awaiting_my_signature",
    "can_approve_and_sign",
    "sign_many_with_pin",
]

MAX_BATCH = 50
"""The most documents one PIN entry signs (each signature takes a fraction of a second)."""
NO_PIN_KEY = ("Bạn chưa có khóa ký số dùng mã PIN; hãy ký bằng khóa trên trình duyệt hoặc đề "
              "nghị quản trị cấp khóa.")


def can_approve_and_sign(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    """The document is at its last review step, that step is the actor's, and the actor is its
    designated signer: approving it would put it in front of the actor for signing."""
    steps = review.chain(session, doc.agency_id)
    return (doc.signer_id == actor.user_id and actor.may(Op.SIGN)
            and doc.review_step >= len(steps) - 1 and review.can_review(session, actor, doc))


def _unlock(session: Session, actor: Actor, pin: str, subject_ids: list[int],
            attempts: signatures.ResetLater) -> Credential:
    """The actor's PIN key, unlocked once. A wrong PIN counts ONE failed attempt and is recorded
    on each document it was meant for (:class:`PinRefused`: the caller commits). A right one's
    reset of the count waits in ``attempts`` until the signing is done."""
    row = keys.personal_certificate(session, actor.user_id, actor.agency_id, KeyHolder.PIN)
    if row is None or row.protected_key is None:
        raise OutgoingError(NO_PIN_KEY)
    protected = PinProtectedKey.from_bytes(row.protected_key)
    try:
        return protected.unlock(pin, attempts)
    except (WrongPin, PinLocked) as exc:
        locked = isinstance(exc, PinLocked)
        for document_id in subject_ids:
            record(session, actor.ctx, "outgoing:signature:pin-locked" if locked
                   else "outgoing:signature:wrong-pin", subject_type="outgoing",
                   subject_id=document_id, details={"certificate": row.serial})
        raise PinRefused(str(exc), locked=locked) from exc


def approve_and_sign_with_pin(session: Session, blobs: BlobStore, trust: TrustStore,
                              actor: Actor, document_id: int, pin: str, comment: str = ""
                              ) -> SignedRevision:
    """The leader's last approval and signature in one form.

    The PIN is checked first: a wrong PIN approves nothing (it is counted and recorded, a
    :class:`PinRefused` to commit). Then the approval and the signature happen in the caller's
    transaction; if the signature fails (an :class:`OutgoingError`, rolled back by the caller),
    the approval is not kept either: the document stays at the leader's step, as before.
    """
    actor.check(Op.REVIEW)
    actor.check(Op.SIGN)
    doc = get_document(session, actor, document_id)
    _require_last_step(session, actor, doc)
    attempts = signatures.ResetLater(session)
    credential = _unlock(session, actor, pin, [doc.id], attempts)
    # signed before anything is written or locked: the approval does not change the PDF
    signature = signatures.make_personal_signature(session, blobs, trust, doc, credential)
    doc = get_document(session, actor, document_id, for_update=True)
    _require_last_step(session, actor, doc)
    review.approve(session, actor, doc.id, comment)
    if doc.status is not OutgoingStatus.APPROVED:  # a chain changed under us: nothing kept
        raise WrongState("Sau khi duyệt, văn bản chưa tới bước ký; chưa ký.")
    revision = signatures.keep_personal_signature(session, actor, doc.id, signature, "pin")
    attempts.reset_now()
    return revision


def _require_last_step(session: Session, actor: Actor, doc: OutgoingDocument) -> None:
    if doc.status is not OutgoingStatus.IN_REVIEW or not can_approve_and_sign(session, actor, doc):
        raise WrongState("«Duyệt và ký» chỉ dùng được khi văn bản đang chờ bạn duyệt ở bước cuối "
                         "và bạn là người được giao ký.")


def awaiting_my_signature(session: Session, actor: Actor, limit: int = MAX_BATCH * 4
                          ) -> list[OutgoingDocument]:
    """Documents of the actor's agency approved and waiting for the actor's signature."""
    return list(session.scalars(
        select(OutgoingDocument).where(OutgoingDocument.agency_id == actor.agency_id,
                                       OutgoingDocument.status == OutgoingStatus.APPROVED,
                                       OutgoingDocument.signer_id == actor.user_id)
        .order_by(URGENCY_RANK.desc(), OutgoingDocument.id).limit(limit)))


@dataclass(frozen=True)
class BatchResult:
    """What became of one document of a batch."""

    document_id: int
    signed: bool
    message: str
    label: str = ""
    """The document's subject, only when the actor may read it."""


def sign_many_with_pin(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                       document_ids: list[int], pin: str) -> list[BatchResult]:
    """Sign each document with one PIN entry, each in its own savepoint.

    A document the actor may not read (another agency's id, a missing one) answers "not
    found" like anywhere else; one not waiting for this signer is refused with its reason; the
    others are signed, each audited. A wrong PIN signs none and counts as one failed attempt
    (:class:`PinRefused`, the caller commits)."""
    actor.check(Op.SIGN)
    ids = list(dict.fromkeys(document_ids))
    if not ids:
        raise OutgoingError("Chưa chọn văn bản nào để ký.")
    if len(ids) > MAX_BATCH:
        raise OutgoingError(f"Mỗi lần ký được tối đa {MAX_BATCH} văn bản; hãy chọn ít hơn.")
    ready: list[OutgoingDocument] = []
    results: dict[int, BatchResult] = {}
    for document_id in ids:
        try:
            doc = get_document(session, actor, document_id)
        except NotFound as exc:
            results[document_id] = BatchResult(document_id, False, exc.message)
            continue
        if doc.signer_id != actor.user_id:
            results[document_id] = BatchResult(
                document_id, False, f"Chỉ người được giao ký ({doc.signer.full_name}) mới ký được.",
                doc.subject)
        elif doc.status is not OutgoingStatus.APPROVED:
            results[document_id] = BatchResult(
                document_id, False, f"Văn bản đang ở trạng thái «{doc.status.label}», không chờ ký.",
                doc.subject)
        else:
            ready.append(doc)
    if ready:
        attempts = signatures.ResetLater(session)
        credential = _unlock(session, actor, pin, [d.id for d in ready], attempts)
        made: list[tuple[OutgoingDocument, signatures.PersonalSignature]] = []
        for doc in ready:  # every signature made before anything is written or locked
            try:
                made.append((doc, signatures.make_personal_signature(session, blobs, trust,
                                                                     doc, credential)))
            except DomainError as exc:
                results[doc.id] = BatchResult(doc.id, False, exc.message, doc.subject)
        for doc, signature in made:  # then each kept in its own short savepoint
            try:
                with session.begin_nested():
                    signatures.keep_personal_signature(session, actor, doc.id, signature, "pin")
            except DomainError as exc:
                results[doc.id] = BatchResult(doc.id, False, exc.message, doc.subject)
            else:
                results[doc.id] = BatchResult(doc.id, True, "Đã ký số.", doc.subject)
        attempts.reset_now()
    return [results[i] for i in ids]
