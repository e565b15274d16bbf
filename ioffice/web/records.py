"""Records (/ho-so): the year's file list, dossiers and filing, hand-overs to the archive
(docs/records.md). Each handler calls one service of ``ioffice.records``; a refused input comes
back on the page it was sent from, with its Vietnamese message."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ioffice.agencies.models import Agency, User
from ioffice.db_session import get_session
from ioffice.documents.attached import Attached
from ioffice.incoming.registration import today_vn
from ioffice.outgoing.errors import PersistedFailure
from ioffice.records import destruction_pdf, editing, export, package, retention
from ioffice.records import handover as handovers
from ioffice.records import service as records
from ioffice.records.models import DossierStatus, Handover, HandoverStatus, ListStatus
from ioffice.records.service import RecordsError
from ioffice.services import services
from ioffice.storage.errors import StorageError
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("records", __name__, url_prefix="/ho-so")


def _back(default: str) -> str:
    """The page the form came from (``next``), if it is a path of this site."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


def _act(action: Callable[[], Any], success: str, back: str,
         to: Callable[[Any], str] | None = None) -> Any:
    """Run one service operation and commit, then go to ``to(result)`` (else ``back``); a
    refused input is flashed on the page the form came from (``back``). A refused PIN is
    committed (its count must stay)."""
    db = get_session()
    try:
        result = action()
    except PersistedFailure as exc:
        db.commit()
        flash(exc.message, "error")
        return redirect(_back(back))
    except RecordsError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(_back(back))
    db.commit()
    flash(success, "success")
    return redirect(to(result) if to else _back(back))


def _names(db: Any, ids: set[int]) -> dict[int, str]:
    return dict(db.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) \
        if ids else {}


def _agency_name() -> str:
    return get_session().get(Agency, current_actor().agency_id).name


@bp.app_template_global()
def records_holding(kind: str, document_id: int, attached: Attached | None = None
                    ) -> records.Holding:
    """For the document pages: the dossiers that hold the document, the reader's open ones
    (``attached``: what the page already knows the document has)."""
    return records.dossiers_holding(get_session(), current_actor(), kind, document_id,
                                    may_be_held=attached is None or attached.dossiers,
                                    may_keep=attached is None or attached.open_kept)


@bp.app_template_global()
def records_search(query: str) -> list:
    """For the search page: the dossiers the user may read whose symbol or title match."""
    return records.search_dossiers(get_session(), current_actor(), query, limit=10) \
        if query and current_actor().may(Op.VIEW_RECORDS) else []


@bp.app_template_global()
def records_search_restored(query: str) -> list:
    """For the search page: the restored dossiers (imported packages) the user may read whose
    symbol or title match (the archive and the leaders; none for others)."""
    return package.search_imported(get_session(), current_actor(), query, limit=10) \
        if query and current_actor().may(Op.VIEW_RECORDS) else []


@bp.app_template_global()
def may_read_imported() -> bool:
    """Whether the user reads the dossiers restored from imported packages."""
    return package.may_read_imported(current_actor())


# ---------------------------------------------------------------------------- the file list

@bp.get("/")
@operation(Op.VIEW_RECORDS)
def index() -> Any:
    db, actor, today = get_session(), current_actor(), today_vn()
    year_text = request.args.get("nam", str(today.year))
    try:
        year = records.parse_year(year_text, today)
    except RecordsError as exc:
        return render_template("error.html", title="Yêu cầu không hợp lệ", message=exc.message,
                               status=400), 400
    file_list = records.list_for_year(db, actor, year)
    rows = records.list_rows(file_list) if file_list else []
    keeper_ids = {d.keeper_id for d in file_list.dossiers} if file_list else set()
    return render_template(
        "records/index.html", year=year, file_list=file_list, rows=rows,
        names=_names(db, keeper_ids), years=records.list_years(db, actor),
        mine=records.my_dossiers(db, actor), people=records.keepers(db, actor.agency_id),
        summary=records.list_summary(file_list) if file_list else "",
        statuses=ListStatus, today=today, reader=actor.has(*records.READERS))


@bp.post("/danh-muc")
@operation(Op.EDIT_FILE_LIST)
def create_list() -> Any:
    year = request.form.get("year", "")[:10]
    return _act(lambda: records.create_list(get_session(), current_actor(), year, today_vn(),
                                            copy_previous=request.form.get("copy") == "1"),
                "Đã lập danh mục hồ sơ (dự thảo).", url_for("records.index"),
                lambda row: url_for("records.index", nam=row.year))


