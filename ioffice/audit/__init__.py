"""Tamper-evident audit log: every action on a document, and administration, is an event."""

from ioffice.audit.service import AuditContext, Entry, RecordedEvent, record, record_many, verify_chain

__all__ = ["AuditContext", "Entry", "RecordedEvent", "record", "record_many", "verify_chain"]
