"""The axis operations: one business operation, one transaction each.

Handlers (``api.py``) authenticate, parse JSON and call these; the worker (``worker.py``) calls
:func:`send_edoc` for packages coming down from the upstream axis.  Errors are
:class:`HubError` with a stable English ``code`` and a Vietnamese message an integrator can act on.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509
from cryptography.x509 import verification
from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from axis_connector.edxml import (
    DocumentPackage,
    EdxmlError,
    ParseLimits,
    ReceivedPackage,
    StatusPackage,
    TraceHeader,
    organ_id_from_certificate,
    read_package,
)

from . import directory
from .callbacks import CallbackRefused, check_callback_url
from .db import upsert_insert, utcnow
from .directory import Directory, DirectoryCache, SystemEntry
from .models import (
    Agency,
    Delivery,
    DeliveryState,
    DirectoryEvent,
    Forward,
    Message,
    MessageType,
    Nonce,
    Notification,
    System,
    WorkState,
)

__all__ = [
    "OPERATOR",
    "AgencyInput",
    "Caller",
    "HubError",
    "HubSettings",
    "Operator",
    "SendResult",
    "StatusInput",
    "add_system",
    "agency_list",
    "check_nonce",
    "directory_log",
    "get_edoc",
    "get_edocs",
    "move_agency",
    "received_list",
    "record_refusal",
    "register_agency",
    "remove_agency",
    "send_edoc",
    "sent_list",
    "set_callback",
    "update_status",
    "update_statuses",
]


class HubError(Exception):
    """A refused operation: ``code`` (stable, English), ``message`` (Vietnamese), HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400, *, path: str = "",
                 details: dict[str, object] | None = None) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
        self.status = status
        self.path = path
        self.details = details or {}

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.path:
            body["path"] = self.path
        body.update(self.details)
        return body


class Caller(Protocol):
    """The connected system making a request (:class:`SystemEntry` from the directory cache,
    or a :class:`System` row)."""

    @property
    def id(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True)
class HubSettings:
    """What the service layer needs from the configuration."""

    organ_id: str
    """This hub's identifier in the TraceHeaders it appends."""
    name: str = ""
    max_package_bytes: int = 32 * 1024 * 1024
    trusted_cas: tuple[x509.Certificate, ...] = ()
    """Seal certificates must chain to one of these; empty: only certificates in the directory."""
    has_upstream: bool = False
    served_patterns: tuple[str, ...] = ()
    """Agencies this hub is responsible for (``*.H12``): unknown ones are refused, not forwarded."""
    auth_window: int = 300
    allow_private_callbacks: bool = False
    """Accept callback URLs resolving to loopback/private/link-local addresses
    (``AXIS_ALLOW_PRIVATE_CALLBACKS``: a federation on one machine or one private network)."""
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    directory: DirectoryCache = field(default_factory=DirectoryCache, compare=False, repr=False)
    """Systems and agencies, cached per process and checked against their version per request."""

    @property
    def limits(self) -> ParseLimits:
        # libxml2 caps one text node at 10 MB unless huge_tree: lift it only when packages may be that big.
        return ParseLimits(max_bytes=self.max_package_bytes,
                           allow_huge_text=self.max_package_bytes > 7 * 1024 * 1024)

    def serves(self, organ_id: str) -> bool:
        return any(fnmatch.fnmatchcase(organ_id, p) for p in self.served_patterns)


@dataclass(frozen=True)
class SendResult:
    message_id: str
    duplicate: bool
    notify: tuple[int, ...] = ()
    """Notification rows to push after commit."""
    forward: bool = False
    """A forward upstream was queued (sent after commit)."""


# --- authentication ------------------------------------------------------------------------------

NONCE_PURGE_SECONDS = 30.0
_last_purge = 0.0


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(session: Session, name: str, build: Callable[[Any], Any]) -> Any:
    """One statement object per name and dialect (``build`` gets the dialect's ``insert``
    construct), executed with parameters: SQLAlchemy computes a statement's cache key once per
    object, where a new ``insert(...).values(...)`` per call cost it every time (with the
    package among the values: ~0.3 ms per package, measured in the hub)."""
    dialect = session.get_bind().dialect.name
    statement = _STATEMENTS.get((name, dialect))
    if statement is None:
        statement = _STATEMENTS[(name, dialect)] = build(upsert_insert(session))
    return statement


