"""/api/v1: the registers (lists and their XLSX), the caller's notifications and preferences,
and the records (the file list of a year, dossiers, filing documents, closing).

Each handler calls the service function its web page calls (``ioffice.web.incoming`` and
``outgoing`` for the registers, ``ioffice.web.notifications``, ``ioffice.web.records``), after
the same role rule (``operation=``); the object rules (only a dossier's keeper files into it,
only documents of the agency, once each) are in those functions.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response
from sqlalchemy import select

from ioffice.agencies.models import Agency, User
from ioffice.agencies.permissions import Op
from ioffice.api import records_schemas as r
from ioffice.api.routing import MULTIPART, Call
from ioffice.api.schemas import next_after
from ioffice.api.views import api
from ioffice.errors import NotFound
from ioffice.incoming import export as incoming_export
from ioffice.incoming import queries as incoming_queries
from ioffice.incoming.errors import InvalidInput
from ioffice.incoming.registration import today_vn
from ioffice.notifications import service as notices
from ioffice.notifications.models import Channel, Kind
from ioffice.outgoing import export as outgoing_export
from ioffice.outgoing import queries as outgoing_queries
from ioffice.records import export as records_export
from ioffice.records import package, retention
from ioffice.records import service as records
from ioffice.records.models import DossierStatus
from ioffice.services import services

REGISTER, NOTIFICATIONS, RECORDS = "register", "notifications", "records"
XLSX = incoming_export.XLSX


def _download(data: bytes, name: str, media: str) -> Response:
    resp = Response(data, mimetype=media)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


# ----------------------------------------------------------------------------- registers


@api.get("/register/export", summary="The incoming register of a year as XLSX (Appendix IV)",
         tag=REGISTER, query=r.RegisterExportQuery, response_media=XLSX, errors=(403,),
         operation=Op.EXPORT_INCOMING_REGISTER)
def export_incoming_register(call: Call) -> Response:
    """The same filters as `GET /register`; the whole year (or month), in number order.
    Recorded in the audit log as an export of the register."""
    q = call.query
    flt = incoming_queries.RegisterFilter(year=q.year, month=q.month, doc_type=q.doc_type,
                                          issuer=q.issuer)
    name, data = incoming_export.export_register(call.session, call.actor, flt)
    return _download(data, name, XLSX)


@api.get("/register/outgoing", summary="The outgoing register of a year", tag=REGISTER,
         query=r.OutgoingRegisterQuery, response=r.OutgoingRegisterPage, errors=(403,),
         operation=Op.VIEW_OUTGOING_REGISTER)
def outgoing_register(call: Call) -> r.OutgoingRegisterPage:
    """In number order, paginated by number (keyset `after_number`); `confidential=true` is
    the separate book of confidential documents."""
    q = call.query
    docs = outgoing_queries.register_rows(call.session, call.actor, q.year,
                                          confidential=q.confidential,
                                          after_number=q.after_number, limit=q.limit)
    last = docs[-1].number if len(docs) == q.limit else None
    return r.OutgoingRegisterPage(items=[r.register_entry_out(d) for d in docs],
                                  next_after_number=last)


@api.get("/register/outgoing/export", summary="The outgoing register of a year as XLSX "
         "(Appendix IV)", tag=REGISTER, query=r.OutgoingRegisterExportQuery, response_media=XLSX,
         errors=(403,), operation=Op.EXPORT_OUTGOING_REGISTER)
def export_outgoing_register(call: Call) -> Response:
    """Recorded in the audit log as an export of the register."""
    q = call.query
    name, data = outgoing_export.export_register(call.session, call.actor, q.year,
                                                 confidential=q.confidential)
    return _download(data, name, XLSX)


# ----------------------------------------------------------------------------- notifications


@api.get("/notifications", summary="The caller's notifications, newest first",
         tag=NOTIFICATIONS, query=r.NotificationQuery, response=r.NotificationPage,
         operation=None)
def list_notifications(call: Call) -> r.NotificationPage:
    """Those shown in the bell (in-app), of the token's agency; paginated by key."""
    q, a = call.query, call.actor
    rows = notices.recent(call.session, a.user_id, a.agency_id, limit=q.limit, before=q.after,
                          unread_only=q.unread)
    return r.NotificationPage(items=[r.notification_out(n) for n in rows],
                              next_after=next_after(rows, q.limit))


