"""Importing, listing and removing trust anchors (one business operation each)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.audit.service import record
from ioffice.errors import DomainError, NotFound
from ioffice.trust.models import TrustAnchor

__all__ = ["MAX_FILE_BYTES", "AnchorSet", "ImportResult", "TrustAnchorError", "anchor_set",
           "import_certificates", "list_anchors", "parse_certificates", "remove"]

IMPORTED = "trust:anchor:import"
REMOVED = "trust:anchor:remove"

MAX_FILE_BYTES = 1024 * 1024
"""A certificate is 1–2 KB; a bundle of every Vietnamese public CA's roots and intermediates
is some tens of KB. Anything larger is not what the administrator meant to upload."""

MAX_CERTIFICATES = 100
"""Certificates in one file."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END ([A-Z0-9 #]+)-----", re.S)


class TrustAnchorError(DomainError):
    """An import or removal refused, with what to do about it."""


@dataclass(frozen=True)
class ImportResult:
    added: tuple[TrustAnchor, ...]
    """Rows created, in the file's order."""
    duplicates: tuple[TrustAnchor, ...]
    """Certificates of the file already imported (nothing done for them)."""

    @property
    def message(self) -> str:
        """What happened, for the administrator (Vietnamese)."""
        parts = []
        if self.added:
            names = "; ".join(f"«{a.subject}» ({_kind(a)})" for a in self.added)
            parts.append(f"Đã nhập {len(self.added)} chứng thư: {names}.")
        if self.duplicates:
            names = "; ".join(f"«{a.subject}»" for a in self.duplicates)
            parts.append(f"{len(self.duplicates)} chứng thư đã có trong danh sách từ trước, "
                         f"không nhập lại: {names}.")
        return " ".join(parts)


def _kind(anchor: TrustAnchor) -> str:
    return "gốc" if anchor.is_root else "trung gian"


@dataclass(frozen=True)
class AnchorSet:
    """What validation trusts besides the simulated CA: read once per check by each process."""

    version: str
    """SHA-256 over the sorted fingerprints: equal sets, equal versions (empty set: "")."""
    roots: tuple[bytes, ...]
    """DER of the imported root certificates."""
    intermediates: tuple[bytes, ...]
    """DER of the imported intermediate CA certificates."""


EMPTY = AnchorSet("", (), ())


def _name(name: x509.Name) -> str:
    """A distinguished name as an administrator reads it (CN first, as on a certificate)."""
    try:
        parts = [f"{a.rfc4514_attribute_name}={a.value}" for a in reversed(list(name))]
    except Exception:
        return name.rfc4514_string()
    return ", ".join(parts)