def _purge_nonces(session: Session, now: dt.datetime) -> None:
    """Delete expired nonces, at most every ``NONCE_PURGE_SECONDS`` per process: on every
    request this was one more statement per call, and concurrent requests queued on each
    other's row locks deleting the same expired rows. Keeping a row a little longer never
    weakens replay protection (the timestamp window refuses old requests anyway)."""
    global _last_purge
    clock = time.monotonic()
    if clock - _last_purge < NONCE_PURGE_SECONDS:
        return
    _last_purge = clock
    session.execute(delete(Nonce).where(Nonce.expires_at < now))


def check_nonce(session: Session, settings: HubSettings, system_id: str, nonce: str, timestamp: int) -> None:
    """Refuse a stale timestamp or a nonce already seen; record the nonce (caller commits)."""
    now = settings.clock()
    if abs(now.timestamp() - timestamp) > settings.auth_window:
        raise HubError("stale_request", "thời điểm ký yêu cầu lệch quá "
                       f"{settings.auth_window} giây so với đồng hồ của trục", 401)
    if not nonce or len(nonce) > 128:
        raise HubError("invalid_nonce", "thiếu X-Axis-Nonce hoặc dài quá 128 ký tự", 401)
    _purge_nonces(session, now)
    expires = dt.datetime.fromtimestamp(timestamp, dt.UTC) + dt.timedelta(seconds=settings.auth_window)
    try:
        session.execute(_statement(session, "nonce", lambda _: Nonce.__table__.insert()),
                        {"system_id": system_id, "nonce": nonce, "expires_at": max(expires, now)})
    except IntegrityError:
        raise HubError("replayed_request", "yêu cầu đã được gửi trước đó (nonce dùng lại)", 401) from None


# --- directory -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgencyInput:
    organ_id: str
    name: str
    parent_id: str | None = None
    level: str = ""
    email: str = ""
    telephone: str = ""
    address: str = ""
    certificate_pem: str | None = None
    system_id: str | None = None
    """Admin systems may register an agency for another system; default: the caller."""


def _check_certificate(settings: HubSettings, pem: str, organ_id: str) -> None:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise HubError("certificate_invalid", f"chứng thư số không đọc được: {exc}") from None
    holder = organ_id_from_certificate(cert)
    if holder != organ_id:
        raise HubError("certificate_mismatch", f"chứng thư số cấp cho {holder!r}, không phải {organ_id!r} "
                       "(mã định danh nằm ở thuộc tính UID của chủ thể)")
    if settings.trusted_cas:
        ca_policy = verification.ExtensionPolicy.permit_all().require_present(
            x509.BasicConstraints, verification.Criticality.AGNOSTIC, None)
        verifier = (verification.PolicyBuilder()
                    .store(verification.Store(list(settings.trusted_cas)))
                    .extension_policies(ee_policy=verification.ExtensionPolicy.permit_all(),
                                        ca_policy=ca_policy)
                    .build_client_verifier())
        try:
            verifier.verify(cert, [])
        except verification.VerificationError as exc:
            raise HubError("untrusted_certificate",
                           f"chứng thư số của {organ_id} không do CA được trục tin cậy cấp: {exc}") from None


@dataclass(frozen=True)
class Operator:
    """The hub operator acting through a hub command (or a deployment's setup code): not a
    connected system, so no grant applies; the only one who moves or removes a code."""

    name: str = "operator"

    @property
    def id(self) -> str:
        return self.name

    @property
    def is_admin(self) -> bool:
        return True


OPERATOR = Operator()

GUARD_CODES = frozenset({"agency_not_granted", "agency_served_by_pattern", "agency_taken",
                         "move_requires_operator", "forbidden"})
"""The refusals of :func:`register_agency` that :func:`record_refusal` logs."""


def _event(session: Session, actor: Caller, action: str, *, organ_id: str | None = None,
           system_id: str | None = None, old: str | None = None, new: str | None = None,
           detail: str = "") -> None:
    session.add(DirectoryEvent(at=utcnow(), actor=actor.id, action=action, organ_id=organ_id,
                               system_id=system_id, old_system_id=old, new_system_id=new,
                               detail=detail[:1000]))


