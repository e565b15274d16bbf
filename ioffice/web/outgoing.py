"""Outgoing documents in the browser: draft, review, sign (PIN or browser key), number, seal,
dispatch, register."""

from __future__ import annotations

import base64
import binascii
import functools
import io
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Agency, Role, User
from ioffice.db_session import get_session
from ioffice.documents.attached import OUTGOING
from ioffice.documents.attached import attached as documents_attached
from ioffice.documents.pdf import RENDER_VERSION
from ioffice.documents.vocabulary import DOC_TYPES, DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.errors import DomainError, NotFound
from ioffice.incoming import access as incoming_access
from ioffice.incoming.models import IncomingDocument
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.notifications import service as notices
from ioffice.outgoing import (
    blanks,
    dispatch,
    drafts,
    export,
    issue,
    numbering,
    queries,
    review,
    signatures,
)
from ioffice.outgoing.errors import InvalidInput, PersistedFailure
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, RecipientKind
from ioffice.records import retention
from ioffice.services import services
from ioffice.web import forms, inputs, uploads
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor
from ioffice.web.previews import page_png
from signing.validate import LEVEL_NAMES

bp = Blueprint("outgoing", __name__, url_prefix="/van-ban-di")


@bp.url_defaults
def _preview_version(endpoint: str, values: dict[str, Any]) -> None:
    """Preview URLs carry the renderer's version: a browser does not reuse, for up to a day
    (their Cache-Control), a page it cached from an older renderer."""
    if endpoint == "outgoing.preview":
        values.setdefault("r", RENDER_VERSION)

HISTORY_LABELS = {
    "outgoing:draft:create": "tạo dự thảo", "outgoing:draft:upload": "tải lên phiên bản",
    "outgoing:draft:comment": "góp ý", "outgoing:review:submit": "trình duyệt",
    "outgoing:review:approve": "duyệt", "outgoing:review:send-back": "trả lại dự thảo",
    "outgoing:review:skip": "chuyển tiếp dự thảo", "outgoing:review:withdraw": "rút lại dự thảo",
    "outgoing:review:reassign": "quản trị giao bước duyệt",
    "outgoing:signer:reassign": "quản trị đổi người ký",
    "outgoing:signature:prepare": "chuẩn bị ký trên trình duyệt",
    "outgoing:signature:position": "chọn vị trí chữ ký",
    "outgoing:signature:personal": "ký số (người có thẩm quyền)",
    "outgoing:signature:wrong-pin": "nhập sai mã PIN", "outgoing:signature:pin-locked":
    "khóa ký số bị khóa do sai PIN", "outgoing:signature:refused": "chữ ký bị từ chối",
    "outgoing:document:number": "cấp số", "outgoing:signature:agency": "ký số của cơ quan",
    "copies:copy:request": "quyết định sao văn bản", "copies:copy:make": "thực hiện bản sao",
    "outgoing:document:dispatch": "phát hành", "outgoing:document:revoke": "thu hồi",
    "outgoing:document:update": "gửi cập nhật", "outgoing:document:replace": "bị thay thế",
}


@bp.route("/")
@operation(Op.READ_OUTGOING)
def index() -> Any:
    db = get_session()
    actor = current_actor()
    args = request.args
    listing = queries.listing(db, actor, to_act_after=args.get("sau_cho_xu_ly") or None,
                              mine_after=args.get("sau_toi_soan") or None,
                              recent_after=args.get("sau_da_phat_hanh") or None)
    # each row carries its unread mark (read in its section's statement)
    unread = {r.id for rows in (listing.to_act, listing.mine, listing.recent) for r in rows
              if r.unread}
    return render_template("outgoing/index.html", listing=listing, doc_types=DOC_TYPES_BY_CODE,
                           unread=unread)


def _form_context(**extra: Any) -> dict[str, Any]:
    db = get_session()
    actor = current_actor()
    agencies_all = [a for a in agencies.list_agencies(db) if a.id != actor.agency_id]
    return {"doc_types": DOC_TYPES, "urgencies": list(Urgency),
            "confidentialities": list(Confidentiality),
            "signers": (chosen := drafts.signers(db, actor.agency_id)),
            "signer_titles": {u.id: agencies.post_title(db, u, actor.agency_id) for u in chosen},
            "departments": agencies.list_departments(db, actor.agency_id),
            "other_agencies": agencies_all, **extra}


