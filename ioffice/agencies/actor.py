"""Who is acting: the user, the agency they act for, their department and roles."""

from __future__ import annotations

from dataclasses import dataclass

from ioffice.agencies.member_view import MembershipView
from ioffice.agencies.models import Membership, Role
from ioffice.agencies.permissions import Op, allowed, refusal
from ioffice.audit import AuditContext
from ioffice.errors import Forbidden

OPERATOR = 0
"""The ``user_id`` of :meth:`Actor.operator` (ids of real users start at 1)."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    agency_id: int
    department_id: int | None
    roles: frozenset[Role]
    full_name: str = ""
    remote_addr: str = ""

    @classmethod
    def of(cls, membership: Membership | MembershipView, remote_addr: str = "") -> Actor:
        return cls(user_id=membership.user_id, agency_id=membership.agency_id,
                   department_id=membership.department_id, roles=membership.roles,
                   full_name=membership.user.full_name, remote_addr=remote_addr)

    @classmethod
    def operator(cls, agency_id: int) -> Actor:
        """The operator at the server's console (``flask user ...``), acting as the agency's
        admin: no user of the database (``OPERATOR``), audited as no user from "cli"."""
        return cls(user_id=OPERATOR, agency_id=agency_id, department_id=None,
                   roles=frozenset({Role.ADMIN}), full_name="Quản trị hệ thống (dòng lệnh)",
                   remote_addr="cli")

    @property
    def ctx(self) -> AuditContext:
        return AuditContext(self.user_id if self.user_id != OPERATOR else None, self.agency_id,
                            self.remote_addr)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def may(self, op: Op) -> bool:
        """Whether the role table lets the actor attempt ``op`` (see ``permissions.RULES``)."""
        return allowed(self.roles, op)

    def check(self, op: Op) -> None:
        """Refuse (403) an operation the actor's roles do not allow."""
        if not self.may(op):
            raise Forbidden(refusal(op))