def _check_claim(known: Directory, caller: Caller, owner_id: str, organ_id: str,
                 agency: Agency | None) -> None:
    """The directory guard of ``registerAgency`` for a connected system (not the operator)."""
    if agency is not None and agency.system_id != owner_id:
        if caller.is_admin:
            raise HubError("move_requires_operator",
                           f"cơ quan {organ_id} đã đăng ký cho hệ thống {agency.system_id}; chỉ người "
                           "quản trị trục chuyển được (lệnh move-agency)", 409)
        raise HubError("agency_taken", f"cơ quan {organ_id} đã đăng ký cho hệ thống khác", 409)
    if agency is not None:
        return  # its own registration: an update (name, contact, certificate)
    others = [s.id for s in known.pattern_systems(organ_id) if s.id != owner_id]
    if others:
        raise HubError("agency_served_by_pattern",
                       f"cơ quan {organ_id} do hệ thống {others[0]} phục vụ (theo mẫu mã); "
                       "không hệ thống nào khác đăng ký được mã này", 409)
    owner = known.systems.get(owner_id)
    if owner is None or not owner.may_register(organ_id):
        raise HubError("agency_not_granted",
                       f"hệ thống {owner_id} không được cấp quyền đăng ký mã {organ_id} (người quản "
                       "trị trục cấp bằng add-system --may-register)", 403)


def register_agency(session: Session, settings: HubSettings, caller: Caller, data: AgencyInput) -> Agency:
    """Register (or update) an agency. A connected system registers only a code under its
    grants that no other system serves (registered or by pattern); the operator
    (:data:`OPERATOR`) registers any free code for any system. Neither moves a code to another
    system here: that is :func:`move_agency`. Every change is logged (``axis_directory_events``)."""
    operator = isinstance(caller, Operator)
    owner_id = data.system_id or caller.id
    if operator and not data.system_id:
        raise HubError("invalid_request", "người quản trị phải chỉ rõ hệ thống nhận (--system)")
    if owner_id != caller.id and not caller.is_admin:
        raise HubError("forbidden", "chỉ hệ thống quản trị mới đăng ký cơ quan cho hệ thống khác", 403)
    if session.get(System, owner_id) is None:
        raise HubError("unknown_system", f"hệ thống {owner_id!r} chưa kết nối với trục", 404)
    if not data.organ_id or len(data.organ_id) > 35 or any(c.isspace() for c in data.organ_id):
        raise HubError("invalid_organ_id", f"mã định danh {data.organ_id!r} không hợp lệ (1-35 ký tự, "
                       "không có khoảng trắng)")
    if not data.name.strip():
        raise HubError("missing_value", "thiếu tên cơ quan")
    agency = session.get(Agency, data.organ_id)
    if operator:
        if agency is not None and agency.system_id != owner_id:
            raise HubError("agency_taken", f"cơ quan {data.organ_id} đã đăng ký cho hệ thống "
                           f"{agency.system_id}; chuyển bằng lệnh move-agency", 409)
    else:
        _check_claim(settings.directory.get(session), caller, owner_id, data.organ_id, agency)
    if data.certificate_pem:
        _check_certificate(settings, data.certificate_pem, data.organ_id)
    changed = []
    if agency is None:
        agency = Agency(organ_id=data.organ_id, system_id=owner_id, name=data.name)
        session.add(agency)
        action = "register"
    else:
        action = "update"
        if agency.name != data.name.strip():
            changed.append("tên")
        if data.certificate_pem and agency.certificate_pem != data.certificate_pem:
            changed.append("chứng thư số")
    agency.system_id = owner_id
    agency.name = data.name.strip()
    agency.parent_id = data.parent_id or None
    agency.level = data.level
    agency.email, agency.telephone, agency.address = data.email, data.telephone, data.address
    if data.certificate_pem:
        agency.certificate_pem = data.certificate_pem
    _event(session, caller, action, organ_id=data.organ_id, new=owner_id,
           detail=agency.name if action == "register" else "đổi " + ", ".join(changed or ["thông tin"]))
    session.flush()
    directory.bump(session)
    return agency


