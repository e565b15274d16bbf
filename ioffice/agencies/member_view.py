"""The logged-in user as every page needs it, read in one statement as plain values.

Every request of a browser session needs the user (epoch, active, name), the membership of the
agency they act for (its roles and department) and that agency's name. Loading them as ORM
objects took four statements (the user, the membership, its roles, its agency) and built a dozen
mapped objects per request, before the page did any work of its own. This reads them in one
statement of columns, into frozen values a request cannot accidentally write back.

No cache across requests: a deactivation, a role change, a password change or a logout (made
by another worker process too) takes effect on the very next request, because the next request
reads the row again. A per-process cache would still need one statement to learn it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, case, select
from sqlalchemy.orm import Session

from ioffice.agencies.identifiers import AgencyLevel
from ioffice.agencies.models import Agency, Department, Membership, MembershipRole, Role, User


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    full_name: str
    position_title: str
    active: bool
    session_epoch: int
    must_change_password: bool


@dataclass(frozen=True)
class AgencyView:
    id: int
    code: str
    name: str
    short_name: str
    level: AgencyLevel
    parent_id: int | None


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str


@dataclass(frozen=True)
class MembershipView:
    """Read-only stand-in for a ``Membership`` with its user, agency, department and roles
    (what ``Actor.of`` and the templates read)."""

    id: int
    user: UserView
    agency: AgencyView
    department: DepartmentView | None
    position_title: str
    roles: frozenset[Role]

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def agency_id(self) -> int:
        return self.agency.id

    @property
    def department_id(self) -> int | None:
        return self.department.id if self.department else None

    @property
    def title(self) -> str:
        """The post shown and signed with in this agency (as ``Membership.title``)."""
        return self.position_title or self.user.position_title

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


_u, _m, _a = User.__table__.c, Membership.__table__.c, Agency.__table__.c
_d, _r = Department.__table__.c, MembershipRole.__table__.c

# built once: its cache key is memoised on the object, so a request only binds the two values.
# One row per role of each membership of the user (one all-NULL membership when they have
# none); the membership of ``agency_id`` sorts first, else the oldest, as a new login picks.
_MEMBER = (
    select(_u.username, _u.full_name, _u.position_title, _u.active, _u.session_epoch,
           _u.must_change_password,
           _m.id, _m.position_title, _a.id, _a.code, _a.name, _a.short_name, _a.level,
           _a.parent_id, _d.id, _d.name, _r.role)
    .select_from(User.__table__
                 .outerjoin(Membership.__table__, _m.user_id == _u.id)
                 .outerjoin(Agency.__table__, _a.id == _m.agency_id)
                 .outerjoin(Department.__table__, _d.id == _m.department_id)
                 .outerjoin(MembershipRole.__table__, _r.membership_id == _m.id))
    .where(_u.id == bindparam("user_id", type_=Integer))
    .order_by(case((_m.agency_id == bindparam("agency_id", type_=Integer), 0), else_=1), _m.id)
)


def load_member(session: Session, user_id: int,
                agency_id: int | None) -> tuple[UserView, MembershipView | None] | None:
    """The user and their membership of ``agency_id`` (their first membership when they have
    none there, None when they have none at all); None when there is no such user."""
    rows = session.execute(_MEMBER, {"user_id": user_id, "agency_id": agency_id}).all()
    if not rows:
        return None
    first = rows[0]
    user = UserView(user_id, first[0], first[1], first[2], bool(first[3]), first[4],
                    bool(first[5]))
    membership_id = first[6]
    if membership_id is None:
        return user, None
    agency = AgencyView(first[8], first[9], first[10], first[11], first[12], first[13])
    department = DepartmentView(first[14], first[15]) if first[14] is not None else None
    roles = frozenset(row[16] for row in rows if row[6] == membership_id and row[16] is not None)
    return user, MembershipView(membership_id, user, agency, department, first[7], roles)


def view_of(user: User, membership: Membership) -> tuple[UserView, MembershipView]:
    """The same values from loaded ORM objects (at login, where they are at hand)."""
    uv = UserView(user.id, user.username, user.full_name, user.position_title, user.active,
                  user.session_epoch, user.must_change_password)
    a = membership.agency
    agency = AgencyView(a.id, a.code, a.name, a.short_name, a.level, a.parent_id)
    d = membership.department
    department = DepartmentView(d.id, d.name) if d is not None else None
    return uv, MembershipView(membership.id, uv, agency, department, membership.position_title,
                              membership.roles)
