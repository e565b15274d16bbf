"""/api/v1/calendar: the agency's work calendar (docs/calendar.md): a week as everyone sees it
(published weeks only; the office sees its drafts too), and the office's editing: an event
added, changed, deleted, a week published or taken back to draft.

Each handler calls the service its page calls (``ioffice.schedule.service``, as
``ioffice.web.schedule``) after the same role rule; refused input answers 400 with the page's
message and one message per field (``fields``), in Vietnamese.
"""

from __future__ import annotations

import datetime as dt

from flask import url_for
from pydantic import Field

from ioffice.agencies.permissions import Op
from ioffice.api.routing import Call
from ioffice.api.schemas import Input, Output
from ioffice.api.views import api
from ioffice.incoming.registration import today_vn
from ioffice.schedule import service as schedule
from ioffice.schedule.models import CalendarEvent
from ioffice.schedule.service import LIMITS, EventInput

CALENDAR = "calendar"


# ----------------------------------------------------------------------------- schemas


class WeekQuery(Input):
    week: str | None = Field(None, max_length=20, description=(
        "Any day of the week, `YYYY-MM-DD` (the page's `tuan`); this week when omitted."))


def _text(name: str, description: str, default: str = ""):
    # a little over the service's limit, so that the service's own message answers
    return Field(default, max_length=LIMITS[name] + 100, description=(
        f"{description} At most {LIMITS[name]} characters."))


class EventIn(Input):
    day: str = Field(max_length=20, description="The day, `YYYY-MM-DD`; its week is created as "
                                                "a draft when it has no event yet.")
    start_time: str = Field(max_length=10, description="`HH:MM`, e.g. `07:30`.")
    end_time: str = Field("", max_length=10, description="`HH:MM` after `start_time`, or empty.")
    title: str = _text("title", "What is done (nội dung công việc).", default=...)
    place: str = _text("place", "Where (địa điểm).")
    chair: str = _text("chair", "Who chairs it (chủ trì).")
    participants: str = _text("participants", "Who takes part (thành phần).")
    preparation: str = _text("preparation", "Who prepares it (chuẩn bị).")
    notes: str = _text("notes", "Notes (ghi chú).")

    def to_input(self) -> EventInput:
        return EventInput(**self.model_dump())


class PublishIn(Input):
    week: str = Field(max_length=20, description="Any day of the week, `YYYY-MM-DD`.")
    publish: bool = Field(True, description="false: take a published week back to draft (only "
                                            "the office sees it again).")


class EventOut(Output):
    id: int
    url: str
    day: dt.date
    start_time: str = Field(description="`HH:MM`.")
    end_time: str = Field(description="`HH:MM`, or empty.")
    title: str
    place: str
    chair: str
    participants: str
    preparation: str
    notes: str
    week_start: dt.date = Field(description="The Monday of its week.")
    published: bool = Field(description="Its week is published (everyone sees it).")
    sequence: int = Field(description="Times it was changed (the iCalendar SEQUENCE).")
    updated_at: dt.datetime


class WeekOut(Output):
    start: dt.date = Field(description="Monday.")
    end: dt.date = Field(description="Sunday.")
    published: bool
    published_at: dt.datetime | None
    editable: bool = Field(description="The caller may edit it (the office).")
    visible: bool = Field(description="false: a draft week the caller may not see (no events "
                                      "are listed).")
    events: list[EventOut] = Field(description="By day, then start time.")


def event_out(e: CalendarEvent) -> EventOut:
    return EventOut(
        id=e.id, url=f"/api/v1/calendar/events/{e.id}", day=e.day,
        start_time=e.start_time.strftime("%H:%M"),
        end_time=e.end_time.strftime("%H:%M") if e.end_time else "", title=e.title,
        place=e.place, chair=e.chair, participants=e.participants, preparation=e.preparation,
        notes=e.notes, week_start=e.week.week_start, published=e.week.published,
        sequence=e.sequence or 0, updated_at=e.updated_at)


