"""Incoming documents in the browser: register, view, distribute, handle, follow up, export."""

from __future__ import annotations

import dataclasses
import io
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Role
from ioffice.db_session import get_session
from ioffice.documents.attached import INCOMING
from ioffice.documents.attached import attached as documents_attached
from ioffice.documents.pdf import RENDER_VERSION, InvalidPdf
from ioffice.documents.vocabulary import DOC_TYPES, DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.errors import DomainError, NotFound
from ioffice.incoming import access, export, handling, queries, registration
from ioffice.incoming.errors import AlreadySubmitted, DuplicateSuspected, InvalidInput
from ioffice.incoming.models import AssignmentRole, DocumentFile, DocumentStatus, IncomingDocument
from ioffice.notifications import service as notices
from ioffice.ocr import service as ocr_service
from ioffice.records import retention
from ioffice.services import services
from ioffice.web import forms, inputs, uploads
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor
from ioffice.web.previews import page_png

bp = Blueprint("incoming", __name__, url_prefix="/van-ban-den")


@bp.url_defaults
def _preview_version(endpoint: str, values: dict[str, Any]) -> None:
    """Preview URLs carry the renderer's version: a browser does not reuse, for up to a day
    (their Cache-Control), a page it cached from an older renderer."""
    if endpoint == "incoming.preview":
        values.setdefault("r", RENDER_VERSION)

DISTRIBUTABLE = (DocumentStatus.REGISTERED, DocumentStatus.DISTRIBUTED, DocumentStatus.IN_PROGRESS)
"""The statuses in which the document page shows the distribution form."""

QUEUES = {
    "can-xu-ly": ("Cần xử lý", "all"),
    "qua-han": ("Quá hạn", "overdue"),
    "sap-den-han": ("Đến hạn trong 3 ngày", "due_soon"),
}


def _doc_form_context(**extra: Any) -> dict[str, Any]:
    return {"doc_types": DOC_TYPES, "urgencies": list(Urgency),
            "confidentialities": list(Confidentiality), **extra}


def _input_from_form(form: Any, files: list[registration.UploadedFile], errors: forms.FormErrors
                     ) -> registration.IncomingInput:
    return registration.IncomingInput(
        issuer_name=forms.text(form, "issuer_name", 255),
        issuer_code=forms.text(form, "issuer_code", 35),
        number=forms.text(form, "number", 20),
        notation=forms.text(form, "notation", 60),
        document_date=forms.date(form, "document_date", errors, "Ngày văn bản"),
        doc_type=forms.text(form, "doc_type", 32),
        subject=forms.text(form, "subject", 2000),
        signer=forms.text(form, "signer", 255),
        page_count=forms.integer(form, "page_count", errors, "Số trang"),
        urgency=forms.choice(form, "urgency", Urgency, Urgency.NORMAL),
        confidentiality=forms.choice(form, "confidentiality", Confidentiality, Confidentiality.NORMAL),
        due_date=forms.date(form, "due_date", errors, "Hạn xử lý"),
        notes=forms.text(form, "notes", 2000),
        document_identifier=forms.text(form, "document_identifier", 255),
        submission_id=forms.text(form, "submission_id", 64),
        confirm_duplicate=form.get("confirm_duplicate") == "1",
        files=tuple(files), machine_read=tuple(form.getlist("machine_read"))[:10])