@bp.route("/moi", methods=["GET", "POST"])
@operation(Op.DRAFT_OUTGOING)
def new() -> Any:
    db = get_session()
    actor = current_actor()
    incoming = _replied_to()
    if request.method == "GET":
        form = {"subject": f"V/v trả lời văn bản số {incoming.number_notation}" if incoming else "",
                "agency_codes": [incoming.issuer_code] if incoming and incoming.issuer_code else []}
        return _new_form(form, {}, status=200)
    errors = forms.FormErrors()
    form = request.form
    data = drafts.DraftInput(
        doc_type=forms.text(form, "doc_type", 32), subject=forms.text(form, "subject"),
        signer_id=forms.integer(form, "signer_id", errors, "Người ký"),
        urgency=forms.choice(form, "urgency", Urgency, Urgency.NORMAL),
        confidentiality=forms.choice(form, "confidentiality", Confidentiality,
                                     Confidentiality.NORMAL),
        signer_position=forms.text(form, "signer_position", 255),
        department_ids=tuple(int(v) for v in form.getlist("department_ids") if v.isdigit()),
        agency_codes=tuple(v.strip() for v in form.getlist("agency_codes") if v.strip()),
        reply_to_id=incoming.id if incoming else None,
        due_date=forms.date(form, "due_date", errors, "Hạn trả lời"),
        copies=forms.integer(form, "copies", errors, "Số lượng bản") or 1,
        notes=forms.text(form, "notes"))
    upload = uploads.files("file")
    if upload.error:
        errors["file"] = upload.error
    elif not upload.items:
        errors["file"] = "Chưa chọn tệp dự thảo (PDF hoặc DOCX)."
    name, content = upload.items[0] if upload.items else ("", b"")
    try:
        if errors:  # the format errors and the service's own, all listed at once
            raise InvalidInput({**drafts.validate(db, actor, data), **errors})
        doc = drafts.create_draft(db, services().blobs, actor, data,
                                  drafts.Upload(name or "du-thao.pdf", content))
    except InvalidInput as exc:
        db.rollback()
        errors.update(exc.fields)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        errors["file"] = exc.message
    else:
        db.commit()
        upload.release()
        flash("Đã tạo dự thảo.", "success")
        return redirect(url_for("outgoing.show", document_id=doc.id))
    held_files = [] if "file" in errors else upload.hold()
    return _new_form(form, errors, held_files=held_files)


def _replied_to() -> IncomingDocument | None:
    reply_to = inputs.arg_int(request.args, "tra_loi", "trả lời văn bản")
    incoming = get_session().get(IncomingDocument, reply_to) if reply_to else None
    if incoming is not None and not incoming_access.can_read(get_session(), current_actor(),
                                                             incoming):
        return None
    return incoming


def _new_form(form: Any, errors: dict[str, str], *, held_files: Any = (), status: int = 422
              ) -> Any:
    if hasattr(form, "getlist"):  # a submitted form: the multiple choices as lists
        form = {**form, "agency_codes": form.getlist("agency_codes"),
                "department_ids": form.getlist("department_ids")}
    return render_template("outgoing/new.html", form=form, errors=errors, held_files=held_files,
                           incoming=_replied_to(), **_form_context()), status


def new_oversize(form: Any, message: str) -> Any:
    """The draft form again after an over-size upload: the fields kept, the file not."""
    return _new_form(form, {"file": message}, status=413)


@bp.route("/<int:document_id>")
@operation(Op.READ_OUTGOING)
def show(document_id: int) -> Any:
    return _show_page(document_id)