def _list_page(list_id: int) -> str:
    row = records.get_list(get_session(), current_actor(), list_id)
    return url_for("records.index", nam=row.year)


@bp.post("/danh-muc/<int:list_id>/de-muc")
@operation(Op.EDIT_FILE_LIST)
def add_heading(list_id: int) -> Any:
    form = request.form
    parent = form.get("parent_id", "")
    return _act(lambda: records.add_heading(
        get_session(), current_actor(), list_id, form.get("title", "")[:600],
        form.get("code", "")[:30], int(parent) if parent.isdigit() else None),
        "Đã thêm đề mục.", _list_page(list_id))


def _dossier_input() -> records.DossierInput:
    return records.DossierInput(**{k: request.form.get(k, "")[:1200] for k in (
        "heading_id", "number", "title", "retention", "keeper_id", "year")})


@bp.post("/danh-muc/<int:list_id>/ho-so")
@operation(Op.EDIT_FILE_LIST)
def add_dossier(list_id: int) -> Any:
    data = _dossier_input()
    return _act(lambda: records.add_dossier(get_session(), current_actor(), list_id, data),
                "Đã thêm hồ sơ vào danh mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/ho-so/<int:dossier_id>/xoa")
@operation(Op.EDIT_FILE_LIST)
def remove_planned(list_id: int, dossier_id: int) -> Any:
    return _act(lambda: records.remove_planned(get_session(), current_actor(), list_id,
                                               dossier_id),
                "Đã bỏ hồ sơ khỏi danh mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/de-muc/<int:heading_id>/sua")
@operation(Op.EDIT_FILE_LIST)
def edit_heading(list_id: int, heading_id: int) -> Any:
    form = request.form
    return _act(lambda: editing.edit_heading(
        get_session(), current_actor(), list_id, heading_id, title=form.get("title", "")[:600],
        code=form.get("code", "")[:30], order=form.get("order", "")[:10]),
        "Đã sửa đề mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/de-muc/<int:heading_id>/xoa")
@operation(Op.EDIT_FILE_LIST)
def remove_heading(list_id: int, heading_id: int) -> Any:
    return _act(lambda: editing.remove_heading(get_session(), current_actor(), list_id,
                                               heading_id),
                "Đã xóa đề mục khỏi danh mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/ho-so/<int:dossier_id>/sua")
@operation(Op.EDIT_FILE_LIST)
def edit_dossier(list_id: int, dossier_id: int) -> Any:
    data = _dossier_input()
    return _act(lambda: editing.edit_dossier(get_session(), current_actor(), list_id,
                                             dossier_id, data),
                "Đã sửa hồ sơ trong danh mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/bo-sung")
@operation(Op.KEEP_DOSSIER)
def add_to_approved(list_id: int) -> Any:
    data, start = _dossier_input(), request.form.get("start", "")[:20]
    return _act(lambda: editing.add_to_approved(get_session(), current_actor(), list_id, data,
                                                start, today_vn()),
                "Đã bổ sung hồ sơ vào danh mục.", _list_page(list_id))


@bp.post("/danh-muc/<int:list_id>/phe-duyet")
@operation(Op.APPROVE_FILE_LIST)
def approve_list(list_id: int) -> Any:
    return _act(lambda: records.approve_list(get_session(), current_actor(), list_id,
                                             request.form.get("decision", "")[:300]),
                "Đã phê duyệt danh mục hồ sơ; người lập hồ sơ mở được hồ sơ của mình.",
                _list_page(list_id))


@bp.get("/danh-muc/<int:list_id>.<any(xlsx, pdf):fmt>")
@operation(Op.VIEW_RECORDS)
def export_list(list_id: int, fmt: str) -> Any:
    db = get_session()
    row = records.get_list(db, current_actor(), list_id)
    data = export.file_list_xlsx(row, _agency_name(),
                                 _names(db, {d.keeper_id for d in row.dossiers}))
    name = f"danh-muc-ho-so-{row.year}"
    db.commit()
    if fmt == "xlsx":
        return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{name}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet")
    return send_file(io.BytesIO(export.file_list_pdf(data)), as_attachment=True,
                     download_name=f"{name}.pdf", mimetype="application/pdf")


@bp.get("/tim")
@operation(Op.VIEW_RECORDS)
def search() -> Any:
    query = request.args.get("q", "")[:200]
    db, actor = get_session(), current_actor()
    found = records.search_dossiers(db, actor, query) if query else []
    restored = package.search_imported(db, actor, query) if query else []
    return render_template("records/search.html", query=query, found=found, restored=restored)


