"""Parse edXML packages (bytes) into typed objects.

Liberal where it is safe: prefixed or unprefixed elements, the legacy
``http://www.e-doc.vn/Schema/`` namespace (or none at all), any order of
children, whitespace around values, junk before ``<?xml``, missing optional
elements, unknown extension elements (ignored).  Strict where it matters:
codes, dates, timestamps, numbers, identifiers, required elements, duplicated
single elements, manifest/attachment consistency and base64; every refusal is
an :class:`EdxmlError` naming the element path.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping
from typing import TypeVar

import pybase64
from lxml import etree

from .errors import EdxmlError
from .model import (
    LEGACY_NAMESPACES,
    NAMESPACE,
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPackage,
    DocumentType,
    Organization,
    OtherInfo,
    Priority,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPackage,
    TraceHeader,
)
from .safe_xml import DEFAULT_LIMITS, ParseLimits, parse_xml
from .values import (
    check_document_rules,
    check_organ_id,
    check_status_rules,
    parse_date,
    parse_timestamp,
)

__all__ = [
    "check_message_type",
    "parse_document_package",
    "parse_package",
    "parse_status_package",
    "parse_tree",
]

DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
_ACCEPTED = frozenset((NAMESPACE, *LEGACY_NAMESPACES, None))
_WHITESPACE = re.compile(r"\s+")
_P = TypeVar("_P", DocumentPackage, StatusPackage)


class _Node:
    """An element with its children grouped by local name, and its path for messages."""

    __slots__ = ("children", "element", "path")

    def __init__(self, element: etree._Element, path: str) -> None:
        self.element = element
        self.path = path
        self.children: dict[str, list[etree._Element]] = {}
        for child in element:
            # "{namespace}local" or "local", read off the tag (etree.QName per child cost a
            # third of a hub's parse)
            tag = child.tag
            if not isinstance(tag, str):
                continue  # a comment or processing instruction (parse_xml drops them anyway)
            if tag[0] == "{":
                namespace, _, local = tag[1:].partition("}")
            else:
                namespace, local = None, tag
            if namespace == DSIG_NAMESPACE:
                continue  # the signature is checked by verify_package, never read as data
            if namespace not in _ACCEPTED:
                raise EdxmlError(
                    "unknown_namespace",
                    f"{path}/{local}",
                    f"phần tử thuộc không gian tên lạ {namespace!r}",
                )
            self.children.setdefault(local, []).append(child)

    def opt(self, name: str) -> _Node | None:
        found = self.children.get(name)
        if not found:
            return None
        if len(found) > 1:
            raise EdxmlError(
                "duplicate_element", f"{self.path}/{name}", f"phần tử {name} xuất hiện {len(found)} lần"
            )
        return _Node(found[0], f"{self.path}/{name}")

    def one(self, name: str) -> _Node:
        node = self.opt(name)
        if node is None:
            raise EdxmlError("missing_element", f"{self.path}/{name}", f"thiếu phần tử bắt buộc {name}")
        return node

    def many(self, name: str) -> list[_Node]:
        found = self.children.get(name, [])
        return [_Node(element, f"{self.path}/{name}[{index}]") for index, element in enumerate(found, 1)]

    def value(self) -> str:
        if len(self.element):
            raise EdxmlError("unexpected_children", self.path, "phần tử giá trị không được chứa phần tử con")
        return (self.element.text or "").strip()

    def text(self, name: str, default: str = "") -> str:
        node = self.opt(name)
        return default if node is None else node.value()

    def required_text(self, name: str) -> str:
        text = self.one(name).value()
        if not text:
            raise EdxmlError("missing_value", f"{self.path}/{name}", f"phần tử {name} không được để trống")
        return text

    def integer(self, name: str, *, required: bool = False) -> int | None:
        text = self.required_text(name) if required else self.text(name)
        if not text:
            return None
        if not text.isascii() or not text.isdigit():
            raise EdxmlError(
                "invalid_number", f"{self.path}/{name}", f"giá trị {text!r} không phải số nguyên không âm"
            )
        return int(text)

    def code(self, name: str, allowed: range, *, default: int | None = None) -> int:
        value = self.integer(name, required=default is None)
        if value is None:
            assert default is not None
            return default
        if value not in allowed:
            raise EdxmlError(
                "invalid_code",
                f"{self.path}/{name}",
                f"mã {value} không hợp lệ (chỉ nhận {allowed.start}..{allowed.stop - 1})",
            )
        return value

    def flag(self, name: str) -> bool:
        return bool(self.code(name, range(2), default=0))

    def date(self, name: str, *, required: bool = True):
        text = self.required_text(name) if required else self.text(name)
        return parse_date(text, f"{self.path}/{name}") if text else None

    def organ_id(self, name: str = "OrganId") -> str:
        return check_organ_id(self.required_text(name), f"{self.path}/{name}")


def _organization(node: _Node) -> Organization:
    return Organization(
        organ_id=node.organ_id(),
        organ_name=node.text("OrganName"),
        organization_in_charge=node.text("OrganizationInCharge"),
        address=node.text("OrganAdd"),
        email=node.text("Email"),
        telephone=node.text("Telephone"),
        fax=node.text("Fax"),
        website=node.text("Website"),
    )


def _response_for(node: _Node) -> ResponseFor:
    return ResponseFor(
        organ_id=node.organ_id(),
        code=node.text("Code"),
        promulgation_date=node.date("PromulgationDate"),
        document_id=node.required_text("DocumentId"),
    )


def _staff(node: _Node | None) -> StaffInfo | None:
    if node is None:
        return None
    return StaffInfo(
        department=node.text("Department"),
        staff=node.text("Staff"),
        email=node.text("Email"),
        mobile=node.text("Mobile"),
    )


def _trace(header: _Node) -> tuple[tuple[TraceHeader, ...], _Node | None]:
    trace_list = header.opt("TraceHeaderList")
    if trace_list is None:
        return (), None
    trace = tuple(
        TraceHeader(
            # rule "axis-trace-without-organ-id": the national axis writes its own TraceHeader
            # with a Timestamp only; an OrganId that is there is still checked
            organ_id=node.organ_id() if node.text("OrganId") else "",
            timestamp=parse_timestamp(node.required_text("Timestamp"), f"{node.path}/Timestamp"),
        )
        for node in trace_list.many("TraceHeader")
    )
    return trace, trace_list


def _other(node: _Node | None) -> OtherInfo:
    if node is None:
        return OtherInfo()
    direction_text = node.text("Direction").lower()
    if direction_text in ("", "true", "false", "1", "0"):
        direction = None if not direction_text else direction_text in ("true", "1")
    else:
        raise EdxmlError(
            "invalid_code", f"{node.path}/Direction", f"giá trị {direction_text!r} phải là true/false"
        )
    appendixes = node.opt("Appendixes")
    return OtherInfo(
        priority=Priority(node.code("Priority", range(5), default=0)),
        sphere_of_promulgation=node.text("SphereOfPromulgation"),
        typer_notation=node.text("TyperNotation"),
        promulgation_amount=node.integer("PromulgationAmount"),
        page_amount=node.integer("PageAmount"),
        direction=direction,
        appendixes=() if appendixes is None else tuple(n.value() for n in appendixes.many("Appendix")),
    )


def _business(node: _Node | None, document_id: str) -> Business:
    if node is None:
        # Older senders omit Bussiness altogether: such a package is a new document.
        return Business(document_id=document_id)
    info_node = node.opt("BussinessDocumentInfo")
    info = None
    if info_node is not None:
        receiver_list = info_node.opt("ReceiverList")
        info = BusinessDocumentInfo(
            document_info=info_node.flag("DocumentInfo"),
            document_receiver=info_node.flag("DocumentReceiver"),
            receivers=()
            if receiver_list is None
            else tuple(r.organ_id() for r in receiver_list.many("Receiver")),
        )
    replacement_list = node.opt("ReplacementInfoList")
    replacements = ()
    if replacement_list is not None:
        replacements = tuple(
            ReplacementInfo(
                document_id=item.required_text("DocumentId"),
                organ_ids=_organ_id_list(item.opt("OrganIdList")),
            )
            for item in replacement_list.many("ReplacementInfo")
        )
    return Business(
        document_id=node.text("DocumentId") or document_id,
        doc_type=BusinessDocType(node.code("BussinessDocType", range(4), default=0)),
        reason=node.text("BussinessDocReason"),
        paper=node.flag("Paper"),
        document_info=info,
        replacements=replacements,
        staff=_staff(node.opt("StaffInfo")),
    )


def _organ_id_list(node: _Node | None) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(check_organ_id(n.value(), n.path) for n in node.many("OrganId"))


def _decode_base64(node: _Node) -> bytes:
    text = node.element.text or ""
    # strict: only the alphabet and correct padding, as base64.b64decode(validate=True)
    # checks. First pybase64's SIMD decoder (0.35 -> 0.01 ms for the 290 KB of a 200 KB PDF,
    # on every hop: the axis and the recipient); it is stricter than the standard library
    # (it refuses padding after a complete group, "QUJD="), so what it refuses is judged by
    # binascii's strict mode, as before.
    try:
        return pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        # Line-wrapped base64 (MIME style) is common; anything else is an error.
        return binascii.a2b_base64(_WHITESPACE.sub("", text), strict_mode=True)
    except (binascii.Error, ValueError):
        raise EdxmlError(
            "invalid_base64", node.path, "nội dung tệp đính kèm không phải base64 hợp lệ"
        ) from None


def _content(node: _Node, contents: Mapping[str, object] | None):
    """The attachment's bytes; or, for a package read by :mod:`.stream`, what it spooled the
    text to, named by the placeholder it left as the element's text."""
    if contents is not None:
        found = contents.get(node.element.text or "")
        if isinstance(found, EdxmlError):  # bad base64, found while spooling
            raise found
        if found is not None:
            return found
    return _decode_base64(node)


