"""Copies in the browser (/ban-sao): the request on a document's page, the copy's page where
the clerk makes it, its PDF and previews, and the copies register of a year. docs/copies.md."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from ioffice.agencies.models import Role
from ioffice.audit import record_read
from ioffice.copies import service as copies
from ioffice.copies.models import CopyKind, CopyStatus, DocumentCopy
from ioffice.db_session import get_session
from ioffice.documents.attached import Attached
from ioffice.errors import DomainError, NotFound
from ioffice.outgoing.models import OutgoingDocument
from ioffice.services import services
from ioffice.web import forms
from ioffice.web.access import Op, may, operation
from ioffice.web.auth import current_actor
from ioffice.web.previews import page_png

bp = Blueprint("copies", __name__, url_prefix="/ban-sao")

SOURCES = {"incoming": ("incoming.show", "Văn bản đến"), "outgoing": ("outgoing.show", "Văn bản đi")}


def panel(source: str, document_id: int, attached: Attached | None = None,
          can_request: bool = True) -> dict[str, Any]:
    """What a document's page shows of its copies (``copies/_panel.html``): the copies, and
    for a leader or clerk the request form with its one-time id and the leaders to choose
    (``attached``: what the page already knows the document has; ``can_request``: whether
    the document may be copied now, i.e. whether the form is shown at all)."""
    db, actor = get_session(), current_actor()
    none = attached is not None and not attached.copies
    is_leader = actor.has(Role.LEADER)
    # the choice of leader is the clerk's (a leader decides as themself: copies/_form.html)
    choose = can_request and not is_leader and may(Op.REQUEST_COPY)
    return {"copies": [] if none else copies.copies_of(db, actor, source, document_id),
            "leaders": copies.leaders(db, actor) if choose else [],
            "submission_id": uuid.uuid4().hex, "kinds": list(CopyKind), "source": source,
            "document_id": document_id, "kept": None, "errors": {},
            "is_leader": is_leader}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(copy_panel=panel)


def _request_form() -> copies.CopyRequest:
    form = request.form
    leader = forms.text(form, "decided_by_id")
    return copies.CopyRequest(
        kind=forms.text(form, "kind"), submission_id=forms.text(form, "submission_id"),
        recipients=form.get("recipients", ""), pages=forms.text(form, "pages"),
        decided_by_id=int(leader) if leader.isdigit() else None, note=form.get("note", ""))


def _ask(source: str, document_id: int) -> Any:
    db = get_session()
    try:
        copy = copies.request_copy(db, services().blobs, current_actor(), source, document_id,
                                   _request_form())
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        state = panel(source, document_id)
        state.update(kept=request.form, errors={"form": exc.message},
                     submission_id=forms.text(request.form, "submission_id") or uuid.uuid4().hex)
        return render_template("copies/request.html", panel=state,
                               back=url_for(SOURCES[source][0], document_id=document_id),
                               source_label=SOURCES[source][1]), exc.status_code
    db.commit()
    flash(f"Đã ghi quyết định {copy.kind.label.lower()} văn bản; văn thư thực hiện bản sao."
          if copy.status is CopyStatus.REQUESTED else "Bản sao này đã được thực hiện.", "success")
    return redirect(url_for("copies.show", copy_id=copy.id), 303)


@bp.route("/van-ban-den/<int:document_id>", methods=["POST"])
@operation(Op.REQUEST_COPY)
def request_incoming(document_id: int) -> Any:
    return _ask("incoming", document_id)


@bp.route("/van-ban-di/<int:document_id>", methods=["POST"])
@operation(Op.REQUEST_COPY)
def request_outgoing(document_id: int) -> Any:
    return _ask("outgoing", document_id)


@bp.route("/")
@operation(Op.VIEW_COPIES)
def index() -> Any:
    year_text = request.args.get("nam", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 \
        else copies.today_vn().year
    rows = copies.list_copies(get_session(), current_actor(), year)
    return render_template("copies/index.html", rows=rows, year=year)


def _original_link(copy: DocumentCopy, original: Any) -> tuple[str, str]:
    source, document_id = copies.source_of(copy)
    label = SOURCES[source][1]
    if isinstance(original, OutgoingDocument):
        name = original.number_notation
    else:
        name = f"số đến {original.incoming_number}: {original.number_notation}" \
            if original.incoming_number else original.number_notation
    return url_for(SOURCES[source][0], document_id=document_id), f"{label} {name}"


@bp.route("/<int:copy_id>")
@operation(Op.VIEW_COPIES)
def show(copy_id: int) -> Any:
    db, actor = get_session(), current_actor()
    copy = copies.get_copy(db, actor, copy_id)
    original = copies.original_of(db, actor, copy)
    href, label = _original_link(copy, original)
    record_read(db, actor.ctx, "copies:copy:read", subject_type="copy", subject_id=copy.id)
    db.commit()
    return render_template("copies/show.html", copy=copy, original=original, original_href=href,
                           original_label=label, CopyStatus=CopyStatus)


@bp.route("/<int:copy_id>/thuc-hien", methods=["POST"])
@operation(Op.MAKE_COPY)
def make(copy_id: int) -> Any:
    db, s = get_session(), services()
    try:
        copy = copies.make_copy(db, s.blobs, s.pki, s.trust, current_actor(), copy_id,
                                tsa=s.timestamps, tokens=s.seal_tokens)
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for("copies.show", copy_id=copy_id), 303)
    db.commit()
    flash(f"Đã thực hiện bản sao số {copy.number_notation} và ký số của cơ quan.", "success")
    return redirect(url_for("copies.show", copy_id=copy.id), 303)


def _made(copy_id: int) -> DocumentCopy:
    copy = copies.get_copy(get_session(), current_actor(), copy_id)
    if copy.status is not CopyStatus.MADE:
        abort(404)
    return copy


@bp.route("/<int:copy_id>/tep.pdf")
@operation(Op.VIEW_COPIES)
def download(copy_id: int) -> Any:
    db, actor = get_session(), current_actor()
    copy = _made(copy_id)
    record_read(db, actor.ctx, "copies:copy:download", subject_type="copy", subject_id=copy.id,
                details={"sha256": copy.sha256})
    db.commit()
    name = copy.number_notation.replace("/", "-") + ".pdf"
    return send_file(io.BytesIO(services().blobs.read_bytes(copy.sha256)),
                     mimetype="application/pdf", as_attachment=request.args.get("xem") != "1",
                     download_name=name)


@bp.route("/<int:copy_id>/trang-<int:page>.png")
@operation(Op.VIEW_COPIES)
def preview(copy_id: int, page: int) -> Any:
    copy = _made(copy_id)
    if not 1 <= page <= max(copy.page_count, 1):
        abort(404)
    return page_png(copy.sha256, page)
