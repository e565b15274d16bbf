"""Incoming documents, their files, and the assignments that distribute them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.agencies.models import Agency, Department, User
from ioffice.db import Base, enum_values, utcnow
from ioffice.documents.vocabulary import Confidentiality, Urgency


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, values_callable=enum_values, native_enum=False, length=length)


class Source(enum.StrEnum):
    PAPER = "paper"
    AXIS = "axis"

    @property
    def label(self) -> str:
        return {"paper": "Giấy (scan)", "axis": "Điện tử (trục liên thông)"}[self.value]


class DocumentStatus(enum.StrEnum):
    AWAITING_REGISTRATION = "awaiting_registration"
    REGISTERED = "registered"
    DISTRIBUTED = "distributed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    REVOKED = "revoked"
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return {"awaiting_registration": "Chờ vào sổ", "registered": "Chờ phân phối",
                "distributed": "Đã phân phối", "in_progress": "Đang xử lý",
                "done": "Đã xử lý xong", "rejected": "Đã từ chối", "revoked": "Đã thu hồi",
                "replaced": "Đã bị thay thế"}[self.value]


class ReceiptFlag(enum.StrEnum):
    """What the exchange noticed on receiving a document from the axis, for the clerk to see
    before registering it (``IncomingDocument.receipt_flags``; docs/edxml.md, "Received as
    other producers write it")."""

    ENVELOPE_ABSENT = "envelope_absent"
    ENVELOPE_EMPTY = "envelope_empty"
    ENVELOPE_NOT_XMLDSIG = "envelope_not_xmldsig"
    ENVELOPE_PLACEHOLDER = "envelope_placeholder"
    ENVELOPE_SHA1 = "envelope_sha1"
    NO_VALID_PDF_SIGNATURE = "no_valid_pdf_signature"

    @property
    def label(self) -> str:
        return {
            "envelope_absent": "Phong bì không ký số",
            "envelope_empty": "Phong bì không ký số (thẻ chữ ký rỗng)",
            "envelope_not_xmldsig": "Phong bì không ký số (chữ ký không theo chuẩn XML-DSig)",
            "envelope_placeholder": "Chữ ký phong bì không kiểm tra được",
            "envelope_sha1": "Chữ ký phong bì dùng SHA-1 (thuật toán yếu)",
            "no_valid_pdf_signature": "Không tệp PDF nào có chữ ký số hợp lệ",
        }[self.value]


def receipt_flag_labels(flags: str | None) -> list[str]:
    """The clerk's wording of a ``receipt_flags`` value (codes unknown here are skipped).
    Called for every row of the queues (most have none)."""
    if not flags:
        return []
    return [_FLAG_LABELS[code] for code in flags.split() if code in _FLAG_LABELS]


_FLAG_LABELS = {flag.value: flag.label for flag in ReceiptFlag}


class IncomingDocument(Base):
    __tablename__ = "incoming_documents"
    __table_args__ = (
        UniqueConstraint("register_id", "incoming_number"),
        UniqueConstraint("agency_id", "submission_id"),
        # covering on PostgreSQL: the dashboard's monthly counts read the index alone
        Index("ix_incoming_documents_agency_arrived", "agency_id", "arrived_at",
              postgresql_include=["source", "status", "registered_at", "receipt_flags"]),
        Index("ix_incoming_documents_register_registered", "register_id", "registered_at"),
        Index("ix_incoming_documents_agency_status", "agency_id", "status"),
        Index("ix_incoming_documents_dup", "agency_id", "issuer_code", "number_notation"),
        Index("ix_incoming_documents_docid", "agency_id", "document_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    incoming_number: Mapped[int | None]
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, 24))
    source: Mapped[Source] = mapped_column(_enum(Source, 8))
    # the registration form's one-time id: a double submit finds the first document
    submission_id: Mapped[str | None] = mapped_column(String(64))
    # edXML DocumentId or another identifier given by the sender; opaque
    document_identifier: Mapped[str | None] = mapped_column(String(255))
    issuer_code: Mapped[str] = mapped_column(String(35), default="")
    issuer_name: Mapped[str] = mapped_column(String(255))
    declared_issuer_name: Mapped[str | None] = mapped_column(String(255))
    """Received over the axis: the name the package declared for its sender, kept only when
    it differs from the directory's (``issuer_name``); the clerk is warned."""
    number: Mapped[str] = mapped_column(String(20))
    notation: Mapped[str] = mapped_column(String(60), default="")
    number_notation: Mapped[str] = mapped_column(String(90))
    document_date: Mapped[dt.date] = mapped_column(Date)
    doc_type: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    signer: Mapped[str] = mapped_column(String(255), default="")
    page_count: Mapped[int] = mapped_column(default=0)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, 16), default=Urgency.NORMAL)
    confidentiality: Mapped[Confidentiality] = mapped_column(_enum(Confidentiality, 16),
                                                             default=Confidentiality.NORMAL)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    arrived_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    registered_at: Mapped[dt.datetime | None]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    distributed_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    reply_number: Mapped[str] = mapped_column(String(90), default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    revocation_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    receipt_flags: Mapped[str] = mapped_column(String(255), default="", server_default="")
    """:class:`ReceiptFlag` values separated by spaces (an unsigned envelope, no valid PDF
    signature...): set once, on receipt from the axis."""
    """Set when the agency agreed to its sender's revocation: "Đã thu hồi theo ... ngày ..."."""
    destruction_id: Mapped[int | None] = mapped_column(ForeignKey("destructions.id"))
    """Set when a destruction (records.retention) deleted its files: the register entry stays."""
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow,
                                                          index=True)
    """Set on every insert and update (ORM or Core ``update()``): the dashboards' summary
    job finds the months to recompute by it (docs/dashboards.md)."""

    agency: Mapped[Agency] = relationship()
    registered_by: Mapped[User | None] = relationship()
    files: Mapped[list[DocumentFile]] = relationship(
        back_populates="document", order_by="DocumentFile.position", cascade="all, delete-orphan")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="document", order_by="Assignment.id", cascade="all, delete-orphan")


