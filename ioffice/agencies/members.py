"""An agency's admin administers its members: edit, deactivate, reactivate, reset a password,
unlock. One business operation per function, each audited (docs/agencies.md "Users").

A user of another agency looks missing (``NotFound``). The account (name, password, active) is
one per person, so a change to it holds in every agency the person belongs to; the post title,
department and roles are the membership's, of this agency only. Roles and department are read
from the database on every request (``web/auth.py: _load``, ``api/tokens.py: authenticate``),
so a change holds from the user's next request; deactivation and a password reset also end
every session (``users.session_epoch``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import LoginThrottle, Membership, MembershipRole, Role, User
from ioffice.agencies.passwords import hash_password, password_problem
from ioffice.agencies.permissions import Op
from ioffice.agencies.service import (
    USERNAME_RE,
    AgencyError,
    UsernameTaken,
    create_user,
    department_in_agency,
    end_sessions,
    load_membership,
    throttle_key,
)
from ioffice.audit import record
from ioffice.audit.tags import Tag
from ioffice.errors import NotFound

__all__ = ["InvalidMember", "LoginLock", "MemberEdit", "NewMember", "UsernameTaken", "create_member",
           "deactivate", "login_lock", "member", "members_page", "reactivate", "reset_password",
           "unlock", "update_member"]

NAME_LIMIT = 255
# no 0/O, 1/l/I: the admin reads it out or writes it down for the user
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


class InvalidMember(AgencyError):
    """Refused input, every field's error at once (``errors``: field name -> message)."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors

    @property
    def fields(self) -> dict[str, str]:
        """The same errors under the name the API's error shape uses."""
        return self.errors


@dataclass(frozen=True)
class MemberEdit:
    full_name: str
    """The person's name (the account's, shown in every agency they belong to)."""
    position_title: str
    """The post held in this agency."""
    department_id: int | None
    roles: frozenset[Role]


@dataclass(frozen=True)
class NewMember:
    """A new account and its membership of the admin's agency (the form «Thêm người dùng»)."""

    username: str
    full_name: str
    password: str
    roles: frozenset[Role]
    department_id: int | None = None
    position_title: str = ""


@dataclass(frozen=True)
class LoginLock:
    """Refused logins counted against the user's name (``login_throttles``)."""

    failures: int
    locked_until: dt.datetime | None

    def locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def member(session: Session, actor: Actor, user_id: int) -> Membership:
    """The user's membership of the actor's agency; another agency's user looks missing."""
    actor.check(Op.ADMIN_USERS)
    membership = load_membership(session, user_id, actor.agency_id)
    if membership is None:
        raise NotFound("Không tìm thấy người dùng trong cơ quan này.")
    return membership


def members_page(session: Session, actor: Actor, *, after: str | None = None, limit: int = 50
                 ) -> list[Membership]:
    """The memberships of the actor's agency in username order, ``limit`` after the username
    ``after`` (paging by key)."""
    actor.check(Op.ADMIN_USERS)
    stmt = (select(Membership).join(User, User.id == Membership.user_id)
            .where(Membership.agency_id == actor.agency_id))
    if after is not None:
        stmt = stmt.where(User.username > after)
    return list(session.scalars(stmt.order_by(User.username).limit(limit)))


def _post_problems(session: Session, actor: Actor, full_name: str, title: str,
                   department_id: int | None, roles) -> dict[str, str]:
    """The problems of a member's name, post title, department and roles, by field: the same
    rules for a new member and an edited one."""
    errors: dict[str, str] = {}
    if not full_name:
        errors["full_name"] = "Họ và tên không được để trống."
    elif len(full_name) > NAME_LIMIT:
        errors["full_name"] = f"Họ và tên dài {len(full_name)} ký tự, vượt quá {NAME_LIMIT} ký tự."
    if len(title) > NAME_LIMIT:
        errors["position_title"] = f"Chức vụ dài {len(title)} ký tự, vượt quá {NAME_LIMIT} ký tự."
    if department_id is not None:
        try:
            department_in_agency(session, actor.agency_id, department_id)
        except NotFound:
            errors["department_id"] = "Phòng ban đã chọn không thuộc cơ quan này."
    if not roles:
        errors["roles"] = "Phải chọn ít nhất một vai trò."
    return errors


