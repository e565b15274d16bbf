"""What full-text search reads: one row per document, its metadata and text folded
(lower case, no Vietnamese diacritics) so "quyet dinh" finds "Quyết định"."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base


class SearchEntry(Base):
    __tablename__ = "search_entries"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
