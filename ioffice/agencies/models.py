"""Agencies (tenants), their departments, users and memberships with roles."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.agencies.identifiers import AgencyLevel
from ioffice.db import Base, enum_values, utcnow


class Role(enum.StrEnum):
    CLERK = "clerk"
    LEADER = "leader"
    DEPARTMENT_HEAD = "department_head"
    SPECIALIST = "specialist"
    ADMIN = "admin"
    ARCHIVIST = "archivist"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CLERK: "Văn thư",
    Role.LEADER: "Lãnh đạo",
    Role.DEPARTMENT_HEAD: "Trưởng phòng",
    Role.SPECIALIST: "Chuyên viên",
    Role.ADMIN: "Quản trị",
    Role.ARCHIVIST: "Lưu trữ",
}


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str] = mapped_column(String(30))
    level: Mapped[AgencyLevel] = mapped_column(
        Enum(AgencyLevel, values_callable=enum_values, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    fax: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Agency {self.code} {self.short_name}>"


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("agency_id", "short_name"),
        # target of the composite key that keeps memberships inside their agency
        UniqueConstraint("id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str] = mapped_column(String(30))

    agency: Mapped[Agency] = relationship()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    position_title: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    """Stored in each session at login; bumping it ends every session of the user."""
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    """Set by an admin's password reset: every page leads to /doi-mat-khau until changed."""
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id", cascade="all, delete-orphan")


class Membership(Base):
    """A user's place in one agency: department and roles. A user may belong to several."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "agency_id"),
        ForeignKeyConstraint(["department_id", "agency_id"],
                             ["departments.id", "departments.agency_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(index=True)
    position_title: Mapped[str] = mapped_column(String(255), default="", server_default="")
    """The post held in this agency; empty: the user's own title (``User.position_title``)."""

    user: Mapped[User] = relationship(back_populates="memberships")
    agency: Mapped[Agency] = relationship()
    department: Mapped[Department | None] = relationship(
        foreign_keys=[department_id], primaryjoin="Membership.department_id == Department.id",
        viewonly=True)
    role_rows: Mapped[list[MembershipRole]] = relationship(
        cascade="all, delete-orphan", order_by="MembershipRole.role")

    @property
    def title(self) -> str:
        """The post shown and signed with in this agency."""
        return self.position_title or self.user.position_title

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


class MembershipRole(Base):
    __tablename__ = "membership_roles"

    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"),
                                               primary_key=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, values_callable=enum_values, native_enum=False, length=20), primary_key=True)


class LoginThrottle(Base):
    """Failed logins per typed username, whether or not such a user exists.

    Keyed by a hash of the normalised username, so a lock looks the same for a name that
    exists and one that does not, and the table lists no usernames.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
