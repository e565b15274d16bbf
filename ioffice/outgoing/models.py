"""Outgoing documents: drafts with versions and comments, review, signatures, number, dispatch."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.agencies.models import Agency, Department, User
from ioffice.db import Base, enum_values, utcnow
from ioffice.documents.vocabulary import Confidentiality, Urgency


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, values_callable=enum_values, native_enum=False, length=length)


class OutgoingStatus(enum.StrEnum):
    DRAFT = "draft"  # the drafter writes; also where a sent-back draft lands
    IN_REVIEW = "in_review"  # at ``review_step`` of the agency's chain
    APPROVED = "approved"  # every step approved: awaiting the designated signer
    SIGNED = "signed"  # personal signature of the competent person
    NUMBERED = "numbered"  # number and date from the outgoing register
    SEALED = "sealed"  # the agency's signature (seal, number, time)
    DISPATCHED = "dispatched"
    REVOKED = "revoked"
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return {"draft": "Dự thảo", "in_review": "Đang trình duyệt", "approved": "Chờ ký",
                "signed": "Đã ký, chờ cấp số", "numbered": "Đã cấp số, chờ ký số cơ quan",
                "sealed": "Đã ký số cơ quan, chờ phát hành", "dispatched": "Đã phát hành",
                "revoked": "Đã thu hồi", "replaced": "Đã bị thay thế"}[self.value]


class ReviewStepKind(enum.StrEnum):
    """One step of the review chain and who may act on it."""

    DEPARTMENT_HEAD = "department_head"  # head of the drafting department: content
    OFFICE = "office"  # the office (VP department head, or a clerk): format (thể thức)
    LEADER = "leader"  # a leader of the agency: approval

    @property
    def label(self) -> str:
        return {"department_head": "Trưởng đơn vị soạn thảo duyệt nội dung",
                "office": "Văn phòng kiểm tra thể thức",
                "leader": "Lãnh đạo duyệt"}[self.value]


DEFAULT_CHAIN = (ReviewStepKind.DEPARTMENT_HEAD, ReviewStepKind.OFFICE, ReviewStepKind.LEADER)


class ReviewChain(Base):
    """An agency's review chain; agencies without a row use :data:`DEFAULT_CHAIN`."""

    __tablename__ = "outgoing_review_chains"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    steps: Mapped[str] = mapped_column(String(200))  # comma-separated ReviewStepKind values
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecipientKind(enum.StrEnum):
    DEPARTMENT = "department"  # inside the agency: delivered directly
    AGENCY = "agency"  # another agency, by its identifier: through the exchange


class RecipientStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"  # internal department: in its list at once
    SENT = "sent"  # handed to the exchange (outbox row)
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return {"pending": "Chưa gửi", "delivered": "Đã chuyển", "sent": "Đã gửi lên trục",
                "revoked": "Đã thu hồi"}[self.value]


