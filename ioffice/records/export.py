"""The forms of Appendix V as workbooks: the file list (form II), a dossier's table of contents
(form IV); and the file list as PDF, the workbook printed by LibreOffice (as the dashboards)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency
from ioffice.documents.printing import workbook_pdf
from ioffice.documents.xlsx import append_row, clean_text, style_headings
from ioffice.records.models import FileList
from ioffice.records.service import (
    RecordsError,
    TocRow,
    get_dossier,
    list_rows,
    list_summary,
    table_of_contents,
)

__all__ = ["dossier_toc_xlsx", "file_list_pdf", "file_list_xlsx", "toc_xlsx"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TIMEOUT_S = 60.0


def _sheet(wb: Workbook, title: str, head: Sequence[str], columns: Sequence[tuple[str, int]]):
    ws = wb.active
    ws.title = title[:31]
    for line in head:
        ws.append([clean_text(line)])
    for row in range(1, len(head) + 1):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(columns))
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
    ws.cell(row=1, column=1).font = Font(bold=True)
    ws.cell(row=2, column=1).font = Font(bold=True, size=14)
    ws.append([name for name, _ in columns])
    ws.append([f"({i})" for i in range(1, len(columns) + 1)])
    first = len(head) + 1
    ws.row_dimensions[first].height = 32  # the column names wrap on two lines
    for row in ws.iter_rows(min_row=first, max_row=first + 1):
        style_headings(row)
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    return ws


def _row(ws, values: Sequence[object], *, bold: bool = False) -> None:
    append_row(ws, values, bold=bold)


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_list_xlsx(file_list: FileList, agency_name: str, keeper_names: dict[int, str]) -> bytes:
    """Appendix V, II: «Số và ký hiệu hồ sơ | Tên đề mục và tiêu đề hồ sơ | Thời hạn bảo quản |
    Người lập hồ sơ | Ghi chú», headings in bold."""
    wb = Workbook()
    decision = f" (Kèm theo {file_list.decision})" if file_list.decision else ""
    ws = _sheet(wb, f"Danh muc {file_list.year}",
                [agency_name.upper(), f"DANH MỤC HỒ SƠ NĂM {file_list.year}{decision}", ""],
                [("Số và ký hiệu hồ sơ", 16), ("Tên đề mục và tiêu đề hồ sơ", 60),
                 ("Thời hạn bảo quản", 14), ("Người lập hồ sơ", 24), ("Ghi chú", 20)])
    for r in list_rows(file_list):
        if r.dossier is None:
            _row(ws, ["", r.label, "", "", ""], bold=True)
        else:
            d = r.dossier
            _row(ws, [d.symbol, d.title, d.retention_label, keeper_names.get(d.keeper_id, ""),
                      "; ".join(t for t in (d.note, d.addition_note) if t)])
    ws.append([])
    ws.append([clean_text(list_summary(file_list))])
    return _save(wb)


def toc_xlsx(symbol: str, year: int, title: str, agency_name: str, rows: Sequence[TocRow]
             ) -> bytes:
    """Appendix V, IV: the table of contents of one dossier."""
    wb = Workbook()
    ws = _sheet(wb, "Muc luc van ban",
                [agency_name.upper(), "MỤC LỤC VĂN BẢN, TÀI LIỆU",
                 f"Số, ký hiệu hồ sơ: {symbol} – Năm {year} – {title}"],
                [("STT", 6), ("Số, ký hiệu văn bản", 18), ("Ngày tháng năm văn bản", 14),
                 ("Tên loại và trích yếu nội dung văn bản", 60), ("Tác giả văn bản", 28),
                 ("Tờ số/Trang số", 10), ("Ghi chú", 16)])
    for r in rows:
        _row(ws, [r.index, r.number_notation, r.date, r.type_and_subject, r.author, r.pages,
                  r.note])
    return _save(wb)


def dossier_toc_xlsx(session: Session, actor: Actor, dossier_id: int) -> tuple[str, bytes]:
    """The table of contents of a dossier the actor may read, as the page and the API download
    it: the file's name and bytes."""
    d = get_dossier(session, actor, dossier_id)
    agency_name = session.get(Agency, actor.agency_id).name
    data = toc_xlsx(d.symbol, d.file_list.year, d.title, agency_name,
                    table_of_contents(session, d, agency_name))
    return f"muc-luc-{d.symbol}-{d.file_list.year}.xlsx", data


def file_list_pdf(data: bytes, *, timeout: float = TIMEOUT_S) -> bytes:
    """A workbook of :func:`file_list_xlsx` printed to PDF by LibreOffice, in a throw-away
    profile (the way the dashboards print theirs)."""
    return workbook_pdf(data, "danh-muc", timeout=timeout, error=RecordsError)
