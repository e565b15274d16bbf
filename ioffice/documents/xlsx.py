"""Registers as XLSX, laid out like the paper books of Appendix IV (Decree 30/2020)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

HEADER_ROW = 4  # agency name, title, blank line, then the column names and their numbers
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# C0 controls other than tab, LF and CR: XML 1.0 cannot hold them, and openpyxl refuses the
# whole workbook for one of them (one bad subject used to fail the year's register)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# what a spreadsheet reads as the start of a formula when a person edits or re-imports a cell
FORMULA_STARTS = ("=", "+", "-", "@")


def clean_text(value: str) -> str:
    """``value`` without the control characters a workbook cannot hold."""
    return _CONTROLS.sub("", value)


def register_workbook(*, agency_name: str, title: str, sheet_title: str,
                      columns: Sequence[tuple[str, int]], rows: Iterable[Sequence[object]]) -> bytes:
    """``columns`` are (heading, width); dates in ``rows`` are shown dd/mm/yyyy."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    ws.append([clean_text(agency_name.upper())])
    ws.append([clean_text(title)])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    ws["A2"].font = Font(bold=True, size=14)
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append([name for name, _ in columns])
    ws.append([f"({i})" for i in range(1, len(columns) + 1)])
    for row in ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW + 1):
        style_headings(row)
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for values in rows:
        append_row(ws, values)
    ws.freeze_panes = f"A{HEADER_ROW + 2}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def style_headings(cells: Iterable[Any]) -> None:
    """Column headings: bold, centred, wrapped, boxed."""
    for cell in cells:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER


def append_row(ws: Any, values: Sequence[object], *, bold: bool = False) -> None:
    """One boxed data row under the last: text never read as a formula, wrapped at the top,
    dates shown dd/mm/yyyy."""
    row = ws.max_row + 1
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column)
        _set_value(cell, value)
        cell.border = _BORDER
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        if hasattr(cell.value, "year"):
            cell.number_format = "DD/MM/YYYY"
        if bold:
            cell.font = Font(bold=True)


def _set_value(cell, value: object) -> None:
    """Data is never a formula: text is written as a string cell whatever it starts with, and
    text that a spreadsheet would read as a formula once edited carries the quote prefix
    (Excel's leading apostrophe)."""
    if not isinstance(value, str):
        cell.value = value
        return
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl types any text starting with "=" as a formula
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
