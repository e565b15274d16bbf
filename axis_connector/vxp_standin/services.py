"""What the stand-in does for each operation, one transaction each (the caller commits).

Functions take ``session``, the :class:`Settings`, the checked :class:`~.wire.Caller` and the
operation's parameters; they raise :class:`~.errors.VxpError` on a refusal.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from axis_connector.edxml import STATUS_DESCRIPTIONS, VIETNAM_TZ, EdxmlError, StatusCode
from axis_connector.edxml.safe_xml import ParseLimits, document_bytes, parse_xml
from axis_connector.hub.db import upsert_insert, utcnow

from .errors import VxpError
from .models import Agency, Delivery, Document
from .wire import Caller

__all__ = ["MESSAGE_TYPES", "AgencyConfig", "Settings", "acknowledge", "agencies_list",
           "agencies_list_qd20", "count_received", "delete_agency", "delivered_package",
           "delivery_for", "received_list", "register_agency", "seed_directory", "send_edoc",
           "sent_list", "synchronize_unit"]

MESSAGE_TYPES = ("edoc", "status")
SERVICE_TYPE = "eDoc"
MAX_CODE_LENGTH = 35


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """An agency the configuration puts behind a system (seeded into the directory)."""

    code: str
    system_id: str
    name: str = ""
    pcode: str = ""
    mail: str = ""
    old_code: str = ""
    """Its code before Decision 20 (``oldCode``, ``code102``)."""
    level: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """The stand-in's behaviour, read once from the app config."""

    secrets: Mapping[str, str]
    """Known systems: ``{system_id: secret}``."""
    agencies: tuple[AgencyConfig, ...]
    max_skew: dt.timedelta
    utc_offset: dt.timedelta
    """The zone the ``XroadVnpt-timestamp`` wall time is read in."""
    max_body_bytes: int
    add_trace_header: bool
    """Add a ``TraceHeader`` (Timestamp, no OrganId) to document packages when delivering them,
    as the real axis does."""


# ---------------------------------------------------------------- directory


def seed_directory(session: Session, agencies: Sequence[AgencyConfig]) -> None:
    """Add the configured agencies that are not in the directory yet (an agency deleted or
    registered since keeps its row: the directory is the database's from then on)."""
    insert = upsert_insert(session)
    now = utcnow()
    for a in agencies:
        session.execute(insert(Agency).values(
            code=a.code, system_id=a.system_id, name=_nfc(a.name or a.code), pcode=a.pcode, mail=a.mail,
            mobile="", fax="", old_code=a.old_code, level=a.level, version=1, deleted=False,
            modified_at=now).on_conflict_do_nothing(index_elements=["code"]))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _agency(session: Session, code: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.code == code)).one_or_none()


def _caller_codes(session: Session, caller: Caller) -> list[str]:
    return list(session.scalars(select(Agency.code).where(
        Agency.system_id == caller.system_id, Agency.deleted.is_(False))))


def _ids_by_code(session: Session) -> dict[str, int]:
    return {code: id_ for code, id_ in session.execute(select(Agency.code, Agency.id))}


def agencies_list(session: Session) -> list[dict[str, Any]]:
    ids = _ids_by_code(session)
    return [{"id": a.id, "pid": ids.get(a.pcode), "code": a.code, "name": a.name, "mail": a.mail,
             "oldCode": a.old_code} for a in _live_agencies(session)]


def agencies_list_qd20(session: Session, level: str) -> list[dict[str, Any]]:
    """``level``, when given, keeps the agencies configured or registered at that level."""
    return [{"id": a.id, "code": a.code, "name": a.name, "mail": a.mail, "code102": a.old_code}
            for a in _live_agencies(session) if not level or a.level == level]


def synchronize_unit(session: Session) -> list[dict[str, Any]]:
    ids = _ids_by_code(session)
    return [{"id": a.id, "pid": ids.get(a.pcode), "code": a.code, "name": a.name, "mail": a.mail,
             "version": a.version, "centerCode": a.system_id, "deleted": a.deleted,
             "modifyDate": _time(a.modified_at), "isAgency": True}
            for a in session.scalars(select(Agency).order_by(Agency.code))]


def _live_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).where(Agency.deleted.is_(False)).order_by(Agency.code)).all()


def _field(payload: Mapping[str, Any], key: str, *, required: bool = False, max_length: int = 255) -> str:
    value = payload.get(key)
    if value is None:
        value = ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise VxpError("BAD_PARAMETER", f"trường {key!r} phải là chuỗi")
    text = _nfc(str(value).strip())
    if required and not text:
        raise VxpError("BAD_PARAMETER", f"thiếu trường {key!r}")
    if len(text) > max_length:
        raise VxpError("BAD_PARAMETER", f"trường {key!r} dài quá {max_length} ký tự")
    return text