def _week(call: Call, start: dt.date) -> WeekOut:
    v = schedule.week_view(call.session, call.actor, start)
    events = sorted(v.events, key=lambda e: (e.day, e.start_time, e.id))
    return WeekOut(start=v.start, end=v.start + dt.timedelta(days=6), published=v.published,
                   published_at=v.week.published_at if v.week is not None else None,
                   editable=v.editable, visible=v.visible,
                   events=[event_out(e) for e in events])


# ----------------------------------------------------------------------------- handlers


@api.get("/calendar/week", summary="A week of the agency's work calendar", tag=CALENDAR,
         query=WeekQuery, response=WeekOut, errors=(400,), operation=Op.VIEW_CALENDAR)
def get_calendar_week(call: Call) -> WeekOut:
    """Everyone sees a published week; the office (clerks) sees drafts too. A malformed day
    answers 400 with the page's message."""
    return _week(call, schedule.parse_week(call.query.week, today_vn()))


@api.get("/calendar/events/<int:event_id>", summary="One event of the calendar", tag=CALENDAR,
         response=EventOut, errors=(404,), operation=Op.VIEW_CALENDAR)
def get_calendar_event(call: Call, event_id: int) -> EventOut:
    """An event of a draft week answers 404 to who may not see drafts, as another agency's."""
    return event_out(schedule.get_event(call.session, call.actor, event_id))


@api.post("/calendar/events", summary="Add an event (the office)", tag=CALENDAR, body=EventIn,
          response=EventOut, status=201, errors=(400, 403), operation=Op.EDIT_CALENDAR,
          links=("get_calendar_event", "edit_calendar_event", "delete_calendar_event"))
def create_calendar_event(call: Call) -> EventOut:
    """Its week is created as a draft when new; a published week stays published and everyone
    sees the event at once. Honours `Idempotency-Key`."""
    return event_out(schedule.save_event(call.session, call.actor, call.body.to_input()))


@api.post("/calendar/events/<int:event_id>/edit", summary="Change an event (the office)",
          tag=CALENDAR, body=EventIn, response=EventOut, errors=(400, 403, 404),
          operation=Op.EDIT_CALENDAR)
def edit_calendar_event(call: Call, event_id: int) -> EventOut:
    """Every field as on the page's form (an omitted optional one is emptied); a new day may
    move it to another week."""
    return event_out(schedule.save_event(call.session, call.actor, call.body.to_input(),
                                         event_id))


@api.post("/calendar/events/<int:event_id>/delete", summary="Delete an event (the office)",
          tag=CALENDAR, response=WeekOut, errors=(403, 404), operation=Op.EDIT_CALENDAR)
def delete_calendar_event(call: Call, event_id: int) -> WeekOut:
    """The week it was in, as it is afterwards."""
    return _week(call, schedule.delete_event(call.session, call.actor, event_id))


@api.post("/calendar/week/publish", summary="Publish a week, or take it back to draft (the "
          "office)", tag=CALENDAR, body=PublishIn, response=WeekOut, errors=(400, 403),
          operation=Op.EDIT_CALENDAR)
def publish_calendar_week(call: Call) -> WeekOut:
    """A week without events cannot be published (400, the page's message)."""
    b = call.body
    start = schedule.parse_week(b.week or "-", today_vn())
    schedule.publish_week(call.session, call.actor, start, publish=b.publish)
    return _week(call, start)


class FeedOut(Output):
    url: str = Field(description="The caller's iCalendar feed of the agency's published weeks, "
                                 "to paste into a calendar program. Shown this once: it holds "
                                 "the secret; the previous link stops working.")


@api.post("/calendar/feed", summary="A new link to the caller's iCalendar feed (the old one "
          "stops)", tag=CALENDAR, response=FeedOut, operation=Op.VIEW_CALENDAR)
def reset_calendar_feed(call: Call) -> FeedOut:
    """As «Lấy liên kết lịch» on the page (`/lich-cong-tac/lien-ket`): any member, for the
    token's agency; audited (`calendar:feed:reset`)."""
    secret = schedule.reset_feed_token(call.session, call.actor)
    return FeedOut(url=url_for("calendar.feed", token=secret, _external=True))
