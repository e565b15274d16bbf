"""Issuing and finding the certificates an agency and its people sign with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.models import Agency, User
from ioffice.audit import AuditContext, record
from ioffice.errors import DomainError, NotFound
from ioffice.keys.models import KeyHolder, SigningCertificate
from signing import Credential, PinProtectedKey, Pki, TrustStore
from signing.pkcs11 import TokenError

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens


class KeyError_(DomainError):
    pass


class TokenUnavailable(KeyError_):
    """The agency's seal token cannot be used now (module, token, PIN, key): nothing was
    signed; the admin can fix it and the same action can be tried again."""


def _row(agency_id: int, user_id: int | None, holder: KeyHolder, credential: Credential,
         protected: bytes | None = None) -> SigningCertificate:
    cert = credential.certificate
    return SigningCertificate(agency_id=agency_id, user_id=user_id, holder=holder,
                              serial=str(cert.serial_number), subject=cert.subject.human_friendly,
                              not_after=cert.not_valid_after, protected_key=protected)


SEAL_HOLDERS = (KeyHolder.AGENCY_SEAL, KeyHolder.TOKEN)


def agency_seal(session: Session, agency_id: int) -> SigningCertificate | None:
    """The agency's newest seal certificate: server-held key or key in a token."""
    return session.scalars(select(SigningCertificate).where(
        SigningCertificate.agency_id == agency_id, SigningCertificate.user_id.is_(None),
        SigningCertificate.holder.in_(SEAL_HOLDERS), SigningCertificate.active)
        .order_by(SigningCertificate.id.desc())).first()


def ensure_agency_seal(session: Session, pki: Pki, ctx: AuditContext, agency: Agency
                       ) -> SigningCertificate:
    """The agency's seal certificate, issued on first need."""
    existing = agency_seal(session, agency.id)
    if existing is not None:
        return existing
    credential = pki.issue_seal(agency.code, agency.name)
    row = _row(agency.id, None, KeyHolder.AGENCY_SEAL, credential)
    session.add(row)
    session.flush()
    record(session, ctx, "keys:seal:issue", subject_type="certificate", subject_id=row.serial,
           agency_id=agency.id)
    return row


def seal_credential(session: Session, pki: Pki, agency_id: int,
                    tokens: SealTokens | None = None) -> Credential:
    """The key the agency seals with: in its PKCS#11 token when ``tokens`` has one for the
    agency, else the server-held key of its newest seal certificate."""
    code = None
    if tokens:
        code = session.get(Agency, agency_id).code
    if code is not None and tokens.config(code) is not None:
        try:
            return tokens.credential(code, pki.trust_store())
        except TokenError as exc:
            raise TokenUnavailable(f"Không dùng được token chứa con dấu số của cơ quan: {exc} "
                            "Chưa có gì thay đổi.") from exc
    row = agency_seal(session, agency_id)
    if row is None:
        raise KeyError_("Cơ quan chưa có chứng thư số của cơ quan (con dấu số).")
    if row.holder is KeyHolder.TOKEN:
        raise KeyError_("Con dấu số của cơ quan nằm trong token nhưng máy chủ chưa cấu hình token "
                        "đó (IOFFICE_SEAL_TOKENS); hãy báo quản trị hệ thống.")
    return pki.credential(int(row.serial))


def record_token_seal(session: Session, ctx: AuditContext, agency: Agency,
                      certificate: asn1_x509.Certificate) -> SigningCertificate:
    """Keep the certificate of a seal key made in a token (``pki token-provision``): the
    agency's seal from now on, for the exchange directory too."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(certificate.dump())
    row = SigningCertificate(agency_id=agency.id, user_id=None, holder=KeyHolder.TOKEN,
                             serial=str(cert.serial_number), subject=cert.subject.rfc4514_string(),
                             not_after=cert.not_valid_after_utc)
    session.add(row)
    session.flush()
    record(session, ctx, "keys:seal:issue", subject_type="certificate", subject_id=row.serial,
           agency_id=agency.id, details={"holder": "token"})
    return row


def personal_certificate(session: Session, user_id: int, agency_id: int,
                         holder: KeyHolder | None = None) -> SigningCertificate | None:
    stmt = select(SigningCertificate).where(
        SigningCertificate.user_id == user_id, SigningCertificate.agency_id == agency_id,
        SigningCertificate.active).order_by(SigningCertificate.id.desc())
    if holder is not None:
        stmt = stmt.where(SigningCertificate.holder == holder)
    return session.scalars(stmt).first()


def issue_pin_key(session: Session, pki: Pki, ctx: AuditContext, user: User, agency: Agency,
                  pin: str, key_type: str = "rsa") -> SigningCertificate:
    """A personal key kept on the server, encrypted under the person's PIN (remote signing)."""
    if not pin.isdigit() or not 6 <= len(pin) <= 12:
        raise KeyError_("Mã PIN phải gồm 6 đến 12 chữ số.")
    title = agencies.post_title(session, user, agency.id) or "Lãnh đạo"
    credential = pki.issue_personal(user.full_name, title, agency.code,
                                    agency.name, key_type=key_type, store_key=False)
    protected = PinProtectedKey.seal(credential, pin).to_bytes()
    row = _row(agency.id, user.id, KeyHolder.PIN, credential, protected)
    session.add(row)
    session.flush()
    record(session, ctx, "keys:personal:issue", subject_type="certificate", subject_id=row.serial,
           agency_id=agency.id, details={"holder": "pin", "user_id": user.id})
    return row