def record_refusal(session: Session, caller: Caller, data: AgencyInput, error: HubError) -> None:
    """Log a refused ``registerAgency`` (in its own transaction: the refused one rolled back)."""
    _event(session, caller, "refused", organ_id=data.organ_id[:35],
           new=(data.system_id or caller.id)[:64], detail=f"{error.code}: {error.message}")


def move_agency(session: Session, organ_id: str, system_id: str, *, reason: str = "",
                actor: Caller = OPERATOR) -> Agency:
    """The operator moves a registered code to another system (logged)."""
    agency = session.get(Agency, organ_id)
    if agency is None:
        raise HubError("unknown_agency", f"cơ quan {organ_id} chưa đăng ký trên trục", 404)
    if session.get(System, system_id) is None:
        raise HubError("unknown_system", f"hệ thống {system_id!r} chưa kết nối với trục", 404)
    old = agency.system_id
    if old == system_id:
        return agency
    agency.system_id = system_id
    _event(session, actor, "move", organ_id=organ_id, old=old, new=system_id, detail=reason)
    session.flush()
    directory.bump(session)
    return agency


def remove_agency(session: Session, organ_id: str, *, reason: str = "",
                  actor: Caller = OPERATOR) -> None:
    """The operator removes a code from the directory (logged). Packages already stored for it
    stay; new ones to it are routed as for any unregistered code."""
    agency = session.get(Agency, organ_id)
    if agency is None:
        raise HubError("unknown_agency", f"cơ quan {organ_id} chưa đăng ký trên trục", 404)
    _event(session, actor, "remove", organ_id=organ_id, old=agency.system_id, detail=reason)
    session.delete(agency)
    session.flush()
    directory.bump(session)


def directory_log(session: Session, *, organ_id: str | None = None, limit: int = 100) -> list[DirectoryEvent]:
    """The latest directory events, newest first (one code's, or all)."""
    query = select(DirectoryEvent).order_by(DirectoryEvent.id.desc()).limit(limit)
    if organ_id:
        query = query.where(DirectoryEvent.organ_id == organ_id)
    return list(session.scalars(query))


def agency_list(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.organ_id)))


def add_system(session: Session, system_id: str, name: str, secret: str, *, is_admin: bool = False,
               organ_patterns: str = "", callback_url: str | None = None,
               register_patterns: str = "", base_url: str | None = None,
               actor: Caller = OPERATOR) -> System:
    """Connect a system (CLI, deployments' setup and tests; not an HTTP operation). Updates it if
    it exists. ``register_patterns``: the codes it may register; ``base_url``: its own address
    (callbacks only under it). A change of patterns, grants, admin flag or base URL is logged."""
    if len(secret) < 16:
        raise HubError("weak_secret", "khóa bí mật phải dài ít nhất 16 ký tự")
    system = session.get(System, system_id)
    before = None if system is None else (system.organ_patterns, system.register_patterns,
                                          system.is_admin, system.base_url)
    system = system or System(id=system_id)
    system.name, system.secret, system.is_admin = name, secret, is_admin
    system.organ_patterns, system.callback_url = organ_patterns, callback_url
    system.register_patterns, system.base_url = register_patterns, base_url or None
    after = (organ_patterns, register_patterns, is_admin, base_url or None)
    if before != after:
        _event(session, actor, "grant", system_id=system_id,
               detail=f"patterns={organ_patterns!r} may_register={register_patterns!r} "
                      f"admin={is_admin} base_url={base_url or ''!r}")
    session.add(system)
    session.flush()
    directory.bump(session)
    return system


def set_callback(session: Session, settings: HubSettings, caller: Caller, url: str | None) -> str | None:
    """Set (or with None clear) the caller's push URL; returns what is stored. Only a URL under
    the system's own base URL, on public addresses unless the operator allows private ones
    (``callbacks.py``)."""
    system = session.get(System, caller.id)
    if system is None:
        raise HubError("unknown_system", f"hệ thống {caller.id!r} chưa kết nối với trục", 404)
    if url:
        try:
            check_callback_url(url, system.base_url, allow_private=settings.allow_private_callbacks)
        except CallbackRefused as exc:
            raise HubError(exc.code, exc.message, 400) from None
    system.callback_url = url or None
    session.flush()
    directory.bump(session)
    return system.callback_url


