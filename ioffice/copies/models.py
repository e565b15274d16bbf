"""A copy (bản sao) of an incoming or outgoing document, from the leader's decision to the
sealed PDF the office made."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.agencies.models import Agency, User
from ioffice.db import ArchivalRevisionColumns, Base, enum_values, utcnow


class CopyKind(enum.StrEnum):
    """The three forms of Decree 30 article 25, with the abbreviation of Appendix III.I."""

    EXACT = "sao_y"
    FROM_EXACT = "sao_luc"
    EXTRACT = "trich_sao"

    @property
    def label(self) -> str:
        return {"sao_y": "Sao y", "sao_luc": "Sao lục", "trich_sao": "Trích sao"}[self.value]

    @property
    def heading(self) -> str:
        """How the copy form prints it: "SAO Y", "SAO LỤC", "TRÍCH SAO"."""
        return self.label.upper()

    @property
    def abbreviation(self) -> str:
        return {"sao_y": "SY", "sao_luc": "SL", "trich_sao": "TrS"}[self.value]


class CopyStatus(enum.StrEnum):
    REQUESTED = "requested"
    MADE = "made"

    @property
    def label(self) -> str:
        return {"requested": "Chờ văn thư thực hiện", "made": "Đã sao, đã ký số"}[self.value]


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, values_callable=enum_values, native_enum=False, length=length)


class DocumentCopy(Base):
    __tablename__ = "document_copies"
    __table_args__ = (
        # one series for every kind of copy, per agency and year (Appendix I, II.1.c)
        UniqueConstraint("agency_id", "year", "number"),
        # the request form's one-time id: a double submit finds the first request
        UniqueConstraint("agency_id", "submission_id"),
        CheckConstraint("(incoming_id IS NULL) <> (outgoing_id IS NULL)", name="one_original"),
        Index("ix_document_copies_incoming", "incoming_id"),
        Index("ix_document_copies_outgoing", "outgoing_id"),
        Index("ix_document_copies_agency_requested", "agency_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[CopyKind] = mapped_column(_enum(CopyKind, 16))
    status: Mapped[CopyStatus] = mapped_column(_enum(CopyStatus, 16))
    submission_id: Mapped[str] = mapped_column(String(64))
    # the original: exactly one of the two
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    # sao lục is made from a sao y (article 25.2.b): the one it was made from
    from_copy_id: Mapped[int | None] = mapped_column(ForeignKey("document_copies.id"))
    pages: Mapped[str] = mapped_column(String(200), default="")
    """Trích sao: the pages of the original, as typed and checked ("1-2, 4"); "" = all."""
    recipients: Mapped[str] = mapped_column(Text, default="")
    """Nơi nhận, one per line."""
    note: Mapped[str] = mapped_column(Text, default="")
    # the decision (article 27.1): the leader who decided; who asked (the leader, or the clerk
    # recording the leader's decision)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_title: Mapped[str] = mapped_column(String(255), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # made by the clerk: number in the copies register, the sealed PDF
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    year: Mapped[int | None]
    number: Mapped[int | None]
    number_notation: Mapped[str] = mapped_column(String(90), default="")
    copy_date: Mapped[dt.date | None]
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int] = mapped_column(default=0)
    certificate_serial: Mapped[str] = mapped_column(String(80), default="")
    level: Mapped[str] = mapped_column(String(8), default="")
    # the file's newest timestamp (its TSA certificate's expiry): the re-timestamp job renews
    # it before then (ioffice/outgoing/archival.py); None for B-B or not read yet
    timestamp_at: Mapped[dt.datetime | None]
    timestamp_expires: Mapped[dt.datetime | None] = mapped_column(index=True)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency] = relationship()
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    made_by: Mapped[User | None] = relationship(foreign_keys=[made_by_id])
    from_copy: Mapped[DocumentCopy | None] = relationship(remote_side=[id])

    @property
    def recipient_lines(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]


class CopyArchivalRevision(ArchivalRevisionColumns, Base):
    """An archival timestamp added to a copy's file by the re-timestamp job: the new file and
    the one it extends, both kept (blob cleanup keeps every file named here)."""

    __tablename__ = "document_copy_archival_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("document_copies.id"), index=True)