def _show_page(document_id: int, kept: forms.Kept | None = None, status: int = 422) -> Any:
    """The document page; ``kept``: a refused form of the page shown again as it was typed,
    with its errors (status 422)."""
    db = get_session()
    actor = current_actor()
    # which of its lists it has, and whether the reader has unread notifications about it, in
    # one statement (documents/attached.py); what it says is used only once the document is read
    attached = documents_attached(db, OUTGOING, actor.agency_id, document_id, actor.user_id)
    doc = queries.read_document(db, actor, document_id, attached)
    # the signing forms are the signer's only (outgoing/show.html, _approve_sign.html)
    certificates = keys.personal_certificates(db, actor.user_id, actor.agency_id) \
        if doc.signer_id == actor.user_id else {}
    browser_cert, pin_cert = certificates.get(KeyHolder.BROWSER), certificates.get(KeyHolder.PIN)
    if attached.unread:  # what told of it is read
        notices.mark_subject_read(db, actor.user_id, "outgoing", doc.id)
    page = render_template(
        "outgoing/show.html", doc=doc, actor=actor, Role=Role, statuses=OutgoingStatus,
        doc_type=DOC_TYPES_BY_CODE.get(doc.doc_type), history=queries.history(db, doc),
        step=review.current_step(db, doc), chain=review.chain(db, doc.agency_id),
        can_review=review.can_review(db, actor, doc),
        can_upload=drafts.can_upload(db, actor, doc),
        reply_to=db.get(IncomingDocument, doc.reply_to_id) if doc.reply_to_id else None,
        statuses_by_recipient={s.organ_id: s for s in dispatch.recipient_statuses(db, actor, doc)},
        browser_cert=browser_cert, pin_cert=pin_cert, RecipientKind=RecipientKind,
        labels=HISTORY_LABELS, level_names=LEVEL_NAMES, **_routing(db, actor, doc),
        kept=kept or forms.Kept.none(), destroyed=retention.destroyed_message(db, doc),
        Op_VIEW_RETENTION=Op.VIEW_RETENTION, attached=attached)
    db.commit()  # the notifications marked read (after the page's read transaction)
    return page, status if kept else 200


def _routing(db: Any, actor: Any, doc: OutgoingDocument) -> dict[str, Any]:
    """What the drafter sees before submitting (the way the draft will go) and after (whether
    it can still be withdrawn): outgoing/_route.html, outgoing/_withdraw.html."""
    mine = doc.created_by_id == actor.user_id
    drafting = mine and doc.status is OutgoingStatus.DRAFT
    # who can take each step, read once for the route and the signer's check
    people = agencies.role_holders(db, doc.agency_id, review.ROUTE_ROLES) if drafting else None
    return {"route": review.route(db, doc, people) if drafting else [],
            "signer_problem": review.signer_problem(db, doc, people) if drafting else "",
            "withdrawable": (mine and doc.status is OutgoingStatus.IN_REVIEW
                             and review.acted_since_submit(doc) is None)}


def _act(operation: Callable[[], Any], document_id: int,
         success: str | Callable[[Any], str], *, form: str | None = None,
         error_prefix: str = "") -> Any:
    """One service operation; domain errors shown on the page. A PersistedFailure (wrong PIN,
    refused signature) is committed: what it counted must not roll back. ``success``: the
    message, or what makes it from the operation's result. ``form``: the page's form that
    posted, shown again as typed after a refusal. ``error_prefix``: put before a flashed
    error (what did not happen)."""
    db = get_session()
    try:
        result = operation()
    except NotFound:
        db.rollback()
        raise
    except PersistedFailure as exc:
        db.commit()
        flash(error_prefix + exc.message, "error")
        return redirect(url_for("outgoing.show", document_id=document_id)), 303
    except DomainError as exc:
        db.rollback()
        if form is not None:
            fields = getattr(exc, "fields", None) or {"form": exc.message}
            return _show_page(document_id, forms.Kept(form, request.form, fields))
        flash(error_prefix + exc.message, "error")
        return redirect(url_for("outgoing.show", document_id=document_id)), 303
    db.commit()
    flash(success(result) if callable(success) else success, "success")
    target = result.id if isinstance(result, OutgoingDocument) else document_id
    return redirect(url_for("outgoing.show", document_id=target))