class DocumentFile(Base):
    __tablename__ = "incoming_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    page_count: Mapped[int] = mapped_column(default=0)
    # what the PDF's signatures said on arrival (empty for paper scans)
    signature_verdict: Mapped[str] = mapped_column(String(20), default="")
    signature_summary: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[IncomingDocument] = relationship(back_populates="files")


class DocumentText(Base):
    """Text extracted from the files, kept for search and never shown as the document."""

    __tablename__ = "incoming_texts"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[str] = mapped_column(Text, default="")


class AssignmentRole(enum.StrEnum):
    LEAD = "lead"
    CO = "co"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"lead": "Chủ trì", "co": "Phối hợp", "info": "Nhận để biết"}[self.value]


class AssignmentStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    EXTENSION_REQUESTED = "extension_requested"
    DELEGATED = "delegated"
    DONE = "done"
    RETURNED = "returned"
    CLOSED = "closed"  # closed without a result: the document was revoked by its sender

    @property
    def label(self) -> str:
        return {"pending": "Chưa xử lý", "in_progress": "Đang xử lý",
                "extension_requested": "Xin gia hạn", "delegated": "Đã giao tiếp",
                "done": "Hoàn thành", "returned": "Trả lại",
                "closed": "Đã đóng (văn bản bị thu hồi)"}[self.value]

    @property
    def is_open(self) -> bool:
        return self in (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS,
                        AssignmentStatus.EXTENSION_REQUESTED)


OPEN_STATUSES = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS,
                 AssignmentStatus.EXTENSION_REQUESTED)
OPEN_WHERE = "status IN ('pending', 'in_progress', 'extension_requested')"
"""The open statuses as SQL, for the partial index of open assignments."""


class Assignment(Base):
    """One handler of a document: a department or a person, with a role and a deadline."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_user_open", "assignee_user_id", "status", "deadline"),
        Index("ix_assignments_dept_open", "assignee_department_id", "status", "deadline"),
        Index("ix_assignments_agency_deadline", "agency_id", "status", "deadline"),
        Index("ix_assignments_agency_assigned", "agency_id", "assigned_at",  # dashboards
              postgresql_include=["assignee_department_id", "assignee_user_id", "status", "role",
                                  "deadline", "finished_at"]),
        # dashboards: the open assignments (always read live), index-only on PostgreSQL
        Index("ix_assignments_open_assigned", "agency_id", "assigned_at",
              postgresql_include=["assignee_department_id", "assignee_user_id", "deadline", "role"],
              postgresql_where=text(OPEN_WHERE), sqlite_where=text(OPEN_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    role: Mapped[AssignmentRole] = mapped_column(_enum(AssignmentRole, 8))
    assignee_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    instruction: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AssignmentStatus] = mapped_column(_enum(AssignmentStatus, 24),
                                                     default=AssignmentStatus.PENDING)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    progress_note: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    reply_number: Mapped[str] = mapped_column(String(90), default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    requested_deadline: Mapped[dt.date | None] = mapped_column(Date)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow,
                                                          index=True)
    """Set on every insert and update (ORM or Core ``update()``): the dashboards' summary
    job finds the months to recompute by it (docs/dashboards.md)."""

    document: Mapped[IncomingDocument] = relationship(back_populates="assignments")
    parent: Mapped[Assignment | None] = relationship(remote_side=[id])
    assignee_department: Mapped[Department | None] = relationship()
    assignee_user: Mapped[User | None] = relationship(foreign_keys=[assignee_user_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])

    @property
    def assignee_label(self) -> str:
        if self.assignee_user is not None:
            return self.assignee_user.full_name
        return self.assignee_department.name if self.assignee_department else ""

    def is_overdue(self, today: dt.date) -> bool:
        return self.status.is_open and self.deadline is not None and self.deadline < today


class SavedSearch(Base):
    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
