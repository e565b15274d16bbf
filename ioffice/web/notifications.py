"""The bell: the unread count in the top bar (sent by the live stream's first event, so a
page costs no statement for it), the list, opening a notification, the live
stream (server-sent events), each user's channels; the admin's reminder setting and dead mail;
and the leaders' «Đôn đốc» forms.

The live stream (``/thong-bao/su-kien``) holds one of gunicorn's threads while it is open, so
it is bounded: it ends after ``NOTIFY_STREAM_SECONDS`` (the browser's EventSource reconnects
after the ``retry:`` it was sent), and no more than ``NOTIFY_STREAMS_PER_PROCESS`` streams run
at once in a process; past that, or when the server runs one thread per process (gunicorn's
sync worker, where an open stream would hold the only thread and stall the page's next
request), a request gets the count once and is told to come back later (polling, in effect).
The stream holds no database connection between polls: every
``NOTIFY_POLL_SECONDS`` it reads the user's newest notification id (one index probe), in a
short session of its own, so an event written by another process (the other gunicorn worker,
the exchange worker) is seen within a poll. docs/notifications.md.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ioffice.agencies import service as agencies
from ioffice.db_session import database, get_session
from ioffice.errors import DomainError, NotFound
from ioffice.incoming.access import get_assignment
from ioffice.incoming.errors import InvalidInput
from ioffice.notifications import chases, mail, reminders
from ioffice.notifications import service as notices
from ioffice.notifications.models import Channel, Kind, MailOutbox, MailState
from ioffice.text import parse_int
from ioffice.web import forms, inputs
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("notifications", __name__, url_prefix="/thong-bao")
admin_bp = Blueprint("notification_admin", __name__, url_prefix="/quan-tri/thong-bao")
chase_bp = Blueprint("chase", __name__, url_prefix="/van-ban-den/don-doc")

DEFAULTS = {"NOTIFY_STREAM_SECONDS": 30.0, "NOTIFY_POLL_SECONDS": 1.5,
            "NOTIFY_HEARTBEAT_SECONDS": 3.0, "NOTIFY_STREAMS_PER_PROCESS": 2,
            "NOTIFY_RETRY_MS": 2000, "NOTIFY_BUSY_RETRY_MS": 5000}
"""The heartbeat is short because it is also how a stream learns that its page is gone (a
write to a closed connection fails; gunicorn tells a WSGI app nothing else): a page left frees
its slot within two heartbeats, not when the stream would have ended."""


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["ioffice.notify.streams"] = threading.BoundedSemaphore(
        max(1, int(app.config["NOTIFY_STREAMS_PER_PROCESS"])))
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(chase_bp)


@bp.get("/")
@operation(None)
def index() -> Any:
    actor = current_actor()
    before = inputs.arg_int(request.args, "truoc", "trang")
    rows = notices.recent(get_session(), actor.user_id, actor.agency_id, limit=50, before=before)
    return render_template("notifications/index.html", rows=rows,
                           older=rows[-1].id if len(rows) == 50 else None)


@bp.get("/<int:notification_id>")
@operation(None)
def open_one(notification_id: int) -> Any:
    """Opening a notification marks it read and goes to the page it is about."""
    db = get_session()
    actor = current_actor()
    try:
        row = notices.open_notification(db, actor.user_id, actor.agency_id, notification_id)
    except NotFound:
        abort(404)
    target = (request.script_root + row.link) if row.link else url_for("notifications.index")
    db.commit()
    return redirect(target)


@bp.post("/da-doc-het")
@operation(None)
def read_all() -> Any:
    db = get_session()
    actor = current_actor()
    count = notices.mark_all_read(db, actor.user_id, actor.agency_id)
    db.commit()
    flash(f"Đã đánh dấu {count} thông báo là đã đọc.", "success")
    return redirect(url_for("notifications.index"))


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _snapshot(app: Flask, user_id: int, agency_id: int, with_text: bool) -> dict[str, Any]:
    """The count and newest notification, in a short read session of its own (the stream
    holds no connection between polls)."""
    with database(app).session(read=True) as session:
        data: dict[str, Any] = {"unread": notices.unread_count(session, user_id, agency_id),
                                "latest": notices.latest_id(session, user_id)}
        if with_text:
            newest = notices.recent(session, user_id, agency_id, limit=1)
            if newest:
                data["text"] = newest[0].text
                data["kind"] = newest[0].kind.label
        session.rollback()
    return data


@bp.get("/su-kien")
@operation(None)
def stream() -> Any:
    """Server-sent events: ``count`` (unread count, the newest id and text) at once (also
    after a reconnection, so one arrived in between is announced) and whenever a
    notification arrives; a comment line as heartbeat; then the stream ends and
    the browser reconnects."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cfg = app.config
    user_id, agency_id = current_user.user.id, current_user.agency_id
    get_session().close()  # the request's session: no connection held while streaming
    slots: threading.BoundedSemaphore = app.extensions["ioffice.notify.streams"]
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
    # a server of one thread per process (gunicorn's sync worker) would serve nothing else
    # while a stream is open: there, as when every slot is streaming, answer once and come back
    threaded = bool(request.environ.get("wsgi.multithread"))
    if not threaded or not slots.acquire(blocking=False):
        data = _snapshot(app, user_id, agency_id, with_text=True)
        body = f"retry: {int(cfg['NOTIFY_BUSY_RETRY_MS'])}\n\n" + _event("count", data)
        return Response(body, mimetype="text/event-stream", headers=headers)

    def generate() -> Any:
        try:
            yield f"retry: {int(cfg['NOTIFY_RETRY_MS'])}\n\n"
            data = _snapshot(app, user_id, agency_id, with_text=True)
            yield _event("count", data, data["latest"])
            last, last_count = data["latest"], data["unread"]
            end = time.monotonic() + float(cfg["NOTIFY_STREAM_SECONDS"])
            beat = time.monotonic() + float(cfg["NOTIFY_HEARTBEAT_SECONDS"])
            recount = time.monotonic() + 10.0
            while time.monotonic() < end:
                time.sleep(min(float(cfg["NOTIFY_POLL_SECONDS"]), max(0.0, end - time.monotonic())))
                with database(app).session(read=True) as session:
                    latest = notices.latest_id(session, user_id)
                    session.rollback()
                now = time.monotonic()
                if latest != last or now >= recount:  # new, or read in another tab
                    data = _snapshot(app, user_id, agency_id, with_text=latest != last)
                    recount = now + 10.0
                    if data["latest"] != last or data["unread"] != last_count:
                        yield _event("count", data, data["latest"])
                        beat = now + float(cfg["NOTIFY_HEARTBEAT_SECONDS"])
                    last, last_count = data["latest"], data["unread"]
                elif now >= beat:
                    yield ": ping\n\n"
                    beat = now + float(cfg["NOTIFY_HEARTBEAT_SECONDS"])
        finally:
            slots.release()

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers=headers)


