"""Agencies, departments, users and authentication: one business operation per function."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from ioffice.agencies.identifiers import AgencyIdentifier, InvalidAgencyIdentifier
from ioffice.agencies.models import (
    Agency,
    Department,
    LoginThrottle,
    Membership,
    MembershipRole,
    Role,
    User,
)
from ioffice.agencies.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from ioffice.audit import AuditContext, record
from ioffice.audit.tags import Tag
from ioffice.db import utcnow
from ioffice.errors import DomainError, NotFound

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
SHORT_NAME_RE = re.compile(r"^[A-ZĐ0-9]{1,30}$")


class AgencyError(DomainError):
    pass


class UsernameTaken(AgencyError):
    """Usernames are one per person across every agency: a taken one is a conflict."""

    status_code = 409


class InvalidCredentials(DomainError):
    status_code = 401


class AccountLocked(DomainError):
    status_code = 429


class PasswordChangeError(DomainError):
    pass


@dataclass(frozen=True)
class AgencyInput:
    code: str
    name: str
    short_name: str
    parent_code: str | None = None
    address: str = ""
    email: str = ""
    phone: str = ""
    fax: str = ""
    website: str = ""


def _short_name(value: str) -> str:
    short = value.strip().upper()
    if not SHORT_NAME_RE.match(short):
        raise AgencyError(f"Tên viết tắt '{value}' không hợp lệ: chỉ gồm chữ in hoa và số, "
                          "không dấu cách (ví dụ UBND, VP).")
    return short


def get_agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.code == code.strip())).one_or_none()


# column widths of ``agencies`` (models.py), with the label a clerk reads in the error
_FIELD_LIMITS = (("name", "Tên cơ quan", 255), ("address", "Địa chỉ", 255),
                 ("email", "Thư điện tử", 255), ("phone", "Điện thoại", 50), ("fax", "Fax", 50),
                 ("website", "Trang thông tin điện tử", 255))
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_identifier(code: str) -> AgencyIdentifier:
    try:
        return AgencyIdentifier.parse(code)
    except InvalidAgencyIdentifier as exc:
        raise AgencyError(str(exc)) from exc


def clean_agency_input(data: AgencyInput) -> AgencyInput:
    """Trimmed values, or an AgencyError naming the first field that cannot be stored."""
    values = {name: (getattr(data, name) or "").strip() for name, _, _ in _FIELD_LIMITS}
    if not values["name"]:
        raise AgencyError("Tên cơ quan không được để trống.")
    for name, label, limit in _FIELD_LIMITS:
        if len(values[name]) > limit:
            raise AgencyError(f"{label} dài {len(values[name])} ký tự, vượt quá giới hạn "
                              f"{limit} ký tự.")
    if values["email"] and not EMAIL_RE.match(values["email"]):
        raise AgencyError(f"Thư điện tử '{values['email']}' không hợp lệ (ví dụ vanthu@camau.gov.vn).")
    return AgencyInput(code=(data.code or "").strip(), short_name=_short_name(data.short_name),
                       parent_code=(data.parent_code or "").strip() or None, **values)


def check_parent(ident: AgencyIdentifier, parent: Agency) -> None:
    """A parent must be above the child in the identifier's own structure (Decision 20/2020):
    ``000.01.21.H12`` (a commune) may sit under ``000.00.21.H12`` or ``000.00.00.H12``, never
    under another district, a commune or another province. This also rules out cycles."""
    above = ident.parent
    ancestors = []
    while above is not None:
        ancestors.append(str(above))
        above = above.parent
    if parent.code not in ancestors:
        expected = f"; theo mã định danh, cơ quan cấp trên phải là {ancestors[0]}" if ancestors \
            else "; cơ quan cấp 1 (mã dạng 000.00.00.Mnn) không thuộc cơ quan nào"
        raise AgencyError(f"{parent.name} ({parent.code}, cấp {parent.level.label.lower()}) "
                          f"không thể là cơ quan cấp trên của {ident} "
                          f"(cấp {ident.level.label.lower()}){expected}.")


def create_agency(session: Session, ctx: AuditContext, data: AgencyInput) -> Agency:
    ident = parse_identifier(data.code)
    data = clean_agency_input(data)
    if get_agency_by_code(session, str(ident)):
        raise AgencyError(f"Mã định danh {ident} đã được dùng cho một cơ quan khác.")
    parent = None
    if data.parent_code:
        parent = get_agency_by_code(session, data.parent_code)
        if parent is None:
            raise AgencyError(f"Không tìm thấy cơ quan cấp trên có mã {data.parent_code}.")
        check_parent(ident, parent)
    agency = Agency(code=str(ident), name=data.name, short_name=data.short_name,
                    level=ident.level, parent=parent, address=data.address, email=data.email,
                    phone=data.phone, fax=data.fax, website=data.website)
    session.add(agency)
    session.flush()
    record(session, ctx, Tag.AGENCY_CREATE, subject_type="agency", subject_id=agency.id,
           details={"code": agency.code, "name": agency.name}, agency_id=agency.id)
    return agency


def create_department(session: Session, ctx: AuditContext, agency_id: int, name: str,
                      short_name: str) -> Department:
    if not name.strip():
        raise AgencyError("Tên phòng ban không được để trống.")
    short = _short_name(short_name)
    exists = session.scalar(select(Department.id).where(Department.agency_id == agency_id,
                                                        Department.short_name == short))
    if exists:
        raise AgencyError(f"Cơ quan đã có phòng ban viết tắt {short}.")
    dept = Department(agency_id=agency_id, name=name.strip(), short_name=short)
    session.add(dept)
    session.flush()
    record(session, ctx, Tag.DEPARTMENT_CREATE, subject_type="department", subject_id=dept.id,
           details={"name": dept.name, "short_name": short}, agency_id=agency_id)
    return dept


def department_in_agency(session: Session, agency_id: int, department_id: int) -> Department:
    dept = session.get(Department, department_id)
    if dept is None or dept.agency_id != agency_id:
        raise NotFound("Không tìm thấy phòng ban.")
    return dept


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username.strip().lower())
                           ).one_or_none()


def create_user(session: Session, ctx: AuditContext, *, agency_id: int, username: str,
                full_name: str, password: str, roles: Iterable[Role],
                department_id: int | None = None, position_title: str = "",
                email: str = "") -> User:
    uname = username.strip().lower()
    if not USERNAME_RE.match(uname):
        raise AgencyError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang; "
                          "3 đến 64 ký tự.")
    if not full_name.strip():
        raise AgencyError("Họ và tên không được để trống.")
    if problem := password_problem(password):
        raise AgencyError(problem)
    if get_user_by_username(session, uname):
        raise UsernameTaken(f"Tên đăng nhập '{uname}' đã tồn tại.")
    if department_id is not None:
        department_in_agency(session, agency_id, department_id)
    user = User(username=uname, full_name=full_name.strip(), position_title=position_title.strip(),
                email=email.strip(), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(session, ctx, Tag.USER_CREATE, subject_type="user", subject_id=user.id,
           details={"username": uname, "full_name": user.full_name}, agency_id=agency_id)
    grant_membership(session, ctx, user=user, agency_id=agency_id, roles=roles,
                     department_id=department_id)
    return user


def post_title(session: Session, user: User, agency_id: int) -> str:
    """The post ``user`` holds in the agency (shown on pages, printed under signatures, written
    into certificates): the membership's own title, else the user's."""
    membership = session.scalars(select(Membership).where(
        Membership.user_id == user.id, Membership.agency_id == agency_id)).one_or_none()
    return membership.title if membership is not None else user.position_title


def grant_membership(session: Session, ctx: AuditContext, *, user: User, agency_id: int,
                     roles: Iterable[Role], department_id: int | None = None,
                     position_title: str | None = None) -> Membership:
    """``position_title``: the post in this agency when it is not the user's own title (None:
    left as it is)."""
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise AgencyError("Phải chọn ít nhất một vai trò.")
    if department_id is not None:
        department_in_agency(session, agency_id, department_id)
    membership = session.scalars(select(Membership).where(Membership.user_id == user.id,
                                                          Membership.agency_id == agency_id)
                                 ).one_or_none()
    if membership is None:
        membership = Membership(user=user, agency_id=agency_id)
        session.add(membership)
    membership.department_id = department_id
    if position_title is not None:
        membership.position_title = position_title.strip()
    membership.role_rows = [MembershipRole(role=r) for r in sorted(role_set)]
    session.flush()
    record(session, ctx, Tag.MEMBERSHIP_GRANT, subject_type="user", subject_id=user.id,
           details={"roles": sorted(role_set), "department_id": department_id},
           agency_id=agency_id)
    return membership


def throttle_key(username: str) -> str:
    """The ``login_throttles`` key of a typed username (normalised as logins normalise it)."""
    return hashlib.sha256(f"login:{username.strip().lower()}".encode()).hexdigest()


def authenticate(session: Session, ctx: AuditContext, username: str, password: str, *,
                 max_failures: int, lock_minutes: int) -> User:
    """Check a password. ``max_failures`` wrong passwords for one typed username lock that name
    for ``lock_minutes`` (kept in the database, so every web process sees it).

    Neither the answer nor its cost tells whether the username exists: an unknown name is
    counted and locked like a real one, and every refusal runs one password hash."""
    now = utcnow()
    throttle = _throttle(session, throttle_key(username), now, lock_minutes)
    user = get_user_by_username(session, username)
    if throttle.locked_until is not None:
        verify_password(None, password)  # same cost as a real check
        _record_attempt(session, ctx, Tag.AUTH_LOCKED, user, throttle)
        raise AccountLocked(_locked_message(throttle.locked_until, now))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        throttle.failures += 1
        throttle.updated_at = now
        details: dict[str, object] = {"failures": throttle.failures}
        if throttle.failures >= max_failures:
            throttle.locked_until = now + dt.timedelta(minutes=lock_minutes)
            details["locked_until"] = throttle.locked_until.isoformat()
        _record_attempt(session, ctx, Tag.AUTH_LOGIN_FAILED, user, throttle, details)
        raise InvalidCredentials("Tên đăng nhập hoặc mật khẩu không đúng.")
    session.delete(throttle)
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record(session, ctx, Tag.AUTH_LOGIN, subject_type="user", subject_id=user.id,
           agency_id=_first_agency(user))
    return user


def _throttle(session: Session, key: str, now: dt.datetime, lock_minutes: int) -> LoginThrottle:
    """The row counting failures for ``key``, created if missing and locked for this
    transaction; a lock that ran out, or failures older than a lock, start again from zero."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(key=key, failures=0, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    throttle = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key)
                               .with_for_update().execution_options(populate_existing=True)).one()
    stale = throttle.updated_at < now - dt.timedelta(minutes=lock_minutes)
    if (throttle.locked_until is not None and throttle.locked_until <= now) or (
            throttle.locked_until is None and stale):
        throttle.failures = 0
        throttle.locked_until = None
    return throttle