class OutgoingDocument(Base):
    __tablename__ = "outgoing_documents"
    __table_args__ = (
        UniqueConstraint("register_id", "number"),
        Index("ix_outgoing_documents_agency_status", "agency_id", "status"),
        Index("ix_outgoing_documents_agency_dispatched", "agency_id", "dispatched_at",
              postgresql_include=["signed_at"]),  # dashboards
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[OutgoingStatus] = mapped_column(_enum(OutgoingStatus, 16))
    doc_type: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, 16), default=Urgency.NORMAL)
    confidentiality: Mapped[Confidentiality] = mapped_column(_enum(Confidentiality, 16),
                                                             default=Confidentiality.NORMAL)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    drafting_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH" style competence printed above the signature
    signer_position: Mapped[str] = mapped_column(String(255), default="")
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    copies: Mapped[int] = mapped_column(default=1)
    notes: Mapped[str] = mapped_column(Text, default="")
    review_step: Mapped[int] = mapped_column(default=0)
    # set by the agency admin when nobody could take the current step: it is this user's alone
    # until the step is done (cleared on every move of the draft)
    assigned_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # where the personal signature goes: zero-based page (-1 = last page) and a box in points
    stamp_page: Mapped[int] = mapped_column(default=-1)
    stamp_x1: Mapped[float | None]
    stamp_y1: Mapped[float | None]
    # the blob of the newest PDF: the current draft version, then each signed revision
    current_sha256: Mapped[str] = mapped_column(String(64), default="")
    page_count: Mapped[int] = mapped_column(default=0)
    signed_at: Mapped[dt.datetime | None]
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    number: Mapped[int | None]
    number_text: Mapped[str] = mapped_column(String(20), default="")  # "05"
    notation: Mapped[str] = mapped_column(String(60), default="")  # "UBND-VP"
    number_notation: Mapped[str] = mapped_column(String(90), default="")  # "05/UBND-VP"
    promulgation_date: Mapped[dt.date | None] = mapped_column(Date)
    document_identifier: Mapped[str] = mapped_column(String(255), default="")
    numbered_at: Mapped[dt.datetime | None]
    sealed_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    pending_handle: Mapped[str] = mapped_column(String(64), default="")
    destruction_id: Mapped[int | None] = mapped_column(ForeignKey("destructions.id"))
    """Set when a destruction (records.retention) deleted its files: the register entry stays."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow,
                                                          index=True)
    """Set on every insert and update (ORM or Core ``update()``): the dashboards' summary
    job finds the months to recompute by it (docs/dashboards.md)."""

    agency: Mapped[Agency] = relationship()
    drafting_department: Mapped[Department | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    signer: Mapped[User] = relationship(foreign_keys=[signer_id])
    assigned_reviewer: Mapped[User | None] = relationship(foreign_keys=[assigned_reviewer_id])
    versions: Mapped[list[DraftVersion]] = relationship(
        back_populates="document", order_by="DraftVersion.version_no",
        cascade="all, delete-orphan")
    comments: Mapped[list[OutgoingComment]] = relationship(
        back_populates="document", order_by="OutgoingComment.id", cascade="all, delete-orphan")
    recipients: Mapped[list[OutgoingRecipient]] = relationship(
        back_populates="document", order_by="OutgoingRecipient.id", cascade="all, delete-orphan")
    signatures: Mapped[list[SignedRevision]] = relationship(
        back_populates="document", order_by="SignedRevision.id", cascade="all, delete-orphan")


class DraftVersion(Base):
    """One uploaded version of the draft; never changed or deleted."""

    __tablename__ = "outgoing_versions"
    __table_args__ = (UniqueConstraint("document_id", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_documents.id", ondelete="CASCADE"))
    version_no: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))  # the PDF
    size: Mapped[int]
    page_count: Mapped[int]
    source_filename: Mapped[str] = mapped_column(String(255), default="")  # the DOCX, if any
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[OutgoingDocument] = relationship(back_populates="versions")
    uploaded_by: Mapped[User] = relationship()


class OutgoingComment(Base):
    """A comment, an approval or a send-back, with the version it was about."""

    __tablename__ = "outgoing_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_documents.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # comment / approve / send_back
    step: Mapped[str] = mapped_column(String(32), default="")
    version_no: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[OutgoingDocument] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class OutgoingRecipient(Base):
    __tablename__ = "outgoing_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RecipientKind] = mapped_column(_enum(RecipientKind, 16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(35), default="")
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[RecipientStatus] = mapped_column(_enum(RecipientStatus, 16),
                                                    default=RecipientStatus.PENDING)
    sent_at: Mapped[dt.datetime | None]

    document: Mapped[OutgoingDocument] = relationship(back_populates="recipients")


class SignedRevision(Base):
    """Each signature makes a new PDF blob; the previous one is kept. So does each archival
    timestamp the worker adds (``kind="archival"``, no signer: docs/signing.md, "Long-term
    validation")."""

    __tablename__ = "outgoing_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # personal / agency / archival
    method: Mapped[str] = mapped_column(String(16))  # pin / browser / server / seal / tsa
    sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: archival
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # PAdES level of the revision ("B-B" ... "B-LTA"; "" before it was recorded), the time of
    # its newest timestamp and when that timestamp's TSA certificate expires: what the
    # re-timestamp job looks at (ioffice/outgoing/archival.py)
    level: Mapped[str] = mapped_column(String(8), default="", server_default="")
    timestamp_at: Mapped[dt.datetime | None]
    timestamp_expires: Mapped[dt.datetime | None] = mapped_column(index=True)

    document: Mapped[OutgoingDocument] = relationship(back_populates="signatures")
    signer: Mapped[User | None] = relationship()

    without_timestamp = ""  # not stored: set on an agency seal made without a timestamp (the
    # audit event keeps why), for the message shown right after it