@bp.route("/vao-so", methods=["GET", "POST"])
@operation(Op.REGISTER_INCOMING)
def register() -> Any:
    db = get_session()
    if request.method == "GET":
        return _register_form({}, {}, status=200)
    errors = forms.FormErrors()
    upload = uploads.files("files")
    if upload.error:
        errors["files"] = upload.error
    data = _input_from_form(request.form, [registration.UploadedFile(name, content)
                                           for name, content in upload.items], errors)
    data = dataclasses.replace(data, scan_tokens=tuple(h.token for h in upload.held))
    duplicates: list[IncomingDocument] = []
    try:
        if errors:  # the format errors and every other error of the form, at once
            raise InvalidInput({**registration.validate(data, registration.today_vn(),
                                                        need_files=not upload.error), **errors})
        doc = registration.register_paper(db, services().blobs, current_actor(), data,
                                           trust=services().trust_if_ready())
        db.commit()
    except AlreadySubmitted as exc:
        db.rollback()
        flash(exc.message, "info")
        return redirect(url_for("incoming.show", document_id=exc.document.id))
    except IntegrityError:
        # the same form submitted twice at the same moment: the other request won
        db.rollback()
        earlier = db.scalars(select(IncomingDocument).where(
            IncomingDocument.agency_id == current_actor().agency_id,
            IncomingDocument.submission_id == data.submission_id)).one_or_none()
        if earlier is None:
            raise
        flash(AlreadySubmitted(earlier).message, "info")
        return redirect(url_for("incoming.show", document_id=earlier.id))
    except InvalidInput as exc:
        db.rollback()
        errors.update(exc.fields)
    except DuplicateSuspected as exc:
        db.rollback()
        duplicates = exc.matches
        errors["duplicate"] = exc.message
    else:
        upload.release()
        flash(f"Đã vào sổ văn bản đến số {doc.incoming_number}.", "success")
        return redirect(url_for("incoming.show", document_id=doc.id))
    # a file the service refused (not a PDF, encrypted) is not worth keeping
    held_files = [] if "files" in errors else upload.hold()
    return _register_form(request.form, errors, duplicates=duplicates, held_files=held_files,
                          submission_id=data.submission_id)


def _register_form(form: Any, errors: dict[str, str], *, duplicates: Any = (),
                   held_files: Any = (), submission_id: str = "", status: int = 422) -> Any:
    return render_template("incoming/register.html", form=form, errors=errors,
                           duplicates=duplicates, held_files=held_files,
                           machine_read=form.getlist("machine_read") if form else [],
                           scan_job=form.get("scan_job", "") if form else "",
                           **_doc_form_context(submission_id=submission_id or uuid.uuid4().hex)
                           ), status


@bp.route("/quet", methods=["POST"])
@operation(Op.REGISTER_INCOMING)
def scan_upload() -> Any:
    """The registration form's scan, sent as soon as it is chosen: kept, its OCR queued for the
    worker; answers at once (JSON) whatever the number of pages."""
    db = get_session()
    found = [f for f in request.files.getlist("file") if f and f.filename]
    if len(found) != 1:
        return jsonify(error="Chọn một tệp quét (PDF, JPG hoặc PNG)."), 422
    try:
        started = ocr_service.start_scan(db, services().blobs, current_actor(),
                                         found[0].filename or "ban-quet.pdf", found[0].read())
    except InvalidPdf as exc:
        db.rollback()
        return jsonify(error=exc.message), 422
    db.commit()
    return jsonify({**_scan_json(started.job), "token": started.held.token,
                    "filename": started.held.filename}), 202


@bp.route("/quet/<int:job_id>")
@operation(Op.REGISTER_INCOMING)
def scan_status(job_id: int) -> Any:
    job = ocr_service.scan_status(get_session(), current_actor(), job_id)
    get_session().commit()
    return jsonify(_scan_json(job))


def _scan_json(job: Any) -> dict[str, Any]:
    finished = job.state.finished
    return {"job": job.id, "state": job.state.value, "label": job.state.label,
            "pages_done": job.pages_done, "pages_total": job.pages_total,
            "finished": finished, "error": job.error,
            "fields": (job.fields or {}) if finished else {},
            "status_url": url_for("incoming.scan_status", job_id=job.id)}


@bp.route("/<int:document_id>/ocr")
@operation(Op.READ_INCOMING)
def ocr_progress(document_id: int) -> Any:
    """The OCR of a document's files, for the document page's progress line."""
    db = get_session()
    doc = queries.read_document(db, current_actor(), document_id)
    jobs = ocr_service.document_jobs(db, doc.id)
    db.commit()
    return jsonify(jobs=[{"file_id": j.file_id, "state": j.state.value, "label": j.state.label,
                          "pages_done": j.pages_done, "pages_total": j.pages_total,
                          "finished": j.state.finished, "error": j.error} for j in jobs])