def _record_attempt(session: Session, ctx: AuditContext, tag: Tag, user: User | None,
                    throttle: LoginThrottle, details: dict[str, object] | None = None) -> None:
    """A refused login: on the user's chain when the name exists, else on the system chain
    under the name's hash (a typed name may be a password typed in the wrong field)."""
    if user is not None:
        record(session, ctx, tag, subject_type="user", subject_id=user.id, details=details,
               agency_id=_first_agency(user))
    else:
        record(session, ctx, tag, subject_type="login_name", subject_id=throttle.key[:16],
               details=details)


def _first_agency(user: User) -> int | None:
    return user.memberships[0].agency_id if user.memberships else None


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return (f"Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần. "
            f"Vui lòng thử lại sau khoảng {minutes} phút.")


def end_sessions(user: User) -> None:
    """Make every session of ``user`` invalid: each carries the epoch it was opened in."""
    user.session_epoch += 1


def logout(session: Session, ctx: AuditContext, user: User) -> None:
    """Log out: ends this session and every other session of the user (a copied cookie too)."""
    end_sessions(user)
    record(session, ctx, Tag.AUTH_LOGOUT, subject_type="user", subject_id=user.id)


def change_password(session: Session, ctx: AuditContext, user: User, *, current: str, new: str,
                    repeat: str) -> None:
    """Change one's own password; every session of the user ends (the caller opens a new one
    for the browser that asked)."""
    if not verify_password(user.password_hash, current):
        raise PasswordChangeError("Mật khẩu hiện tại không đúng.")
    if new != repeat:
        raise PasswordChangeError("Mật khẩu mới nhập lại không khớp.")
    if problem := password_problem(new):
        raise PasswordChangeError(problem)
    if new == current:
        raise PasswordChangeError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user)
    record(session, ctx, Tag.AUTH_PASSWORD_CHANGE, subject_type="user", subject_id=user.id,
           agency_id=ctx.agency_id)


