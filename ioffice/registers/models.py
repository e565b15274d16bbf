"""Registers (sổ văn bản): one numbering series per agency, kind and year."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.agencies.models import Agency
from ioffice.db import Base, enum_values


class RegisterKind(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    OUTGOING_CONFIDENTIAL = "outgoing_confidential"
    COPIES = "copies"  # one series for sao y, sao lục and trích sao (Decree 30 App. I, II.1.c)

    @property
    def label(self) -> str:
        return {"incoming": "Sổ văn bản đến", "outgoing": "Sổ văn bản đi",
                "outgoing_confidential": "Sổ văn bản đi mật",
                "copies": "Sổ đăng ký bản sao"}[self.value]


class Register(Base):
    __tablename__ = "registers"
    __table_args__ = (UniqueConstraint("agency_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[RegisterKind] = mapped_column(
        Enum(RegisterKind, values_callable=enum_values, native_enum=False, length=24))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    last_number: Mapped[int] = mapped_column(default=0)

    agency: Mapped[Agency] = relationship()
