from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.db import Base, enum_values, utcnow


class KeyHolder(enum.StrEnum):
    """Where the private key lives."""

    AGENCY_SEAL = "agency_seal"  # server, under the PKI passphrase; used by clerks
    PIN = "pin"  # server, encrypted under the person's PIN
    BROWSER = "browser"  # the person's browser (WebCrypto, non-extractable); CSR issued here
    TOKEN = "token"  # the agency seal in a PKCS#11 token or HSM (IOFFICE_SEAL_TOKENS); CSR here


class SigningCertificate(Base):
    __tablename__ = "signing_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    holder: Mapped[KeyHolder] = mapped_column(
        Enum(KeyHolder, values_callable=enum_values, native_enum=False, length=16))
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # decimal, may exceed 64 bits
    subject: Mapped[str] = mapped_column(String(500))
    not_after: Mapped[dt.datetime]
    # PIN-holder keys: the PinProtectedKey blob (the key encrypted under the PIN)
    protected_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PendingSignature(Base):
    """A prepared, not yet signed PDF waiting for a browser's signature value (two-phase)."""

    __tablename__ = "signing_pending"

    handle: Mapped[str] = mapped_column(String(64), primary_key=True)
    record: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[float]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PinAttempt(Base):
    """Consecutive wrong PINs per PIN-protected key (the signing library's key id)."""

    __tablename__ = "signing_pin_attempts"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
