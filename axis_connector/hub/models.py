"""The hub's tables: connected systems, the agency directory, messages, deliveries, outboxes."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, utcnow

__all__ = [
    "Agency",
    "Delivery",
    "DeliveryState",
    "DirectoryEvent",
    "DirectoryVersion",
    "Forward",
    "Message",
    "MessageType",
    "Nonce",
    "Notification",
    "System",
    "WorkState",
]


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in enum_cls]


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    return Enum(enum_cls, name=name, native_enum=False, length=16, values_callable=_values,
                validate_strings=True)


class MessageType(enum.StrEnum):
    EDOC = "edoc"
    STATUS = "status"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    """Waiting for the recipient's system to fetch and acknowledge it."""
    FORWARDING = "forwarding"
    """Queued for the upstream axis (the recipient is not served here)."""
    FORWARDED = "forwarded"
    """Accepted by the upstream axis, which now owns delivery."""
    DELIVERED = "delivered"
    FAILED = "failed"


class WorkState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class System(Base):
    """A connected system (an agency's document system, or a provincial platform)."""

    __tablename__ = "axis_systems"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    secret: Mapped[str] = mapped_column(String(255))
    """The shared HMAC secret (the hub must hold it to check signatures)."""
    is_admin: Mapped[bool] = mapped_column(default=False)
    """May register agencies for other systems."""
    organ_patterns: Mapped[str] = mapped_column(String(500), default="")
    """Comma-separated globs of agencies this system serves without registering each one
    (a provincial platform on the national axis: ``*.H12``)."""
    register_patterns: Mapped[str] = mapped_column(String(500), default="")
    """Comma-separated globs of the agency codes this system may ``registerAgency`` (granted by
    the operator, ``add-system --may-register``); empty: none."""
    base_url: Mapped[str | None] = mapped_column(String(500))
    """The system's own address (set by the operator): ``registerCallback`` accepts only URLs
    under it."""
    callback_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def patterns(self) -> list[str]:
        return _pattern_list(self.organ_patterns)

    def grants(self) -> list[str]:
        return _pattern_list(self.register_patterns)


def _pattern_list(text: str) -> list[str]:
    """``"*.H12, 000.00.*"`` -> ``["*.H12", "000.00.*"]``."""
    return [p.strip() for p in text.split(",") if p.strip()]


class Agency(Base):
    """The directory: an agency, the system it is reached through, the certificate trusted for it."""

    __tablename__ = "axis_agencies"

    organ_id: Mapped[str] = mapped_column(String(35), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    parent_id: Mapped[str | None] = mapped_column(String(35))
    level: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    telephone: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    system_id: Mapped[str] = mapped_column(ForeignKey("axis_systems.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DirectoryVersion(Base):
    """One row (id 1) counting changes to systems and agencies: processes cache the directory
    and reload it when this number moved (``directory.py``)."""

    __tablename__ = "axis_directory_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=1)


class DirectoryEvent(Base):
    """One change to the directory (an agency registered, updated, moved or removed; a system's
    grants changed), or a registration the hub refused: who, what, from which system to which,
    when. Written in the transaction of the change (a refusal in its own, after the rollback)."""

    __tablename__ = "axis_directory_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    """The connected system that asked, or ``operator`` (a hub command)."""
    action: Mapped[str] = mapped_column(String(16))
    """register, update, move, remove, grant, refused."""
    organ_id: Mapped[str | None] = mapped_column(String(35), index=True)
    system_id: Mapped[str | None] = mapped_column(String(64))
    """For ``grant``: the system whose grants changed."""
    old_system_id: Mapped[str | None] = mapped_column(String(64))
    new_system_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(1000), default="")


class Nonce(Base):
    """Request nonces seen, kept until their timestamp window has passed (shared by all processes)."""

    __tablename__ = "axis_nonces"

    system_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class Message(Base):
    """One package as stored by the hub (bytes included, in the same transaction)."""

    __tablename__ = "axis_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 over sender, DocumentId, messagetype, content hash and recipients: a resend of the
    same package gets the same message id."""
    sender_system_id: Mapped[str | None] = mapped_column(ForeignKey("axis_systems.id"), index=True)
    """The connected system that posted it; empty when it came down from the upstream axis."""
    sender_organ_id: Mapped[str] = mapped_column(String(35))
    document_id: Mapped[str] = mapped_column(String(255), index=True)
    messagetype: Mapped[MessageType] = mapped_column(_enum(MessageType, "axis_message_type"))
    status_code: Mapped[str | None] = mapped_column(String(2))
    response_for_document_id: Mapped[str | None] = mapped_column(String(255))
    received_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the package as the sender posted it."""
    content_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the stored package (with this hub's TraceHeader)."""
    content_length: Mapped[int]
    package: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="message", order_by="Delivery.id")


class Delivery(Base):
    """One recipient of one message: offered until acknowledged, or forwarded upstream."""

    __tablename__ = "axis_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "recipient_organ_id"),
        Index("ix_axis_deliveries_system_state", "system_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("axis_messages.id"))
    recipient_organ_id: Mapped[str] = mapped_column(String(35), index=True)
    system_id: Mapped[str | None] = mapped_column(ForeignKey("axis_systems.id"))
    """The system that fetches it; empty while it goes to the upstream axis."""
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "axis_delivery_state"))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    message: Mapped[Message] = relationship(back_populates="deliveries")


class Forward(Base):
    """Outbox to the upstream axis: one row per message, with the recipients it must reach there."""

    __tablename__ = "axis_forwards"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("axis_messages.id"), unique=True)
    recipients: Mapped[str] = mapped_column(Text)
    """Comma-separated OrganIds."""
    state: Mapped[WorkState] = mapped_column(_enum(WorkState, "axis_work_state"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    upstream_message_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_axis_forwards_state_next", "state", "next_attempt_at"),)


class Notification(Base):
    """Outbox of push notifications to a recipient system's callback URL."""

    __tablename__ = "axis_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("axis_systems.id"))
    message_id: Mapped[str] = mapped_column(ForeignKey("axis_messages.id"))
    state: Mapped[WorkState] = mapped_column(_enum(WorkState, "axis_work_state"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(1000), default="")

    __table_args__ = (Index("ix_axis_notifications_state_next", "state", "next_attempt_at"),)
