"""The file list of a year (headings and planned dossiers), dossiers and what they hold, and
hand-overs to the archive (Appendix V of Decree 30/2020)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.db import ArchivalRevisionColumns, Base, enum_values, utcnow

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, values_callable=enum_values, native_enum=False, length=length)


class ListStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return {"draft": "Dự thảo", "approved": "Đã phê duyệt"}[self.value]


class DossierStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    SUBMITTED = "submitted"
    ARCHIVED = "archived"
    DESTROYED = "destroyed"

    @property
    def label(self) -> str:
        return {"planned": "Chưa mở", "open": "Đang lập", "closed": "Đã kết thúc",
                "submitted": "Đang nộp lưu", "archived": "Đã nộp lưu",
                "destroyed": "Đã tiêu hủy"}[self.value]


class ItemKind(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    FILE = "file"
    NOTE = "note"

    @property
    def label(self) -> str:
        return {"incoming": "Văn bản đến", "outgoing": "Văn bản đi", "file": "Tài liệu khác",
                "note": "Ghi chú"}[self.value]


class HandoverStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"draft": "Chờ bên giao ký", "submitted": "Chờ Lưu trữ nhận",
                "accepted": "Lưu trữ đã nhận", "returned": "Lưu trữ trả lại"}[self.value]


def retention_end(end_date: dt.date | None, years: int | None) -> dt.date | None:
    """The end of the work plus N years (29 February → 1 March); None: permanent or not ended.
    The same rule for a dossier of the list and a dossier restored from a package."""
    if years is None or end_date is None:
        return None
    try:
        return end_date.replace(year=end_date.year + years)
    except ValueError:  # 29 February
        return dt.date(end_date.year + years, 3, 1)


class FileList(Base):
    """Danh mục hồ sơ of one agency and year: made by the office, approved by a leader."""

    __tablename__ = "file_lists"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int]
    status: Mapped[ListStatus] = mapped_column(_enum(ListStatus, 16), default=ListStatus.DRAFT)
    decision: Mapped[str] = mapped_column(String(255), default="")
    """«Kèm theo Quyết định số ... ngày ... của ...», written at approval."""
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    headings: Mapped[list[FileListHeading]] = relationship(
        back_populates="file_list", cascade="all, delete-orphan",
        order_by="(FileListHeading.parent_id.is_not(None), FileListHeading.position)")
    dossiers: Mapped[list[Dossier]] = relationship(
        back_populates="file_list", order_by="(Dossier.number, Dossier.id)")


class FileListHeading(Base):
    """A heading (Roman numeral, ``parent_id`` None) or a subheading (Arabic) of a list."""

    __tablename__ = "file_list_headings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("file_lists.id", ondelete="CASCADE"),
                                         index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("file_list_headings.id"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(20), default="")
    """The abbreviation of a heading (``TCCB``): the part after the dot of a dossier's symbol."""
    title: Mapped[str] = mapped_column(String(500))

    file_list: Mapped[FileList] = relationship(back_populates="headings")
    parent: Mapped[FileListHeading | None] = relationship(remote_side=[id])