def _attachments(
    root: _Node, envelope: _Node, contents: Mapping[str, object] | None
) -> tuple[Attachment, ...]:
    body = envelope.opt("edXMLBody")
    manifest = None if body is None else body.opt("edXMLManifest")
    references = [] if manifest is None else manifest.many("Reference")
    encoded = root.opt("AttachmentEncoded")
    files: dict[str, _Node] = {}
    for node in [] if encoded is None else encoded.many("Attachment"):
        content_id = node.required_text("ContentId")
        if content_id in files:
            raise EdxmlError(
                "duplicate_content_id", f"{node.path}/ContentId", f"ContentId {content_id!r} bị trùng"
            )
        files[content_id] = node
    result = []
    seen: set[str] = set()
    for ref in references:
        content_id = ref.required_text("ContentId")
        if content_id in seen:
            raise EdxmlError(
                "duplicate_content_id", f"{ref.path}/ContentId", f"ContentId {content_id!r} bị trùng"
            )
        seen.add(content_id)
        node = files.pop(content_id, None)
        if node is None:
            raise EdxmlError(
                "attachment_missing",
                f"{ref.path}/ContentId",
                f"manifest nêu tệp {content_id!r} nhưng AttachmentEncoded không có",
            )
        result.append(
            Attachment(
                content_id=content_id,
                name=node.text("AttachmentName") or ref.text("AttachmentName"),
                content_type=node.text("ContentType") or ref.text("ContentType"),
                description=node.text("Description") or ref.text("Description"),
                data=_content(node.one("ContentTransferEncoded"), contents),
            )
        )
    if files:
        content_id, node = next(iter(files.items()))
        raise EdxmlError(
            "attachment_not_in_manifest",
            f"{node.path}/ContentId",
            f"tệp {content_id!r} không có trong edXMLManifest",
        )
    return tuple(result)


