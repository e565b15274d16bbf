"""Schemas of the administration operations: the agency's users and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ioffice.agencies.members import MemberEdit, NewMember
from ioffice.agencies.models import Membership, Role, User
from ioffice.api.models import ApiToken
from ioffice.api.schemas import Input, Labelled, Limit, Output
from ioffice.api.tokens import Scope

RoleCode = Literal[tuple(r.value for r in Role)]  # type: ignore[valid-type]
ScopeCode = Literal[tuple(s.value for s in Scope)]  # type: ignore[valid-type]


# ----------------------------------------------------------------------------- inputs


class UserListQuery(Input):
    after: str | None = Field(None, max_length=64, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Limit = 50


class TokenListQuery(Input):
    after: str | None = Field(None, max_length=20, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Limit = 50


class UserCreateIn(Input):
    """A new account and its post in the admin's agency."""

    username: str = Field(max_length=64, description=(
        "Lower-case letters without diacritics, digits, `.`, `_`, `-`; 3 to 64 characters; "
        "unique across every agency."))
    full_name: str = Field(max_length=255)
    password: str = Field(max_length=200, description=(
        "The first password (at least 10 characters); hashed with Argon2id, never stored."))
    roles: list[RoleCode] = Field(max_length=len(Role), description="At least one.")  # type: ignore[valid-type]
    department_id: int | None = Field(None, description="A department of the agency.")
    position_title: str = Field("", max_length=255)

    def to_input(self) -> NewMember:
        return NewMember(username=self.username, full_name=self.full_name,
                         password=self.password, roles=frozenset(Role(r) for r in self.roles),
                         department_id=self.department_id, position_title=self.position_title)


class UserUpdateIn(Input):
    """The whole of what the admin edits on the member's page (every field, as the form)."""

    full_name: str = Field(max_length=255)
    position_title: str = Field("", max_length=255)
    department_id: int | None = None
    roles: list[RoleCode] = Field(max_length=len(Role), description=(  # type: ignore[valid-type]
        "At least one; an admin cannot drop their own admin role, nor the agency its last "
        "active admin."))

    def to_input(self) -> MemberEdit:
        return MemberEdit(full_name=self.full_name, position_title=self.position_title,
                          department_id=self.department_id,
                          roles=frozenset(Role(r) for r in self.roles))


class PasswordResetIn(Input):
    password: str = Field("", max_length=200, description=(
        "The temporary password (at least 10 characters); empty: a generated one."))


class TokenCreateIn(Input):
    name: str = Field(max_length=120, description="What the token is for (the system using it).")
    scopes: list[ScopeCode] = Field(default_factory=list, max_length=len(Scope), description=(  # type: ignore[valid-type]
        "Default `read`, `write`; never wider than the calling token's; `admin` only by an "
        "agency admin, for an agency admin."))
    expires: str | None = Field(None, max_length=20, description=(
        "`90d` (days from now) or `YYYY-MM-DD` (valid through that day, Vietnam time); at most "
        "730 days and never later than the calling token's expiry; null: until revoked."))


# ----------------------------------------------------------------------------- outputs


class UserOut(Output):
    id: int
    username: str
    full_name: str
    position_title: str = Field(description="The post held in this agency.")
    department_id: int | None
    department_name: str | None
    roles: list[Labelled]
    active: bool
    must_change_password: bool = Field(description="True after a reset, until the user changes it.")
    last_login_at: dt.datetime | None
    created_at: dt.datetime


class LockOut(Output):
    login_failures: int = Field(description="Refused logins counted against the username.")
    login_locked_until: dt.datetime | None = Field(description="Logins refused until then.")
    pin_failures: int = Field(description="Wrong PINs counted on the user's PIN keys in this "
                                          "agency (five lock a key).")


class UserDetailOut(UserOut):
    lock: LockOut | None = Field(description="What `unlock` would clear; null: nothing.")


class UnlockOut(Output):
    user: UserDetailOut
    unlocked: list[Literal["login", "pin"]] = Field(description=(
        "What was cleared: `login` (the refused logins counted against the name), `pin` (the "
        "wrong-PIN counters of the user's PIN keys)."))


class UserPage(Output):
    items: list[UserOut]
    next_after: str | None = Field(None, description="Pass as `after` for the next page; null "
                                                     "on the last page.")


class PasswordResetOut(Output):
    user: UserOut
    password: str = Field(description="The temporary password, shown this once: the user must "
                                      "change it at the next login.")


class TokenOut(Output):
    id: int
    prefix: str = Field(description="The token's first 12 characters, to recognise it.")
    name: str
    user_id: int
    username: str
    full_name: str
    scopes: list[ScopeCode]  # type: ignore[valid-type]
    state: Literal["active", "expired", "revoked"]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenPage(Output):
    items: list[TokenOut]
    next_after: str | None = Field(None, description="Pass as `after` for the next page; null "
                                                     "on the last page.")


class IssuedTokenOut(TokenOut):
    secret: str = Field(description="The bearer token itself (`iof_...`), shown this once; only "
                                    "its SHA-256 is stored.")


# ----------------------------------------------------------------------------- builders


def user_out(m: Membership) -> UserOut:
    u = m.user
    return UserOut(id=u.id, username=u.username, full_name=u.full_name, position_title=m.title,
                   department_id=m.department_id,
                   department_name=m.department.name if m.department is not None else None,
                   roles=[Labelled(code=r.value, label=r.label) for r in sorted(m.roles)],
                   active=u.active, must_change_password=u.must_change_password,
                   last_login_at=u.last_login_at, created_at=u.created_at)


def token_out(t: ApiToken, holder: User, now: dt.datetime) -> TokenOut:
    state = ("revoked" if t.revoked_at is not None
             else "expired" if t.expires_at is not None and t.expires_at <= now else "active")
    return TokenOut(id=t.id, prefix=t.prefix, name=t.name, user_id=holder.id,
                    username=holder.username, full_name=holder.full_name,
                    scopes=[v for v in t.scopes.split(",") if v], state=state,
                    created_at=t.created_at, last_used_at=t.last_used_at,
                    expires_at=t.expires_at, revoked_at=t.revoked_at)