@bp.route("/cai-dat", methods=["GET", "POST"])
@operation(None)
def settings() -> Any:
    db = get_session()
    actor = current_actor()
    error = None
    if request.method == "POST":
        try:
            notices.set_preferences(db, actor.user_id,
                                    {k.value: request.form.get(f"kind_{k.value}", "") for k in Kind},
                                    request.form.get("daily_digest") == "1")
        except notices.PreferenceError as exc:
            db.rollback()
            error = str(exc)
        else:
            db.commit()
            flash("Đã lưu cách nhận thông báo.", "success")
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", prefs=notices.preferences(db, actor.user_id),
                           kinds=list(Kind), channels=list(Channel), error=error), \
        (422 if error else 200)


# -- the agency admin: reminders and mail that could not be sent ------------------------------

@admin_bp.route("/", methods=["GET", "POST"])
@operation(Op.ADMIN_NOTIFICATIONS)
def admin() -> Any:
    db = get_session()
    actor = current_actor()
    errors = forms.FormErrors()
    if request.method == "POST":
        days = forms.integer(request.form, "days_before", errors, "Số ngày nhắc trước hạn")
        try:
            if errors:
                raise InvalidInput(dict(errors))
            reminders.set_days_before(db, actor, days)
        except DomainError as exc:
            db.rollback()
            errors.update(getattr(exc, "fields", None) or {"days_before": exc.message})
        else:
            db.commit()
            flash("Đã lưu số ngày nhắc trước hạn.", "success")
            return redirect(url_for("notification_admin.admin"))
    dead = list(db.scalars(select(MailOutbox).where(MailOutbox.agency_id == actor.agency_id,
                                                    MailOutbox.state == MailState.DEAD)
                           .order_by(MailOutbox.id.desc()).limit(200)))
    pending = list(db.scalars(select(MailOutbox).where(MailOutbox.agency_id == actor.agency_id,
                                                       MailOutbox.state == MailState.PENDING)
                              .order_by(MailOutbox.id).limit(200)))
    return render_template("notifications/admin.html", errors=errors,
                           days_before=request.form.get("days_before") if errors
                           else reminders.days_before(db, actor.agency_id),
                           dead=dead, pending=pending), (422 if errors else 200)


@admin_bp.post("/thu/<int:mail_id>/gui-lai")
@operation(Op.ADMIN_NOTIFICATIONS)
def retry_mail(mail_id: int) -> Any:
    db = get_session()
    actor = current_actor()
    if mail.retry_dead(db, actor.agency_id, mail_id) is None:
        abort(404)
    db.commit()
    flash("Đã đưa thư vào hàng đợi gửi lại.", "success")
    return redirect(url_for("notification_admin.admin"))


# -- «Đôn đốc» --------------------------------------------------------------------------------

@chase_bp.post("/viec/<int:assignment_id>")
@operation(Op.CHASE)
def chase_assignment(assignment_id: int) -> Any:
    db = get_session()
    actor = current_actor()
    document_id = get_assignment(db, actor, assignment_id).document_id
    return _chase(db, lambda: chases.chase_assignment(db, actor, assignment_id,
                                                      forms.text(request.form, "note")),
                  url_for("incoming.show", document_id=document_id),
                  "Đã gửi đôn đốc đến người xử lý.")


@chase_bp.post("/don-vi")
@operation(Op.CHASE)
def chase_department() -> Any:
    db = get_session()
    actor = current_actor()
    department_id = parse_int(request.form.get("department_id"))
    back = inputs.local_path(request.form.get("back"), url_for("incoming.follow_up"))
    if department_id is None:
        abort(404)
    agencies.department_in_agency(db, actor.agency_id, department_id)
    return _chase(db, lambda: chases.chase_department(db, actor, department_id,
                                                      forms.text(request.form, "note")),
                  back, "Đã gửi đôn đốc đến đơn vị.")


def _chase(db: Any, act: Any, back: str, done: str) -> Any:
    """One chase: committed and said, or refused with its message (a missing object: 404);
    back to ``back`` either way."""
    try:
        act()
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        fields = getattr(exc, "fields", None) or {}
        flash(next(iter(fields.values()), exc.message), "error")
        return redirect(back)
    db.commit()
    flash(done, "success")
    return redirect(back)
