"""The work calendar's operations: see a week, add/edit/delete an event, publish a week, reset
one's feed token, read the feed. Editing is the office's (``Op.EDIT_CALENDAR``, the clerks);
everyone else sees published weeks only."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Membership, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.audit.tags import Tag
from ioffice.errors import DomainError, NotFound
from ioffice.schedule.models import CalendarEvent, CalendarFeedToken, CalendarWeek

__all__ = ["EventInput", "ScheduleError", "WeekView", "delete_event", "feed_events",
           "get_event", "monday", "parse_week", "publish_week", "reset_feed_token", "save_event",
           "week_view"]

FEED_WEEKS_BACK = 8
FEED_WEEKS_AHEAD = 52
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
LIMITS = {"title": 2000, "place": 255, "chair": 255, "participants": 4000, "preparation": 255,
          "notes": 4000}


class ScheduleError(DomainError):
    """Refused input, with each field's message in Vietnamese (``fields``)."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def parse_date(value: str) -> dt.date | None:
    if not _DATE.match(value.strip()):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_week(value: str | None, today: dt.date) -> dt.date:
    """The Monday of the week holding ``value`` (``YYYY-MM-DD``); this week when empty."""
    if not value:
        return monday(today)
    day = parse_date(value)
    if day is None or not 2000 <= day.year <= 2100:
        raise ScheduleError(f"Ngày «{value[:20]}» không hợp lệ: hãy dùng dạng năm-tháng-ngày, "
                            "ví dụ 2026-12-07.")
    return monday(day)


@dataclass
class WeekView:
    start: dt.date
    week: CalendarWeek | None
    events: list[CalendarEvent]
    editable: bool
    visible: bool  # False: a draft week shown to someone who may not edit

    @property
    def days(self) -> list[tuple[dt.date, list[CalendarEvent]]]:
        out = []
        for i in range(7):
            day = self.start + dt.timedelta(days=i)
            out.append((day, [e for e in self.events if e.day == day]))
        return out

    @property
    def published(self) -> bool:
        return self.week is not None and self.week.published


def _week(session: Session, agency_id: int, start: dt.date) -> CalendarWeek | None:
    return session.scalars(select(CalendarWeek).where(CalendarWeek.agency_id == agency_id,
                                                      CalendarWeek.week_start == start)).first()


def week_view(session: Session, actor: Actor, start: dt.date) -> WeekView:
    actor.check(Op.VIEW_CALENDAR)
    week = _week(session, actor.agency_id, start)
    editable = actor.may(Op.EDIT_CALENDAR)
    visible = editable or (week is not None and week.published)
    events = list(week.events) if week is not None and visible else []
    return WeekView(start, week, events, editable, visible)


def get_event(session: Session, actor: Actor, event_id: int) -> CalendarEvent:
    """An event of the actor's agency that the actor may see; 404 otherwise."""
    actor.check(Op.VIEW_CALENDAR)
    event = session.get(CalendarEvent, event_id)
    if event is None or event.agency_id != actor.agency_id or not (
            actor.may(Op.EDIT_CALENDAR) or event.week.published):
        raise NotFound("Không tìm thấy sự kiện này trong lịch công tác của cơ quan.")
    return event


@dataclass
class EventInput:
    day: str = ""
    start_time: str = ""
    end_time: str = ""
    title: str = ""
    place: str = ""
    chair: str = ""
    participants: str = ""
    preparation: str = ""
    notes: str = ""


@dataclass(frozen=True)
class _Clean:
    day: dt.date
    start_time: dt.time
    end_time: dt.time | None
    texts: dict[str, str]


def _clean(data: EventInput) -> _Clean:
    errors: dict[str, str] = {}
    day = parse_date(data.day)
    if day is None or not 2000 <= day.year <= 2100:
        errors["day"] = "Ngày không hợp lệ (dạng năm-tháng-ngày)."
    times: dict[str, dt.time | None] = {}
    for name, label, required in (("start_time", "Giờ bắt đầu", True),
                                  ("end_time", "Giờ kết thúc", False)):
        value = getattr(data, name).strip()
        match = _TIME.match(value)
        if not value and not required:
            times[name] = None
        elif not match:
            errors[name] = f"{label} không hợp lệ (dạng giờ:phút, ví dụ 07:30)."
        else:
            times[name] = dt.time(int(match.group(1)), int(match.group(2)))
    if (times.get("start_time") and times.get("end_time")
            and times["end_time"] <= times["start_time"]):
        errors["end_time"] = "Giờ kết thúc phải sau giờ bắt đầu."
    texts = {}
    for name, limit in LIMITS.items():
        value = getattr(data, name).replace("\r\n", "\n").strip()
        if len(value) > limit:
            errors[name] = f"Tối đa {limit} ký tự."
        texts[name] = value
    if not texts["title"]:
        errors["title"] = "Hãy nhập nội dung công việc."
    if errors:
        raise ScheduleError("Sự kiện chưa được lưu: hãy sửa các ô được đánh dấu.", errors)
    return _Clean(day, times["start_time"], times["end_time"], texts)  # type: ignore[arg-type]