def _root(tree: etree._Element) -> _Node:
    qname = etree.QName(tree)
    if qname.localname != "edXML" or qname.namespace not in _ACCEPTED:
        raise EdxmlError(
            "wrong_root",
            "/" + qname.localname,
            f"phần tử gốc phải là edXML trong không gian tên {NAMESPACE}, không phải {tree.tag!r}",
        )
    return _Node(tree, "/edXML")


def _document(root: _Node, envelope: _Node, header: _Node, message: _Node,
              contents: Mapping[str, object] | None = None) -> DocumentPackage:
    document_id = message.required_text("DocumentId")
    code = message.one("Code")
    promulgation = message.one("PromulgationInfo")
    doc_type = message.one("DocumentType")
    signer = message.opt("SignerInfo")
    trace, trace_list = _trace(header)
    places = message.opt("ToPlaces")
    package = DocumentPackage(
        sender=_organization(message.one("From")),
        recipients=tuple(_organization(node) for node in message.many("To")),
        document_id=document_id,
        code=Code(number=code.text("CodeNumber"), notation=code.text("CodeNotation")),
        promulgation=PromulgationInfo(
            place=promulgation.text("Place"), date=promulgation.date("PromulgationDate")
        ),
        document_type=DocumentType(
            type=doc_type.integer("Type", required=True),
            type_detail=doc_type.integer("TypeDetail", required=True),
            type_name=doc_type.text("TypeName"),
        ),
        subject=message.required_text("Subject"),
        business=_business(None if trace_list is None else trace_list.opt("Bussiness"), document_id),
        content=message.text("Content"),
        signer=None
        if signer is None
        else SignerInfo(
            competence=signer.text("Competence"),
            position=signer.text("Position"),
            full_name=signer.text("FullName"),
        ),
        due_date=message.date("DueDate", required=False),
        other=_other(message.opt("OtherInfo")),
        response_for=tuple(_response_for(node) for node in message.many("ResponseFor")),
        steering_type=message.integer("SteeringType"),
        to_places=() if places is None else tuple(node.value() for node in places.many("Place")),
        trace=trace,
        attachments=_attachments(root, envelope, contents),
    )
    check_document_rules(package, received=True)
    return package


