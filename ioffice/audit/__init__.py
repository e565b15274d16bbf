"""Tamper-evident audit log: every action on a document, and administration, is an event."""

from ioffice.audit.service import AuditContext, record, verify_chain

__all__ = ["AuditContext", "record", "verify_chain"]