@bp.route("/<int:document_id>/tep/<int:file_id>/chay-lai-ocr", methods=["POST"])
@operation(Op.REGISTER_INCOMING)
def ocr_retry(document_id: int, file_id: int) -> Any:
    """The clerk's «Chạy lại nhận dạng chữ (OCR)» of a file whose OCR failed: queued again for
    the worker; the page shows its progress."""
    db = get_session()
    return _act(lambda: ocr_service.retry(db, services().blobs, current_actor(), document_id,
                                          file_id),
                document_id, "Đã đưa tệp vào hàng chờ nhận dạng chữ (OCR) lại.", form="ocr")


def register_oversize(form: Any, message: str) -> Any:
    """The registration form again after an over-size upload: the fields kept, the file not."""
    return _register_form(form, {"files": message},
                          submission_id=form.get("submission_id", ""), status=413)


def _opening_tab(actor: Any, counts: queries.Counts) -> str:
    """Without a tab asked for, the page opens on what waits for the user: the clerk's
    documents to register when there are any, else the user's own assignments."""
    if counts.to_register and actor.may(Op.VIEW_TO_REGISTER):
        return "cho-vao-so"
    return "can-xu-ly"


@bp.route("/")
@operation(Op.VIEW_TO_HANDLE)
def index() -> Any:
    db = get_session()
    actor = current_actor()
    today = registration.today_vn()
    counts = queries.counts(db, actor, today)
    tab = request.args.get("tab") or _opening_tab(actor, counts)
    if tab not in QUEUES and tab not in ("cho-vao-so", "cho-phan-phoi"):
        tab = "can-xu-ly"
    docs: list[Any] = []
    assignments: list[queries.QueueRow] = []
    if tab == "cho-vao-so":  # the queries refuse a role the table does not allow (403)
        docs = queries.to_register(db, actor, rows=True)
    elif tab == "cho-phan-phoi":
        docs = queries.to_distribute(db, actor, rows=True)
    else:
        assignments = queries.to_handle_rows(db, actor, today=today, which=QUEUES[tab][1],
                                             after=request.args.get("sau") or None)
    # each row carries its unread mark (read in the list's own statement)
    unread = {d.id for d in docs if d.unread} | {a.document_id for a in assignments if a.unread}
    return render_template("incoming/index.html", tab=tab, queues=QUEUES, docs=docs,
                           assignments=assignments, today=today, cursor=queries.queue_cursor,
                           unread=unread,
                           counts=counts,
                           extension_requests=queries.extension_request_rows(db, actor))


@bp.route("/<int:document_id>")
@operation(Op.READ_INCOMING)
def show(document_id: int) -> Any:
    return _show_page(document_id)


def _show_page(document_id: int, kept: forms.Kept | None = None) -> Any:
    """The document page; ``kept``: a form of the page that was refused, shown again with what
    was typed and its errors (status 422)."""
    db = get_session()
    actor = current_actor()
    doc = queries.read_document(db, actor, document_id)
    # which of the page's side lists (dossiers, copies, requests, OCR) to read at all
    attached = documents_attached(db, INCOMING, doc.agency_id, doc.id, actor.user_id)
    today = registration.today_vn()
    # the people and departments of the assignment forms, read only for a form the page shows
    distributing = actor.may(Op.DISTRIBUTE) and doc.status in DISTRIBUTABLE
    passing_on = actor.may(Op.PASS_ON) and actor.department_id is not None and any(
        a.assignee_department_id and a.status.is_open and handling.can_handle(actor, a)
        for a in doc.assignments)
    members = (queries.people_to_assign(db, actor.agency_id)
               if distributing or passing_on else [])
    dept_members = [m for m in members if m.department_id == actor.department_id]
    page = render_template(
        "incoming/show.html", doc=doc, history=queries.history(db, doc), today=today,
        doc_type=DOC_TYPES_BY_CODE.get(doc.doc_type), roles=list(AssignmentRole),
        departments=queries.departments_to_assign(db, actor.agency_id) if distributing else [],
        members=members, dept_members=dept_members,
        can_handle=lambda a: handling.can_handle(actor, a),
        actor=actor, Role=Role, statuses=DocumentStatus, distributable=DISTRIBUTABLE,
        kept=kept or forms.Kept.none(),
        ocr_jobs={j.file_id: j for j in ocr_service.document_jobs(db, doc.id)}
        if attached.ocr_jobs else {}, attached=attached,
        destroyed=retention.destroyed_message(db, doc), Op_VIEW_RETENTION=Op.VIEW_RETENTION,
        **_doc_form_context())
    if attached.unread:  # what told of it is read
        notices.mark_subject_read(db, actor.user_id, "incoming", doc.id)
    # the read is audited before the page leaves (one read transaction, then the event's)
    db.commit()
    return page, 422 if kept else 200