def register_agency(session: Session, caller: Caller, payload: Mapping[str, Any]) -> Agency:
    """Put an agency behind the calling system (again, if it was deleted); an agency of another
    system is refused. ``id`` of the payload is ignored: the directory numbers its entries."""
    code = _field(payload, "code", required=True, max_length=MAX_CODE_LENGTH)
    name = _field(payload, "name", required=True, max_length=500)
    agency = _agency(session, code)
    if agency is not None and not agency.deleted and agency.system_id != caller.system_id:
        raise VxpError("AGENCY_TAKEN", f"mã cơ quan {code} đã thuộc một hệ thống khác")
    if agency is None:
        agency = Agency(code=code, system_id=caller.system_id, version=0, old_code="", level="")
        session.add(agency)
    agency.system_id = caller.system_id
    agency.name = name
    agency.pcode = _field(payload, "pcode", max_length=MAX_CODE_LENGTH)
    agency.mail = _field(payload, "mail")
    agency.mobile = _field(payload, "mobile", max_length=64)
    agency.fax = _field(payload, "fax", max_length=64)
    agency.deleted = False
    agency.version = (agency.version or 0) + 1
    agency.modified_at = utcnow()
    session.flush()
    return agency


def delete_agency(session: Session, caller: Caller, code: str) -> None:
    if not code:
        raise VxpError("MISSING_HEADER", "thiếu header XroadVnpt-AgencyCode")
    agency = _agency(session, code)
    if agency is None or agency.deleted:
        raise VxpError("AGENCY_NOT_FOUND", f"không có cơ quan mã {code} trong danh bạ")
    if agency.system_id != caller.system_id:
        raise VxpError("AGENCY_NOT_YOURS", f"cơ quan {code} không thuộc hệ thống {caller.system_id}")
    agency.deleted = True
    agency.version += 1
    agency.modified_at = utcnow()


# ---------------------------------------------------------------- packages


@dataclass(frozen=True, slots=True)
class _PackageInfo:
    from_code: str
    to_codes: tuple[str, ...]
    document_id: str
    title: str
    notation: str
    status_code: str
    status_desc: str
    response_for_organ: str


def _texts(root: etree._Element, path: str) -> list[str]:
    """Texts at ``path`` (slash-separated local names under the root), whatever the namespace:
    the root may be ``edXML:edXML`` or an unprefixed ``edXML`` in the default namespace."""
    steps = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
    return [(e.text or "").strip() for e in root.xpath("./" + steps)]


def _read_package(body: bytes, settings: Settings) -> tuple[_PackageInfo, bytes]:
    package = body[:-2] if body.endswith(b"\r\n") else body  # the SDK appends CRLF
    try:
        root = parse_xml(package, ParseLimits(max_bytes=settings.max_body_bytes, allow_huge_text=True))
    except EdxmlError as exc:
        raise VxpError("BAD_PACKAGE", f"gói tin edXML bị từ chối: {exc.detail}") from None
    if etree.QName(root).localname != "edXML":
        name = etree.QName(root).localname
        raise VxpError("BAD_PACKAGE", f"phần tử gốc phải là edXML, không phải {name!r}")
    header = "edXMLEnvelope/edXMLHeader/MessageHeader/"
    first = lambda path: next(iter(_texts(root, header + path)), "")  # noqa: E731
    number, notation = first("Code/CodeNumber"), first("Code/CodeNotation")
    info = _PackageInfo(
        from_code=first("From/OrganId"),
        to_codes=tuple(c for c in _texts(root, header + "To/OrganId") if c),
        document_id=first("DocumentId") or first("ResponseFor/DocumentId"),
        title=first("Subject"),
        notation=f"{number}/{notation}" if number and notation else number or notation,
        status_code=first("StatusCode"),
        status_desc=first("Description"),
        response_for_organ=first("ResponseFor/OrganId"),
    )
    return info, package


def _recipients(caller: Caller, info: _PackageInfo, message_type: str) -> list[str]:
    to_header = caller.get("to")
    if to_header:
        try:
            codes = json.loads(to_header)
        except ValueError:
            codes = None
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise VxpError("BAD_PARAMETER", "XroadVnpt-to phải là danh sách JSON các mã cơ quan")
    elif message_type == "status":
        codes = [info.response_for_organ] if info.response_for_organ else []
    else:
        codes = list(info.to_codes)
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes:
        raise VxpError("NO_RECIPIENT", "gói tin không có nơi nhận (header to, hay To/OrganId trong gói)")
    return codes


