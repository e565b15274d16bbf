"""Tables of the exchange connector: the outbox, the inbox, statuses received, the directory."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, utcnow


class OutboxState:
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class InboxState:
    DELIVERED = "delivered"          # an incoming document was created
    DUPLICATE = "duplicate"          # same DocumentId already received: nothing created
    AWAITING_DECISION = "awaiting_decision"   # revoke / update / replace: the clerk decides
    AGREED = "agreed"
    REFUSED = "refused"
    STATUS = "status"                # a status about one of our sent documents, stored
    IGNORED = "ignored"              # a status for a document we never sent
    FAILED = "failed"                # refused: bad signature, malformed, unknown ...


class ExchangeOutbox(Base):
    """A package to send: written in the business transaction, sent by the worker after commit."""

    __tablename__ = "exchange_outbox"
    __table_args__ = (
        Index("ix_exchange_outbox_due", "state", "next_attempt_at"),
        Index("ix_exchange_outbox_document", "agency_id", "document_identifier"),
        Index("ix_exchange_outbox_agency_sent", "agency_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(8))  # edoc | status
    document_identifier: Mapped[str] = mapped_column(String(255))
    business_type: Mapped[str] = mapped_column(String(8), default="new")
    status_code: Mapped[str | None] = mapped_column(String(2))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # also the lease: a claimed row is pushed ahead so no other worker takes it meanwhile
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    hub: Mapped[str] = mapped_column(String(40), default="")
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class ExchangeInbox(Base):
    """One received package for one local recipient agency: what became of it."""

    __tablename__ = "exchange_inbox"
    __table_args__ = (
        UniqueConstraint("hub", "message_id", "recipient_organ_id"),
        UniqueConstraint("dedupe_key"),
        Index("ix_exchange_inbox_agency", "agency_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hub: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(64))
    recipient_organ_id: Mapped[str] = mapped_column(String(35))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    messagetype: Mapped[str] = mapped_column(String(8))
    sender_organ_id: Mapped[str] = mapped_column(String(35), default="")
    sender_name: Mapped[str] = mapped_column(String(255), default="")
    document_identifier: Mapped[str] = mapped_column(String(255), default="")
    business_type: Mapped[str] = mapped_column(String(8), default="")
    status_code: Mapped[str | None] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(Text, default="")
    response_for: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))
    error: Mapped[str] = mapped_column(Text, default="")
    # recipient + sender + DocumentId + business type: the same document is received once
    dedupe_key: Mapped[str | None] = mapped_column(String(400))
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    target_document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ExchangeStatus(Base):
    """A status a recipient reported about a document one of our agencies sent."""

    __tablename__ = "exchange_statuses"
    __table_args__ = (
        UniqueConstraint("agency_id", "document_identifier", "organ_id", "code", "occurred_at"),
        Index("ix_exchange_statuses_document", "agency_id", "document_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    document_identifier: Mapped[str] = mapped_column(String(255))
    organ_id: Mapped[str] = mapped_column(String(35))
    code: Mapped[str] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(Text, default="")
    staff: Mapped[str] = mapped_column(String(255), default="")
    department: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str] = mapped_column(String(64), default="")


class DirectoryEntry(Base):
    """The hubs' directory of agencies (getAgenciesList), cached for dispatch-time checks."""

    __tablename__ = "exchange_directory"

    organ_id: Mapped[str] = mapped_column(String(35), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    hub: Mapped[str] = mapped_column(String(40))
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