# --- sendEdoc ------------------------------------------------------------------------------------

def _parse(settings: HubSettings, data: bytes, messagetype: MessageType) -> ReceivedPackage:
    if len(data) > settings.max_package_bytes:
        raise HubError("too_large", f"gói tin {len(data)} byte, vượt giới hạn {settings.max_package_bytes} "
                       "byte của trục", 413)
    try:
        received = read_package(data, limits=settings.limits)
    except EdxmlError as exc:
        raise HubError(exc.code, exc.detail, 413 if exc.code == "too_large" else 400, path=exc.path) from None
    is_status = isinstance(received.package, StatusPackage)
    if is_status != (messagetype is MessageType.STATUS):
        raise HubError("wrong_message_type", f"messagetype là {messagetype.value!r} nhưng gói tin là "
                       f"{'status' if is_status else 'edoc'}")
    return received


def _trust(directory_: Directory, settings: HubSettings, received: ReceivedPackage, sender_id: str) -> None:
    """The signature must be the sender agency's: chained to a trusted CA and, when the directory
    holds a certificate for it, exactly that certificate."""
    agency = directory_.agencies.get(sender_id)
    registered = agency.certificate if agency is not None else None

    def directory_check(signer: x509.Certificate, _others: Sequence[x509.Certificate]) -> None:
        if registered is None:
            raise ValueError(f"trục không có chứng thư số nào được tin cậy cho {sender_id}")
        if signer != registered:
            raise ValueError(f"không phải chứng thư số đã đăng ký cho {sender_id}")

    try:
        if settings.trusted_cas:
            result = received.verify(list(settings.trusted_cas))
            if registered is not None and result.signer_certificate != registered:
                raise HubError("untrusted_certificate",
                               f"gói tin không được ký bằng chứng thư số đã đăng ký cho {sender_id}")
        else:
            received.verify(trust_callback=directory_check)
    except EdxmlError as exc:
        raise HubError(exc.code, exc.detail, path=exc.path) from None


def _package_recipients(package: DocumentPackage | StatusPackage) -> list[str]:
    if isinstance(package, StatusPackage) and not package.recipients:
        return [package.response_for.organ_id]  # a status goes back to the document's sender
    return list(dict.fromkeys(o.organ_id for o in package.recipients))


def _document_id(package: DocumentPackage | StatusPackage) -> str:
    """The document a package is about: its own, or for a status the one it answers."""
    return package.response_for.document_id if isinstance(package, StatusPackage) else package.document_id


def _dedupe_key(sender: str, document_id: str, messagetype: MessageType, sha256: str,
                recipients: Iterable[str]) -> str:
    parts = [sender, document_id, messagetype.value, sha256, ",".join(sorted(recipients))]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _route(directory_: Directory, settings: HubSettings, recipients: Sequence[str], from_upstream: bool,
           ) -> list[tuple[str, SystemEntry | None]]:
    """Each recipient with the local system that serves it, or None for the upstream axis."""
    routes: list[tuple[str, SystemEntry | None]] = []
    unknown: list[str] = []
    for organ_id in recipients:
        system = directory_.system_serving(organ_id)
        if system is None and (from_upstream or not settings.has_upstream or settings.serves(organ_id)):
            unknown.append(organ_id)
        routes.append((organ_id, system))
    if unknown:
        raise HubError("unknown_recipient", f"cơ quan nhận chưa đăng ký trên trục: {', '.join(unknown)}",
                       404, details={"recipients": unknown})
    return routes


_STATUS_TARGET = (select(Delivery.id).join(Message)
                  .where(Message.document_id == bindparam("document_id"),
                         Message.messagetype == MessageType.EDOC,
                         Delivery.recipient_organ_id == bindparam("organ_id"))
                  .limit(1))


def _check_status_target(session: Session, package: StatusPackage) -> None:
    """A status is accepted only about a document this hub routed to the agency sending the status."""
    document_id = package.response_for.document_id
    found = session.scalar(_STATUS_TARGET, {"document_id": document_id,
                                            "organ_id": package.sender.organ_id})
    if found is None:
        raise HubError("document_not_received",
                       f"{package.sender.organ_id} chưa từng nhận văn bản {document_id} qua trục, "
                       "không thể gửi trạng thái cho văn bản này", 409)


