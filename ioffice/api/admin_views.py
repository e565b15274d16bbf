"""/api/v1/admin and /api/v1/tokens: the agency admin's users and API tokens, and one's own
tokens.

Each handler calls the service function the web page calls (``ioffice.web.admin``,
``ioffice.web.auth``: ``ioffice.agencies.members``, ``ioffice.api.tokens``). Every operation
under ``/admin`` needs the token's ``admin`` scope and the admin role (``Op.ADMIN_USERS``,
checked again in the service); a user or token of another agency looks missing (404).

Issuing a token is not idempotent by key: its answer holds the secret, which is never stored
(a retry issues a second token; list and revoke the one whose answer was lost).
"""

from __future__ import annotations

from ioffice.agencies import members
from ioffice.agencies.models import User
from ioffice.agencies.permissions import Op
from ioffice.api import admin_schemas as a
from ioffice.api import tokens
from ioffice.api.routing import Call
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.db import utcnow
from ioffice.incoming.errors import InvalidInput
from ioffice.keys import service as keys
from ioffice.text import parse_int

ADMIN = "administration"
TOKENS = "tokens"
USER_LINKS = ("get_user", "update_user", "deactivate_user", "reactivate_user",
              "reset_user_password", "issue_user_token")


def _user(call: Call, user_id: int) -> a.UserOut:
    return a.user_out(members.member(call.session, call.actor, user_id))


def _user_detail(call: Call, user_id: int) -> a.UserDetailOut:
    """A member with what locks them: the login lock on the name, wrong PINs on their keys."""
    membership = members.member(call.session, call.actor, user_id)
    lock = members.login_lock(call.session, membership.user)
    pins = sum(k.failures for k in keys.pin_keys(call.session, call.actor.agency_id, user_id))
    out = a.user_out(membership)
    return a.UserDetailOut(**out.model_dump(), lock=a.LockOut(
        login_failures=lock.failures if lock else 0,
        login_locked_until=lock.locked_until if lock else None,
        pin_failures=pins) if lock is not None or pins else None)