@bp.route("/<int:document_id>/vao-so", methods=["POST"])
@operation(Op.REGISTER_INCOMING)
def register_received(document_id: int) -> Any:
    db = get_session()
    errors = forms.FormErrors()
    data = _input_from_form(request.form, [], errors)
    try:
        if errors:
            raise InvalidInput({**registration.validate(data, registration.today_vn(),
                                                        need_files=False), **errors})
        doc = registration.register_received(db, current_actor(), document_id, data)
    except InvalidInput as exc:
        db.rollback()
        return _refused(document_id, "vao-so", {**exc.fields, **errors})
    except DuplicateSuspected as exc:
        db.rollback()
        return _refused(document_id, "vao-so", {"duplicate": exc.message})
    db.commit()
    flash(f"Đã vào sổ văn bản đến số {doc.incoming_number}.", "success")
    return redirect(url_for("incoming.show", document_id=doc.id))


@bp.route("/<int:document_id>/tu-choi", methods=["POST"])
@operation(Op.REJECT_INCOMING)
def reject(document_id: int) -> Any:
    db = get_session()
    return _act(lambda: registration.reject_received(db, current_actor(), document_id,
                                                     forms.text(request.form, "reason")),
                document_id, "Đã từ chối văn bản; bên gửi sẽ nhận được lý do.", form="tu-choi")


def _target(form: Any, prefix: str, errors: forms.FormErrors) -> handling.Target | None:
    raw = (form.get(f"{prefix}_target") or "").strip()
    if not raw:
        return None
    kind, _, ident = raw.partition(":")
    if kind not in ("department", "user") or not ident.isdigit():
        errors[prefix] = "Đối tượng giao không hợp lệ."
        return None
    return handling.Target(kind, int(ident), forms.date(form, f"{prefix}_deadline", errors, "Hạn xử lý"))


def _targets(form: Any, name: str, errors: forms.FormErrors) -> tuple[handling.Target, ...]:
    deadline = forms.date(form, f"{name}_deadline", errors, "Hạn xử lý")
    result = []
    for raw in form.getlist(f"{name}_targets"):
        kind, _, ident = raw.partition(":")
        if kind in ("department", "user") and ident.isdigit():
            result.append(handling.Target(kind, int(ident),
                                          deadline if name == "co" else None))
        else:
            errors[name] = "Đối tượng giao không hợp lệ."
    return tuple(result)


@bp.route("/<int:document_id>/phan-phoi", methods=["POST"])
@operation(Op.DISTRIBUTE)
def distribute(document_id: int) -> Any:
    db = get_session()
    errors = forms.FormErrors()
    data = handling.DistributionInput(
        lead=_target(request.form, "lead", errors),
        co_handlers=_targets(request.form, "co", errors),
        for_information=_targets(request.form, "info", errors),
        instruction=forms.text(request.form, "instruction"))
    return _act(lambda: handling.distribute(db, current_actor(), document_id, data), document_id,
                "Đã phân phối văn bản.", form="phan-phoi", errors=errors)


def _refused(document_id: int, form: str, errors: dict[str, str]) -> Any:
    """The document page again, the refused form keeping what was typed and listing its
    errors."""
    return _show_page(document_id, forms.Kept(form, request.form, errors))