def send_edoc(
    session: Session,
    settings: HubSettings,
    caller: Caller | None,
    data: bytes,
    messagetype: MessageType,
    to: Sequence[str] | None = None,
) -> SendResult:
    """Validate, store durably (bytes and metadata in one transaction) and route one package.

    ``caller`` is None for a package that came down from the upstream axis (the pull worker).
    ``to`` restricts delivery to some of the package's recipients (used between hubs).
    """
    received = _parse(settings, data, messagetype)
    package = received.package
    sender_id = package.sender.organ_id
    known = settings.directory.get(session)
    if caller is not None:
        serving = known.system_serving(sender_id)
        if serving is None:
            raise HubError("unknown_sender", f"cơ quan gửi {sender_id} chưa đăng ký trên trục", 404,
                           path="/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From/OrganId")
        if serving.id != caller.id:
            raise HubError("agency_not_yours",
                           f"hệ thống {caller.id} không được gửi thay cơ quan {sender_id}",
                           403)
    in_package = _package_recipients(package)
    recipients = list(dict.fromkeys(to)) if to else in_package
    strangers = [r for r in recipients if r not in in_package]
    if strangers or not recipients:
        raise HubError("recipient_not_in_package",
                       f"nơi nhận không có trong gói tin: {', '.join(strangers) or '(trống)'}")
    received_sha = hashlib.sha256(data).hexdigest()
    key = _dedupe_key(sender_id, _document_id(package), messagetype, received_sha, recipients)
    if any(t.organ_id == settings.organ_id for t in package.trace):
        raise HubError("routing_loop",
                       f"gói tin đã đi qua trục {settings.organ_id} (vòng lặp định tuyến)", 508)
    _trust(known, settings, received, sender_id)
    routes = _route(known, settings, recipients, from_upstream=caller is None)
    if isinstance(package, StatusPackage):
        _check_status_target(session, package)
    return _store(session, settings, caller, received, messagetype, key, received_sha, routes)


def _store(session: Session, settings: HubSettings, caller: Caller | None,
           received: ReceivedPackage, messagetype: MessageType, key: str,
           received_sha: str, routes: list[tuple[str, SystemEntry | None]]) -> SendResult:
    now = settings.clock()
    stored = received.with_trace_header(TraceHeader(settings.organ_id, now))
    package = received.package
    is_status = isinstance(package, StatusPackage)
    message_id = str(uuid.uuid4())
    table = Message.__table__
    # The dedupe key's unique index decides, in one statement: a resend of the same package
    # (or the same package stored a moment ago by another process) answers with the first id.
    inserted = session.scalar(_statement(session, "message", lambda insert_: insert_(table)
                                         .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
                                         .returning(table.c.id)), {
        "id": message_id,
        "dedupe_key": key,
        "sender_system_id": caller.id if caller else None,
        "sender_organ_id": package.sender.organ_id,
        "document_id": _document_id(package),
        "messagetype": messagetype,
        "status_code": package.status.value if is_status else None,
        "response_for_document_id": package.response_for.document_id if is_status else None,
        "received_sha256": received_sha,
        "content_sha256": hashlib.sha256(stored).hexdigest(),
        "content_length": len(stored),
        "package": stored,
        "created_at": now,
    })
    if inserted is None:
        existing = session.scalar(select(Message.id).where(Message.dedupe_key == key))
        return SendResult(existing, duplicate=True)
    session.execute(_statement(session, "delivery", lambda _: Delivery.__table__.insert()), [
        {"message_id": message_id, "recipient_organ_id": organ_id, "system_id": system.id if system else None,
         "state": DeliveryState.PENDING if system else DeliveryState.FORWARDING, "reason": "",
         "updated_at": now}
        for organ_id, system in routes])
    upstream = [organ_id for organ_id, system in routes if system is None]
    if upstream:
        session.execute(insert(Forward).values(message_id=message_id, recipients=",".join(upstream),
                                               state=WorkState.PENDING, next_attempt_at=now))
    pushed = {system.id for _, system in routes if system is not None and system.callback_url}
    notify: tuple[int, ...] = ()
    if pushed:
        notify = tuple(session.scalars(insert(Notification).returning(Notification.id), [
            {"system_id": system_id, "message_id": message_id, "state": WorkState.PENDING,
             "next_attempt_at": now} for system_id in sorted(pushed)]))
    return SendResult(message_id, duplicate=False, notify=notify, forward=bool(upstream))


