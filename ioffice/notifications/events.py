"""Who is told what, for each event a service reports (one call at each service function)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.notifications.models import Kind
from ioffice.notifications.service import Notice, clerks, handlers, notify, notify_many


def assigned(session: Session, actor: Actor, doc: Any, assignments: Sequence[Any]) -> None:
    """A leader distributed ``doc`` (or a head passed it on): each handler is told."""
    notices = []
    for a in assignments:
        when = f", hạn {a.deadline:%d/%m/%Y}" if a.deadline else ""
        if a.role.value == "info":
            text = (f"{actor.full_name} gửi văn bản {doc.number_notation} "
                    f"«{_short(doc.subject)}» để biết.")
        else:
            text = (f"{actor.full_name} giao {a.role.label.lower()} xử lý văn bản "
                    f"{doc.number_notation} «{_short(doc.subject)}»{when}.")
        told = tuple(u for u in handlers(session, a) if u != actor.user_id)
        notices.append(Notice(told, Kind.ASSIGNED, doc.agency_id, text, "incoming", doc.id))
    notify_many(session, notices)


def received(session: Session, documents: Sequence[Any]) -> None:
    """Documents arrived over the axis, awaiting registration: the clerks of each agency."""
    by_agency: dict[int, list[Any]] = defaultdict(list)
    for doc in documents:
        by_agency[doc.agency_id].append(doc)
    notices = []
    for agency_id, docs in by_agency.items():
        told = tuple(clerks(session, agency_id))
        notices += [Notice(told, Kind.TO_REGISTER, agency_id,
                           f"Văn bản {d.number_notation} của {d.issuer_name} chờ vào sổ: "
                           f"«{_short(d.subject)}».", "incoming", d.id) for d in docs]
    notify_many(session, notices)


REQUEST_WORDS = {"revoke": "thu hồi", "update": "cập nhật", "replace": "thay thế"}


def exchange_request(session: Session, agency_id: int, sender_name: str, business: str,
                     document_identifier: str, target_id: int | None) -> None:
    """A sender asks to revoke, update or replace a document it sent: the clerks decide."""
    word = REQUEST_WORDS.get(business, business)
    text = f"{sender_name} yêu cầu {word} văn bản {document_identifier}: chờ văn thư quyết định."
    notify(session, clerks(session, agency_id), Kind.EXCHANGE_REQUEST, agency_id=agency_id,
           text=text, subject_type="incoming" if target_id else "exchange", subject_id=target_id)


def status_back(session: Session, agency_id: int, document_identifier: str, organ_name: str,
                status: str) -> None:
    """A recipient sent back a status of a document the agency sent: its drafter is told."""
    from ioffice.outgoing.models import OutgoingDocument

    row = session.execute(select(OutgoingDocument.id, OutgoingDocument.created_by_id,
                                 OutgoingDocument.number_notation)
                          .where(OutgoingDocument.agency_id == agency_id,
                                 OutgoingDocument.document_identifier == document_identifier)
                          .limit(1)).first()
    if row is None:
        return
    notify(session, [row.created_by_id], Kind.STATUS_BACK, agency_id=agency_id,
           text=f"{organ_name}: {status} (văn bản {row.number_notation}).",
           subject_type="outgoing", subject_id=row.id)


def review_step(session: Session, actor: Actor, doc: Any) -> None:
    """The draft moved on (submitted, approved at a step): who acts next is told."""
    from ioffice.outgoing import review
    from ioffice.outgoing.models import OutgoingStatus

    subject = _short(doc.subject)
    if doc.status is OutgoingStatus.APPROVED and doc.signer_id is not None:
        notify(session, [doc.signer_id], Kind.TO_SIGN, agency_id=doc.agency_id,
               text=f"Dự thảo «{subject}» đã duyệt xong, chờ anh/chị ký.",
               subject_type="outgoing", subject_id=doc.id, exclude=actor.user_id)
        return
    step = review.current_step(session, doc)
    if step is None:
        return
    people = review.route_step(session, doc, step).people
    notify(session, [u.id for u in people], Kind.TO_REVIEW, agency_id=doc.agency_id,
           text=f"Dự thảo «{subject}» chờ duyệt ({step.label}).",
           subject_type="outgoing", subject_id=doc.id, exclude=actor.user_id)


def returned(session: Session, actor: Actor, doc: Any, comment: str) -> None:
    notify(session, [doc.created_by_id], Kind.RETURNED, agency_id=doc.agency_id,
           text=f"{actor.full_name} trả lại dự thảo «{_short(doc.subject)}»: {comment.strip()}",
           subject_type="outgoing", subject_id=doc.id, exclude=actor.user_id)


def dead_letter(session: Session, agency_id: int, kind: str, document_identifier: str,
                error: str) -> None:
    """A package could not be sent: the clerks see it on the exchange page."""
    what = "Trạng thái" if kind == "status" else "Văn bản"
    notify(session, clerks(session, agency_id), Kind.DEAD_LETTER, agency_id=agency_id,
           text=f"{what} {document_identifier} gửi qua trục không thành công: {_short(error)}",
           subject_type="exchange")


def _short(text: str, size: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size - 1] + "…"


