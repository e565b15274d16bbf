"""API tokens: issue, revoke, and authenticate a bearer token to the membership it acts for.

A token is shown once when issued; only its SHA-256 is stored, so a copy of the database gives
no usable token. A token is bound to one user in one agency and stops working when it is
revoked, when the user is deactivated, or when the user leaves that agency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Membership, User
from ioffice.agencies.service import load_membership
from ioffice.api.models import ApiToken
from ioffice.audit import AuditContext, record
from ioffice.db import utcnow
from ioffice.errors import DomainError, NotFound

__all__ = [
    "TOKEN_PREFIX",
    "InvalidToken",
    "IssuedToken",
    "authenticate",
    "hash_token",
    "issue",
    "list_tokens",
    "revoke",
]

#: Marks the string as an iOffice token, so secret scanners and people recognise a leaked one.
TOKEN_PREFIX = "iof_"
#: last_used_at is written at most this often per token, so reads do not all become writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class InvalidToken(DomainError):
    """Missing, unknown, revoked, or belonging to a user who may no longer act."""

    status_code = 401


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str
    """The bearer token itself; shown once, never stored."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, ctx: AuditContext, *, user: User, agency_id: int, name: str) -> IssuedToken:
    """Create a token acting as ``user`` in ``agency_id``; the user must be a member there."""
    name = name.strip()
    if not name:
        raise DomainError("Phải đặt tên cho mã truy cập (ví dụ: tên hệ thống sẽ dùng nó).")
    if load_membership(session, user.id, agency_id) is None:
        raise NotFound(f"Tài khoản {user.username} không thuộc cơ quan này.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, agency_id=agency_id, name=name[:120],
                     token_hash=hash_token(secret), prefix=secret[:12])
    session.add(token)
    session.flush()
    record(session, ctx, "api:token:create", subject_type="api_token", subject_id=token.id,
           agency_id=agency_id, details={"user": user.username, "name": token.name,
                                         "prefix": token.prefix})
    return IssuedToken(token, secret)


def revoke(session: Session, ctx: AuditContext, prefix: str) -> ApiToken:
    """Revoke the token whose first characters (as listed) are ``prefix``."""
    token = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix.strip()[:12])
                            ).one_or_none()
    if token is None:
        raise NotFound(f"Không tìm thấy mã truy cập bắt đầu bằng «{prefix}».")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, ctx, "api:token:revoke", subject_type="api_token", subject_id=token.id,
               agency_id=token.agency_id, details={"prefix": token.prefix})
    return token


def list_tokens(session: Session, user: User | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens with their user's username, newest first."""
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return [(t, name) for t, name in session.execute(stmt.order_by(ApiToken.id.desc()))]


def authenticate(session: Session, secret: str | None, *, now: dt.datetime | None = None
                 ) -> Membership:
    """The membership a bearer token acts for, or :class:`InvalidToken`.

    Every refusal carries the same message, so a caller cannot tell a revoked token from an
    unknown one.
    """
    refused = InvalidToken("Mã truy cập (token) không hợp lệ, đã bị thu hồi hoặc tài khoản đã bị "
                           "khóa. Gửi tiêu đề «Authorization: Bearer <mã truy cập>».")
    if not secret:
        raise InvalidToken("Thiếu mã truy cập. Gửi tiêu đề «Authorization: Bearer <mã truy cập>».")
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
                            ).one_or_none()
    if token is None or token.revoked_at is not None:
        raise refused
    membership = load_membership(session, token.user_id, token.agency_id)
    if membership is None or not membership.user.active:
        raise refused
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return membership