# ---------------------------------------------------------------------------- dossiers

@bp.get("/<int:dossier_id>")
@operation(Op.VIEW_RECORDS)
def dossier(dossier_id: int) -> Any:
    db, actor = get_session(), current_actor()
    d = records.get_dossier(db, actor, dossier_id)
    toc = records.table_of_contents(db, d, _agency_name())
    docs = records.item_documents(db, d)
    keeper = db.get(User, d.keeper_id)
    hold = retention.active_hold(db, d.id)
    return render_template("records/dossier.html", d=d, toc=toc, docs=docs, keeper=keeper,
                           hold=hold, destroyed_by=retention.destroyed_by(db, d.id)
                           if d.status is DossierStatus.DESTROYED else None,
                           mine=d.keeper_id == actor.user_id, statuses=DossierStatus,
                           today=today_vn(), pages_total=sum(i.pages or 0 for i in d.items))


@bp.get("/<int:dossier_id>/muc-luc.xlsx")
@operation(Op.VIEW_RECORDS)
def toc_xlsx(dossier_id: int) -> Any:
    name, data = export.dossier_toc_xlsx(get_session(), current_actor(), dossier_id)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype=export.XLSX)


def _dossier_page(dossier_id: int) -> str:
    return url_for("records.dossier", dossier_id=dossier_id)


@bp.get("/<int:dossier_id>/goi.zip")
@operation(Op.VIEW_RECORDS)
def export_package(dossier_id: int) -> Any:
    """The electronic dossier package (ZIP) of a closed dossier."""
    db = get_session()
    try:
        data = package.export_package(db, services().blobs, current_actor(), dossier_id)
    except RecordsError as exc:
        flash(exc.message, "error")
        return redirect(_dossier_page(dossier_id))
    d = records.get_dossier(db, current_actor(), dossier_id)
    name = f"ho-so-{d.symbol}-{d.file_list.year}.zip"
    db.commit()  # the export's audit event
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/zip")


@bp.get("/nhap-goi")
@operation(Op.RECEIVE_RECORDS)
def packages() -> Any:
    db = get_session()
    return render_template("records/packages.html",
                           rows=package.imported(db, current_actor()))


@bp.post("/nhap-goi")
@operation(Op.RECEIVE_RECORDS)
def import_package() -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    s = services()
    return _act(lambda: package.import_package(get_session(), s.blobs, s.trust, current_actor(),
                                               (upload.filename or "") if upload else "", data),
                "Đã nhập gói hồ sơ: mọi mã SHA-256 và chữ ký số đều khớp; hồ sơ đã được "
                "khôi phục.", url_for("records.packages"),
                lambda row: url_for("records.restored", package_id=row.id))


@bp.get("/da-nhap")
@operation(Op.VIEW_RECORDS)
def restored_list() -> Any:
    """The dossiers restored from imported packages (the archive and the leaders)."""
    return render_template("records/restored_list.html",
                           rows=package.imported(get_session(), current_actor()))


@bp.get("/da-nhap/<int:package_id>")
@operation(Op.VIEW_RECORDS)
def restored(package_id: int) -> Any:
    """A dossier restored from an imported package: read-only."""
    db = get_session()
    row = package.get_imported(db, current_actor(), package_id)
    return render_template("records/restored.html", p=row,
                           imported_by=db.get(User, row.imported_by_id),
                           hold=retention.active_hold(db, row.id, "restored"),
                           destroyed=retention.restored_destroyed_message(db, row),
                           destroyed_by=retention.destroyed_by(db, row.id, "restored"),
                           today=today_vn())


@bp.get("/da-nhap/<int:package_id>/van-ban/<int:ordinal>/<int:index>")
@operation(Op.VIEW_RECORDS)
def restored_file(package_id: int, ordinal: int, index: int) -> Any:
    """One file of a restored dossier, byte for byte as in the package (signatures intact)."""
    db = get_session()
    name, data = package.imported_file(db, services().blobs, current_actor(), package_id,
                                       ordinal, index)
    db.commit()  # the read's audit event
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/pdf" if name.lower().endswith(".pdf")
                     else "application/octet-stream")


@bp.post("/<int:dossier_id>/mo")
@operation(Op.KEEP_DOSSIER)
def open_dossier(dossier_id: int) -> Any:
    return _act(lambda: records.open_dossier(get_session(), current_actor(), dossier_id,
                                             request.form.get("start", "")[:20], today_vn()),
                "Đã mở hồ sơ.", _dossier_page(dossier_id))


