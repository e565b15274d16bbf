"""Number and date from the outgoing register (Art. 15): a separate series for confidential
documents, numbers below 10 with a leading 0, notation per Appendix III."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Department
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.documents.vocabulary import Confidentiality, doc_type, notation_text
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import WrongState
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register, next_number, peek_next_number
from ioffice.search import index_outgoing

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def today_vn() -> dt.date:
    return dt.datetime.now(VN).date()


def notation_for(doc_type_code: str, agency_short: str, unit_short: str | None) -> str:
    """``QĐ-UBND`` for a decision; ``UBND-VP`` for a Công văn drafted by the office."""
    abbr = doc_type(doc_type_code).abbreviation
    if not abbr:  # Công văn: agency then the drafting unit
        return "-".join(p for p in (agency_short, unit_short) if p)
    return f"{abbr}-{agency_short}"


def number_text(number: int) -> str:
    return f"{number:02d}"


def register_kind(doc: OutgoingDocument) -> RegisterKind:
    return (RegisterKind.OUTGOING if doc.confidentiality is Confidentiality.NORMAL
            else RegisterKind.OUTGOING_CONFIDENTIAL)


@dataclass(frozen=True)
class NumberPlan:
    """What numbering would write now: the register's next number, read without a lock, and
    the texts made of it. The agency seal is made over these before the number is taken."""

    number: int
    number_text: str
    notation: str
    number_notation: str
    date: dt.date
    document_identifier: str


def _numbered_texts(session: Session, doc: OutgoingDocument, number: int, today: dt.date
                    ) -> NumberPlan:
    agency = session.get(Agency, doc.agency_id)
    unit = session.get(Department, doc.drafting_department_id) if doc.drafting_department_id else None
    assert agency is not None
    text = number_text(number)
    notation = notation_for(doc.doc_type, agency.short_name, unit.short_name if unit else None)
    number_notation = notation_text(text, notation)
    return NumberPlan(number, text, notation, number_notation, today,
                      f"{agency.code},{today:%Y/%m/%d},{number_notation}")


def plan_number(session: Session, doc: OutgoingDocument, *, today: dt.date | None = None
                ) -> NumberPlan:
    """The number ``doc`` would get if it were numbered now (reads only, locks nothing)."""
    today = today or today_vn()
    number = peek_next_number(session, doc.agency_id, register_kind(doc), today.year)
    return _numbered_texts(session, doc, number, today)


def assign_number(session: Session, actor: Actor, document_id: int, *,
                  today: dt.date | None = None, plan: NumberPlan | None = None
                  ) -> OutgoingDocument:
    """The clerk takes the next number of the year's register; once per document. With
    ``plan`` (made by :func:`plan_number` before a slow step), exactly the planned number and
    date, or :class:`~ioffice.registers.numbering.NumberTaken` if another document took it."""
    actor.check(Op.NUMBER)
    today = plan.date if plan is not None else today or today_vn()
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.number is not None:
        raise WrongState(f"Văn bản đã được cấp số {doc.number_notation}; không cấp số lần hai.")
    if doc.status is not OutgoingStatus.SIGNED:
        raise WrongState("Chỉ cấp số cho văn bản đã được người có thẩm quyền ký "
                         f"(hiện: «{doc.status.label}»).")
    register = get_or_create_register(session, doc.agency_id, register_kind(doc), today.year)
    number = next_number(session, register, expect=plan.number if plan is not None else None)
    texts = _numbered_texts(session, doc, number, today)
    doc.register_id, doc.number = register.id, number
    doc.number_text, doc.notation = texts.number_text, texts.notation
    doc.number_notation = texts.number_notation
    doc.promulgation_date = today
    doc.document_identifier = texts.document_identifier
    doc.numbered_at = utcnow()
    doc.status = OutgoingStatus.NUMBERED
    session.flush()
    record(session, actor.ctx, "outgoing:document:number", subject_type="outgoing",
           subject_id=doc.id, details={"number_notation": doc.number_notation,
                                       "register": register.kind.value, "year": register.year,
                                       "date": today.isoformat()})
    index_outgoing(session, doc)  # the number is searchable
    return doc