def _message_type(caller: Caller, default: str | None = None) -> str:
    value = caller.get("messagetype") or default
    if value not in MESSAGE_TYPES:
        raise VxpError("BAD_PARAMETER", "XroadVnpt-messagetype phải là 'edoc' hoặc 'status'")
    service = caller.get("servicetype")
    if service and service.lower() != SERVICE_TYPE.lower():
        raise VxpError("BAD_PARAMETER", f"XroadVnpt-servicetype phải là {SERVICE_TYPE!r}")
    return value


def send_edoc(session: Session, settings: Settings, caller: Caller, body: bytes) -> str:
    """Accept a package from one of the caller's agencies; one delivery per recipient agency.
    A status package also updates what its sender sees of the document it answers."""
    message_type = _message_type(caller)
    from_code = caller.get("from")
    if not from_code:
        raise VxpError("MISSING_HEADER", "thiếu header XroadVnpt-from")
    sender = _agency(session, from_code)
    if sender is None or sender.deleted or sender.system_id != caller.system_id:
        raise VxpError("FROM_NOT_YOURS", f"cơ quan gửi {from_code} không thuộc hệ thống {caller.system_id}")
    info, package = _read_package(body, settings)
    if info.from_code != from_code:
        raise VxpError("FROM_MISMATCH", f"header from {from_code!r} khác From/OrganId của gói tin "
                       f"{info.from_code!r}")
    codes = _recipients(caller, info, message_type)
    known = {a.code for a in session.scalars(select(Agency).where(
        Agency.code.in_(codes), Agency.deleted.is_(False)))}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise VxpError("UNKNOWN_RECIPIENT", f"nơi nhận không có trong danh bạ trục: {', '.join(unknown)}")
    document = Document(id=str(uuid.uuid4()), sender_system_id=caller.system_id, from_code=from_code,
                        message_type=message_type, edxml_document_id=info.document_id[:500],
                        title=info.title, notation=info.notation[:255], status_code=info.status_code[:8],
                        status_desc=info.status_desc, package=package)
    session.add(document)
    for code in codes:
        session.add(Delivery(id=str(uuid.uuid4()), document=document, to_code=code))
    if message_type == "status" and info.status_code:
        _record_status(session, info)
    session.flush()
    return document.id


def _record_status(session: Session, info: _PackageInfo) -> None:
    """The recipient ``info.from_code`` reports on a document: show it on that delivery."""
    query = (select(Delivery).join(Document).where(
        Document.message_type == "edoc", Document.edxml_document_id == info.document_id,
        Delivery.to_code == info.from_code))
    if info.response_for_organ:
        query = query.where(Document.from_code == info.response_for_organ)
    for delivery in session.scalars(query):
        delivery.receive_status = info.status_code[:8]
        delivery.receive_status_desc = info.status_desc or _status_text(info.status_code)
        delivery.updated_at = utcnow()


def _status_text(code: str) -> str:
    try:
        return STATUS_DESCRIPTIONS[StatusCode(code)]
    except (ValueError, KeyError):
        return ""


# ---------------------------------------------------------------- receiving


def _time(value: dt.datetime | None) -> str:
    """Times in answers: ISO 8601 in Vietnam time (the real axis's format is not documented)."""
    return value.astimezone(VIETNAM_TZ).isoformat(timespec="seconds") if value else ""


def _pending(session: Session, caller: Caller, message_type: str) -> Select[tuple[Delivery]]:
    return (select(Delivery).join(Document).where(
        Delivery.to_code.in_(_caller_codes(session, caller)), Delivery.ack == "",
        Document.message_type == message_type))


def received_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    message_type = _message_type(caller, "edoc")
    query = _pending(session, caller, message_type).order_by(Delivery.created_at, Delivery.id)
    items = session.scalars(query)
    return [{"docId": d.id, "from": d.document.from_code, "to": d.to_code, "serviceType": SERVICE_TYPE,
             "messageType": message_type, "created_time": _time(d.created_at),
             "updated_time": _time(d.updated_at), "status": "pending", "status_desc": "Chờ nhận"}
            for d in items]


def count_received(session: Session, caller: Caller, default_type: str) -> int:
    message_type = _message_type(caller, default_type)
    pending = _pending(session, caller, message_type).subquery()
    return session.scalar(select(func.count()).select_from(pending)) or 0