@bp.route("/<int:document_id>/phien-ban", methods=["POST"])
@operation(Op.UPLOAD_VERSION)
def upload(document_id: int) -> Any:
    file = request.files.get("file")
    data = drafts.Upload(file.filename or "du-thao.pdf", file.read()) if file else drafts.Upload("", b"")
    return _act(lambda: drafts.upload_version(get_session(), services().blobs, current_actor(),
                                              document_id, data, forms.text(request.form, "note")),
                document_id, "Đã tải lên phiên bản mới.", form="phien-ban")


def upload_oversize(form: Any, message: str, document_id: int) -> Any:
    """The document page again after an over-size version: the note kept, the file not."""
    return _show_page(document_id, forms.Kept("phien-ban", form, {"file": message}), status=413)


@bp.route("/<int:document_id>/y-kien", methods=["POST"])
@operation(Op.COMMENT_OUTGOING)
def comment(document_id: int) -> Any:
    return _act(lambda: drafts.add_comment(get_session(), current_actor(), document_id,
                                           forms.text(request.form, "body")),
                document_id, "Đã ghi ý kiến.", form="y-kien")


@bp.route("/<int:document_id>/trinh", methods=["POST"])
@operation(Op.SUBMIT_DRAFT)
def submit(document_id: int) -> Any:
    return _act(lambda: review.submit(get_session(), current_actor(), document_id,
                                      forms.text(request.form, "comment")),
                document_id, "Đã trình duyệt dự thảo.")


@bp.route("/<int:document_id>/rut-lai", methods=["POST"])
@operation(Op.WITHDRAW_DRAFT)
def withdraw(document_id: int) -> Any:
    return _act(lambda: review.withdraw(get_session(), current_actor(), document_id,
                                        forms.text(request.form, "comment")),
                document_id, "Đã rút lại dự thảo; dự thảo trở về trạng thái soạn thảo.")


@bp.route("/<int:document_id>/duyet", methods=["POST"])
@operation(Op.REVIEW)
def approve(document_id: int) -> Any:
    return _act(lambda: review.approve(get_session(), current_actor(), document_id,
                                       forms.text(request.form, "comment")),
                document_id, "Đã duyệt.")


@bp.route("/<int:document_id>/tra-lai", methods=["POST"])
@operation(Op.REVIEW)
def send_back(document_id: int) -> Any:
    return _act(lambda: review.send_back(get_session(), current_actor(), document_id,
                                         forms.text(request.form, "comment")),
                document_id, "Đã trả lại dự thảo cho người soạn thảo.")


@bp.route("/<int:document_id>/ky-pin", methods=["POST"])
@operation(Op.SIGN)
def sign_pin(document_id: int) -> Any:
    pin = (request.form.get("pin") or "").strip()
    return _act(lambda: signatures.sign_with_pin(get_session(), services().blobs, services().trust,
                                                 current_actor(), document_id, pin),
                document_id, "Đã ký số văn bản.")


@bp.route("/khoa-trinh-duyet", methods=["POST"])
@operation(Op.ISSUE_BROWSER_KEY)
def browser_key() -> Any:
    """The browser sends a PKCS#10 CSR for its new key; the agency CA issues the certificate."""
    db = get_session()
    actor = current_actor()
    csr = (request.get_json(silent=True) or {}).get("csr", "")
    try:
        row = keys.issue_from_csr(db, services().pki, actor.ctx, db.get(User, actor.user_id),
                                  db.get(Agency, actor.agency_id), csr.encode())
    except DomainError as exc:
        db.rollback()
        return jsonify({"error": exc.message}), 400
    db.commit()
    return jsonify({"serial": row.serial, "subject": row.subject})


@bp.route("/<int:document_id>/ky-trinh-duyet/chuan-bi", methods=["POST"])
@operation(Op.SIGN)
def browser_prepare(document_id: int) -> Any:
    db = get_session()
    s = services()
    try:
        prepared = signatures.prepare_browser_signature(db, s.blobs, s.pki, s.trust,
                                                        current_actor(), document_id)
    except DomainError as exc:
        db.rollback()
        return jsonify({"error": exc.message}), exc.status_code
    db.commit()
    return jsonify({"handle": prepared.handle, "algorithm": prepared.algorithm,
                    "to_sign": base64.b64encode(prepared.to_sign).decode(),
                    "expires_at": prepared.expires_at.isoformat()})