def _status(header: _Node, message: _Node) -> StatusPackage:
    code_text = message.required_text("StatusCode")
    try:
        status = StatusCode(code_text)
    except ValueError:
        allowed = ", ".join(code.value for code in StatusCode)
        raise EdxmlError(
            "invalid_code",
            f"{message.path}/StatusCode",
            f"mã trạng thái {code_text!r} không hợp lệ (chỉ nhận {allowed})",
        ) from None
    trace, _ = _trace(header)
    package = StatusPackage(
        sender=_organization(message.one("From")),
        response_for=_response_for(message.one("ResponseFor")),
        status=status,
        timestamp=parse_timestamp(message.required_text("Timestamp"), f"{message.path}/Timestamp"),
        staff=_staff(message.opt("StaffInfo")) or StaffInfo(),
        description=message.text("Description"),
        recipients=tuple(_organization(node) for node in message.many("To")),
        trace=trace,
    )
    check_status_rules(package)
    return package


def parse_tree(
    tree: etree._Element, *, contents: Mapping[str, object] | None = None
) -> DocumentPackage | StatusPackage:
    """Read a package from an already (safely) parsed tree. ``contents``: the attachments
    :mod:`.stream` spooled to files, by the placeholder text it left in their place."""
    root = _root(tree)
    envelope = root.one("edXMLEnvelope")
    header = envelope.one("edXMLHeader")
    message = header.one("MessageHeader")
    if "StatusCode" in message.children:
        return _status(header, message)
    return _document(root, envelope, header, message, contents)


def parse_package(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> DocumentPackage | StatusPackage:
    """Parse edXML bytes into a :class:`DocumentPackage` or a :class:`StatusPackage`.

    A package whose ``MessageHeader`` has a ``StatusCode`` is a status package.
    Raises :class:`EdxmlError` for unsafe, malformed or invalid input.
    """
    if isinstance(data, (bytes, bytearray)) and len(data) > limits.stream_above:
        from .stream import parse_in_files  # stream builds on this module

        return parse_in_files(data, limits)
    return parse_tree(parse_xml(data, limits))


def parse_document_package(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> DocumentPackage:
    """Parse a document package; a status package here is an error."""
    return check_message_type(parse_package(data, limits=limits), DocumentPackage)


def parse_status_package(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> StatusPackage:
    """Parse a status package; a document package here is an error."""
    return check_message_type(parse_package(data, limits=limits), StatusPackage)


def check_message_type(package: DocumentPackage | StatusPackage, expected: type[_P]) -> _P:
    """``package`` if it is of the ``expected`` kind, else the ``wrong_message_type`` error."""
    if isinstance(package, expected):
        return package
    if expected is DocumentPackage:
        raise EdxmlError(
            "wrong_message_type",
            "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/StatusCode",
            "cần gói tin văn bản (edoc) nhưng nhận được gói tin trạng thái (status)",
        )
    raise EdxmlError(
        "wrong_message_type",
        "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader",
        "cần gói tin trạng thái (status) nhưng nhận được gói tin văn bản (edoc)",
    )
