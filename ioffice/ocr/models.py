"""OCR jobs: one row per scan to read, written in the transaction that receives the scan
(a transactional outbox: the worker does the reading after commit)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, enum_values, utcnow


class OcrState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return {"queued": "Đang chờ nhận dạng chữ", "running": "Đang nhận dạng chữ",
                "done": "Đã nhận dạng chữ", "failed": "Không nhận dạng được chữ",
                "skipped": "Tệp đã có lớp chữ, không cần nhận dạng"}[self.value]

    @property
    def finished(self) -> bool:
        return self in (OcrState.DONE, OcrState.FAILED, OcrState.SKIPPED)


class OcrJob(Base):
    """The OCR of one uploaded scan: before registration (``held_token``: the clerk's form
    waits for the fields) or of a registered document's file (``document_id``, ``file_id``).
    The original (``source_sha256``) is never changed; the searchable copy is
    ``output_sha256`` in the same blob store."""

    __tablename__ = "ocr_jobs"
    __table_args__ = (Index("ix_ocr_jobs_state", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_files.id", ondelete="CASCADE"))
    held_token: Mapped[str | None] = mapped_column(String(32), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    source_sha256: Mapped[str] = mapped_column(String(64))
    output_sha256: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[OcrState] = mapped_column(
        Enum(OcrState, values_callable=enum_values, native_enum=False, length=10),
        default=OcrState.QUEUED)
    pages_done: Mapped[int] = mapped_column(default=0)
    pages_total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