def issue_from_csr(session: Session, pki: Pki, ctx: AuditContext, user: User, agency: Agency,
                   csr_pem: bytes) -> SigningCertificate:
    """A certificate for a key made in the person's browser (it never leaves the browser)."""
    from cryptography import x509

    from signing import PkiError

    try:
        asn1_cert = pki.issue_from_csr(csr_pem, kind="personal", agency_id=agency.code,
                                       agency_name=agency.name, full_name=user.full_name,
                                       position=agencies.post_title(session, user, agency.id)
                                       or "Lãnh đạo")
    except (PkiError, ValueError) as exc:
        raise KeyError_(f"Yêu cầu cấp chứng thư không hợp lệ: {exc}") from exc
    cert = x509.load_der_x509_certificate(asn1_cert.dump())
    row = SigningCertificate(agency_id=agency.id, user_id=user.id, holder=KeyHolder.BROWSER,
                             serial=str(cert.serial_number), subject=cert.subject.rfc4514_string(),
                             not_after=cert.not_valid_after_utc)
    session.add(row)
    session.flush()
    record(session, ctx, "keys:personal:issue", subject_type="certificate", subject_id=row.serial,
           agency_id=agency.id, details={"holder": "browser", "user_id": user.id})
    return row


def certificate_chain(trust: TrustStore, certificate: asn1_x509.Certificate
                      ) -> tuple[asn1_x509.Certificate, ...]:
    """Issuing CA(s) then root of ``certificate`` (asn1crypto), found in the trust store."""
    pool = [*trust.intermediates, *trust.roots]
    chain = []
    current = certificate
    for _ in range(5):
        issuer = next((c for c in pool if c.subject == current.issuer), None)
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
        if issuer.subject == issuer.issuer:
            break
        current = issuer
    return tuple(chain)


def personal_certificates(session: Session, user_id: int, agency_id: int
                          ) -> dict[KeyHolder, SigningCertificate]:
    """The newest active certificate of each holder (PIN, browser, ...) of the user in the
    agency, in one statement (:func:`personal_certificate` for each holder at once)."""
    found: dict[KeyHolder, SigningCertificate] = {}
    for row in session.scalars(select(SigningCertificate).where(
            SigningCertificate.user_id == user_id, SigningCertificate.agency_id == agency_id,
            SigningCertificate.active).order_by(SigningCertificate.id.desc())):
        found.setdefault(row.holder, row)
    return found


def browser_certificate(session: Session, user_id: int, agency_id: int) -> SigningCertificate | None:
    return personal_certificate(session, user_id, agency_id, KeyHolder.BROWSER)


def unlock_pin_key(session: Session, ctx: AuditContext, row: SigningCertificate) -> None:
    """An officer clears the wrong-PIN counter of a locked key."""
    from ioffice.keys.stores import DbAttemptStore

    key = PinProtectedKey.from_bytes(row.protected_key or b"{}")
    DbAttemptStore(session).reset(key.key_id)
    record(session, ctx, "keys:personal:unlock", subject_type="certificate", subject_id=row.serial,
           agency_id=row.agency_id)


@dataclass(frozen=True)
class PinKeyState:
    certificate: SigningCertificate
    user: User
    failures: int
    max_attempts: int

    @property
    def locked(self) -> bool:
        return self.failures >= self.max_attempts


