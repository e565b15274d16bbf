"""XLSX export of the outgoing register with the columns of Appendix IV (Decree 30/2020)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency
from ioffice.agencies.permissions import Op
from ioffice.audit import record_read
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE
from ioffice.documents.xlsx import register_workbook
from ioffice.outgoing.models import OutgoingDocument
from ioffice.outgoing.queries import register_rows

VN = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMNS = (
    ("Số, ký hiệu văn bản", 16), ("Ngày tháng văn bản", 12),
    ("Tên loại và trích yếu nội dung văn bản", 50), ("Người ký", 22), ("Nơi nhận văn bản", 34),
    ("Đơn vị, người nhận bản lưu", 22), ("Số lượng bản", 9), ("Ngày chuyển", 12),
    ("Ký nhận", 12), ("Ghi chú", 24),
)


def row_values(doc: OutgoingDocument) -> list[object]:
    type_name = DOC_TYPES_BY_CODE[doc.doc_type].name if doc.doc_type in DOC_TYPES_BY_CODE else ""
    keeper = doc.drafting_department.name if doc.drafting_department else ""
    sent = doc.dispatched_at.astimezone(VN).date() if doc.dispatched_at else None
    notes = doc.notes
    if doc.status.value in ("revoked", "replaced"):
        notes = f"{doc.status.label}. {notes}".strip()
    return [doc.number_notation, doc.promulgation_date, f"{type_name}: {doc.subject}",
            doc.signer.full_name, "; ".join(r.name for r in doc.recipients),
            f"Văn thư; {keeper}" if keeper else "Văn thư", doc.copies, sent, "", notes]


def register_xlsx(session: Session, actor: Actor, year: int, *, confidential: bool = False) -> bytes:
    agency = session.get(Agency, actor.agency_id)
    title = f"SỔ ĐĂNG KÝ VĂN BẢN ĐI{' MẬT' if confidential else ''} NĂM {year}"
    rows = (row_values(d) for d in register_rows(session, actor, year, confidential=confidential))
    return register_workbook(agency_name=agency.name if agency else "", title=title,
                             sheet_title=f"Sổ đi {year}", columns=COLUMNS, rows=rows)


def export_register(session: Session, actor: Actor, year: int, *, confidential: bool = False
                    ) -> tuple[str, bytes]:
    """The register as the page's «Xuất Excel» and the API download it: the file's name and
    bytes; the export is audited as a read of the register."""
    actor.check(Op.EXPORT_OUTGOING_REGISTER)
    data = register_xlsx(session, actor, year, confidential=confidential)
    record_read(session, actor.ctx, "outgoing:register:export", subject_type="register",
                subject_id=year, details={"confidential": confidential})
    return f"so-van-ban-di{'-mat' if confidential else ''}-{year}.xlsx", data
