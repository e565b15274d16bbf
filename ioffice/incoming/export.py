"""XLSX export of the incoming register with the columns of Appendix IV (Decree 30/2020)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency
from ioffice.agencies.permissions import Op
from ioffice.audit import record_read
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE
from ioffice.documents.xlsx import register_workbook
from ioffice.incoming.models import AssignmentRole, IncomingDocument
from ioffice.incoming.queries import RegisterFilter, register_rows

VN = ZoneInfo("Asia/Ho_Chi_Minh")
COLUMNS = (
    ("Ngày đến", 12), ("Số đến", 8), ("Tác giả", 30), ("Số, ký hiệu văn bản", 18),
    ("Ngày tháng văn bản", 12), ("Tên loại và trích yếu nội dung văn bản", 50),
    ("Đơn vị hoặc người nhận", 28), ("Ngày chuyển", 12), ("Ký nhận", 12), ("Ghi chú", 24),
)


def receivers(doc: IncomingDocument) -> str:
    top = [a for a in doc.assignments if a.parent_id is None]
    order = {AssignmentRole.LEAD: 0, AssignmentRole.CO: 1, AssignmentRole.INFO: 2}
    return "; ".join(f"{a.assignee_label} ({a.role.label.lower()})"
                     for a in sorted(top, key=lambda a: (order[a.role], a.id)))


def row_values(doc: IncomingDocument) -> list[object]:
    type_name = DOC_TYPES_BY_CODE[doc.doc_type].name if doc.doc_type in DOC_TYPES_BY_CODE else ""
    handed = doc.distributed_at.astimezone(VN).date() if doc.distributed_at else None
    return [doc.arrived_at.astimezone(VN).date(), doc.incoming_number, doc.issuer_name,
            doc.number_notation, doc.document_date, f"{type_name}: {doc.subject}", receivers(doc),
            handed, "", "\n".join(n for n in (doc.revocation_note, doc.notes) if n)]


def register_xlsx(session: Session, actor: Actor, flt: RegisterFilter) -> bytes:
    agency = session.get(Agency, actor.agency_id)
    title = f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN NĂM {flt.year}" + (f" – THÁNG {flt.month}" if flt.month else "")
    return register_workbook(agency_name=agency.name if agency else "", title=title,
                             sheet_title=f"Sổ đến {flt.year}", columns=COLUMNS,
                             rows=(row_values(d) for d in register_rows(session, actor, flt)))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_register(session: Session, actor: Actor, flt: RegisterFilter) -> tuple[str, bytes]:
    """The register as the page's «Xuất Excel» and the API download it: the file's name and
    bytes; the export is audited as a read of the register."""
    actor.check(Op.EXPORT_INCOMING_REGISTER)
    data = register_xlsx(session, actor, flt)
    record_read(session, actor.ctx, "incoming:register:export", subject_type="register",
                subject_id=flt.year, details={"month": flt.month})
    name = f"so-van-ban-den-{flt.year}" + (f"-{flt.month:02d}" if flt.month else "") + ".xlsx"
    return name, data
