"""Search page: full-text search over the agency's incoming and outgoing documents (filters by
direction, status, department, type and date), and saved searches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from ioffice import search as svc
from ioffice.agencies.actor import Actor
from ioffice.db_session import get_session
from ioffice.documents.vocabulary import DOC_TYPES, DOC_TYPES_BY_CODE
from ioffice.incoming.models import DocumentStatus
from ioffice.incoming.queries import departments_to_assign
from ioffice.outgoing.models import OutgoingStatus
from ioffice.search.text import MAX_QUERY_CHARS, marked
from ioffice.web import forms
from ioffice.web.access import Op, operation

bp = Blueprint("search", __name__)

# the document pages belong to the incoming and outgoing blueprints; without them results are
# not links
DOCUMENT_ENDPOINTS = {svc.INCOMING: "incoming.show", svc.OUTGOING: "outgoing.show"}
DOCUMENT_ENDPOINT = DOCUMENT_ENDPOINTS[svc.INCOMING]
STATUS_GROUPS = (
    ("Văn bản đến", [(f"den:{s.value}", s.label) for s in DocumentStatus]),
    ("Văn bản đi", [(f"di:{s.value}", s.label) for s in OutgoingStatus]),
)
DOC_TYPE_NAMES = {t.code: t.name for t in DOC_TYPES}


def _actor() -> Actor:
    return Actor.of(current_user.membership, request.remote_addr or "")


def _date(name: str) -> dt.date | None:
    return forms.parse_date(request.args.get(name))


def _document_url(document_id: int, kind: str = svc.INCOMING) -> str | None:
    try:
        return url_for(DOCUMENT_ENDPOINTS[kind], document_id=document_id)
    except BuildError:
        return None


def _filters(actor: Actor) -> svc.Filters:
    """The page's filters; an unknown value is ignored (as the type filter always was)."""
    doc_type = request.args.get("loai") or None
    if doc_type not in DOC_TYPES_BY_CODE:
        doc_type = None
    direction = svc.DIRECTIONS.get(request.args.get("huong", ""))
    status = request.args.get("trang_thai") or None
    if status not in {value for _, options in STATUS_GROUPS for value, _ in options}:
        status = None
    department = request.args.get("phong", "")
    department_id = int(department) if department.isdigit() and len(department) < 10 else None
    return svc.Filters(direction=direction, status=status, doc_type=doc_type,
                       date_from=_date("tu_ngay"), date_to=_date("den_ngay"),
                       department_id=department_id)


@bp.route("/tim-kiem")
@operation(Op.SEARCH)
def index() -> Any:
    db = get_session()
    actor = _actor()
    query = request.args.get("q", "")
    filters = _filters(actor)
    page, error = None, None
    if query.strip():
        try:
            page = svc.search(db, actor, query, cursor=request.args.get("sau") or None,
                              filters=filters)
        except svc.SearchError as exc:
            db.rollback()
            error = exc.message
    saved = svc.list_saved(db, actor)
    next_url = None
    if page is not None and page.next_cursor:
        args = {k: v for k, v in request.args.items() if k != "sau"}
        next_url = url_for("search.index", **args, sau=page.next_cursor)
    html = render_template("search/index.html", query=query, page=page, error=error, saved=saved,
                           doc_types=DOC_TYPES, doc_type_names=DOC_TYPE_NAMES,
                           # a plain dict (each name's first value, as MultiDict.get): the form's
                           # options ask it for absent names, on which a MultiDict raises and
                           # catches an exception each (a hundred per page)
                           args=request.args.to_dict(), next_url=next_url, marked=marked,
                           document_url=_document_url, max_chars=MAX_QUERY_CHARS,
                           status_groups=STATUS_GROUPS,
                           departments=departments_to_assign(db, actor.agency_id),
                           searching_page=bool(request.args.get("sau")))
    # the search's audit event is committed once the page is read and rendered: one
    # transaction for the whole page (on SQLite the event's own short one after it)
    db.commit()
    return html, 400 if error else 200


@bp.route("/tim-kiem/da-luu", methods=["POST"])
@operation(Op.SEARCH)
def save() -> Any:
    db = get_session()
    name, query = request.form.get("name", ""), request.form.get("q", "")
    try:
        saved = svc.save_search(db, _actor(), name, query)
    except svc.SearchError as exc:
        db.rollback()
        flash(exc.message, "error")
    else:
        db.commit()
        flash(f"Đã lưu tìm kiếm «{saved.name}».", "success")
    return redirect(url_for("search.index", q=query))


@bp.route("/tim-kiem/da-luu/<int:saved_id>")
@operation(Op.SEARCH)
def run(saved_id: int) -> Any:
    saved = svc.get_saved(get_session(), _actor(), saved_id)
    return redirect(url_for("search.index", q=saved.query))


@bp.route("/tim-kiem/da-luu/<int:saved_id>/xoa", methods=["POST"])
@operation(Op.SEARCH)
def delete(saved_id: int) -> Any:
    db = get_session()
    svc.delete_saved(db, _actor(), saved_id)
    db.commit()
    flash("Đã xóa tìm kiếm đã lưu.", "success")
    return redirect(url_for("search.index"))
