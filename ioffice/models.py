"""Every mapped model, imported once so Alembic sees the whole schema."""

from ioffice.agencies.models import Agency, Department, Membership, MembershipRole, User
from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.db import Base
from ioffice.registers.models import Register

metadata = Base.metadata

__all__ = ["Agency", "AuditEvent", "AuditHead", "Department", "Membership", "MembershipRole",
           "Register", "User", "metadata"]