class Dossier(Base):
    """A dossier (hồ sơ) of the list: planned, opened by its keeper, kept, closed, handed over."""

    __tablename__ = "dossiers"
    __table_args__ = (UniqueConstraint("list_id", "symbol"),
                      Index("ix_dossiers_agency_keeper", "agency_id", "keeper_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("file_lists.id"), index=True)
    heading_id: Mapped[int] = mapped_column(ForeignKey("file_list_headings.id"))
    number: Mapped[int]
    symbol: Mapped[str] = mapped_column(String(40))
    """Số và ký hiệu hồ sơ, e.g. ``01.TCCB``."""
    title: Mapped[str] = mapped_column(String(1000))
    retention_years: Mapped[int | None]
    """Thời hạn bảo quản in years; None: permanent (vĩnh viễn)."""
    keeper_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DossierStatus] = mapped_column(_enum(DossierStatus, 16),
                                                  default=DossierStatus.PLANNED)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    page_count: Mapped[int | None]
    closed_at: Mapped[dt.datetime | None]
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    reminded_on: Mapped[dt.date | None] = mapped_column(Date)
    """When the keeper was told the hand-over deadline is near (once per closing)."""
    title_folded: Mapped[str] = mapped_column(Text, default="")
    """Symbol and title without diacritics, lower case (search)."""
    added_at: Mapped[dt.datetime | None]
    """When it was added to the list after its approval (art. 29.2.c: a dossier not in the
    list, added by its keeper or the office); None for a dossier of the approved list."""
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expiry_notified_on: Mapped[dt.date | None] = mapped_column(Date)
    """When the archive was told its retention had ended (once: ``records/expiry.py``)."""

    file_list: Mapped[FileList] = relationship(back_populates="dossiers")
    heading: Mapped[FileListHeading] = relationship()
    items: Mapped[list[DossierItem]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan",
        order_by="(DossierItem.position, DossierItem.id)")

    kind = "dossier"
    """The discriminator retention uses (a restored dossier is ``restored``)."""

    @property
    def retention_label(self) -> str:
        return "Vĩnh viễn" if self.retention_years is None else f"{self.retention_years} năm"

    @property
    def retention_end(self) -> dt.date | None:
        """The day the retention ends: the end of the work plus N years (None: permanent, or
        not closed)."""
        return retention_end(self.end_date, self.retention_years)

    @property
    def addition_note(self) -> str:
        """What the list's «Ghi chú» says of a dossier added after the approval (art. 29.2.c)."""
        if self.added_at is None:
            return ""
        return f"Bổ sung ngày {self.added_at.astimezone(VN):%d/%m/%Y}"

    @property
    def handover_deadline(self) -> dt.date | None:
        """Art. 30(2)(b): within one year of the end of the work."""
        if self.end_date is None:
            return None
        try:
            return self.end_date.replace(year=self.end_date.year + 1)
        except ValueError:  # 29 February
            return self.end_date + dt.timedelta(days=365)


class DossierItem(Base):
    """A document, another file or a note in a dossier. A document may sit in several dossiers,
    once in each."""

    __tablename__ = "dossier_items"
    __table_args__ = (UniqueConstraint("dossier_id", "incoming_id"),
                      UniqueConstraint("dossier_id", "outgoing_id"),
                      Index("ix_dossier_items_incoming", "incoming_id"),
                      Index("ix_dossier_items_outgoing", "outgoing_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, 16))
    position: Mapped[int]
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    title: Mapped[str] = mapped_column(Text, default="")
    """A file's title or a note's text (documents show their own)."""
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int | None]
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="items")


class Handover(Base):
    """Nộp lưu: closed dossiers of one keeper handed to the archive, with the hand-over record
    (form V) and the submission list (form III) as one PDF signed by both sides."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    keeper_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[HandoverStatus] = mapped_column(_enum(HandoverStatus, 16),
                                                   default=HandoverStatus.DRAFT)
    record_sha256: Mapped[str] = mapped_column(String(64), default="")
    """The record's PDF as it is now (unsigned, keeper-signed, then both)."""
    keeper_serial: Mapped[str] = mapped_column(String(64), default="")
    archivist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    archivist_serial: Mapped[str] = mapped_column(String(64), default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    level: Mapped[str] = mapped_column(String(8), default="", server_default="")
    """The accepted record's PAdES level (``B-LTA``; ``B-B`` signed without a TSA); "" until
    the archive signs, or for records accepted before it was recorded (read from the file by
    the re-timestamp job)."""
    timestamp_at: Mapped[dt.datetime | None]
    timestamp_expires: Mapped[dt.datetime | None] = mapped_column(index=True)
    """The record's last timestamp and when its TSA certificate expires: the re-timestamp job
    renews it before then (``records/archival.py``)."""

    dossiers: Mapped[list[Dossier]] = relationship(order_by="(Dossier.symbol, Dossier.id)")


class HandoverArchivalRevision(ArchivalRevisionColumns, Base):
    """An archival timestamp added to an accepted hand-over record by the re-timestamp job: the
    new file and the one it extends, both kept (blob cleanup keeps every file named here)."""

    __tablename__ = "handover_archival_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"), index=True)


