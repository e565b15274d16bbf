from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, utcnow


class AuditHead(Base):
    """The newest hash of each chain; its row lock serialises appends to that chain."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One event. Events of reads are appended pending (``seq`` and ``prev_hash`` NULL,
    ``hash`` the digest of the row alone) and chained shortly after by
    :func:`ioffice.audit.service.chain_pending` (docs/security.md, "Audit log")."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        # the chainer's work list: small, as rows leave it within seconds
        Index("ix_audit_events_pending", "chain", "id", sqlite_where=text("seq IS NULL"),
              postgresql_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int | None]
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    tag: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(80), default="", index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
