"""API tokens: issue, revoke, and authenticate a bearer token to the membership it acts for.

A token is shown once when issued; only its SHA-256 is stored, so a copy of the database gives
no usable token. A token is bound to one user in one agency and stops working when it is
revoked, when it expires, when the user is deactivated, or when the user leaves that agency.

A token also carries scopes (:class:`Scope`): the kinds of operation it may call, on top of
the roles of the user it acts as. The roles say what the person may do; the scopes say what
the system holding the token was trusted with (a reporting system gets ``read`` only).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, Role, User
from ioffice.agencies.permissions import Op
from ioffice.agencies.service import load_membership
from ioffice.api.models import ApiToken
from ioffice.audit import AuditContext, record
from ioffice.db import utcnow
from ioffice.errors import DomainError, NotFound

__all__ = [
    "TOKEN_PREFIX",
    "ExpiredToken",
    "InvalidToken",
    "InvalidTokenRequest",
    "IssuedToken",
    "MissingScope",
    "Scope",
    "authenticate",
    "hash_token",
    "issue",
    "issue_by_token",
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


class ExpiredToken(InvalidToken):
    """Past its ``expires_at``: the holder asks for a new one."""


class MissingScope(DomainError):
    """The token was not given the scope the operation needs."""

    status_code = 403


class InvalidTokenRequest(DomainError):
    """A token asked for through the API with refused fields (``fields``: name -> message)."""

    status_code = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Thông tin chưa hợp lệ: " + " ".join(fields.values()))
        self.fields = fields


class Scope(enum.StrEnum):
    READ = "read"  # every GET
    WRITE = "write"  # every POST that is not signing or administration
    SIGN = "sign"  # personal signatures (PIN, two-phase), key certificates
    ADMIN = "admin"  # the agency admin's operations (users, tokens)

    @property
    def label(self) -> str:
        return {"read": "Đọc", "write": "Ghi (tạo, xử lý văn bản)",
                "sign": "Ký số (vẫn cần mã PIN hoặc khóa của người ký)",
                "admin": "Quản trị (người dùng, mã truy cập)"}[self.value]


DEFAULT_SCOPES = (Scope.READ, Scope.WRITE)
#: The longest life a token may be given; tokens without an end are the operator's (CLI) call.
MAX_LIFETIME = dt.timedelta(days=730)


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Scopes from their names (also comma-separated), in the enum's order, or DomainError."""
    names = {v.strip().lower() for value in values for v in str(value).split(",") if v.strip()}
    unknown = sorted(names - {s.value for s in Scope})
    if unknown:
        raise DomainError(f"Phạm vi không hợp lệ: {', '.join(unknown)}; chọn trong: "
                          f"{', '.join(s.value for s in Scope)}.")
    if not names:
        raise DomainError("Phải chọn ít nhất một phạm vi cho mã truy cập (read, write, sign, "
                          "admin).")
    return tuple(s for s in Scope if s.value in names)


VN = dt.timezone(dt.timedelta(hours=7))


def parse_expiry(text: str | None, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """``90d`` (days from now) or ``YYYY-MM-DD`` (valid through that day, Vietnam time); empty:
    no expiry. A DomainError with a message for anything else."""
    text = (text or "").strip().lower()
    if not text:
        return None
    now = now or utcnow()
    if text.endswith("d") and text[:-1].isdigit() and len(text) <= 5:
        return now + dt.timedelta(days=int(text[:-1]))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"Hạn dùng «{text[:20]}» không hợp lệ: ghi số ngày (ví dụ 90d) hoặc "
                          "ngày dạng YYYY-MM-DD.") from None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), VN).astimezone(dt.UTC)


def scopes_of(token: ApiToken) -> tuple[Scope, ...]:
    return tuple(Scope(v) for v in token.scopes.split(",") if v)