def pin_keys(session: Session, agency_id: int, user_id: int | None = None) -> list[PinKeyState]:
    """The agency's active PIN keys (or one person's) with their wrong-PIN counters."""
    from ioffice.keys.stores import DbAttemptStore

    stmt = (select(SigningCertificate, User).join(User, User.id == SigningCertificate.user_id)
            .where(SigningCertificate.agency_id == agency_id,
                   SigningCertificate.holder == KeyHolder.PIN, SigningCertificate.active)
            .order_by(User.full_name, SigningCertificate.id.desc()))
    if user_id is not None:
        stmt = stmt.where(SigningCertificate.user_id == user_id)
    attempts = DbAttemptStore(session)
    result = []
    for row, user in session.execute(stmt):
        key = PinProtectedKey.from_bytes(row.protected_key or b"{}")
        result.append(PinKeyState(row, user, attempts.failures(key.key_id), key.max_attempts))
    return result


def pin_key_in_agency(session: Session, agency_id: int, certificate_id: int) -> SigningCertificate:
    row = session.get(SigningCertificate, certificate_id)
    if row is None or row.agency_id != agency_id or row.holder is not KeyHolder.PIN:
        raise NotFound("Không tìm thấy khóa ký số.")
    return row


def replace_pin_key(session: Session, pki: Pki, ctx: AuditContext, user: User, agency: Agency,
                    pin: str, confirm: str) -> SigningCertificate:
    """A person sets up (or renews) their PIN-protected signing key; older PIN keys retire."""
    if pin != confirm:
        raise KeyError_("Hai lần nhập mã PIN không khớp nhau.")
    row = issue_pin_key(session, pki, ctx, user, agency, pin)
    for old in session.scalars(select(SigningCertificate).where(
            SigningCertificate.user_id == user.id, SigningCertificate.agency_id == agency.id,
            SigningCertificate.holder == KeyHolder.PIN, SigningCertificate.active,
            SigningCertificate.id != row.id)):
        old.active = False
    return row


REVOCATION_REASONS = {
    "key_compromise": "Lộ khóa bí mật",
    "affiliation_changed": "Thay đổi cơ quan, chức vụ",
    "superseded": "Đã thay bằng chứng thư mới",
    "cessation_of_operation": "Thôi sử dụng",
}
"""RFC 5280 reasons an admin may give (names of cryptography's ``ReasonFlags``)."""


def revoke_in_agency(session: Session, pki: Pki, ctx: AuditContext, agency_id: int,
                     certificate_id: int, reason: str) -> SigningCertificate | None:
    """The agency's admin revokes one of its active certificates (seal, PIN or browser key):
    see :func:`revoke_certificate`. Another agency's certificate looks like a missing one."""
    row = session.get(SigningCertificate, certificate_id)
    if row is None or row.agency_id != agency_id or not row.active:
        raise NotFound("Không tìm thấy chứng thư số (hoặc chứng thư đã bị thu hồi).")
    if reason not in REVOCATION_REASONS:
        raise KeyError_("Chọn lý do thu hồi trong danh sách.")
    return revoke_certificate(session, pki, ctx, int(row.serial), reason)


def revoke_certificate(session: Session, pki: Pki, ctx: AuditContext, serial: int,
                       reason: str = "key_compromise") -> SigningCertificate | None:
    """Revoke a certificate of the PKI: it stops being used here (its row, if it has one,
    retires) and the served CRL and OCSP say so at once (the PKI reissues its CRLs). An
    agency's seal is replaced by a new one at once (the agency keeps sealing); the new row is
    returned, None for other certificates.

    The revocation is written to the PKI before the caller commits: if the commit failed,
    the certificate would stay revoked (the safe side) without its audit event."""
    from signing import PkiError

    if reason not in REVOCATION_REASONS:
        raise KeyError_("Chọn lý do thu hồi trong danh sách.")
    try:
        pki.certificate(serial)
    except PkiError as exc:
        raise NotFound(f"Không có chứng thư số {serial:x} trong hạ tầng khóa công khai.") from exc
    row = session.scalars(select(SigningCertificate).where(
        SigningCertificate.serial == str(serial))).first()
    if row is not None:
        row.active = False
    record(session, ctx, "keys:certificate:revoke", subject_type="certificate",
           subject_id=str(serial), details={"reason": reason},
           agency_id=row.agency_id if row is not None else None)
    session.flush()
    pki.revoke(serial, reason)
    if row is None or row.holder is not KeyHolder.AGENCY_SEAL:
        return None
    agency = session.get(Agency, row.agency_id)
    return ensure_agency_seal(session, pki, ctx, agency)
