from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, utcnow


class ApiToken(Base):
    """A bearer token acting as one user in one agency. Only the SHA-256 of the token is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    # comma-separated scopes (ioffice.api.tokens.Scope): what kinds of operation it may call
    scopes: Mapped[str] = mapped_column(String(64), default="read,write",
                                        server_default="read,write")
    expires_at: Mapped[dt.datetime | None]
    """Refused (401 ``token_expired``) from this moment; None: until revoked."""


class IdempotencyKey(Base):
    """The first successful answer to a creating POST sent with an ``Idempotency-Key`` header:
    a retry with the same key and the same request gets this answer again, and creates nothing;
    the same key with another request is refused (409)."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the method, the path and the request body in a canonical form."""
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    """The JSON body of the first answer."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
