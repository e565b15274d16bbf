"""What full-text search reads: one row per document, its metadata and text folded
(lower case, no Vietnamese diacritics) so "quyet dinh" finds "Quyết định".

``meta`` (subject, number and notation, issuer, signer, type, notes, incoming number) ranks above
``body`` (the files' text). The database keeps its own index in step with these rows: on SQLite
triggers feed the FTS5 table ``search_fts``; on PostgreSQL a generated ``tsv`` column with a GIN
index. Neither is described here (SQLAlchemy cannot), see docs/search.md and the migration.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base


class SearchEntry(Base):
    __tablename__ = "search_entries"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    meta: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # copies of the document's fields that filter a search, so that matching, filtering,
    # ranking and the page limit all happen here before a single document row is read
    confidential: Mapped[bool] = mapped_column(default=False, server_default="0")
    doc_type: Mapped[str] = mapped_column(String(32), default="", server_default="")
    document_date: Mapped[dt.date | None] = mapped_column(Date)