def _short(cert: x509.Certificate) -> str:
    for oid in (x509.NameOID.COMMON_NAME, x509.NameOID.ORGANIZATION_NAME):
        values = cert.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return _name(cert.subject)


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates of an uploaded file: DER, or PEM with one or more ``CERTIFICATE``
    blocks (text between blocks, such as a bundle's comments, is ignored, as OpenSSL does).
    :class:`TrustAnchorError` for anything else."""
    if not data:
        raise TrustAnchorError("Tệp rỗng: hãy chọn tệp chứng thư (.crt, .cer, .pem, .der).")
    if len(data) > MAX_FILE_BYTES:
        raise TrustAnchorError(
            f"Tệp quá lớn ({len(data) // 1024} KB): một tệp chứng thư hoặc bộ chứng thư không "
            f"quá {MAX_FILE_BYTES // 1024} KB.")
    if b"-----BEGIN" in data:
        return _parse_pem(data)
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise TrustAnchorError(
            "Tệp không phải chứng thư số: cần một chứng thư dạng PEM (-----BEGIN CERTIFICATE-----) "
            "hoặc DER (.cer, .der).") from None


def _parse_pem(data: bytes) -> list[x509.Certificate]:
    blocks = list(_PEM_BLOCK.finditer(data))
    if data.count(b"-----BEGIN") != len(blocks):
        raise TrustAnchorError("Tệp PEM hỏng: có khối -----BEGIN----- không có dòng -----END----- "
                               "tương ứng.")
    certs = []
    for n, block in enumerate(blocks, start=1):
        label, end = block.group(1).decode(), block.group(3).decode()
        if label != end:
            raise TrustAnchorError(f"Tệp PEM hỏng: khối thứ {n} mở bằng «{label}» nhưng đóng "
                                   f"bằng «{end}».")
        if label != "CERTIFICATE":
            raise TrustAnchorError(
                f"Khối thứ {n} của tệp là «{label}», không phải chứng thư (CERTIFICATE): chỉ nhập "
                "chứng thư, không bao giờ tải khóa bí mật lên hệ thống.")
        try:
            certs.append(x509.load_pem_x509_certificate(block.group(0)))
        except ValueError:
            raise TrustAnchorError(f"Khối chứng thư thứ {n} của tệp PEM bị hỏng (không đọc được "
                                   "nội dung base64/DER).") from None
        if len(certs) > MAX_CERTIFICATES:
            raise TrustAnchorError(f"Tệp có hơn {MAX_CERTIFICATES} chứng thư: hãy chia nhỏ.")
    return certs


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        raise TrustAnchorError(
            f"Chứng thư «{_short(cert)}» tự ký (chủ thể trùng tổ chức cấp) nhưng chữ ký trên "
            "chứng thư không khớp với khóa của nó: tệp đã bị sửa hoặc hỏng.") from None
    return True


def _check(cert: x509.Certificate, now: dt.datetime) -> None:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    except ValueError:
        raise TrustAnchorError(f"Chứng thư «{_short(cert)}» có phần mở rộng không đọc được.") \
            from None
    if bc is None or not bc.ca:
        raise TrustAnchorError(
            f"Chứng thư «{_short(cert)}» là chứng thư của người dùng cuối (không phải của tổ "
            "chức chứng thực: thiếu BasicConstraints CA=TRUE). Chỉ nhập chứng thư gốc hoặc "
            "trung gian của tổ chức chứng thực; không nhập gì từ tệp này.")
    if cert.not_valid_after_utc <= now:
        raise TrustAnchorError(
            f"Chứng thư «{_short(cert)}» đã hết hạn ngày "
            f"{cert.not_valid_after_utc:%d/%m/%Y}: không kiểm tra được chữ ký nào bằng nó. Hãy "
            "nhập chứng thư mới của tổ chức chứng thực; không nhập gì từ tệp này.")


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def import_certificates(session: Session, ctx: AuditContext, data: bytes, *,
                        filename: str = "", now: dt.datetime | None = None) -> ImportResult:
    """Import every certificate of ``data`` (all or nothing): CA certificates only, not
    expired; a root (self-signed, signature checked) becomes a trust anchor, any other CA
    certificate an intermediate. Already imported ones are reported, not doubled. One audit
    event per certificate added."""
    now = now or dt.datetime.now(dt.UTC)
    certs = parse_certificates(data)
    unique: dict[str, tuple[x509.Certificate, bool]] = {}
    for cert in certs:
        _check(cert, now)
        unique.setdefault(fingerprint(cert), (cert, _self_signed(cert)))
    existing = {a.fingerprint: a for a in session.scalars(
        select(TrustAnchor).where(TrustAnchor.fingerprint.in_(list(unique))))}
    added = []
    for fp, (cert, root) in unique.items():
        if fp in existing:
            continue
        row = TrustAnchor(
            fingerprint=fp, der=cert.public_bytes(serialization.Encoding.DER),
            subject=_name(cert.subject)[:1000], issuer=_name(cert.issuer)[:1000],
            not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
            is_root=root, imported_by=ctx.actor_id)
        session.add(row)
        added.append(row)
    try:
        session.flush()
    except IntegrityError:  # the same certificate imported at the same moment elsewhere
        raise TrustAnchorError("Chứng thư vừa được nhập bởi một phiên khác; tải lại trang để "
                               "xem danh sách.") from None
    for row in added:
        record(session, ctx, IMPORTED, subject_type="trust_anchor", subject_id=row.id,
               details={"fingerprint": row.fingerprint, "subject": row.subject,
                        "root": row.is_root, "filename": filename[:200]})
    return ImportResult(tuple(added), tuple(existing[fp] for fp in unique if fp in existing))


def remove(session: Session, ctx: AuditContext, anchor_id: int) -> TrustAnchor:
    """Stop trusting an imported certificate (audited with its fingerprint and subject)."""
    row = session.get(TrustAnchor, anchor_id)
    if row is None:
        raise NotFound("Không có chứng thư này trong danh sách tin cậy (có thể đã được gỡ).")
    record(session, ctx, REMOVED, subject_type="trust_anchor", subject_id=row.id,
           details={"fingerprint": row.fingerprint, "subject": row.subject, "root": row.is_root})
    session.delete(row)
    session.flush()
    return row


def find(session: Session, fingerprint_or_id: str) -> TrustAnchor | None:
    """By id, or by fingerprint (hex, colons allowed, a unique prefix of at least 8 digits)."""
    text = fingerprint_or_id.strip().lower().replace(":", "")
    if text.isdigit() and len(text) < 8:
        return session.get(TrustAnchor, int(text))
    if len(text) < 8 or not re.fullmatch(r"[0-9a-f]+", text):
        return None
    rows = list(session.scalars(select(TrustAnchor).where(
        TrustAnchor.fingerprint.startswith(text, autoescape=True)).limit(2)))
    return rows[0] if len(rows) == 1 else None


def list_anchors(session: Session) -> list[TrustAnchor]:
    """Roots first, then by subject."""
    return list(session.scalars(select(TrustAnchor).order_by(
        TrustAnchor.is_root.desc(), TrustAnchor.subject, TrustAnchor.id)))


def anchor_set(session: Session) -> AnchorSet:
    rows = session.execute(select(TrustAnchor.fingerprint, TrustAnchor.der, TrustAnchor.is_root)
                           .order_by(TrustAnchor.fingerprint)).all()
    if not rows:
        return EMPTY
    version = hashlib.sha256("".join(r.fingerprint for r in rows).encode()).hexdigest()
    return AnchorSet(version, tuple(r.der for r in rows if r.is_root),
                     tuple(r.der for r in rows if not r.is_root))
