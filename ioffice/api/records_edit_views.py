"""/api/v1/records: changing the file list (docs/records.md "The year", 1): a draft's headings
and planned dossiers corrected, an empty heading removed, and a dossier added to the approved
list during the year (art. 29.2.c); and a destruction's forms as PDF.

Each handler calls the service its web page calls (``ioffice.records.editing``, as
``ioffice.web.records``), after the same role rule (``operation=``); the object rules (the
agency's list, a draft for editing, an approved one for an addition, a keeper adding only their
own unless they are the office) are in those functions and answer 400 with their message.
"""

from __future__ import annotations

import datetime as dt

from flask import Response
from pydantic import Field

from ioffice.agencies.permissions import Op
from ioffice.api import records_schemas as r
from ioffice.api.records_views import RECORDS, _dossier, _download, _file_list
from ioffice.api.routing import Call
from ioffice.api.schemas import Input
from ioffice.api.views import api
from ioffice.incoming.registration import today_vn
from ioffice.records import destruction_pdf, editing
from ioffice.records import service as records


class HeadingEditIn(Input):
    title: str = Field(max_length=500, description="The heading's or subheading's title.")
    code: str = Field("", max_length=20, description="A heading's abbreviation (capitals and "
                                                     "digits); its dossiers' symbols follow. "
                                                     "Empty: unchanged; ignored for a "
                                                     "subheading.")
    order: int | None = Field(None, ge=1, le=999, description="Its place among its siblings "
                                                              "(1: I or 1); null: unchanged.")


class DossierAddIn(r.DossierIn):
    start: dt.date | None = Field(None, description="Ngày mở hồ sơ when the caller is its keeper "
                                                    "(the dossier is opened at once): in the "
                                                    "list's year, not after today; today when "
                                                    "omitted. Ignored for another keeper.")


def _input(b: r.DossierIn) -> records.DossierInput:
    return records.DossierInput(heading_id=str(b.heading_id), number=str(b.number),
                                title=b.title, retention=b.retention, keeper_id=str(b.keeper_id))


@api.post("/records/file-lists/<int:list_id>/headings/<int:heading_id>/edit",
          summary="Correct a heading of a draft file list: title, abbreviation, order (office)",
          tag=RECORDS, body=HeadingEditIn, response=r.FileListOut, errors=(400, 403, 404),
          operation=Op.EDIT_FILE_LIST)
def edit_heading(call: Call, list_id: int, heading_id: int) -> r.FileListOut:
    """The list as it is afterwards. An abbreviation another heading has, an order outside
    1..siblings, an approved list: 400 with the reason."""
    b = call.body
    editing.edit_heading(call.session, call.actor, list_id, heading_id, title=b.title,
                         code=b.code, order=str(b.order or ""))
    return _file_list(call, list_id)


@api.post("/records/file-lists/<int:list_id>/headings/<int:heading_id>/remove",
          summary="Remove an empty heading from a draft file list (office)", tag=RECORDS,
          response=r.FileListOut, errors=(400, 403, 404), operation=Op.EDIT_FILE_LIST)
def remove_heading(call: Call, list_id: int, heading_id: int) -> r.FileListOut:
    """A heading that still has dossiers (or subheadings) answers 400 naming them."""
    editing.remove_heading(call.session, call.actor, list_id, heading_id)
    return _file_list(call, list_id)


@api.post("/records/file-lists/<int:list_id>/dossiers/<int:dossier_id>/edit",
          summary="Correct a planned dossier of a draft file list (office)", tag=RECORDS,
          body=r.DossierIn, response=r.DossierOut, errors=(400, 403, 404),
          operation=Op.EDIT_FILE_LIST)
def edit_dossier(call: Call, list_id: int, dossier_id: int) -> r.DossierOut:
    """Heading, number (the symbol follows), title, retention, keeper; a number and symbol
    another dossier of the list has answers 400."""
    editing.edit_dossier(call.session, call.actor, list_id, dossier_id, _input(call.body))
    return _dossier(call, dossier_id)


@api.post("/records/file-lists/<int:list_id>/additions",
          summary="Add a dossier to the approved file list during the year (art. 29.2.c)",
          tag=RECORDS, body=DossierAddIn, response=r.DossierOut, status=201,
          errors=(400, 403, 404), operation=Op.KEEP_DOSSIER, links=("get_dossier",))
def add_to_approved(call: Call, list_id: int) -> r.DossierOut:
    """By its keeper (opened at once on `start`) or by the office for someone (planned, the
    keeper is told); marked as an addition (`added_at`) in the list and its form II."""
    b = call.body
    d = editing.add_to_approved(call.session, call.actor, list_id, _input(b),
                                b.start.isoformat() if b.start else "", today_vn())
    return _dossier(call, d.id)


@api.get("/records/destructions/<int:destruction_id>/forms", summary="A destruction's list "
         "of documents destroyed and its record, as one PDF to print and sign", tag=RECORDS,
         response_media="application/pdf", errors=(400, 403, 404),
         operation=Op.VIEW_RETENTION)
def download_destruction_forms(call: Call, destruction_id: int) -> Response:
    """Danh mục tài liệu hết giá trị and Biên bản về việc hủy tài liệu hết giá trị, from the
    record the approval kept; a proposal not approved answers 400."""
    name, data = destruction_pdf.forms_pdf(call.session, call.actor, destruction_id)
    return _download(data, name, "application/pdf")