@api.get("/notifications/unread-count", summary="How many are unread (the bell's number)",
         tag=NOTIFICATIONS, response=r.UnreadCountOut, operation=None)
def unread_count(call: Call) -> r.UnreadCountOut:
    return r.UnreadCountOut(unread=notices.unread_count(call.session, call.actor.user_id,
                                                        call.actor.agency_id))


@api.post("/notifications/<int:notification_id>/read", summary="Mark one notification read",
          tag=NOTIFICATIONS, response=r.NotificationOut, errors=(404,), operation=None)
def read_notification(call: Call, notification_id: int) -> r.NotificationOut:
    """As opening it in the bell: the others about the same document are read too."""
    a = call.actor
    row = notices.open_notification(call.session, a.user_id, a.agency_id, notification_id)
    call.session.flush()
    call.session.refresh(row)
    return r.notification_out(row)


@api.post("/notifications/read-all", summary="Mark all the caller's notifications read",
          tag=NOTIFICATIONS, response=r.MarkedOut, operation=None)
def read_all_notifications(call: Call) -> r.MarkedOut:
    a = call.actor
    return r.MarkedOut(marked=notices.mark_all_read(call.session, a.user_id, a.agency_id))


@api.get("/notifications/preferences", summary="How the caller receives each kind",
         tag=NOTIFICATIONS, response=r.PreferencesOut, operation=None)
def get_preferences(call: Call) -> r.PreferencesOut:
    return r.preferences_out(notices.preferences(call.session, call.actor.user_id))


@api.post("/notifications/preferences", summary="Change how the caller receives some kinds",
          tag=NOTIFICATIONS, body=r.PreferencesIn, response=r.PreferencesOut, operation=None)
def change_preferences(call: Call) -> r.PreferencesOut:
    """In the app, by e-mail, both or not at all, per kind; and the daily digest."""
    b = call.body
    channels = {Kind(k): Channel(v) for k, v in b.channels.items()}
    return r.preferences_out(notices.change_preferences(call.session, call.actor.user_id,
                                                        channels, b.daily_digest))


# ----------------------------------------------------------------------------- records


@api.get("/records/file-list", summary="The file list (danh mục hồ sơ) of a year", tag=RECORDS,
         query=r.FileListQuery, response=r.FileListOut, errors=(403, 404),
         operation=Op.VIEW_RECORDS)
def get_file_list(call: Call) -> r.FileListOut:
    row = records.list_for_year(call.session, call.actor, call.query.year)
    if row is None:
        raise NotFound(f"Cơ quan chưa có danh mục hồ sơ năm {call.query.year}.")
    return r.file_list_out(row, records.list_rows(row))


@api.get("/records/dossiers", summary="Dossiers the caller may read", tag=RECORDS,
         query=r.DossierQuery, response=r.DossierPage, errors=(403,), operation=Op.VIEW_RECORDS)
def list_dossiers(call: Call) -> r.DossierPage:
    """All of the agency's for the clerks, leaders and archivists; a keeper's own otherwise.
    By id, paginated by key."""
    q = call.query
    rows = records.dossiers_page(call.session, call.actor, year=q.year,
                                 status=DossierStatus(q.status) if q.status else None,
                                 mine=q.mine, after=q.after, limit=q.limit)
    return r.DossierPage(items=[r.dossier_summary(d) for d in rows],
                         next_after=next_after(rows, q.limit))


@api.get("/records/search", summary="Find dossiers by symbol or title", tag=RECORDS,
         query=r.RecordsSearchQuery, response=r.RecordsSearchOut, errors=(403,),
         operation=Op.VIEW_RECORDS)
