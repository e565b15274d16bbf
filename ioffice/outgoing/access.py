"""The object rule for outgoing documents: who may read one, and so act on it.

Every service operation on an outgoing document loads it through :func:`get_document`, so an
action is refused exactly where reading is: a document the actor may not read answers "not
found", like another agency's, and nothing of it (not even its subject) reaches the actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import BigInteger, Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.documents.vocabulary import Confidentiality
from ioffice.errors import NotFound
from ioffice.outgoing.models import OutgoingDocument

__all__ = ["can_read", "get_document"]

NOT_FOUND = "Không tìm thấy văn bản đi."
STEP_KINDS = ("submit", "approve", "send_back")


def can_read(session: Session, actor: Actor, doc: OutgoingDocument) -> bool:
    """Leaders, clerks, the drafter, the signer and whoever has (or had) a review step read every
    document of their agency; a confidential or secret one besides only the head of the drafting
    unit; an ordinary one also the drafting unit and the departments it is addressed to."""
    # review imports this module (through drafts); its rule of whose turn it is is needed here
    from ioffice.outgoing import review

    if doc.agency_id != actor.agency_id:
        return False
    involved = (actor.user_id in (doc.created_by_id, doc.signer_id)
                or actor.has(Role.LEADER, Role.CLERK)
                or review.can_review(session, actor, doc)
                or any(c.author_id == actor.user_id and c.kind in STEP_KINDS for c in doc.comments))
    same_unit = actor.department_id is not None and actor.department_id == doc.drafting_department_id
    if doc.confidentiality is not Confidentiality.NORMAL:
        return involved or (same_unit and actor.has(Role.DEPARTMENT_HEAD))
    return involved or same_unit or any(
        r.department_id is not None and r.department_id == actor.department_id
        for r in doc.recipients)


def get_document(session: Session, actor: Actor, document_id: int, *,
                 for_update: bool = False, options: Sequence[ORMOption] = ()) -> OutgoingDocument:
    """The document, if the actor may read it; otherwise NotFound, as for a missing one.
    ``options``: loader options (what a page shows of it, loaded with it)."""
    stmt = _document_statement(tuple(options), for_update)
    doc = session.scalars(stmt, {"document_id": document_id}).one_or_none()
    if doc is None or not can_read(session, actor, doc):
        raise NotFound(NOT_FOUND)
    return doc


@lru_cache(maxsize=32)
def _document_statement(options: tuple[ORMOption, ...], for_update: bool) -> Select:
    """Built once per set of loader options (the pages' are module constants): building the
    statement and its cache key cost more than running it (docs/performance.md)."""
    stmt = (select(OutgoingDocument)
            .where(OutgoingDocument.id == bindparam("document_id", type_=BigInteger))
            .options(*options))
    if for_update:  # the row as locked now, not as the identity map last saw it
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return stmt