@bp.post("/lap-ho-so")
@operation(Op.KEEP_DOSSIER)
def file_document() -> Any:
    """From a document's page: the document into one of the keeper's open dossiers."""
    raw, dossier = request.form.get("document_id", ""), request.form.get("dossier_id", "")
    return _act(lambda: records.add_document(get_session(), current_actor(),
                                             int(dossier) if dossier.isdigit() else 0,
                                             request.form.get("kind", "")[:20],
                                             int(raw) if raw.isdigit() else 0),
                "Đã đưa văn bản vào hồ sơ.", url_for("records.index"))


@bp.post("/<int:dossier_id>/tai-lieu")
@operation(Op.KEEP_DOSSIER)
def add_file(dossier_id: int) -> Any:
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    return _act(lambda: records.add_file(get_session(), services().blobs, current_actor(),
                                         dossier_id, request.form.get("title", "")[:1200],
                                         (upload.filename or "") if upload else "", data),
                "Đã thêm tài liệu vào hồ sơ.", _dossier_page(dossier_id))


@bp.post("/<int:dossier_id>/ghi-chu")
@operation(Op.KEEP_DOSSIER)
def add_note(dossier_id: int) -> Any:
    return _act(lambda: records.add_note(get_session(), current_actor(), dossier_id,
                                         request.form.get("text", "")[:5000]),
                "Đã thêm ghi chú.", _dossier_page(dossier_id))


@bp.post("/<int:dossier_id>/muc/<int:item_id>/xoa")
@operation(Op.KEEP_DOSSIER)
def remove_item(dossier_id: int, item_id: int) -> Any:
    return _act(lambda: records.remove_item(get_session(), current_actor(), dossier_id, item_id),
                "Đã bỏ khỏi hồ sơ.", _dossier_page(dossier_id))


@bp.get("/<int:dossier_id>/muc/<int:item_id>")
@operation(Op.VIEW_RECORDS)
def download_item(dossier_id: int, item_id: int) -> Any:
    d = records.get_dossier(get_session(), current_actor(), dossier_id)
    item = next((i for i in d.items if i.id == item_id and i.sha256), None)
    if item is None:
        from ioffice.errors import NotFound

        raise NotFound("Không tìm thấy tài liệu này trong hồ sơ.")
    return send_file(io.BytesIO(services().blobs.read_bytes(item.sha256)), as_attachment=True,
                     download_name=item.filename)


@bp.post("/<int:dossier_id>/ket-thuc")
@operation(Op.KEEP_DOSSIER)
def close_dossier(dossier_id: int) -> Any:
    return _act(lambda: records.close_dossier(get_session(), current_actor(), dossier_id,
                                              request.form.get("end", "")[:20],
                                              request.form.get("pages", "")[:10], today_vn()),
                "Đã kết thúc hồ sơ; hãy nộp lưu trong vòng 01 năm.", _dossier_page(dossier_id))


@bp.post("/<int:dossier_id>/mo-lai")
@operation(Op.KEEP_DOSSIER)
def reopen_dossier(dossier_id: int) -> Any:
    return _act(lambda: records.reopen_dossier(get_session(), current_actor(), dossier_id),
                "Đã mở lại hồ sơ; bổ sung xong hãy kết thúc lại.", _dossier_page(dossier_id))


# ---------------------------------------------------------------------------- hand-over

@bp.get("/nop-luu")
@operation(Op.VIEW_RECORDS)
def handover_list() -> Any:
    db, actor = get_session(), current_actor()
    rows = handovers.handovers(db, actor)
    closed = [d for d in records.my_dossiers(db, actor)
              if d.status is DossierStatus.CLOSED and d.handover_id is None]
    return render_template("records/handovers.html", rows=rows, closed=closed,
                           names=_names(db, {h.keeper_id for h in rows}))


@bp.post("/nop-luu")
@operation(Op.HAND_OVER)
def start_handover() -> Any:
    ids = [int(v) for v in request.form.getlist("dossier_id") if v.isdigit()][:500]
    return _act(lambda: handovers.start(get_session(), services().blobs, current_actor(), ids,
                                        today_vn()),
                "Đã lập biên bản giao nhận; hãy ký số để nộp lưu.",
                url_for("records.handover_list"),
                lambda h: url_for("records.handover", handover_id=h.id))


def _handover_page(handover_id: int) -> str:
    return url_for("records.handover", handover_id=handover_id)