def search_records(call: Call) -> r.RecordsSearchOut:
    """The page «Tìm hồ sơ»: every word of `q` in the symbol or title, diacritics and case
    ignored; the first `limit` of each kind (no further pages: add words to narrow it)."""
    q = call.query
    found = records.search_dossiers(call.session, call.actor, q.q, limit=q.limit)
    restored = package.search_imported(call.session, call.actor, q.q, limit=q.limit)
    return r.RecordsSearchOut(
        dossiers=[r.dossier_summary(d) for d in found],
        restored=[r.RestoredHitOut(id=p.id, url=f"/api/v1/records/restored/{p.id}",
                                   organ_id=p.organ_id, year=p.year, symbol=p.symbol,
                                   title=p.title) for p in restored])


def _dossier(call: Call, dossier_id: int) -> r.DossierOut:
    d = records.get_dossier(call.session, call.actor, dossier_id)
    call.session.refresh(d)
    agency = call.session.get(Agency, call.actor.agency_id)
    return r.dossier_out(d, records.table_of_contents(call.session, d,
                                                      agency.name if agency else ""),
                         retention.active_hold(call.session, d.id))


def _file_list(call: Call, list_id: int) -> r.FileListOut:
    row = records.get_list(call.session, call.actor, list_id)
    call.session.flush()
    call.session.refresh(row)
    return r.file_list_out(row, records.list_rows(row))


@api.post("/records/file-lists", summary="Start the file list of a year, empty or copied from "
          "last year's (office)", tag=RECORDS, body=r.FileListIn, response=r.FileListOut,
          status=201, errors=(400, 403), operation=Op.EDIT_FILE_LIST,
          links=("get_file_list_by_id", "add_heading", "approve_file_list", "export_file_list"))
def create_file_list(call: Call) -> r.FileListOut:
    """A draft list. `copy_previous`: last year's headings and dossiers with the same keepers,
    numbers and retention (400 if there is no list of last year). One list per year (400)."""
    b = call.body
    row = records.create_list(call.session, call.actor, str(b.year), today_vn(),
                              copy_previous=b.copy_previous)
    return _file_list(call, row.id)


@api.get("/records/file-lists/<int:list_id>", summary="A file list by its id", tag=RECORDS,
         response=r.FileListOut, errors=(403, 404), operation=Op.VIEW_RECORDS)
def get_file_list_by_id(call: Call, list_id: int) -> r.FileListOut:
    return _file_list(call, list_id)


@api.post("/records/file-lists/<int:list_id>/headings", summary="Add a heading or subheading "
          "to a draft file list (office)", tag=RECORDS, body=r.HeadingIn, response=r.HeadingOut,
          status=201, errors=(400, 403, 404), operation=Op.EDIT_FILE_LIST)
def add_heading(call: Call, list_id: int) -> r.HeadingOut:
    """A heading (numbered I, II, ...) with its abbreviation (`code`, unique in the list), or
    with `parent_id` a subheading under a heading (its `code` is ignored). An approved list is
    not changed (400)."""
    b = call.body
    heading = records.add_heading(call.session, call.actor, list_id, b.title, b.code,
                                  b.parent_id)
    return r.heading_out(heading)


@api.post("/records/file-lists/<int:list_id>/dossiers/<int:dossier_id>/remove",
          summary="Take a planned dossier out of a draft file list (office)", tag=RECORDS,
          response=r.FileListOut, errors=(400, 403, 404), operation=Op.EDIT_FILE_LIST)
def remove_planned_dossier(call: Call, list_id: int, dossier_id: int) -> r.FileListOut:
    records.remove_planned(call.session, call.actor, list_id, dossier_id)
    return _file_list(call, list_id)


@api.post("/records/file-lists/<int:list_id>/approve", summary="Approve a draft file list "
          "(leader): the keepers may open their dossiers", tag=RECORDS, body=r.ApproveListIn,
          response=r.FileListOut, errors=(400, 403, 404), operation=Op.APPROVE_FILE_LIST)
def approve_file_list(call: Call, list_id: int) -> r.FileListOut:
    """A list with at least one dossier, once (400 otherwise)."""
    records.approve_list(call.session, call.actor, list_id, call.body.decision)
    return _file_list(call, list_id)