class ImportedPackage(Base):
    """An electronic dossier package (ZIP) received from another installation, every hash and
    signature verified on import; the package itself is kept as it came (``sha256``)."""

    __tablename__ = "imported_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    organ_id: Mapped[str] = mapped_column(String(35))
    """The identifier of the agency that made the dossier (FileCode/OrganId)."""
    year: Mapped[int]
    symbol: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(1000))
    retention_years: Mapped[int | None]
    documents: Mapped[int]
    signatures: Mapped[int]
    """Signatures found intact in the package's PDFs."""
    untrusted: Mapped[int] = mapped_column(default=0)
    """Of those, how many chain to no anchor this installation trusts."""
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # the dossier restored from the package (ho-so.xml): an archive holding, read-only
    keeper_name: Mapped[str] = mapped_column(String(255), default="")
    """FileInfo/Creator as text: the keeper is a person of the other installation."""
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    page_count: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    toc_sha256: Mapped[str] = mapped_column(String(64), default="")
    """The package's table of contents (muc-luc.xlsx) as it came."""
    title_folded: Mapped[str] = mapped_column(Text, default="")
    """Symbol and title without diacritics, lower case: what the dossier search matches."""
    destruction_id: Mapped[int | None] = mapped_column(ForeignKey("destructions.id"))
    """The destruction that destroyed the restored dossier (its files, the ZIP and the table
    of contents deleted; this row and the documents' metadata kept), None while it is kept."""
    expiry_notified_on: Mapped[dt.date | None] = mapped_column(Date)
    """When the archive was told its retention had ended (once: ``records/expiry.py``)."""
    items: Mapped[list[ImportedDocument]] = relationship(
        order_by="ImportedDocument.ordinal", cascade="all, delete-orphan")

    kind = "restored"
    """The discriminator retention uses (a dossier of the list is ``dossier``)."""

    @property
    def retention_label(self) -> str:
        return "Vĩnh viễn" if self.retention_years is None else f"{self.retention_years} năm"

    @property
    def retention_end(self) -> dt.date | None:
        return retention_end(self.end_date, self.retention_years)

    @property
    def destroyed(self) -> bool:
        return self.destruction_id is not None


class ImportedDocument(Base):
    """One document of a restored dossier, from the package's ``van-ban/NNN/dac-ta.xml`` (the
    Part II section III fields), with its files (``files``: name, sha256, size) in blob
    storage byte for byte."""

    __tablename__ = "imported_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    package_id: Mapped[int] = mapped_column(
        ForeignKey("imported_packages.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), default="")
    type_name: Mapped[str] = mapped_column(String(255), default="")
    number: Mapped[str] = mapped_column(String(64), default="")
    notation: Mapped[str] = mapped_column(String(255), default="")
    issued_date: Mapped[str] = mapped_column(String(32), default="")
    organ_name: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(64), default="")
    pages: Mapped[str] = mapped_column(String(16), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    @property
    def issued_label(self) -> str:
        """The date as dd/mm/yyyy when the package gave it as an ISO date."""
        try:
            return dt.date.fromisoformat(self.issued_date).strftime("%d/%m/%Y")
        except ValueError:
            return self.issued_date


class DestructionStatus(enum.StrEnum):
    PROPOSED = "proposed"
    DESTROYED = "destroyed"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"proposed": "Chờ lãnh đạo quyết định", "destroyed": "Đã tiêu hủy",
                "rejected": "Lãnh đạo không đồng ý"}[self.value]


class LegalHold(Base):
    """A legal hold (tạm giữ) on a dossier, or on a restored dossier: while it is not lifted
    the dossier is not destroyed."""

    __tablename__ = "legal_holds"
    __table_args__ = (CheckConstraint("(dossier_id IS NULL) <> (package_id IS NULL)",
                                      name="one_holding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("imported_packages.id"),
                                                   index=True)
    """A hold on a restored dossier (``dossier_id`` None then): exactly one of the two."""
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[dt.datetime | None]
    lift_reason: Mapped[str] = mapped_column(Text, default="")


class Destruction(Base):
    """A proposal to destroy dossiers whose retention has ended (the archive, for the
    destruction council), the leader's decision, and afterwards the record of what was
    destroyed (``record``: each dossier's symbol, title, documents and hashes)."""

    __tablename__ = "destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[DestructionStatus] = mapped_column(_enum(DestructionStatus, 16),
                                                      default=DestructionStatus.PROPOSED)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision: Mapped[str] = mapped_column(String(255), default="")
    """The leader's decision (Quyết định số ...) to destroy, or the reason for refusing."""
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What was destroyed, kept after the files are gone (see docs/records.md)."""

    dossiers: Mapped[list[Dossier]] = relationship(
        secondary="destruction_dossiers", order_by="(Dossier.list_id, Dossier.symbol)")
    packages: Mapped[list[ImportedPackage]] = relationship(
        secondary="destruction_packages", order_by="(ImportedPackage.year, ImportedPackage.symbol)")
    """Restored dossiers (from imported packages) in the proposal."""

    @property
    def holdings(self) -> list[Dossier | ImportedPackage]:
        return [*self.dossiers, *self.packages]


class DestructionDossier(Base):
    __tablename__ = "destruction_dossiers"

    destruction_id: Mapped[int] = mapped_column(
        ForeignKey("destructions.id", ondelete="CASCADE"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True,
                                            index=True)


class DestructionPackage(Base):
    """A restored dossier in a destruction proposal."""

    __tablename__ = "destruction_packages"

    destruction_id: Mapped[int] = mapped_column(
        ForeignKey("destructions.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("imported_packages.id"), primary_key=True,
                                            index=True)