def create_member(session: Session, actor: Actor, new: NewMember) -> Membership:
    """A new account holding a membership of the actor's agency, its password hashed with
    Argon2id. Every field's problem at once (:class:`InvalidMember`); a username already taken
    (in any agency: usernames are global) is :class:`UsernameTaken` (409). Audited
    ``agencies:user:create`` and ``agencies:membership:grant``."""
    actor.check(Op.ADMIN_USERS)
    username = new.username.strip().lower()
    full_name, title = new.full_name.strip(), new.position_title.strip()
    errors: dict[str, str] = {}
    if not USERNAME_RE.match(username):
        errors["username"] = ("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch "
                              "ngang; 3 đến 64 ký tự.")
    errors.update(_post_problems(session, actor, full_name, title, new.department_id, new.roles))
    if problem := password_problem(new.password):
        errors["password"] = problem
    if errors:
        raise InvalidMember(errors)
    user = create_user(session, actor.ctx, agency_id=actor.agency_id, username=username,
                       full_name=full_name, password=new.password, roles=sorted(new.roles),
                       department_id=new.department_id, position_title=title)
    membership = load_membership(session, user.id, actor.agency_id)
    assert membership is not None
    return membership


def _active_admins(session: Session, agency_id: int) -> set[int]:
    return set(session.scalars(
        select(User.id).join(Membership, Membership.user_id == User.id)
        .join(MembershipRole, MembershipRole.membership_id == Membership.id)
        .where(Membership.agency_id == agency_id, MembershipRole.role == Role.ADMIN,
               User.active)))


def _check_admin_left(session: Session, agency_id: int, losing: int) -> None:
    if not (_active_admins(session, agency_id) - {losing}):
        raise AgencyError("Cơ quan phải còn ít nhất một người quản trị đang hoạt động.")


def update_member(session: Session, actor: Actor, user_id: int, edit: MemberEdit) -> Membership:
    """Name, post title, department and roles of a member. An admin cannot take away their own
    admin role. Audited ``agencies:user:update`` with each changed field (old, new); nothing is
    recorded if nothing changed."""
    membership = member(session, actor, user_id)
    user = membership.user
    full_name, title = edit.full_name.strip(), edit.position_title.strip()
    errors = _post_problems(session, actor, full_name, title, edit.department_id, edit.roles)
    if edit.roles and user_id == actor.user_id and Role.ADMIN not in edit.roles:
        errors["roles"] = ("Bạn không thể tự bỏ vai trò Quản trị của mình; hãy nhờ một người "
                           "quản trị khác của cơ quan.")
    if errors:
        raise InvalidMember(errors)
    if Role.ADMIN in membership.roles and Role.ADMIN not in edit.roles:
        _check_admin_left(session, actor.agency_id, user_id)

    changes: dict[str, list[object]] = {}
    if user.full_name != full_name:
        changes["full_name"] = [user.full_name, full_name]
        user.full_name = full_name
    if membership.title != title:
        changes["position_title"] = [membership.title, title]
        if len(user.memberships) == 1:  # the person's only post: their own title
            user.position_title, membership.position_title = title, ""
        else:
            membership.position_title = title
    if membership.department_id != edit.department_id:
        changes["department_id"] = [membership.department_id, edit.department_id]
        membership.department_id = edit.department_id
    if membership.roles != edit.roles:
        changes["roles"] = [sorted(membership.roles), sorted(edit.roles)]
        membership.role_rows = [MembershipRole(role=r) for r in sorted(edit.roles)]
    if changes:
        session.flush()
        session.expire(membership, ["department"])
        record(session, actor.ctx, Tag.USER_UPDATE, subject_type="user", subject_id=user.id,
               details={"username": user.username, "changes": changes},
               agency_id=actor.agency_id)
    return membership


