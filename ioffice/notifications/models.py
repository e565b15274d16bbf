"""Notifications per user, their channels, the mail outbox, reminders sent and chases."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, enum_values, utcnow


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, values_callable=enum_values, native_enum=False, length=length)


class Kind(enum.StrEnum):
    """What a notification tells (docs/notifications.md has who gets each)."""

    TO_REGISTER = "to_register"
    ASSIGNED = "assigned"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    CHASED = "chased"
    TO_REVIEW = "to_review"
    TO_SIGN = "to_sign"
    RETURNED = "returned"
    EXCHANGE_REQUEST = "exchange_request"
    STATUS_BACK = "status_back"
    DEAD_LETTER = "dead_letter"
    RECORDS = "records"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.TO_REGISTER: "Văn bản đến chờ vào sổ",
    Kind.ASSIGNED: "Được giao xử lý văn bản",
    Kind.DUE_SOON: "Việc sắp đến hạn",
    Kind.OVERDUE: "Việc đã quá hạn",
    Kind.CHASED: "Lãnh đạo đôn đốc",
    Kind.TO_REVIEW: "Dự thảo chờ duyệt",
    Kind.TO_SIGN: "Văn bản chờ ký",
    Kind.RETURNED: "Dự thảo bị trả lại",
    Kind.EXCHANGE_REQUEST: "Yêu cầu thu hồi, thay thế, cập nhật",
    Kind.STATUS_BACK: "Trạng thái từ nơi nhận",
    Kind.DEAD_LETTER: "Gói tin gửi không thành công",
    Kind.RECORDS: "Hồ sơ, nộp lưu",
}


class Channel(enum.StrEnum):
    APP = "app"
    EMAIL = "email"
    BOTH = "both"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"app": "Trong ứng dụng", "email": "Thư điện tử", "both": "Cả hai",
                "none": "Không nhận"}[self.value]

    @property
    def in_app(self) -> bool:
        return self in (Channel.APP, Channel.BOTH)

    @property
    def by_email(self) -> bool:
        return self in (Channel.EMAIL, Channel.BOTH)


class Notification(Base):
    """One thing a user is told. Written in the transaction of the event that causes it;
    ``in_app`` False: kept only for the e-mail (and the digest), not shown in the bell."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id", "user_id", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_subject", "user_id", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, 24))
    subject_type: Mapped[str] = mapped_column(String(16), default="")
    """``incoming``, ``outgoing`` or ``exchange`` (the page ``link`` opens)."""
    subject_id: Mapped[int | None]
    link: Mapped[str] = mapped_column(String(255), default="")
    """The page's path under the application's root (``/van-ban-den/12``)."""
    text: Mapped[str] = mapped_column(Text)
    in_app: Mapped[bool] = mapped_column(default=True)
    by_email: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class Preference(Base):
    """A user's channel for one kind (no row: :data:`DEFAULT_CHANNEL`)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[Kind] = mapped_column(_enum(Kind, 24), primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 8))


class MailSettings(Base):
    """A user's daily digest: mail of the day in one message instead of one per event."""

    __tablename__ = "notification_mail_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(default=False)
    digest_after_id: Mapped[int] = mapped_column(default=0)
    """The last notification a digest covered."""
    digest_sent_on: Mapped[dt.date | None] = mapped_column(Date)


class MailState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"

    @property
    def label(self) -> str:
        return {"pending": "Chờ gửi", "sent": "Đã gửi", "dead": "Gửi không được"}[self.value]


class MailOutbox(Base):
    """A message for the worker to send over SMTP (never from a web request)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(255), default="")
    """The page the message points to (the worker puts ``IOFFICE_PUBLIC_URL`` before it)."""
    state: Mapped[MailState] = mapped_column(_enum(MailState, 8), default=MailState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class ReminderSettings(Base):
    """An agency's reminders: how many days before an assignment's deadline."""

    __tablename__ = "reminder_settings"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    days_before: Mapped[int] = mapped_column(default=2)


class ReminderSent(Base):
    """A reminder already given: once per assignment, kind and deadline (a new deadline,
    after an extension, is reminded again)."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("assignment_id", "kind", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, 24))
    deadline: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Chase(Base):
    """A leader's «đôn đốc»: of one assignment, or of a department's open work
    (``assignment_id`` NULL). Counted by the statistics."""

    __tablename__ = "chases"
    __table_args__ = (Index("ix_chases_agency_created", "agency_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
