"""The dashboard's figures as XLSX (openpyxl, with native charts) and as PDF (that workbook
printed by LibreOffice, which the project already needs for DOCX drafts; see
docs/dashboards.md for why)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ioffice.dashboards.present import Table, tables
from ioffice.dashboards.stats import Dashboard
from ioffice.documents.printing import workbook_pdf
from ioffice.documents.xlsx import append_row, clean_text, style_headings
from ioffice.errors import DomainError

__all__ = ["ExportFailed", "pdf", "xlsx"]

TIMEOUT_S = 90
_SHEET_NAMES = {"summary": "Tổng hợp", "incoming": "Văn bản đến", "outgoing": "Văn bản đi",
                "departments": "Theo phòng ban", "people": "Theo cá nhân",
                "exchange": "Liên thông", "agencies": "Theo cơ quan"}


class ExportFailed(DomainError):
    status_code = 503


def xlsx(d: Dashboard, title: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for table in tables(d):
        _sheet(wb, table, title, d)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(wb: Workbook, table: Table, title: str, d: Dashboard) -> None:
    ws = wb.create_sheet(_SHEET_NAMES[table.key])
    ws.append([clean_text(title)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([clean_text(f"{table.title}, {d.period.label}")])
    ws["A2"].font = Font(bold=True)
    ws.append([])
    header = 4
    ws.append(table.headings)
    style_headings(ws[header])
    for values in table.rows:
        append_row(ws, values)
    for i, heading in enumerate(table.headings, start=1):
        wide = i == 1 or heading == "Cơ quan"  # names: a department, a person, an agency
        ws.column_dimensions[get_column_letter(i)].width = 40 if wide else max(12, min(
            22, len(heading) + 2))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header}:{header}"
    if table.key in ("incoming", "outgoing") and table.rows:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.title = table.title
        chart.y_axis.title = "Số văn bản"
        last = header + len(table.rows)
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=header, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
        chart.width, chart.height = 24, 9
        ws.add_chart(chart, f"A{last + 3}")


def pdf(d: Dashboard, title: str, *, timeout: float = TIMEOUT_S) -> bytes:
    """The workbook of :func:`xlsx` printed to PDF by LibreOffice, in a throw-away profile."""
    data = xlsx(d, title)
    return workbook_pdf(data, "thong-ke", timeout=timeout, error=ExportFailed)