def _act(operation: Any, document_id: int, success: str, *, form: str,
         errors: dict[str, str] | None = None) -> Any:
    """Run one service operation; a refusal shows the page again with the form ``form`` as it
    was typed and its errors (``errors``: those found while reading the form, listed with the
    service's)."""
    db = get_session()
    try:
        if errors:
            raise InvalidInput(dict(errors))
        operation()
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        fields = getattr(exc, "fields", None) or {}
        if not fields:  # a refusal of the whole action, not of a field: said at the top
            flash(exc.message, "error")
        return _refused(document_id, form, {**fields, **(errors or {})})
    db.commit()
    flash(success, "success")
    return redirect(url_for("incoming.show", document_id=document_id))


ASSIGNMENT_ACTIONS = {
    "giao-tiep": "pass_on", "tien-do": "progress", "gia-han": "extension",
    "duyet-gia-han": "decide", "hoan-thanh": "finish", "tra-lai": "return",
}
ASSIGNMENT_OPS = {"pass_on": Op.PASS_ON, "decide": Op.DECIDE_EXTENSION, "progress":
                  Op.HANDLE_ASSIGNMENT, "extension": Op.HANDLE_ASSIGNMENT,
                  "finish": Op.HANDLE_ASSIGNMENT, "return": Op.HANDLE_ASSIGNMENT}


@bp.route("/phan-cong/<int:assignment_id>/<action>", methods=["POST"])
@operation(Op.HANDLE_ASSIGNMENT)
def assignment_action(assignment_id: int, action: str) -> Any:
    if action not in ASSIGNMENT_ACTIONS:
        abort(404)
    db = get_session()
    actor = current_actor()
    kind = ASSIGNMENT_ACTIONS[action]
    actor.check(ASSIGNMENT_OPS[kind])
    assignment = handling.get_assignment(db, actor, assignment_id)
    document_id = assignment.document_id
    form = request.form
    errors = forms.FormErrors()
    if kind == "pass_on":
        user_id = forms.integer(form, "user_id", errors, "Người nhận")
        deadline = forms.date(form, "deadline", errors, "Hạn xử lý")
        if user_id is None:
            errors["user_id"] = "Chưa chọn người nhận."

        def op() -> Any:
            return handling.pass_on(db, actor, assignment_id, user_id or 0, deadline,
                                    forms.text(form, "instruction"))
        message = "Đã giao việc cho chuyên viên."
    elif kind == "progress":
        def op() -> Any:
            return handling.record_progress(db, actor, assignment_id, forms.text(form, "note"))
        message = "Đã cập nhật tiến độ."
    elif kind == "extension":
        new_deadline = forms.date(form, "new_deadline", errors, "Hạn mới")
        if new_deadline is None and "new_deadline" not in errors:
            errors["new_deadline"] = "Chưa nhập hạn mới."

        def op() -> Any:
            return handling.request_extension(db, actor, assignment_id, new_deadline,  # type: ignore[arg-type]
                                              forms.text(form, "reason"))
        message = "Đã gửi đề nghị gia hạn."
    elif kind == "decide":
        approve = form.get("approve") == "1"

        def op() -> Any:
            return handling.decide_extension(db, actor, assignment_id, approve)
        message = "Đã đồng ý gia hạn." if approve else "Đã từ chối gia hạn."
    elif kind == "finish":
        def op() -> Any:
            return handling.finish(db, actor, assignment_id, forms.text(form, "result"),
                                   forms.text(form, "reply_number", 90))
        message = "Đã hoàn thành xử lý."
    else:
        def op() -> Any:
            return handling.return_assignment(db, actor, assignment_id, forms.text(form, "reason"))
        message = "Đã trả lại văn bản."
    return _act(op, document_id, message, form=f"{action}:{assignment_id}", errors=errors)