def deactivate_member(session: Session, ctx: AuditContext, agency_id: int, user_id: int) -> User:
    """An agency's admin deactivates one of its members: the account can no longer log in,
    its sessions end and its API tokens stop working. Other agencies' users look missing."""
    if load_membership(session, user_id, agency_id) is None:
        raise NotFound("Không tìm thấy người dùng trong cơ quan này.")
    user = session.get(User, user_id)
    assert user is not None  # the membership references it
    return _deactivate(session, ctx, user, agency_id)


def deactivate_user(session: Session, ctx: AuditContext, username: str) -> User:
    """The operator deactivates an account wherever it is a member (``flask user deactivate``)."""
    user = get_user_by_username(session, username)
    if user is None:
        raise NotFound(f"Không tìm thấy tài khoản «{username.strip()}».")
    return _deactivate(session, ctx, user, _first_agency(user))


def _deactivate(session: Session, ctx: AuditContext, user: User, agency_id: int | None) -> User:
    was_active = user.active
    user.active = False
    end_sessions(user)
    record(session, ctx, Tag.USER_DEACTIVATE, subject_type="user", subject_id=user.id,
           details={"username": user.username, "was_active": was_active}, agency_id=agency_id)
    return user


def load_membership(session: Session, user_id: int, agency_id: int) -> Membership | None:
    return session.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.agency_id == agency_id)
        .options(selectinload(Membership.role_rows), selectinload(Membership.agency))
    ).one_or_none()