def _list_workbook(call: Call, list_id: int) -> tuple[str, bytes]:
    row = records.get_list(call.session, call.actor, list_id)
    agency = call.session.get(Agency, call.actor.agency_id)
    keepers = {d.keeper_id for d in row.dossiers}
    names = dict(call.session.execute(select(User.id, User.full_name).where(
        User.id.in_(keepers))).all()) if keepers else {}
    data = records_export.file_list_xlsx(row, agency.name if agency else "", names)
    return f"danh-muc-ho-so-{row.year}", data


@api.get("/records/file-lists/<int:list_id>/xlsx", summary="The file list as XLSX (Appendix V "
         "form II)", tag=RECORDS, response_media=XLSX, errors=(403, 404),
         operation=Op.VIEW_RECORDS)
def export_file_list(call: Call, list_id: int) -> Response:
    """The page's download, made by the same function."""
    name, data = _list_workbook(call, list_id)
    return _download(data, f"{name}.xlsx", XLSX)


@api.get("/records/file-lists/<int:list_id>/pdf", summary="The file list as PDF (Appendix V "
         "form II)", tag=RECORDS, response_media="application/pdf", errors=(403, 404),
         operation=Op.VIEW_RECORDS)
def export_file_list_pdf(call: Call, list_id: int) -> Response:
    """The workbook converted to PDF, as the page's download."""
    name, data = _list_workbook(call, list_id)
    return _download(records_export.file_list_pdf(data), f"{name}.pdf", "application/pdf")


@api.post("/records/file-lists/<int:list_id>/dossiers", summary="Plan a dossier in a draft "
          "file list (office)", tag=RECORDS, body=r.DossierIn, response=r.DossierOut,
          status=201, errors=(400, 403, 404), operation=Op.EDIT_FILE_LIST,
          links=("get_dossier", "open_dossier"))
def create_dossier(call: Call, list_id: int) -> r.DossierOut:
    b = call.body
    d = records.add_dossier(call.session, call.actor, list_id, records.DossierInput(
        heading_id=str(b.heading_id), number=str(b.number), title=b.title,
        retention=b.retention, keeper_id=str(b.keeper_id)))
    return _dossier(call, d.id)


@api.get("/records/dossiers/<int:dossier_id>", summary="A dossier with its documents, files "
         "and notes", tag=RECORDS, response=r.DossierOut, errors=(403, 404),
         operation=Op.VIEW_RECORDS,
         links=("open_dossier", "file_document", "close_dossier", "download_toc", "add_note",
                "reopen_dossier", "hold_dossier"))
def get_dossier(call: Call, dossier_id: int) -> r.DossierOut:
    """Its keeper, the clerks, the leaders and the archive read it; others get 404."""
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/open", summary="Open a planned dossier (its "
          "keeper)", tag=RECORDS, body=r.OpenDossierIn, response=r.DossierOut,
          errors=(400, 403, 404), operation=Op.KEEP_DOSSIER)
def open_dossier(call: Call, dossier_id: int) -> r.DossierOut:
    """Once the year's list is approved; the start day in the list's year, not after today."""
    start = call.body.start.isoformat() if call.body.start else ""
    records.open_dossier(call.session, call.actor, dossier_id, start, today_vn())
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/documents", summary="File an incoming or "
          "outgoing document in an open dossier (its keeper)", tag=RECORDS,
          body=r.FileDocumentIn, response=r.DossierOut, status=201, errors=(400, 403, 404),
          operation=Op.KEEP_DOSSIER)
def file_document(call: Call, dossier_id: int) -> r.DossierOut:
    """A document of the agency the keeper may read, once per dossier; an outgoing one once
    numbered. Refusals answer 400 with the reason."""
    b = call.body
    records.add_document(call.session, call.actor, dossier_id, b.kind, b.document_id)
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/notes", summary="Add a note to an open dossier "
          "(its keeper)", tag=RECORDS, body=r.NoteIn, response=r.DossierOut, status=201,
          errors=(400, 403, 404), operation=Op.KEEP_DOSSIER)
def add_note(call: Call, dossier_id: int) -> r.DossierOut:
    records.add_note(call.session, call.actor, dossier_id, call.body.text)
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/files", summary="Add a file of the work (a photo, "
          "a working paper) to an open dossier (its keeper)", tag=RECORDS,
          body=r.DossierFileForm, body_media=MULTIPART, files="file", single_file=True,
          file_media="application/octet-stream", file_text="The file, of any type.",
          response=r.DossierOut, status=201, errors=(400, 403, 404, 413),
          operation=Op.KEEP_DOSSIER)