# --- receiving -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedItem:
    message: Any
    """The message's summary columns (``id``, ``sender_organ_id``, ``document_id``,
    ``messagetype``, ``status_code``, ``created_at``, ``content_length``, ``content_sha256``),
    as attributes."""
    to: tuple[str, ...]


_SUMMARY = (Message.id, Message.sender_organ_id, Message.document_id, Message.messagetype,
            Message.status_code, Message.created_at, Message.content_length, Message.content_sha256)


def received_list(session: Session, caller: Caller, messagetype: MessageType | None = None,
                  limit: int = 100) -> list[ReceivedItem]:
    """Packages waiting for the caller's agencies, oldest first, until acknowledged.

    The database picks the ``limit`` oldest messages and returns their summaries as rows:
    every worker of every connected system polls this, and loading every pending delivery
    (and its message) as objects made each poll cost as much as the backlog."""
    pending = [Delivery.system_id == caller.id, Delivery.state == DeliveryState.PENDING]
    if messagetype is not None:
        pending.append(Message.messagetype == messagetype)
    oldest = (select(Message.id).join(Delivery, Delivery.message_id == Message.id).where(*pending)
              .group_by(Message.id, Message.created_at).order_by(Message.created_at, Message.id)
              .limit(limit))
    rows = session.execute(
        select(*_SUMMARY, Delivery.recipient_organ_id)
        .join(Delivery, Delivery.message_id == Message.id)
        .where(*pending, Message.id.in_(oldest.scalar_subquery()))
        .order_by(Message.created_at, Message.id, Delivery.id))
    grouped: dict[str, tuple[Any, list[str]]] = {}
    for row in rows:
        grouped.setdefault(row.id, (row, []))[1].append(row.recipient_organ_id)
    return [ReceivedItem(row, tuple(to)) for row, to in grouped.values()]


def _not_found(caller: Caller, message_id: str) -> HubError:
    return HubError("not_found", f"không có gói tin {message_id} dành cho hệ thống {caller.id}", 404)


def get_edocs(session: Session, caller: Caller, message_ids: Sequence[str]) -> list[Message | HubError]:
    """The packages asked for, in order, bytes included, in one query: each the message or the
    ``not_found`` error (unknown, or neither sent by nor addressed to the caller)."""
    for_caller = select(Delivery.id).where(Delivery.message_id == Message.id,
                                           Delivery.system_id == caller.id).exists()
    found = {m.id: m for m in session.scalars(
        select(Message).where(Message.id.in_(list(dict.fromkeys(message_ids))),
                              or_(Message.sender_system_id == caller.id, for_caller)))}
    load_packages(session, list(found.values()))
    return [found.get(i) or _not_found(caller, i) for i in message_ids]


_PACKAGES_SQL = f"SELECT id, package FROM {Message.__tablename__} WHERE id = ANY(%s)"


def load_packages(session: Session, messages: Sequence[Message]) -> None:
    """Fill in the (deferred) package bytes of ``messages`` with one query.

    On PostgreSQL (psycopg) the bytes are read in binary format: in text format the server
    writes ``bytea`` as hex, twice its size, and the client decodes it back (~0.5 ms of CPU
    for a 300 KB package, measured), for every package a recipient fetches."""
    missing = [m for m in messages if "package" not in m.__dict__]
    if not missing:
        return
    ids = [m.id for m in missing]
    conn = session.connection()
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # the session's own connection, so its transaction
        with conn.connection.driver_connection.cursor(binary=True) as cursor:
            cursor.execute(_PACKAGES_SQL, [ids])
            packages = {row[0]: bytes(row[1]) for row in cursor.fetchall()}
    else:
        packages = {row.id: row.package for row in session.execute(
            select(Message.id, Message.package).where(Message.id.in_(ids)))}
    for message in missing:
        set_committed_value(message, "package", packages[message.id])