def save_event(session: Session, actor: Actor, data: EventInput,
               event_id: int | None = None) -> CalendarEvent:
    """Add an event (``event_id`` None) or change one; its week is created as a draft when
    new. A published week stays published: the change shows at once to everyone."""
    actor.check(Op.EDIT_CALENDAR)
    clean = _clean(data)
    start = monday(clean.day)
    week = _week(session, actor.agency_id, start)
    if week is None:
        week = CalendarWeek(agency_id=actor.agency_id, week_start=start)
        session.add(week)
        session.flush()
    if event_id is None:
        event = CalendarEvent(agency_id=actor.agency_id, created_by_id=actor.user_id, sequence=0)
        session.add(event)
    else:
        event = get_event(session, actor, event_id)
        event.sequence = (event.sequence or 0) + 1
    event.week_id = week.id
    event.day, event.start_time, event.end_time = clean.day, clean.start_time, clean.end_time
    for name, value in clean.texts.items():
        setattr(event, name, value)
    event.updated_at = week.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    session.expire(week, ["events"])
    record(session, actor.ctx, Tag.CALENDAR_EVENT_SAVE, subject_type="calendar_event",
           subject_id=event.id, details={"day": clean.day.isoformat(), "new": event_id is None})
    return event


def delete_event(session: Session, actor: Actor, event_id: int) -> dt.date:
    actor.check(Op.EDIT_CALENDAR)
    event = get_event(session, actor, event_id)
    start = event.week.week_start
    record(session, actor.ctx, Tag.CALENDAR_EVENT_DELETE, subject_type="calendar_event",
           subject_id=event.id, details={"day": event.day.isoformat(), "title": event.title[:200]})
    session.delete(event)
    session.flush()
    return start


def publish_week(session: Session, actor: Actor, start: dt.date, *, publish: bool = True
                 ) -> CalendarWeek:
    """Publish a week to every member (or take it back to draft)."""
    actor.check(Op.EDIT_CALENDAR)
    week = _week(session, actor.agency_id, start)
    if week is None or (publish and not week.events):
        raise ScheduleError("Tuần này chưa có sự kiện nào để công bố.")
    if publish:
        week.published_at, week.published_by_id = dt.datetime.now(dt.UTC), actor.user_id
    else:
        week.published_at = week.published_by_id = None
    record(session, actor.ctx,
           Tag.CALENDAR_WEEK_PUBLISH if publish else Tag.CALENDAR_WEEK_UNPUBLISH,
           subject_type="calendar_week", subject_id=week.id,
           details={"week_start": start.isoformat()})
    return week


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def has_feed_token(session: Session, actor: Actor) -> bool:
    return session.scalars(select(CalendarFeedToken.id).where(
        CalendarFeedToken.user_id == actor.user_id,
        CalendarFeedToken.agency_id == actor.agency_id)).first() is not None


def reset_feed_token(session: Session, actor: Actor) -> str:
    """A new secret for the actor's feed of their agency (shown once); the old one stops."""
    actor.check(Op.VIEW_CALENDAR)
    secret = secrets.token_urlsafe(32)
    row = session.scalars(select(CalendarFeedToken).where(
        CalendarFeedToken.user_id == actor.user_id,
        CalendarFeedToken.agency_id == actor.agency_id)).first()
    if row is None:
        row = CalendarFeedToken(user_id=actor.user_id, agency_id=actor.agency_id)
        session.add(row)
    row.token_hash, row.created_at = _hash(secret), dt.datetime.now(dt.UTC)
    session.flush()
    record(session, actor.ctx, Tag.CALENDAR_FEED_RESET, subject_type="calendar_feed",
           subject_id=row.id)
    return secret


def feed_events(session: Session, secret: str, today: dt.date
                ) -> tuple[Agency, list[CalendarEvent]]:
    """The agency and the published events around ``today`` for a feed secret; 404 for a
    secret that is unknown, replaced, or whose user left the agency or was deactivated."""
    missing = NotFound("Không tìm thấy lịch.")
    if not secret or len(secret) > 100:
        raise missing
    row = session.scalars(select(CalendarFeedToken).where(
        CalendarFeedToken.token_hash == _hash(secret))).first()
    if row is None:
        raise missing
    member = session.scalars(select(Membership).join(User).where(
        Membership.user_id == row.user_id, Membership.agency_id == row.agency_id,
        User.active.is_(True))).first()
    if member is None:
        raise missing
    first = monday(today) - dt.timedelta(weeks=FEED_WEEKS_BACK)
    last = monday(today) + dt.timedelta(weeks=FEED_WEEKS_AHEAD)
    events = session.scalars(
        select(CalendarEvent).join(CalendarWeek)
        .where(CalendarEvent.agency_id == row.agency_id, CalendarWeek.published_at.is_not(None),
               CalendarEvent.day >= first, CalendarEvent.day < last)
        .order_by(CalendarEvent.day, CalendarEvent.start_time, CalendarEvent.id)).all()
    return session.get(Agency, row.agency_id), list(events)
