"""XLSX export of the outgoing register with the columns of Appendix IV (Decree 30/2020)."""

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
    wb = Workbook()
    ws = wb.active
    ws.title = f"Sổ đi {year}"
    title = f"SỔ ĐĂNG KÝ VĂN BẢN ĐI{' MẬT' if confidential else ''} NĂM {year}"
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
    for doc in register_rows(session, actor, year, confidential=confidential):
        ws.append(row_values(doc))
        for cell in ws[ws.max_row]:
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if hasattr(cell.value, "year"):
                cell.number_format = "DD/MM/YYYY"
    ws.freeze_panes = "A6"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