@bp.get("/nop-luu/<int:handover_id>")
@operation(Op.VIEW_RECORDS)
def handover(handover_id: int) -> Any:
    db, actor = get_session(), current_actor()
    h: Handover = handovers.get_handover(db, actor, handover_id)
    return render_template("records/handover.html", h=h, statuses=HandoverStatus,
                           names=_names(db, {h.keeper_id, h.archivist_id or 0}),
                           mine=h.keeper_id == actor.user_id)


@bp.get("/nop-luu/<int:handover_id>/bien-ban.pdf")
@operation(Op.VIEW_RECORDS)
def handover_pdf(handover_id: int) -> Any:
    h = handovers.get_handover(get_session(), current_actor(), handover_id)
    return send_file(io.BytesIO(services().blobs.read_bytes(h.record_sha256)),
                     mimetype="application/pdf", as_attachment=request.args.get("xem") != "1",
                     download_name=f"bien-ban-giao-nhan-{h.id}.pdf")


@bp.post("/nop-luu/<int:handover_id>/ky")
@operation(Op.HAND_OVER)
def sign_handover(handover_id: int) -> Any:
    s = services()
    return _act(lambda: handovers.sign_as_keeper(get_session(), s.blobs, s.trust, current_actor(),
                                                 handover_id, request.form.get("pin", "")[:20],
                                                 tsa=s.timestamps),
                "Đã ký biên bản và nộp lưu; chờ Lưu trữ cơ quan nhận.",
                _handover_page(handover_id))


@bp.post("/nop-luu/<int:handover_id>/huy")
@operation(Op.HAND_OVER)
def cancel_handover(handover_id: int) -> Any:
    return _act(lambda: handovers.cancel(get_session(), current_actor(), handover_id),
                "Đã hủy biên bản; các hồ sơ trở lại danh sách chờ nộp lưu.",
                url_for("records.handover_list"))


@bp.post("/nop-luu/<int:handover_id>/nhan")
@operation(Op.RECEIVE_RECORDS)
def accept_handover(handover_id: int) -> Any:
    s = services()
    return _act(lambda: handovers.accept(get_session(), s.blobs, s.trust, current_actor(),
                                         handover_id, request.form.get("pin", "")[:20],
                                         tsa=s.timestamps),
                "Lưu trữ cơ quan đã nhận hồ sơ và ký biên bản giao nhận.",
                _handover_page(handover_id))


@bp.post("/nop-luu/<int:handover_id>/tra-lai")
@operation(Op.RECEIVE_RECORDS)
def return_handover(handover_id: int) -> Any:
    return _act(lambda: handovers.return_handover(get_session(), current_actor(), handover_id,
                                                  request.form.get("reason", "")[:2100]),
                "Đã trả lại biên bản cho người nộp lưu.", _handover_page(handover_id))


# ---------------------------------------------------------------------------- retention

@bp.get("/bao-quan", endpoint="retention")
@operation(Op.VIEW_RETENTION)
def retention_page() -> Any:
    """The archive's view: dossiers whose retention has ended, the proposals and decisions."""
    db, actor, today = get_session(), current_actor(), today_vn()
    expired = retention.expired_dossiers(db, actor, today)
    restored = retention.expired_restored(db, actor, today)
    rows = retention.destructions(db, actor)
    held = {(d.kind, d.id): retention.active_hold(db, d.id, d.kind) for d in [*expired,
                                                                              *restored]}
    return render_template("records/retention.html", expired=expired, restored=restored,
                           held=held, rows=rows, today=today,
                           names=_names(db, {r.proposed_by_id for r in rows}))


@bp.post("/tieu-huy")
@operation(Op.PROPOSE_DESTRUCTION)
def propose_destruction() -> Any:
    ids = [int(v) for v in request.form.getlist("dossier_id") if v.isdigit()][:500]
    restored = [int(v) for v in request.form.getlist("package_id") if v.isdigit()][:500]
    return _act(lambda: retention.propose(get_session(), current_actor(), ids,
                                          request.form.get("reason", "")[:4100], today_vn(),
                                          package_ids=restored),
                "Đã gửi đề nghị tiêu hủy; chờ lãnh đạo quyết định.",
                url_for("records.retention"),
                lambda row: url_for("records.destruction", destruction_id=row.id))


@bp.get("/tieu-huy/<int:destruction_id>")
@operation(Op.VIEW_RETENTION)
def destruction(destruction_id: int) -> Any:
    db = get_session()
    row = retention.destruction(db, current_actor(), destruction_id)
    return render_template("records/destruction.html", row=row, today=today_vn(),
                           names=_names(db, {row.proposed_by_id, row.decided_by_id or 0}),
                           holds={(d.kind, d.id): retention.active_hold(db, d.id, d.kind)
                                  for d in row.holdings})


