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


class OutgoingSearchEntry(Base):
    """The outgoing twin of :class:`SearchEntry`: one row per outgoing document, its folded
    metadata and text. Who may see it and the filters (status, department, type, date) are read
    from ``outgoing_documents`` itself: an outgoing document changes status at every step, and
    the agency's outgoing documents are few next to its incoming register. The text is stored
    on both engines (``body``), so a metadata change re-derives the index without the PDF.
    Engine indexes: ``search_outgoing_fts`` (SQLite FTS5), ``tsv`` + ``meta_tsv`` (PostgreSQL),
    see the migration ``9d4a7e2c5b18``."""

    __tablename__ = "search_outgoing_entries"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_documents.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    meta: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
