"""Imported CA certificates (trust anchors and intermediates)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, utcnow


class TrustAnchor(Base):
    """One CA certificate an administrator imported: a root (self-signed) is trusted as an
    anchor; an intermediate only helps build paths to a trusted root."""

    __tablename__ = "trust_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex lower case
    der: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(1000))
    issuer: Mapped[str] = mapped_column(String(1000))
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime]
    is_root: Mapped[bool]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
