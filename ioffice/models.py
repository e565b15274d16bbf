"""Every mapped model, imported once so Alembic sees the whole schema."""

from ioffice.agencies.models import Agency, Department, Membership, MembershipRole, User
from ioffice.api.models import ApiToken, IdempotencyKey
from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.copies.models import DocumentCopy
from ioffice.dashboards.models import DashboardDay, DashboardSumsState
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
from ioffice.notifications.models import (
    Chase,
    MailOutbox,
    MailSettings,
    Notification,
    Preference,
    ReminderSent,
    ReminderSettings,
)
from ioffice.ocr.models import OcrJob
from ioffice.outgoing.models import (
    DraftVersion,
    OutgoingComment,
    OutgoingDocument,
    OutgoingRecipient,
    ReviewChain,
    SignedRevision,
)
from ioffice.records.models import (
    Destruction,
    DestructionDossier,
    Dossier,
    DossierItem,
    FileList,
    FileListHeading,
    Handover,
    HandoverArchivalRevision,
    ImportedDocument,
    ImportedPackage,
    LegalHold,
)
from ioffice.registers.models import Register
from ioffice.schedule.models import CalendarEvent, CalendarFeedToken, CalendarWeek
from ioffice.search.models import OutgoingSearchEntry, SearchEntry
from ioffice.trust.models import TrustAnchor

metadata = Base.metadata

__all__ = [
    "Agency",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "AuditHead",
    "CalendarEvent",
    "CalendarFeedToken",
    "CalendarWeek",
    "Chase",
    "DashboardDay",
    "DashboardSumsState",
    "Department",
    "Destruction",
    "DestructionDossier",
    "DirectoryEntry",
    "DocumentCopy",
    "DocumentFile",
    "DocumentText",
    "Dossier",
    "DossierItem",
    "DraftVersion",
    "ExchangeInbox",
    "ExchangeOutbox",
    "ExchangeStatus",
    "FileList",
    "FileListHeading",
    "Handover",
    "HandoverArchivalRevision",
    "IdempotencyKey",
    "ImportedDocument",
    "ImportedPackage",
    "IncomingDocument",
    "LegalHold",
    "MailOutbox",
    "MailSettings",
    "Membership",
    "MembershipRole",
    "Notification",
    "OcrJob",
    "OutgoingComment",
    "OutgoingDocument",
    "OutgoingRecipient",
    "OutgoingSearchEntry",
    "PendingSignature",
    "PinAttempt",
    "Preference",
    "Register",
    "ReminderSent",
    "ReminderSettings",
    "ReviewChain",
    "SavedSearch",
    "SearchEntry",
    "SignedRevision",
    "SigningCertificate",
    "TrustAnchor",
    "User",
    "metadata",
]