def delivery_for(session: Session, caller: Caller) -> Delivery:
    """The delivery ``XroadVnpt-docId`` names, if it is for one of the caller's agencies."""
    doc_id = caller.get("docId")
    if not doc_id:
        raise VxpError("MISSING_HEADER", "thiếu header XroadVnpt-docId")
    delivery = session.get(Delivery, doc_id)
    if delivery is None or delivery.to_code not in _caller_codes(session, caller):
        raise VxpError("DOC_NOT_FOUND",
                       f"không có văn bản docId={doc_id} gửi cho hệ thống {caller.system_id}")
    return delivery


def delivered_package(delivery: Delivery, settings: Settings, now: dt.datetime) -> bytes:
    """The package as delivered: as sent, with the axis's own ``TraceHeader`` when configured."""
    package = delivery.document.package
    if not settings.add_trace_header or delivery.document.message_type != "edoc":
        return package
    return add_axis_trace_header(package, now, settings.max_body_bytes)


def add_axis_trace_header(package: bytes, now: dt.datetime, max_bytes: int) -> bytes:
    """Append ``<TraceHeader><Timestamp>…</Timestamp></TraceHeader>`` (no OrganId) at the end of
    ``TraceHeaderList``, made after ``MessageHeader`` when missing, in the header's namespace.

    The envelope signature (``URI=""``) covers the whole document, so this changes what it
    covers: a verifier has to take axis trace headers off first (``axis_connector.edxml``'s
    ``verify_package`` does)."""
    root = parse_xml(package, ParseLimits(max_bytes=max_bytes, allow_huge_text=True))
    headers = root.xpath("./*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']")
    if not headers:
        return package
    header = headers[0]
    namespace = etree.QName(header).namespace

    def tag(name: str) -> str:
        return f"{{{namespace}}}{name}" if namespace else name

    trace_list = next((c for c in header if etree.QName(c).localname == "TraceHeaderList"), None)
    if trace_list is None:
        trace_list = etree.Element(tag("TraceHeaderList"))
        message = next((c for c in header if etree.QName(c).localname == "MessageHeader"), None)
        header.insert(0 if message is None else header.index(message) + 1, trace_list)
    element = etree.SubElement(trace_list, tag("TraceHeader"))
    stamp = etree.SubElement(element, tag("Timestamp"))
    stamp.text = now.astimezone(VIETNAM_TZ).strftime("%Y/%m/%d %H:%M:%S")
    return document_bytes(root)


def acknowledge(session: Session, caller: Caller) -> None:
    """``updateStatus``: the caller took the item (``done``) or could not (``fail``); either way
    it leaves the received list. Repeating the same acknowledgement is accepted (the SDK retries)."""
    status = caller.get("status").lower()
    if status not in ("done", "fail"):
        raise VxpError("BAD_PARAMETER", "XroadVnpt-status phải là 'done' hoặc 'fail'")
    delivery = delivery_for(session, caller)
    if delivery.ack and delivery.ack != status:
        raise VxpError("BAD_PARAMETER", f"văn bản docId={delivery.id} đã được báo {delivery.ack!r}")
    if not delivery.ack:
        delivery.ack = status
        delivery.acked_at = delivery.updated_at = utcnow()


# ---------------------------------------------------------------- sending side


def _receive_status(d: Delivery) -> tuple[str, str]:
    if d.receive_status:
        return d.receive_status, d.receive_status_desc
    if d.ack == "done":
        return "done", "Bên nhận đã nhận"
    if d.ack == "fail":
        return "fail", "Bên nhận báo nhận lỗi"
    return "pending", "Chờ bên nhận lấy về"


def sent_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """One row per recipient of the caller's sent packages (``docId``: only that one)."""
    message_type = _message_type(caller, "edoc")
    query = (select(Delivery).join(Document).where(
        Document.sender_system_id == caller.system_id, Document.message_type == message_type))
    if caller.get("docId"):
        query = query.where(Document.id == caller.get("docId"))
    rows = []
    for d in session.scalars(query.order_by(Document.created_at, Document.id, Delivery.to_code)):
        receive, receive_desc = _receive_status(d)
        rows.append({"senderDocId": d.document_id, "receiverDocId": d.id, "fromCode": d.document.from_code,
                     "toCode": d.to_code, "title": d.document.title, "notation": d.document.notation,
                     "sentTime": _time(d.document.created_at), "receivedTime": _time(d.acked_at),
                     "sendStatus": "sent", "sendStatusDesc": "Đã gửi lên trục",
                     "receiveStatus": receive, "receiveStatusDesc": receive_desc})
    return rows
