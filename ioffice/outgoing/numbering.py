"""Number and date from the outgoing register (Art. 15): a separate series for confidential
documents, numbers below 10 with a leading 0, notation per Appendix III."""

from __future__ import annotations

import datetime as dt
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
from ioffice.registers.numbering import get_or_create_register, next_number
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


def assign_number(session: Session, actor: Actor, document_id: int, *,
                  today: dt.date | None = None) -> OutgoingDocument:
    """The clerk takes the next number of the year's register; once per document."""
    actor.check(Op.NUMBER)
    today = today or today_vn()
    doc = get_document(session, actor, document_id, for_update=True)
    if doc.number is not None:
        raise WrongState(f"Văn bản đã được cấp số {doc.number_notation}; không cấp số lần hai.")
    if doc.status is not OutgoingStatus.SIGNED:
        raise WrongState("Chỉ cấp số cho văn bản đã được người có thẩm quyền ký "
                         f"(hiện: «{doc.status.label}»).")
    agency = session.get(Agency, doc.agency_id)
    unit = session.get(Department, doc.drafting_department_id) if doc.drafting_department_id else None
    assert agency is not None
    register = get_or_create_register(session, doc.agency_id, register_kind(doc), today.year)
    number = next_number(session, register)
    doc.register_id, doc.number = register.id, number
    doc.number_text = number_text(number)
    doc.notation = notation_for(doc.doc_type, agency.short_name, unit.short_name if unit else None)
    doc.number_notation = notation_text(doc.number_text, doc.notation)
    doc.promulgation_date = today
    doc.document_identifier = f"{agency.code},{today:%Y/%m/%d},{doc.number_notation}"
    doc.numbered_at = utcnow()
    doc.status = OutgoingStatus.NUMBERED
    session.flush()
    record(session, actor.ctx, "outgoing:document:number", subject_type="outgoing",
           subject_id=doc.id, details={"number_notation": doc.number_notation,
                                       "register": register.kind.value, "year": register.year,
                                       "date": today.isoformat()})
    index_outgoing(session, doc)  # the number is searchable
    return doc