def list_departments(session: Session, agency_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.agency_id == agency_id)
                                .order_by(Department.name)))


def list_members(session: Session, agency_id: int) -> list[Membership]:
    stmt = (select(Membership).where(Membership.agency_id == agency_id)
            .options(selectinload(Membership.user), selectinload(Membership.role_rows),
                     selectinload(Membership.department))
            .join(User).order_by(func.lower(User.full_name)))
    return list(session.scalars(stmt))


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def active_holders(session: Session, agency_id: int, roles: tuple[Role, ...], *,
                   department_id: int | None = None) -> list[User]:
    """The agency's active users holding one of ``roles`` (of ``department_id`` when given):
    who can take a piece of work routed to those roles."""
    return list(session.scalars(
        _holders_statement(tuple(roles), department_id is not None),
        {"agency_id": agency_id, "department_id": department_id}))


@lru_cache(maxsize=64)
def _holders_statement(roles: tuple[Role, ...], of_department: bool) -> Select:
    """:func:`active_holders`' statement per shape (the document pages ask on every view),
    built once: the agency and department bound."""
    stmt = (select(User).join(Membership, Membership.user_id == User.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .where(Membership.agency_id == bindparam("agency_id"),
                   MembershipRole.role.in_(roles), User.active))
    if of_department:
        stmt = stmt.where(Membership.department_id == bindparam("department_id"))
    return stmt.order_by(User.full_name).distinct()


class Holders:
    """The active members of an agency holding some roles, read in one statement
    (:func:`role_holders`): :meth:`of` answers what :func:`active_holders` does for any of
    those roles without another query (the drafter's page asks for four)."""

    def __init__(self, rows: list[tuple[User, Role, int | None]]) -> None:
        self._rows = rows

    def of(self, roles: tuple[Role, ...], *, department_id: int | None = None) -> list[User]:
        seen: dict[int, User] = {}
        for user, role, dept in self._rows:
            if role in roles and (department_id is None or dept == department_id):
                seen.setdefault(user.id, user)
        return list(seen.values())


def role_holders(session: Session, agency_id: int, roles: tuple[Role, ...]) -> Holders:
    """Every active member of the agency holding one of ``roles``, with the role and their
    department, by name (as :func:`active_holders` orders them)."""
    rows = session.execute(_role_holders_statement(tuple(roles)), {"agency_id": agency_id}).all()
    return Holders([(u, role, dept) for u, role, dept in rows])


@lru_cache(maxsize=64)
def _role_holders_statement(roles: tuple[Role, ...]) -> Select:
    return (select(User, MembershipRole.role, Membership.department_id)
            .join(Membership, Membership.user_id == User.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .where(Membership.agency_id == bindparam("agency_id"),
                   MembershipRole.role.in_(roles), User.active)
            .order_by(User.full_name, User.id))


def active_membership(session: Session, agency_id: int, user_id: int) -> Membership | None:
    """The user's membership of the agency, if the account is active."""
    membership = load_membership(session, user_id, agency_id)
    if membership is None or not membership.user.active:
        return None
    return membership