def require_scope(token: ApiToken, scope: Scope) -> None:
    if scope not in scopes_of(token):
        raise MissingScope(f"Mã truy cập «{token.name}» không có phạm vi «{scope.value}» "
                           f"({scope.label}) cần cho thao tác này; hãy tạo mã mới có phạm vi "
                           "đó.")


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str
    """The bearer token itself; shown once, never stored."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, ctx: AuditContext, *, user: User, agency_id: int, name: str,
          scopes: Iterable[Scope | str] = DEFAULT_SCOPES, expires_at: dt.datetime | None = None,
          now: dt.datetime | None = None) -> IssuedToken:
    """Create a token acting as ``user`` in ``agency_id``; the user must be a member there.
    ``expires_at``: when it stops working (in the future, within :data:`MAX_LIFETIME`)."""
    name = name.strip()
    if not name:
        raise DomainError("Phải đặt tên cho mã truy cập (ví dụ: tên hệ thống sẽ dùng nó).")
    chosen = parse_scopes(scopes)
    now = now or utcnow()
    if expires_at is not None:
        if expires_at <= now:
            raise DomainError("Ngày hết hạn của mã truy cập phải ở tương lai.")
        if expires_at - now > MAX_LIFETIME:
            raise DomainError("Mã truy cập có hạn dùng tối đa 730 ngày (2 năm).")
    if load_membership(session, user.id, agency_id) is None:
        raise NotFound(f"Tài khoản {user.username} không thuộc cơ quan này.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, agency_id=agency_id, name=name[:120],
                     token_hash=hash_token(secret), prefix=secret[:12],
                     scopes=",".join(s.value for s in chosen), expires_at=expires_at)
    session.add(token)
    session.flush()
    record(session, ctx, "api:token:create", subject_type="api_token", subject_id=token.id,
           agency_id=agency_id, details={
               "user": user.username, "name": token.name, "prefix": token.prefix,
               "scopes": token.scopes,
               "expires_at": expires_at.isoformat() if expires_at else None})
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
    """The membership a bearer token acts for, or :class:`InvalidToken`."""
    return authenticate_token(session, secret, now=now)[1]


def authenticate_token(session: Session, secret: str | None, *, now: dt.datetime | None = None
                       ) -> tuple[ApiToken, Membership]:
    """The token and the membership it acts for, or :class:`InvalidToken`.

    Every refusal carries the same message, so a caller cannot tell a revoked token from an
    unknown one; only an expired one (a genuine token, so nothing is disclosed) says so.
    """
    refused = InvalidToken("Mã truy cập (token) không hợp lệ, đã bị thu hồi hoặc tài khoản đã bị "
                           "khóa. Gửi tiêu đề «Authorization: Bearer <mã truy cập>».")
    if not secret:
        raise InvalidToken("Thiếu mã truy cập. Gửi tiêu đề «Authorization: Bearer <mã truy cập>».")
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
                            ).one_or_none()
    if token is None or token.revoked_at is not None:
        raise refused
    now = now or utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        raise ExpiredToken(f"Mã truy cập «{token.name}» đã hết hạn lúc "
                           f"{token.expires_at.isoformat(timespec='minutes')} (UTC); hãy tạo mã "
                           "mới.")
    membership = load_membership(session, token.user_id, token.agency_id)
    if membership is None or not membership.user.active:
        raise refused
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token, membership


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


def issue_own(session: Session, actor: Actor, name: str,
              scopes: Iterable[Scope | str] = DEFAULT_SCOPES,
              expires_at: dt.datetime | None = None) -> IssuedToken:
    """A token acting as the actor in the agency they act for (the page «Mã truy cập API»).
    The ``admin`` scope only for an admin of that agency."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Không tìm thấy tài khoản.")
    if Scope.ADMIN in parse_scopes(scopes):
        actor.check(Op.ADMIN_USERS)
    return issue(session, actor.ctx, user=user, agency_id=actor.agency_id, name=name,
                 scopes=scopes, expires_at=expires_at)


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


def tokens_page(session: Session, actor: Actor, *, whole_agency: bool = False,
                after: int | None = None, limit: int = 50) -> list[tuple[ApiToken, User]]:
    """:func:`tokens_of` a page at a time: newest first, ``limit`` tokens older than the token
    ``after`` (paging by key), each with its holder."""
    if whole_agency:
        actor.check(Op.ADMIN_USERS)
    stmt = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.agency_id == actor.agency_id))
    if not whole_agency:
        stmt = stmt.where(ApiToken.user_id == actor.user_id)
    if after is not None:
        stmt = stmt.where(ApiToken.id < after)
    return [(t, u) for t, u in session.execute(stmt.order_by(ApiToken.id.desc()).limit(limit))]


def issue_by_token(session: Session, actor: Actor, issuer: ApiToken, *, name: str,
                   scopes: Iterable[str] = (), expires: str | None = None,
                   user_id: int | None = None, now: dt.datetime | None = None) -> IssuedToken:
    """A token issued through the API by the token ``issuer`` (acting as ``actor``): for the
    actor, or (``user_id``, the agency admin) for another member of the actor's agency; a user
    of another agency looks missing. Never wider than the issuer: its scopes among the issuer's,
    its expiry no later than the issuer's. The ``admin`` scope only by an admin of the agency
    (as on the page «Mã truy cập API») and only for a holder who is one. Every refused field
    at once (:class:`InvalidTokenRequest`, 422)."""
    now = now or utcnow()
    own = user_id is None or user_id == actor.user_id
    if not own:
        actor.check(Op.ADMIN_USERS)
    holder = load_membership(session, actor.user_id if own else user_id, actor.agency_id)
    if holder is None:
        raise NotFound("Không tìm thấy người dùng trong cơ quan này.")
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Phải đặt tên cho mã truy cập (ví dụ: tên hệ thống sẽ dùng nó)."
    try:
        chosen = parse_scopes(scopes or DEFAULT_SCOPES)
    except DomainError as exc:
        errors["scopes"] = exc.message
    else:
        wider = [s.value for s in chosen if s not in scopes_of(issuer)]
        if wider:
            errors["scopes"] = (f"Mã truy cập đang dùng không có phạm vi {', '.join(wider)}: "
                                "không thể cấp mã có phạm vi rộng hơn chính nó.")
        elif Scope.ADMIN in chosen:
            actor.check(Op.ADMIN_USERS)
            if Role.ADMIN not in holder.roles:
                errors["scopes"] = (f"{holder.user.full_name} không có vai trò Quản trị của cơ "
                                    "quan: không thể nhận mã có phạm vi «admin».")
    try:
        expires_at = parse_expiry(expires, now=now)
    except DomainError as exc:
        errors["expires"] = exc.message
    else:
        if expires_at is not None and expires_at <= now:
            errors["expires"] = "Ngày hết hạn của mã truy cập phải ở tương lai."
        elif expires_at is not None and expires_at - now > MAX_LIFETIME:
            errors["expires"] = "Mã truy cập có hạn dùng tối đa 730 ngày (2 năm)."
        elif issuer.expires_at is not None and (expires_at is None
                                                or expires_at > issuer.expires_at):
            errors["expires"] = (
                "Mã mới không thể dùng lâu hơn mã đang dùng để cấp nó (hết hạn "
                f"{issuer.expires_at.isoformat(timespec='minutes')} UTC): chọn hạn dùng "
                "sớm hơn.")
    if errors:
        raise InvalidTokenRequest(errors)
    return issue(session, actor.ctx, user=holder.user, agency_id=actor.agency_id, name=name,
                 scopes=chosen, expires_at=expires_at, now=now)