def get_edoc(session: Session, caller: Caller, message_id: str) -> Message:
    result = get_edocs(session, caller, [message_id])[0]
    if isinstance(result, HubError):
        raise result
    return result


@dataclass(frozen=True)
class StatusInput:
    message_id: str
    status: str
    reason: str = ""
    organ_ids: tuple[str, ...] | None = None


_STATES = {"delivered": DeliveryState.DELIVERED, "failed": DeliveryState.FAILED}


def _check_status_input(item: StatusInput) -> DeliveryState:
    state = _STATES.get(item.status)
    if state is None:
        raise HubError("invalid_status", f"trạng thái {item.status!r} không hợp lệ (delivered|failed)")
    if state is DeliveryState.FAILED and not item.reason.strip():
        raise HubError("missing_value", "cần nêu lý do khi báo không nhận được gói tin (failed)")
    return state


def update_statuses(session: Session, settings: HubSettings, caller: Caller, items: Sequence[StatusInput],
                    ) -> list[list[Delivery] | HubError]:
    """Acknowledge (delivered) or refuse (failed) the caller's deliveries of several messages:
    in order, each item's deliveries after the change, or its error (that item changed nothing).

    Idempotent: a delivery already acknowledged keeps its first final state. One UPDATE per
    distinct (state, reason, recipients) and one SELECT, whatever the number of messages.
    """
    results: list[list[Delivery] | HubError | None] = []
    groups: dict[tuple[DeliveryState, str, tuple[str, ...] | None], list[str]] = {}
    for item in items:
        try:
            state = _check_status_input(item)
        except HubError as exc:
            results.append(exc)
            continue
        results.append(None)
        organs = tuple(item.organ_ids) if item.organ_ids else None
        groups.setdefault((state, item.reason[:1000], organs), []).append(item.message_id)
    now = settings.clock()
    for (state, reason, organs), ids in groups.items():
        where = [Delivery.message_id.in_(ids), Delivery.system_id == caller.id,
                 Delivery.state == DeliveryState.PENDING]
        if organs:
            where.append(Delivery.recipient_organ_id.in_(organs))
        session.execute(update(Delivery).where(*where).values(state=state, reason=reason, updated_at=now)
                        .execution_options(synchronize_session=False))
    asked = [i.message_id for i, r in zip(items, results, strict=True) if r is None]
    by_message: dict[str, list[Delivery]] = {}
    if asked:
        for delivery in session.scalars(
                select(Delivery).where(Delivery.message_id.in_(list(dict.fromkeys(asked))),
                                       Delivery.system_id == caller.id)
                .order_by(Delivery.id).execution_options(populate_existing=True)):
            by_message.setdefault(delivery.message_id, []).append(delivery)
    out: list[list[Delivery] | HubError] = []
    for item, result in zip(items, results, strict=True):
        if result is not None:
            out.append(result)
            continue
        deliveries = [d for d in by_message.get(item.message_id, [])
                      if not item.organ_ids or d.recipient_organ_id in item.organ_ids]
        out.append(deliveries or _not_found(caller, item.message_id))
    return out


def update_status(session: Session, settings: HubSettings, caller: Caller, message_id: str, status: str,
                  reason: str = "", organ_ids: Sequence[str] | None = None) -> list[Delivery]:
    """Acknowledge (delivered) or refuse (failed) the caller's deliveries of a message.

    Idempotent: a delivery already acknowledged keeps its first final state.
    """
    result = update_statuses(session, settings, caller, [StatusInput(
        message_id, status, reason, tuple(organ_ids) if organ_ids else None)])[0]
    if isinstance(result, HubError):
        raise result
    return result


def sent_list(session: Session, caller: Caller, *, since: dt.datetime | None = None,
              document_id: str | None = None, limit: int = 100) -> list[Message]:
    query = (select(Message).where(Message.sender_system_id == caller.id)
             .options(selectinload(Message.deliveries)).order_by(Message.created_at, Message.id).limit(limit))
    if since is not None:
        query = query.where(Message.created_at > since)
    if document_id is not None:
        query = query.where(Message.document_id == document_id)
    return list(session.scalars(query))
