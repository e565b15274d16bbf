"""XLSX export of the incoming register with the columns of Appendix IV (Decree 30/2020)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE
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


def register_xlsx(session: Session, actor: Actor, flt: RegisterFilter) -> bytes:
    agency = session.get(Agency, actor.agency_id)
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = f"Sổ đến {flt.year}"
    title = f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN NĂM {flt.year}" + (f" – THÁNG {flt.month}" if flt.month else "")
    ws.append([agency.name.upper() if agency else ""])
    ws.append([title])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    ws["A2"].font = Font(bold=True, size=14)
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append([name for name, _ in COLUMNS])
    ws.append([f"({i})" for i in range(1, len(COLUMNS) + 1)])
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for row in ws.iter_rows(min_row=4, max_row=5):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = border
    for i, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for doc in register_rows(session, actor, flt):
        type_name = DOC_TYPES_BY_CODE[doc.doc_type].name if doc.doc_type in DOC_TYPES_BY_CODE else ""
        handed = doc.distributed_at.astimezone(VN).date() if doc.distributed_at else None
        ws.append([
            doc.arrived_at.astimezone(VN).date(), doc.incoming_number, doc.issuer_name,
            doc.number_notation, doc.document_date, f"{type_name}: {doc.subject}",
            receivers(doc), handed, "", doc.notes,
        ])
        for cell in ws[ws.max_row]:
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if hasattr(cell.value, "year"):
                cell.number_format = "DD/MM/YYYY"
    ws.freeze_panes = "A6"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