def _token_after(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = parse_int(raw)
    if value is None or value < 1:
        raise InvalidInput({"after": "Con trỏ trang không hợp lệ: dùng `next_after` của trang "
                                     "trước."})
    return value


def _token_page(call: Call, *, whole_agency: bool) -> a.TokenPage:
    q, now = call.query, utcnow()
    rows = tokens.tokens_page(call.session, call.actor, whole_agency=whole_agency,
                              after=_token_after(q.after), limit=q.limit)
    last = str(rows[-1][0].id) if len(rows) == q.limit else None
    return a.TokenPage(items=[a.token_out(t, u, now) for t, u in rows], next_after=last)


def _issued(call: Call, user_id: int | None) -> a.IssuedTokenOut:
    b = call.body
    assert call.token is not None
    issued = tokens.issue_by_token(call.session, call.actor, call.token, name=b.name,
                                   scopes=b.scopes, expires=b.expires, user_id=user_id)
    holder = issued.token
    out = a.token_out(holder, call.session.get(User, holder.user_id), utcnow())
    return a.IssuedTokenOut(**out.model_dump(), secret=issued.secret)


# ----------------------------------------------------------------------------- users


@api.get("/admin/users", summary="The agency's users, by username (admin)", tag=ADMIN,
         query=a.UserListQuery, response=a.UserPage, errors=(403,), operation=Op.ADMIN_USERS,
         scope=Scope.ADMIN)
def list_users(call: Call) -> a.UserPage:
    """Every member of the agency the token acts for, active or not, paginated by key."""
    q = call.query
    rows = members.members_page(call.session, call.actor, after=q.after, limit=q.limit)
    last = rows[-1].user.username if len(rows) == q.limit else None
    return a.UserPage(items=[a.user_out(m) for m in rows], next_after=last)


@api.post("/admin/users", summary="Create a user of the agency (admin)", tag=ADMIN,
          body=a.UserCreateIn, response=a.UserOut, status=201, errors=(403, 409),
          operation=Op.ADMIN_USERS, scope=Scope.ADMIN, links=USER_LINKS)
def create_user(call: Call) -> a.UserOut:
    """The password rules of the page «Người dùng» (at least 10 characters; Argon2id). A
    username already taken, in any agency, answers 409 `conflict`; every other refused field
    422 `invalid_input` with `fields`."""
    membership = members.create_member(call.session, call.actor, call.body.to_input())
    return a.user_out(membership)


@api.get("/admin/users/<int:user_id>", summary="A user of the agency (admin)", tag=ADMIN,
         response=a.UserDetailOut, errors=(403, 404), operation=Op.ADMIN_USERS,
         scope=Scope.ADMIN)
def get_user(call: Call, user_id: int) -> a.UserDetailOut:
    """With `lock`: the refused logins counted against the name and the wrong PINs on the
    user's keys, what `unlock` clears."""
    return _user_detail(call, user_id)


@api.post("/admin/users/<int:user_id>/unlock", summary="Unlock a user: clear the refused logins "
          "and wrong PINs counted (admin)", tag=ADMIN, response=a.UnlockOut,
          errors=(400, 403, 404), operation=Op.ADMIN_USERS, scope=Scope.ADMIN)
def unlock_user(call: Call, user_id: int) -> a.UnlockOut:
    """As the button «Mở khóa» of the member's page: the login lock on the username and the
    wrong-PIN counters of their PIN keys in this agency are cleared (audited
    `agencies:user:unlock`, `keys:personal:unlock` per key). A user with nothing locked answers
    400 «Tài khoản … không bị khóa: không có gì để mở.»."""
    cleared = members.unlock(call.session, call.actor, user_id)
    call.session.flush()
    return a.UnlockOut(user=_user_detail(call, user_id), unlocked=cleared)


@api.post("/admin/users/<int:user_id>/update", summary="Change a user's name, post, department and "
          "roles (admin)", tag=ADMIN, body=a.UserUpdateIn, response=a.UserOut,
          errors=(400, 403, 404), operation=Op.ADMIN_USERS, scope=Scope.ADMIN)
def update_user(call: Call, user_id: int) -> a.UserOut:
    """Every field, as on the member's page. Roles and department hold from the user's next
    request. The agency keeps at least one active admin (400), and an admin cannot drop their
    own admin role (422)."""
    return a.user_out(members.update_member(call.session, call.actor, user_id,
                                            call.body.to_input()))


@api.post("/admin/users/<int:user_id>/deactivate", summary="Deactivate a user's account (admin)",
          tag=ADMIN, response=a.UserOut, errors=(400, 403, 404), operation=Op.ADMIN_USERS,
          scope=Scope.ADMIN)
def deactivate_user(call: Call, user_id: int) -> a.UserOut:
    """The account can no longer log in, its sessions end and its API tokens stop working. Not
    oneself, not the agency's last active admin, not an inactive account (400)."""
    members.deactivate(call.session, call.actor, user_id)
    return _user(call, user_id)


@api.post("/admin/users/<int:user_id>/reactivate", summary="Reactivate a user's account (admin)",
          tag=ADMIN, response=a.UserOut, errors=(400, 403, 404), operation=Op.ADMIN_USERS,
          scope=Scope.ADMIN)
def reactivate_user(call: Call, user_id: int) -> a.UserOut:
    members.reactivate(call.session, call.actor, user_id)
    return _user(call, user_id)


@api.post("/admin/users/<int:user_id>/reset-password", summary="Give a user a temporary "
          "password (admin)", tag=ADMIN, body=a.PasswordResetIn, response=a.PasswordResetOut,
          errors=(400, 403, 404), operation=Op.ADMIN_USERS, scope=Scope.ADMIN)
def reset_user_password(call: Call, user_id: int) -> a.PasswordResetOut:
    """The given `password`, or a generated one, answered this once (never stored nor audited):
    the user must change it at the next login; their sessions end and the login lock on the
    name is lifted. Not one's own password (400)."""
    password = members.reset_password(call.session, call.actor, user_id, call.body.password)
    return a.PasswordResetOut(user=_user(call, user_id), password=password)


@api.post("/admin/users/<int:user_id>/tokens", summary="Issue an API token for a user of the "
          "agency (admin)", tag=ADMIN, body=a.TokenCreateIn, response=a.IssuedTokenOut,
          status=201, errors=(403, 404), operation=Op.ADMIN_USERS, scope=Scope.ADMIN,
          idempotent=False, links=("revoke_agency_token",))
def issue_user_token(call: Call, user_id: int) -> a.IssuedTokenOut:
    """Acting as that user in this agency; never wider than the calling token (its scopes, its
    expiry); `admin` only for a user who is an admin of the agency. The secret is in this
    answer only."""
    return _issued(call, user_id)


# ----------------------------------------------------------------------------- tokens


@api.get("/admin/tokens", summary="Every API token of the agency, newest first (admin)",
         tag=ADMIN, query=a.TokenListQuery, response=a.TokenPage, errors=(403,),
         operation=Op.ADMIN_USERS, scope=Scope.ADMIN)
def list_agency_tokens(call: Call) -> a.TokenPage:
    return _token_page(call, whole_agency=True)


@api.post("/admin/tokens/<int:token_id>/revoke", summary="Revoke any token of the agency (admin)",
          tag=ADMIN, response=a.TokenOut, errors=(400, 403, 404), operation=Op.ADMIN_USERS,
          scope=Scope.ADMIN)
def revoke_agency_token(call: Call, token_id: int) -> a.TokenOut:
    return _revoked(call, token_id, whole_agency=True)


def _revoked(call: Call, token_id: int, *, whole_agency: bool) -> a.TokenOut:
    t = tokens.revoke_by_id(call.session, call.actor, token_id, whole_agency=whole_agency)
    return a.token_out(t, call.session.get(User, t.user_id), utcnow())


@api.get("/tokens", summary="The caller's own API tokens in this agency, newest first", tag=TOKENS,
         query=a.TokenListQuery, response=a.TokenPage, operation=None)
def list_my_tokens(call: Call) -> a.TokenPage:
    return _token_page(call, whole_agency=False)


@api.post("/tokens", summary="Issue a token acting as the caller", tag=TOKENS,
          body=a.TokenCreateIn, response=a.IssuedTokenOut, status=201, errors=(403,),
          operation=None, idempotent=False, links=("revoke_my_token",))
def issue_my_token(call: Call) -> a.IssuedTokenOut:
    """Never wider than the calling token (its scopes, its expiry); `admin` only by an agency
    admin (403 otherwise). The secret is in this answer only."""
    return _issued(call, None)


@api.post("/tokens/<int:token_id>/revoke", summary="Revoke one of the caller's own tokens",
          tag=TOKENS, response=a.TokenOut, errors=(400, 404), operation=None)
def revoke_my_token(call: Call, token_id: int) -> a.TokenOut:
    """Revoking the calling token itself is allowed: its next request is refused (401)."""
    return _revoked(call, token_id, whole_agency=False)