def _file(document_id: int, file_id: int) -> tuple[IncomingDocument, DocumentFile]:
    db = get_session()
    doc = queries.read_document(db, current_actor(), document_id)
    file = next((f for f in doc.files if f.id == file_id), None)
    if file is None:
        raise NotFound("Không tìm thấy tệp.")
    retention.check_not_destroyed(db, doc)
    return doc, file


@bp.route("/<int:document_id>/tep/<int:file_id>")
@operation(Op.READ_INCOMING)
def download(document_id: int, file_id: int) -> Any:
    _doc, file = _file(document_id, file_id)
    get_session().commit()
    blobs = services().blobs
    return send_file(io.BytesIO(blobs.read_bytes(file.sha256)), mimetype=file.content_type,
                     as_attachment=request.args.get("xem") != "1", download_name=file.filename)


@bp.route("/<int:document_id>/tep/<int:file_id>/ban-tim-kiem")
@operation(Op.READ_INCOMING)
def download_searchable(document_id: int, file_id: int) -> Any:
    """The searchable copy OCR made of a scan (the original stays the document's file)."""
    _doc, file = _file(document_id, file_id)
    job = ocr_service.file_copy(get_session(), file)
    get_session().commit()
    if job is None:
        raise NotFound("Tệp này chưa có bản tìm kiếm được.")
    name = file.filename.rsplit(".", 1)[0] + "-ocr.pdf"
    return send_file(io.BytesIO(services().blobs.read_bytes(job.output_sha256)),
                     mimetype="application/pdf", as_attachment=request.args.get("xem") != "1",
                     download_name=name)


@bp.route("/<int:document_id>/tep/<int:file_id>/trang-<int:page>.png")
@operation(Op.READ_INCOMING)
def preview(document_id: int, file_id: int, page: int) -> Any:
    doc = access.get_document(get_session(), current_actor(), document_id)
    retention.check_not_destroyed(get_session(), doc)
    file = next((f for f in doc.files if f.id == file_id), None)
    if file is None or file.content_type != "application/pdf" or not 1 <= page <= max(file.page_count, 1):
        abort(404)
    return page_png(file.sha256, page)


@bp.route("/so")
@operation(Op.VIEW_INCOMING_REGISTER)
def register_book() -> Any:
    db = get_session()
    actor = current_actor()
    flt = _register_filter()
    docs = queries.register_page(db, actor, flt, after_number=inputs.arg_int(request.args, "sau", "sau"))
    return render_template("incoming/register_book.html", docs=docs, flt=flt,
                           years=queries.years_with_registers(db, actor) or [flt.year],
                           doc_types=DOC_TYPES, page_size=queries.PAGE_SIZE)


def _register_filter() -> queries.RegisterFilter:
    year = inputs.arg_int(request.args, "nam", "năm") or registration.today_vn().year
    month = inputs.arg_int(request.args, "thang", "tháng")
    return queries.RegisterFilter(year=year, month=month if month and 1 <= month <= 12 else None,
                                  doc_type=request.args.get("loai") or None,
                                  issuer=request.args.get("noi_gui") or None)


@bp.route("/so.xlsx")
@operation(Op.EXPORT_INCOMING_REGISTER)
def register_export() -> Any:
    db = get_session()
    actor = current_actor()
    name, data = export.export_register(db, actor, _register_filter())
    db.commit()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/theo-doi")
@operation(Op.FOLLOW_UP)
def follow_up() -> Any:
    db = get_session()
    actor = current_actor()
    errors = forms.FormErrors()
    flt = queries.FollowUpFilter(
        department_id=inputs.arg_int(request.args, "phong", "phòng"),
        start=forms.date(request.args, "tu", errors, "Từ ngày"),
        end=forms.date(request.args, "den", errors, "Đến ngày"),
        only_overdue=request.args.get("qua_han") == "1")
    if flt.department_id:
        agencies.department_in_agency(db, actor.agency_id, flt.department_id)
    today = registration.today_vn()
    rows = queries.follow_up(db, actor, flt, today)
    return render_template("incoming/follow_up.html", rows=rows, flt=flt, today=today, errors=errors,
                           departments=agencies.list_departments(db, actor.agency_id))
