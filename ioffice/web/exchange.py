"""The clerks' exchange page (/lien-thong): packages in and out, their state, errors, retries,
and the revoke/update/replace requests awaiting a decision."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ioffice.db_session import get_session
from ioffice.documents.attached import Attached
from ioffice.exchange import decisions, install_listeners
from ioffice.exchange import requests as exchange_requests
from ioffice.exchange.dispatch import STATUS_LABELS
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("exchange", __name__, url_prefix="/lien-thong")
# statuses go out on the incoming documents' events from the moment the web app exists
bp.record_once(lambda _state: install_listeners())

OUT_STATES = decisions.OUT_STATE_LABELS
IN_STATES = decisions.IN_STATE_LABELS
BUSINESS = decisions.BUSINESS_LABELS


@bp.app_template_global("exchange_requests_for")
def requests_for(document, attached: Attached | None = None):
    """Revoke / update / replace requests about a received document the page already shows
    (the page's view checked that the user may read it), in words; none without reading when
    the page knows there are none (``attached``)."""
    if attached is not None and not attached.requests:
        return []
    return exchange_requests.for_document(get_session(), document)


@bp.get("/")
@operation(Op.VIEW_EXCHANGE)
def index():
    actor = current_actor()
    session = get_session()
    return render_template("exchange/index.html",
                           requests=exchange_requests.pending(session, actor, limit=200),
                           outbox=decisions.outbox_page(session, actor)[0],
                           inbox=decisions.inbox_page(session, actor)[0],
                           out_states=OUT_STATES, in_states=IN_STATES, business=BUSINESS,
                           status_labels=STATUS_LABELS)


@bp.post("/goi-di/<int:outbox_id>/gui-lai")
@operation(Op.RETRY_EXCHANGE)
def retry(outbox_id: int):
    session = get_session()
    decisions.retry(session, current_actor(), outbox_id)
    session.commit()
    flash("Đã đưa gói tin vào hàng đợi gửi lại.", "success")
    return redirect(url_for("exchange.index"))


@bp.post("/yeu-cau/<int:inbox_id>")
@operation(Op.DECIDE_EXCHANGE_REQUEST)
def decide(inbox_id: int):
    session = get_session()
    agree = request.form.get("decision") == "agree"
    decisions.decide(session, current_actor(), inbox_id, agree,
                     request.form.get("reason", "")[:1000])
    session.commit()
    flash("Đã đồng ý với đề nghị; cơ quan gửi được báo là đã đồng ý." if agree
          else "Đã từ chối đề nghị; cơ quan gửi được báo lý do từ chối.", "success")
    return redirect(url_for("exchange.index"))
