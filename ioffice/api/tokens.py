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

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, User
from ioffice.agencies.permissions import Op
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
    return _revoke(session, ctx, token)


def _revoke(session: Session, ctx: AuditContext, token: ApiToken) -> ApiToken:
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


def tokens_of(session: Session, actor: Actor, *, whole_agency: bool = False
              ) -> list[tuple[ApiToken, str]]:
    """The actor's own tokens in the agency they act for, or (``whole_agency``, the admin
    managing users) every token of that agency; with the holder's full name, newest first."""
    if whole_agency:
        actor.check(Op.ADMIN_USERS)
    stmt = (select(ApiToken, User.full_name).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.agency_id == actor.agency_id))
    if not whole_agency:
        stmt = stmt.where(ApiToken.user_id == actor.user_id)
    return [(t, name) for t, name in session.execute(stmt.order_by(ApiToken.id.desc()))]


def issue_own(session: Session, actor: Actor, name: str) -> IssuedToken:
    """A token acting as the actor in the agency they act for (the page «Mã truy cập API»)."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Không tìm thấy tài khoản.")
    return issue(session, actor.ctx, user=user, agency_id=actor.agency_id, name=name)


def revoke_by_id(session: Session, actor: Actor, token_id: int, *, whole_agency: bool = False
                 ) -> ApiToken:
    """Revoke one of the actor's own tokens, or (``whole_agency``, the admin) any token of the
    agency; another user's or agency's token looks missing."""
    if whole_agency:
        actor.check(Op.ADMIN_USERS)
    token = session.get(ApiToken, token_id)
    if (token is None or token.agency_id != actor.agency_id
            or (not whole_agency and token.user_id != actor.user_id)):
        raise NotFound("Không tìm thấy mã truy cập này.")
    if token.revoked_at is not None:
        raise DomainError(f"Mã truy cập «{token.name}» đã bị thu hồi từ trước.")
    return _revoke(session, actor.ctx, token)