@bp.route("/<int:document_id>/ky-trinh-duyet/hoan-tat", methods=["POST"])
@operation(Op.SIGN)
def browser_finish(document_id: int) -> Any:
    db = get_session()
    body = request.get_json(silent=True) or {}
    try:
        value = base64.b64decode(body.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        return jsonify({"error": "Giá trị chữ ký không đúng định dạng."}), 400
    try:
        signatures.finish_browser_signature(db, services().blobs, services().trust,
                                            current_actor(), document_id,
                                            str(body.get("handle", "")), value)
    except PersistedFailure as exc:
        db.commit()
        return jsonify({"error": exc.message}), exc.status_code
    except DomainError as exc:
        db.rollback()
        return jsonify({"error": exc.message}), exc.status_code
    db.commit()
    flash("Đã ký số văn bản bằng khóa trên trình duyệt.", "success")
    return jsonify({"redirect": url_for("outgoing.show", document_id=document_id)})


@bp.route("/<int:document_id>/cap-so", methods=["POST"])
@operation(Op.NUMBER)
def assign_number(document_id: int) -> Any:
    return _act(lambda: numbering.assign_number(get_session(), current_actor(), document_id),
                document_id, "Đã cấp số văn bản.")


@bp.route("/<int:document_id>/ky-so-co-quan", methods=["POST"])
@operation(Op.SEAL)
def seal(document_id: int) -> Any:
    s = services()
    return _act(lambda: signatures.apply_agency_signature(get_session(), s.blobs, s.pki, s.trust,
                                                          current_actor(), document_id,
                                                          tsa=s.timestamps,
                                                          tokens=s.seal_tokens),
                document_id, lambda rev: "Đã ký số của cơ quan." + _no_timestamp_note(rev))


@bp.route("/<int:document_id>/phat-hanh", methods=["POST"])
@operation(Op.DISPATCH)
def send(document_id: int) -> Any:
    return _act(lambda: dispatch.dispatch(get_session(), current_actor(), document_id),
                document_id, "Đã phát hành văn bản.")


@bp.route("/<int:document_id>/cap-so-dong-dau-phat-hanh", methods=["POST"])
@operation(Op.NUMBER)
def issue_all(document_id: int) -> Any:
    """The clerk's one action: number, agency signature and dispatch, in one transaction (a
    failed seal takes no number)."""
    s = services()
    return _act(lambda: issue.issue(get_session(), s.blobs, s.pki, s.trust, current_actor(),
                                    document_id, tsa=s.timestamps,
                                    tokens=s.seal_tokens), document_id,
                lambda doc: f"Đã cấp số {doc.number_notation}, đóng dấu (ký số của cơ quan) và "
                            "phát hành văn bản." + _no_timestamp_note(doc.signatures[-1]))


def _no_timestamp_note(revision: Any) -> str:
    """The admin allows seals without a timestamp when the TSA cannot answer: say so."""
    why = getattr(revision, "without_timestamp", "")
    return (f" Lưu ý: chữ ký số của cơ quan không có dấu thời gian (PAdES B-B). {why}"
            if why else "")


@functools.lru_cache(maxsize=256)
def _blanks_of(sha256: str) -> blanks.Blanks:
    return blanks.find_blanks(services().blobs.read_bytes(sha256))


@bp.app_template_global("issue_blanks")
def issue_blanks(doc: OutgoingDocument) -> blanks.Blanks:
    """Where the signed draft left the number and the date blank (the clerk's page says when
    it did not). One parse per signed revision: its content never changes."""
    return _blanks_of(doc.current_sha256)


@bp.route("/<int:document_id>/thu-hoi", methods=["POST"])
@operation(Op.REVOKE)
def revoke(document_id: int) -> Any:
    return _act(lambda: dispatch.revoke(get_session(), current_actor(), document_id,
                                        forms.text(request.form, "reason")),
                document_id, "Đã thu hồi văn bản.")


@bp.route("/<int:document_id>/cap-nhat", methods=["POST"])
@operation(Op.SEND_UPDATE)
def update(document_id: int) -> Any:
    return _act(lambda: dispatch.send_update(get_session(), current_actor(), document_id,
                                             forms.text(request.form, "reason")),
                document_id, "Đã gửi thông tin cập nhật.")


@bp.route("/<int:document_id>/thay-the", methods=["POST"])
@operation(Op.REPLACE)
def replace(document_id: int) -> Any:
    return _act(lambda: dispatch.start_replacement(get_session(), current_actor(), document_id),
                document_id, "Đã tạo dự thảo văn bản thay thế; hãy tải lên nội dung mới.")


def _blob_of(doc: OutgoingDocument, sha256: str) -> str:
    known = {v.sha256 for v in doc.versions} | {s.sha256 for s in doc.signatures}
    if sha256 not in known:
        raise NotFound("Không tìm thấy tệp.")
    return sha256


@bp.route("/<int:document_id>/tep/<sha256>.pdf")
@operation(Op.READ_OUTGOING)
def download(document_id: int, sha256: str) -> Any:
    doc = queries.read_document(get_session(), current_actor(), document_id)
    retention.check_not_destroyed(get_session(), doc)
    sha = _blob_of(doc, sha256)
    name = (doc.number_notation.replace("/", "-") or f"du-thao-{doc.id}") + ".pdf"
    return send_file(io.BytesIO(services().blobs.read_bytes(sha)), mimetype="application/pdf",
                     as_attachment=request.args.get("xem") != "1", download_name=name)


@bp.route("/<int:document_id>/tep/<sha256>/trang-<int:page>.png")
@operation(Op.READ_OUTGOING)
def preview(document_id: int, sha256: str, page: int) -> Any:
    doc = queries.read_document(get_session(), current_actor(), document_id)
    retention.check_not_destroyed(get_session(), doc)
    sha = _blob_of(doc, sha256)

    def in_range() -> None:
        if not 1 <= page <= max(doc.page_count, 1):
            abort(404)

    return page_png(sha, page, before_render=in_range)


@bp.route("/<int:document_id>/vi-tri-chu-ky", methods=["POST"])
@operation(Op.PLACE_SIGNATURE)
def place_stamp(document_id: int) -> Any:
    form = request.form
    return _act(lambda: signatures.place_stamp(
        get_session(), services().blobs, current_actor(), document_id, form.get("page", ""),
        form.get("x", ""), form.get("y", ""), form.get("place", "")),
        document_id, lambda box: f"Đã đặt vị trí chữ ký ở trang {box.page + 1}.")


@bp.route("/<int:document_id>/vi-tri-chu-ky.png")
@operation(Op.READ_OUTGOING)
def stamp_position(document_id: int) -> Any:
    doc = queries.read_document(get_session(), current_actor(), document_id)
    retention.check_not_destroyed(get_session(), doc)
    png = signatures.stamp_preview_png(doc, services().blobs.read_bytes(doc.current_sha256))
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _year() -> int:
    return inputs.arg_int(request.args, "nam", "năm") or numbering.today_vn().year


@bp.route("/so")
@operation(Op.VIEW_OUTGOING_REGISTER)
def register_book() -> Any:
    db = get_session()
    actor = current_actor()
    year, confidential = _year(), request.args.get("mat") == "1"
    docs = queries.register_rows(db, actor, year, confidential=confidential,
                                 after_number=inputs.arg_int(request.args, "sau", "sau"),
                                 limit=queries.PAGE_SIZE)
    return render_template("outgoing/register_book.html", docs=docs, year=year,
                           confidential=confidential, years=queries.years(db, actor) or [year],
                           page_size=queries.PAGE_SIZE, row_values=export.row_values)


@bp.route("/so.xlsx")
@operation(Op.EXPORT_OUTGOING_REGISTER)
def register_export() -> Any:
    db = get_session()
    actor = current_actor()
    year, confidential = _year(), request.args.get("mat") == "1"
    name, data = export.export_register(db, actor, year, confidential=confidential)
    db.commit()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
