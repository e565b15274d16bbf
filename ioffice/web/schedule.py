"""The work calendar (/lich-cong-tac): the week view (printable), the office's editing and
publishing, the user's iCalendar link and the feed itself (docs/calendar.md)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from ioffice.db_session import get_session
from ioffice.incoming.registration import today_vn
from ioffice.schedule import ical
from ioffice.schedule import service as schedule
from ioffice.schedule.service import EventInput, ScheduleError
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("calendar", __name__, url_prefix="/lich-cong-tac")
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
FIELDS = ("day", "start_time", "end_time", "title", "place", "chair", "participants",
          "preparation", "notes")


def _render_week(start: dt.date, *, form: EventInput | None = None, error: ScheduleError | None = None,
                 status: int = 200):
    view = schedule.week_view(get_session(), current_actor(), start)
    blank = EventInput(day=max(start, today_vn()).isoformat() if start <= today_vn()
                       <= start + dt.timedelta(days=6) else start.isoformat())
    return render_template("schedule/week.html", view=view, weekdays=WEEKDAYS,
                           prev=(start - dt.timedelta(days=7)).isoformat(),
                           next=(start + dt.timedelta(days=7)).isoformat(),
                           today=today_vn(), form=form or blank,
                           errors=error.fields if error else {},
                           error=error.message if error else ""), status


@bp.get("/")
@operation(Op.VIEW_CALENDAR)
def week():
    try:
        start = schedule.parse_week(request.args.get("tuan"), today_vn())
    except ScheduleError as exc:
        return render_template("error.html", title="Yêu cầu không hợp lệ", message=exc.message,
                               status=400), 400
    return _render_week(start)


def _input() -> EventInput:
    return EventInput(**{name: request.form.get(name, "")[:5000] for name in FIELDS})


@bp.post("/su-kien")
@operation(Op.EDIT_CALENDAR)
def create_event():
    data = _input()
    session = get_session()
    try:
        event = schedule.save_event(session, current_actor(), data)
    except ScheduleError as exc:
        session.rollback()
        day = schedule.parse_date(data.day) or today_vn()
        return _render_week(schedule.monday(day), form=data, error=exc, status=400)
    session.commit()
    flash("Đã thêm sự kiện vào lịch công tác.", "success")
    return redirect(url_for("calendar.week", tuan=event.day.isoformat()))


@bp.get("/su-kien/<int:event_id>")
@operation(Op.EDIT_CALENDAR)
def edit_event(event_id: int):
    event = schedule.get_event(get_session(), current_actor(), event_id)
    form = EventInput(day=event.day.isoformat(), start_time=event.start_time.strftime("%H:%M"),
                      end_time=event.end_time.strftime("%H:%M") if event.end_time else "",
                      **{n: getattr(event, n) for n in FIELDS[3:]})
    return render_template("schedule/edit.html", event=event, form=form, errors={}, error="")


@bp.post("/su-kien/<int:event_id>")
@operation(Op.EDIT_CALENDAR)
def update_event(event_id: int):
    session = get_session()
    data = _input()
    try:
        event = schedule.save_event(session, current_actor(), data, event_id)
    except ScheduleError as exc:
        session.rollback()
        event = schedule.get_event(session, current_actor(), event_id)
        return render_template("schedule/edit.html", event=event, form=data, errors=exc.fields,
                               error=exc.message), 400
    session.commit()
    flash("Đã lưu sự kiện.", "success")
    return redirect(url_for("calendar.week", tuan=event.day.isoformat()))


@bp.post("/su-kien/<int:event_id>/xoa")
@operation(Op.EDIT_CALENDAR)
def delete_event(event_id: int):
    session = get_session()
    start = schedule.delete_event(session, current_actor(), event_id)
    session.commit()
    flash("Đã xóa sự kiện.", "success")
    return redirect(url_for("calendar.week", tuan=start.isoformat()))


@bp.post("/cong-bo")
@operation(Op.EDIT_CALENDAR)
def publish():
    session = get_session()
    start = schedule.parse_week(request.form.get("tuan") or "-", today_vn())
    publish = request.form.get("action") != "unpublish"
    schedule.publish_week(session, current_actor(), start, publish=publish)
    session.commit()
    flash("Đã công bố lịch công tác tuần; mọi người trong cơ quan đều xem được." if publish else
          "Đã chuyển lịch tuần về bản nháp; chỉ văn phòng xem được.", "success")
    return redirect(url_for("calendar.week", tuan=start.isoformat()))


@bp.get("/lien-ket")
@operation(Op.VIEW_CALENDAR)
def feed_link():
    return render_template("schedule/feed.html", url=None,
                           has_token=schedule.has_feed_token(get_session(), current_actor()))


@bp.post("/lien-ket")
@operation(Op.VIEW_CALENDAR)
def feed_reset():
    session = get_session()
    secret = schedule.reset_feed_token(session, current_actor())
    session.commit()
    url = url_for("calendar.feed", token=secret, _external=True)
    return render_template("schedule/feed.html", url=url, has_token=True)


@bp.get("/ical/<token>.ics")
def feed(token: str):
    """No session: the secret in the URL is the user's (calendar programs send no cookie)."""
    session = get_session()
    agency, events = schedule.feed_events(session, token, today_vn())
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    now = dt.datetime.now(dt.UTC)
    body = ical.calendar(agency, events, tzid=tz.key, offset=tz.utcoffset(now.replace(tzinfo=None)),
                         now=now)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="lich-cong-tac.ics"',
        "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"})
