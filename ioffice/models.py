"""Every mapped model, imported once so Alembic sees the whole schema."""

from ioffice.agencies.models import Agency, Department, Membership, MembershipRole, User
from ioffice.api.models import ApiToken
from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.db import Base
from ioffice.exchange.models import (
    DirectoryEntry,
    ExchangeInbox,
    ExchangeOutbox,
    ExchangeStatus,
)
from ioffice.incoming.models import (
    Assignment,
    DocumentFile,
    DocumentText,
    IncomingDocument,
    SavedSearch,
)
from ioffice.keys.models import PendingSignature, PinAttempt, SigningCertificate
from ioffice.ocr.models import OcrJob
from ioffice.outgoing.models import (
    DraftVersion,
    OutgoingComment,
    OutgoingDocument,
    OutgoingRecipient,
    ReviewChain,
    SignedRevision,
)
from ioffice.registers.models import Register
from ioffice.search.models import OutgoingSearchEntry, SearchEntry
from ioffice.trust.models import TrustAnchor

metadata = Base.metadata

__all__ = [
    "Agency",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "AuditHead",
    "Department",
    "DirectoryEntry",
    "DocumentFile",
    "DocumentText",
    "DraftVersion",
    "ExchangeInbox",
    "ExchangeOutbox",
    "ExchangeStatus",
    "IncomingDocument",
    "Membership",
    "MembershipRole",
    "OcrJob",
    "OutgoingComment",
    "OutgoingDocument",
    "OutgoingRecipient",
    "OutgoingSearchEntry",
    "PendingSignature",
    "PinAttempt",
    "Register",
    "ReviewChain",
    "SavedSearch",
    "SearchEntry",
    "SignedRevision",
    "SigningCertificate",
    "TrustAnchor",
    "User",
    "metadata",
]