def add_file(call: Call, dossier_id: int) -> r.DossierOut:
    """multipart/form-data: `title` and one `file` part (an empty file: 400)."""
    files = call.extra["files"]
    if len(files) > 1:
        raise InvalidInput({"file": "Gửi đúng một tệp trong phần «file»."})
    upload = files[0] if files else None
    records.add_file(call.session, services().blobs, call.actor, dossier_id, call.body.title,
                     (upload.filename or "") if upload else "", upload.read() if upload else b"")
    return _dossier(call, dossier_id)


@api.get("/records/dossiers/<int:dossier_id>/items/<int:item_id>/file", summary="Download a "
         "file added to a dossier", tag=RECORDS, response_media="application/octet-stream",
         errors=(403, 404), operation=Op.VIEW_RECORDS)
def download_item(call: Call, dossier_id: int, item_id: int) -> Response:
    d = records.get_dossier(call.session, call.actor, dossier_id)
    item = next((i for i in d.items if i.id == item_id and i.sha256), None)
    if item is None:
        raise NotFound("Không tìm thấy tài liệu này trong hồ sơ.")
    return _download(services().blobs.read_bytes(item.sha256), item.filename,
                     "application/octet-stream")


@api.post("/records/dossiers/<int:dossier_id>/reopen", summary="Reopen a closed dossier to "
          "complete it (its keeper)", tag=RECORDS, response=r.DossierOut,
          errors=(400, 403, 404), operation=Op.KEEP_DOSSIER)
def reopen_dossier(call: Call, dossier_id: int) -> r.DossierOut:
    """A closed dossier not in a hand-over (400 otherwise); close it again when complete."""
    records.reopen_dossier(call.session, call.actor, dossier_id)
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/items/<int:item_id>/remove", summary="Take a "
          "document, file or note out of an open dossier (its keeper)", tag=RECORDS,
          response=r.DossierOut, errors=(400, 403, 404), operation=Op.KEEP_DOSSIER)
def remove_item(call: Call, dossier_id: int, item_id: int) -> r.DossierOut:
    records.remove_item(call.session, call.actor, dossier_id, item_id)
    return _dossier(call, dossier_id)


@api.post("/records/dossiers/<int:dossier_id>/close", summary="Close a dossier: the end of "
          "the work and its pages (its keeper)", tag=RECORDS, body=r.CloseDossierIn,
          response=r.DossierOut, errors=(400, 403, 404), operation=Op.KEEP_DOSSIER)
def close_dossier(call: Call, dossier_id: int) -> r.DossierOut:
    """An empty dossier (notes only) is not closed."""
    b = call.body
    records.close_dossier(call.session, call.actor, dossier_id, b.end.isoformat(), str(b.pages),
                          today_vn())
    return _dossier(call, dossier_id)


@api.get("/records/dossiers/<int:dossier_id>/table-of-contents", summary="The dossier's table "
         "of contents as XLSX (Appendix V form IV)", tag=RECORDS, response_media=XLSX,
         errors=(403, 404), operation=Op.VIEW_RECORDS)
def download_toc(call: Call, dossier_id: int) -> Response:
    name, data = records_export.dossier_toc_xlsx(call.session, call.actor, dossier_id)
    return _download(data, name, XLSX)


@api.get("/records/dossiers/<int:dossier_id>/package", summary="The electronic dossier "
         "package (ZIP) of a closed dossier", tag=RECORDS, response_media="application/zip",
         errors=(400, 403, 404), operation=Op.VIEW_RECORDS)
def download_package(call: Call, dossier_id: int) -> Response:
    """Metadata, table of contents and every file with its SHA-256 (docs/records.md);
    recorded in the audit log."""
    data = package.export_package(call.session, services().blobs, call.actor, dossier_id)
    d = records.get_dossier(call.session, call.actor, dossier_id)
    return _download(data, f"ho-so-{d.symbol}-{d.file_list.year}.zip", "application/zip")
