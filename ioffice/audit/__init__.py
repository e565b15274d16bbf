"""Tamper-evident audit log: every action on a document, and administration, is an event."""

from ioffice.audit.service import (
    AuditContext,
    Entry,
    RecordedEvent,
    chain_pending,
    pending_count,
    record,
    record_many,
    record_read,
    verify_chain,
)

__all__ = ["AuditContext", "Entry", "RecordedEvent", "chain_pending", "pending_count", "record",
           "record_many", "record_read", "verify_chain"]
