"""Weeks of the work calendar, their events, and each user's secret iCalendar feed token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.db import Base, utcnow


class CalendarWeek(Base):
    """One week (Monday ``week_start``) of an agency's calendar: a draft until the office
    publishes it; staff see published weeks only."""

    __tablename__ = "calendar_weeks"
    __table_args__ = (UniqueConstraint("agency_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    week_start: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    events: Mapped[list[CalendarEvent]] = relationship(
        back_populates="week", cascade="all, delete-orphan",
        order_by="(CalendarEvent.day, CalendarEvent.start_time, CalendarEvent.id)")

    @property
    def published(self) -> bool:
        return self.published_at is not None


class CalendarEvent(Base):
    __tablename__ = "calendar_events"
    __table_args__ = (Index("ix_calendar_events_agency_day", "agency_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("calendar_weeks.id", ondelete="CASCADE"),
                                         index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time | None] = mapped_column(Time)
    title: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(255), default="")
    chair: Mapped[str] = mapped_column(String(255), default="")
    participants: Mapped[str] = mapped_column(Text, default="")
    preparation: Mapped[str] = mapped_column(String(255), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sequence: Mapped[int] = mapped_column(default=0)
    """Bumped on each change: the iCalendar SEQUENCE, so calendar programs take the update."""

    week: Mapped[CalendarWeek] = relationship(back_populates="events")


class CalendarFeedToken(Base):
    """A user's secret for the iCalendar feed of one agency: only its SHA-256 is kept; a reset
    replaces it (the old URL then answers 404)."""

    __tablename__ = "calendar_feed_tokens"
    __table_args__ = (UniqueConstraint("user_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