def deactivate(session: Session, actor: Actor, user_id: int) -> User:
    """The account can no longer log in, every session ends at once and its API tokens stop
    working. Not oneself, and not the agency's last active admin."""
    user = member(session, actor, user_id).user
    if user_id == actor.user_id:
        raise AgencyError("Bạn không thể tự ngừng kích hoạt tài khoản của mình.")
    if not user.active:
        raise AgencyError(f"Tài khoản {user.username} đã ngừng hoạt động từ trước.")
    _check_admin_left(session, actor.agency_id, user_id)
    user.active = False
    end_sessions(user)
    record(session, actor.ctx, Tag.USER_DEACTIVATE, subject_type="user", subject_id=user.id,
           details={"username": user.username, "was_active": True}, agency_id=actor.agency_id)
    return user


def reactivate(session: Session, actor: Actor, user_id: int) -> User:
    """The account may log in again (with its password as it was: reset it if need be)."""
    user = member(session, actor, user_id).user
    if user.active:
        raise AgencyError(f"Tài khoản {user.username} đang hoạt động.")
    user.active = True
    record(session, actor.ctx, Tag.USER_REACTIVATE, subject_type="user", subject_id=user.id,
           details={"username": user.username}, agency_id=actor.agency_id)
    return user


def generated_password() -> str:
    """Twelve letters and digits in three groups (about 60 bits), easy to read out."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))


def reset_password(session: Session, actor: Actor, user_id: int, temporary: str = "") -> str:
    """Give the user a temporary password (``temporary``, or a generated one when empty) and
    return it, to be shown once. The user must change it at the next login
    (``users.must_change_password``); every session of the user ends and the login lock on the
    name is lifted. The password is never recorded."""
    user = member(session, actor, user_id).user
    if user_id == actor.user_id:
        raise AgencyError("Để đổi mật khẩu của chính mình, dùng trang «Đổi mật khẩu».")
    generated = not temporary
    password = temporary or generated_password()
    if problem := password_problem(password):
        raise InvalidMember({"password": problem})
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions(user)
    session.execute(LoginThrottle.__table__.delete().where(
        LoginThrottle.key == throttle_key(user.username)))
    record(session, actor.ctx, Tag.USER_PASSWORD_RESET, subject_type="user", subject_id=user.id,
           details={"username": user.username, "generated": generated},
           agency_id=actor.agency_id)
    return password


def login_lock(session: Session, user: User) -> LoginLock | None:
    """The refused logins counted against the user's name, if any."""
    row = session.get(LoginThrottle, throttle_key(user.username))
    if row is None or (not row.failures and row.locked_until is None):
        return None
    return LoginLock(row.failures, row.locked_until)


def unlock(session: Session, actor: Actor, user_id: int) -> list[str]:
    """Clear the refused logins counted against the user's name and the wrong-PIN counters of
    their PIN keys in this agency. Returns what was cleared ("login", "pin"), audited
    ``agencies:user:unlock`` (and ``keys:personal:unlock`` per key)."""
    from ioffice.keys import service as keys

    user = member(session, actor, user_id).user
    cleared = []
    lock = login_lock(session, user)
    if lock is not None:
        session.execute(LoginThrottle.__table__.delete().where(
            LoginThrottle.key == throttle_key(user.username)))
        cleared.append("login")
    pins = [k for k in keys.pin_keys(session, actor.agency_id, user.id) if k.failures]
    for state in pins:
        keys.unlock_pin_key(session, actor.ctx, state.certificate)
    if pins:
        cleared.append("pin")
    if not cleared:
        raise AgencyError(f"Tài khoản {user.username} không bị khóa: không có gì để mở.")
    record(session, actor.ctx, Tag.USER_UNLOCK, subject_type="user", subject_id=user.id,
           details={"username": user.username, "cleared": cleared,
                    "login_failures": lock.failures if lock else 0, "pin_keys": len(pins)},
           agency_id=actor.agency_id)
    return cleared