@bp.get("/tieu-huy/<int:destruction_id>/bien-ban-huy.pdf")
@operation(Op.VIEW_RETENTION)
def destruction_forms(destruction_id: int) -> Any:
    """Danh mục tài liệu hết giá trị and Biên bản hủy tài liệu, one PDF to print and sign."""
    try:
        name, data = destruction_pdf.forms_pdf(get_session(), current_actor(), destruction_id)
    except RecordsError as exc:
        return render_template("error.html", title="Chưa có biên bản hủy tài liệu",
                               message=exc.message, status=400), 400
    return send_file(io.BytesIO(data), mimetype="application/pdf",
                     as_attachment=request.args.get("xem") != "1", download_name=name)


@bp.post("/tieu-huy/<int:destruction_id>/duyet")
@operation(Op.APPROVE_DESTRUCTION)
def approve_destruction(destruction_id: int) -> Any:
    """The leader's decision; once committed, the dossiers' own files are deleted."""
    db, page = get_session(), url_for("records.destruction", destruction_id=destruction_id)
    try:
        retention.approve(db, current_actor(), destruction_id,
                          request.form.get("decision", "")[:300], today_vn())
    except RecordsError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(page)
    db.commit()
    try:
        gone = retention.purge(db, services().blobs, destruction_id)
        db.commit()
    except (StorageError, OSError):
        # the decision stands; the blob cleanup removes the same files (see retention.purge)
        db.rollback()
        flash("Đã quyết định tiêu hủy; kho tệp chưa xóa được ngay, các tệp sẽ được xóa khi "
              "dọn kho định kỳ.", "success")
        return redirect(page)
    flash(f"Đã quyết định tiêu hủy; đã xóa {len(gone)} tệp của hồ sơ, giữ lại biên bản "
          "những gì đã tiêu hủy.", "success")
    return redirect(page)


@bp.post("/tieu-huy/<int:destruction_id>/tu-choi")
@operation(Op.APPROVE_DESTRUCTION)
def reject_destruction(destruction_id: int) -> Any:
    return _act(lambda: retention.reject(get_session(), current_actor(), destruction_id,
                                         request.form.get("reason", "")[:300]),
                "Đã không đồng ý tiêu hủy; hồ sơ tiếp tục được bảo quản.",
                url_for("records.destruction", destruction_id=destruction_id))


@bp.post("/<int:dossier_id>/tam-giu")
@operation(Op.LEGAL_HOLD)
def set_hold(dossier_id: int) -> Any:
    return _act(lambda: retention.hold(get_session(), current_actor(), dossier_id,
                                       request.form.get("reason", "")[:2100]),
                "Đã tạm giữ hồ sơ: hồ sơ không bị tiêu hủy cho đến khi bỏ tạm giữ.",
                _dossier_page(dossier_id))


@bp.post("/<int:dossier_id>/bo-tam-giu")
@operation(Op.LEGAL_HOLD)
def lift_hold(dossier_id: int) -> Any:
    return _act(lambda: retention.lift_hold(get_session(), current_actor(), dossier_id,
                                            request.form.get("reason", "")[:2100]),
                "Đã bỏ tạm giữ hồ sơ.", _dossier_page(dossier_id))


def _restored_page(package_id: int) -> str:
    return url_for("records.restored", package_id=package_id)


@bp.post("/da-nhap/<int:package_id>/tam-giu")
@operation(Op.LEGAL_HOLD)
def set_restored_hold(package_id: int) -> Any:
    """A legal hold on a restored dossier, as on a dossier of the list."""
    return _act(lambda: retention.hold(get_session(), current_actor(), package_id,
                                       request.form.get("reason", "")[:2100], kind="restored"),
                "Đã tạm giữ hồ sơ: hồ sơ không bị tiêu hủy cho đến khi bỏ tạm giữ.",
                _restored_page(package_id))


@bp.post("/da-nhap/<int:package_id>/bo-tam-giu")
@operation(Op.LEGAL_HOLD)
def lift_restored_hold(package_id: int) -> Any:
    return _act(lambda: retention.lift_hold(get_session(), current_actor(), package_id,
                                            request.form.get("reason", "")[:2100],
                                            kind="restored"),
                "Đã bỏ tạm giữ hồ sơ.", _restored_page(package_id))
