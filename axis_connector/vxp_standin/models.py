"""The stand-in's own tables (prefix ``vxp_``, own metadata, own Alembic version table)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from axis_connector.hub.db import NAMING_CONVENTION, UTCDateTime, utcnow

__all__ = ["Agency", "Base", "Delivery", "Document"]

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), int: BigInt}


class Agency(Base):
    """One entry of the directory: from the configuration or from ``registerAgency``."""

    __tablename__ = "vxp_agencies"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)
    system_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500))
    pcode: Mapped[str] = mapped_column(String(35), default="")
    mail: Mapped[str] = mapped_column(String(255), default="")
    mobile: Mapped[str] = mapped_column(String(64), default="")
    fax: Mapped[str] = mapped_column(String(64), default="")
    old_code: Mapped[str] = mapped_column(String(35), default="")
    """The code before Decision 20 (``oldCode``/``code102``)."""
    level: Mapped[str] = mapped_column(String(16), default="")
    version: Mapped[int] = mapped_column(default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    modified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Document(Base):
    """One accepted ``sendEdoc``: the package as sent (``DocId`` is ``id``)."""

    __tablename__ = "vxp_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender_system_id: Mapped[str] = mapped_column(String(64), index=True)
    from_code: Mapped[str] = mapped_column(String(35))
    message_type: Mapped[str] = mapped_column(String(8))
    edxml_document_id: Mapped[str] = mapped_column(String(500), default="", index=True)
    """``DocumentId`` of a document package, ``ResponseFor/DocumentId`` of a status package."""
    title: Mapped[str] = mapped_column(Text, default="")
    notation: Mapped[str] = mapped_column(String(255), default="")
    status_code: Mapped[str] = mapped_column(String(8), default="")
    status_desc: Mapped[str] = mapped_column(Text, default="")
    package: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="document", order_by="Delivery.to_code")


class Delivery(Base):
    """The document for one recipient agency (``receiverDocId`` is ``id``)."""

    __tablename__ = "vxp_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("vxp_documents.id"), index=True)
    to_code: Mapped[str] = mapped_column(String(35), index=True)
    ack: Mapped[str] = mapped_column(String(8), default="")
    """``""`` until ``updateStatus``, then ``done`` or ``fail``; only ``""`` ones are listed."""
    acked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    receive_status: Mapped[str] = mapped_column(String(8), default="")
    """The last processing status (``StatusCode``) the recipient sent back, if any."""
    receive_status_desc: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    document: Mapped[Document] = relationship(back_populates="deliveries")
