"""The VXP behind the shape of :class:`~axis_connector.client.AxisClient` that the exchange
worker calls, so that one outbox, one receipt, one backoff and one dead-letter policy serve
both kinds of hub.

What differs, and how it is bridged:

* No batches: ``send_edocs``, ``get_edocs`` and ``update_statuses`` loop over the items,
  answering per item as the batch calls do (a refusal for one item is that item's
  :class:`~axis_connector.client.AxisError`; the axis unreachable raises for the whole call).
* ``sendEdoc`` needs ``from`` (and takes ``to``): read from the package's own
  ``MessageHeader`` (``From``/``To``; a status package's recipient is ``ResponseFor/OrganId``)
  by a safe pull parse that stops at the end of the header, before any attachment.
* One list per messagetype: ``get_received_edoc_list`` asks for documents and for statuses.
  The list has neither size nor hash (``content_length`` 0, ``content_sha256`` ""): the
  package is checked whole after fetching (size, XML, signature), as receipt always does.
  An item whose ``to`` is empty is fetched at once and its recipients read from the package.
* Acknowledgement: ``delivered`` -> ``updateStatus done``, ``failed`` -> ``fail``, once per
  item (an item some of whose recipients were refused and others stored is ``done``: it was
  taken). The axis keeps no reason: the reason stays on our inbox row.
* A package that is not base64 is that item's ``VxpError`` with code ``bad_package``, which
  receipt refuses with the reason (``fail``) instead of leaving it on the axis for ever.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Literal, NamedTuple

from lxml import etree

from axis_connector.client import (
    AgencyInfo,
    AxisError,
    AxisUnavailable,
    Edoc,
    ReceivedEdoc,
    RecipientState,
    SendResult,
    StatusUpdate,
)

from .client import VxpAgency, VxpClient, VxpError, VxpReceived

__all__ = ["PackageRoute", "VxpHubClient", "package_route"]

MessageType = Literal["edoc", "status"]
_HEADER_SCAN_BYTES = 1 << 20
UNKNOWN_RECIPIENT = "(không rõ)"


class PackageRoute(NamedTuple):
    """Who sent a package and to whom, read from its MessageHeader."""

    sender: str
    recipients: tuple[str, ...]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def package_route(data: bytes) -> PackageRoute:
    """The sender and recipients of an edXML package (a status package: ``From`` and
    ``ResponseFor/OrganId``), read by a pull parse with no entities, no DTD and no network
    that stops once ``MessageHeader`` ends (the attachments are never parsed). Raises
    ValueError when the header is not found in the first MiB."""
    parser = etree.XMLPullParser(events=("start", "end"), resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False, remove_comments=True)
    start = data.find(b"<")
    if start < 0:
        raise ValueError("không phải XML")
    path: list[str] = []
    sender, recipients, response_for = "", [], ""
    view = memoryview(data)[start:start + _HEADER_SCAN_BYTES]
    for offset in range(0, len(view), 1 << 14):
        parser.feed(bytes(view[offset:offset + (1 << 14)]))
        for event, element in parser.read_events():
            name = _local(element.tag)
            if event == "start":
                path.append(name)
                continue
            path.pop()
            if name == "OrganId" and path and path[-2:-1] == ["MessageHeader"]:
                value = (element.text or "").strip()
                if path[-1] == "From":
                    sender = value
                elif path[-1] == "To" and value:
                    recipients.append(value)
                elif path[-1] == "ResponseFor" and not response_for:
                    response_for = value
            elif name == "MessageHeader":
                if not sender:
                    raise ValueError("MessageHeader không có From/OrganId")
                return PackageRoute(sender, tuple(recipients) or ((response_for,) if response_for
                                                                   else ()))
    raise ValueError("không tìm thấy MessageHeader")


class VxpHubClient:
    """A :class:`VxpClient` answering the batch calls of the exchange worker."""

    supports_push = False
    """The VXP does not call back: the worker polls it (``worker.register_callbacks``)."""
    carries_certificates = False
    """The VXP's directory has no certificates and no owning system: agencies it lists are
    compared by name and parent only (``worker.register_agencies``)."""

    def __init__(self, vxp: VxpClient) -> None:
        self.vxp = vxp
        self.base_url = vxp.base_url
        self.system_id = vxp.system_id
        self._listed: dict[str, ReceivedEdoc] = {}
        self._prefetched: dict[str, bytes] = {}
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VxpHubClient({self.base_url!r}, {self.system_id!r})"

    # -- sending -----------------------------------------------------------------------------------

    def send_edoc(self, package: bytes, messagetype: MessageType = "edoc", *,
                  to: Sequence[str] | None = None) -> SendResult:
        route = package_route(package)
        doc_id = self.vxp.send_edoc(package, messagetype, sender=route.sender,
                                    to=list(to) if to is not None else list(route.recipients))
        return SendResult(doc_id, False)

    def send_edocs(self, packages: Sequence[tuple[bytes, MessageType]]
                   ) -> list[SendResult | AxisError | AxisUnavailable]:
        """One ``sendEdoc`` per package, in order: a refusal is that package's AxisError. The
        axis unreachable at the first package raises, as a batch request would; later, that
        package and the rest (not tried) are each an :class:`AxisUnavailable`, so the packages
        already accepted are not sent again."""
        results: list[SendResult | AxisError | AxisUnavailable] = []
        for data, kind in packages:
            if results and isinstance(results[-1], AxisUnavailable):
                results.append(results[-1])  # not tried: the axis was just unreachable
                continue
            try:
                results.append(self.send_edoc(data, kind))
            except ValueError as exc:  # our own package without a readable header
                results.append(AxisError("bad_package", f"Không đọc được phần đầu gói tin: {exc}", 400))
            except VxpError as exc:
                results.append(exc)
            except AxisUnavailable as exc:
                if not results:
                    raise
                results.append(exc)
        return results

    # -- receiving ---------------------------------------------------------------------------------

    def get_received_edoc_list(self, messagetype: MessageType | None = None, *,
                               limit: int = 100) -> list[ReceivedEdoc]:
        kinds: tuple[MessageType, ...] = (messagetype,) if messagetype else ("edoc", "status")
        with self._lock:  # what an earlier listing left unfetched is fetched again if listed
            self._listed.clear()
            self._prefetched.clear()
        items: list[ReceivedEdoc] = []
        for kind in kinds:
            for item in self.vxp.get_received_edoc_list(kind):
                if len(items) >= limit:
                    break
                items.append(self._received(item, kind))
        with self._lock:
            self._listed.update((i.message_id, i) for i in items)
        return items

    def _received(self, item: VxpReceived, kind: MessageType) -> ReceivedEdoc:
        to = item.to
        if not to:  # no recipients in the list: the package names them
            try:
                data = self._fetch(item.doc_id)
                to = package_route(data).recipients
            except (VxpError, ValueError):  # receipt fetches it again and refuses it
                data, to = None, ()
            if data is not None:
                with self._lock:
                    self._prefetched[item.doc_id] = data
            # still none: receipt refuses it ('fail') rather than leave it listed for ever
            to = to or (UNKNOWN_RECIPIENT,)
        created = item.created_time or dt.datetime.now(dt.UTC)
        return ReceivedEdoc(item.doc_id, item.sender, tuple(to), "", kind, None, created, 0, "")

    def _fetch(self, doc_id: str) -> bytes:
        with self._lock:
            data = self._prefetched.pop(doc_id, None)
        if data is not None:
            return data
        return self.vxp.get_edoc(doc_id)

    def get_edocs(self, message_ids: Sequence[str]) -> list[Edoc | AxisError]:
        out: list[Edoc | AxisError] = []
        for message_id in message_ids:
            try:
                data = self._fetch(message_id)
            except VxpError as exc:
                out.append(exc)
                continue
            with self._lock:
                item = self._listed.get(message_id)
            out.append(Edoc(message_id, item.sender if item else "", "",
                            item.messagetype if item else "edoc", None,
                            item.created_at if item else dt.datetime.now(dt.UTC), "", data))
        return out

    def get_edoc(self, message_id: str) -> Edoc:
        [result] = self.get_edocs([message_id])
        if isinstance(result, AxisError):
            raise result
        return result

    def update_statuses(self, updates: Sequence[StatusUpdate]
                        ) -> list[tuple[RecipientState, ...] | AxisError]:
        """One ``updateStatus`` per item: ``done`` if any recipient's copy was stored, else
        ``fail``; every update of an item gets that call's outcome."""
        verdict: dict[str, str] = {}
        for update in updates:
            if update.status == "delivered":
                verdict[update.message_id] = "done"
            else:
                verdict.setdefault(update.message_id, "fail")
        outcome: dict[str, tuple[RecipientState, ...] | AxisError] = {}
        for message_id, status in verdict.items():
            try:
                self.vxp.update_status(message_id, status)  # type: ignore[arg-type]
                outcome[message_id] = ()
            except VxpError as exc:
                outcome[message_id] = exc
            with self._lock:
                self._listed.pop(message_id, None)
                self._prefetched.pop(message_id, None)
        return [outcome[u.message_id] for u in updates]

    def update_status(self, message_id: str, status: Literal["delivered", "failed"], *,
                      reason: str = "", organ_ids: Sequence[str] | None = None) -> tuple[RecipientState, ...]:
        [result] = self.update_statuses([StatusUpdate(message_id, status, reason,
                                                      tuple(organ_ids) if organ_ids else None)])
        if isinstance(result, AxisError):
            raise result
        return result

    # -- directory ---------------------------------------------------------------------------------

    def get_agencies_list(self) -> list[AgencyInfo]:
        """The VXP's directory as :class:`AgencyInfo`: parent ``pid`` resolved to its code,
        no certificate, no owning system (``system_id`` "")."""
        agencies = self.vxp.get_agencies_list()
        codes = {a.id: a.code for a in agencies if a.id}
        with self._lock:
            self._ids = {a.code: a.id for a in agencies}
        return [self._info(a, codes) for a in agencies]

    @staticmethod
    def _info(agency: VxpAgency, codes: dict[str, str]) -> AgencyInfo:
        parent = codes.get(agency.pid) or None
        return AgencyInfo(agency.code, agency.name, parent, "", agency.mail, "", "", None, "")

    def register_agency(self, organ_id: str, name: str, *, parent_id: str | None = None,
                        level: str = "", email: str = "", telephone: str = "", address: str = "",
                        certificate_pem: str | None = None, system_id: str | None = None) -> AgencyInfo:
        """``registerAgency``: code, name, parent code, mail and telephone (the VXP keeps no
        certificate, level or address)."""
        with self._lock:
            known_id = self._ids.get(organ_id, "")
        self.vxp.register_agency(organ_id, name, pcode=parent_id or "", id=known_id, mail=email,
                                 mobile=telephone)
        return AgencyInfo(organ_id, name, parent_id, level, email, telephone, address, None, "")

    def register_callback(self, url: str | None) -> None:
        """The VXP does not push: the exchange polls it (a refusal, so the worker keeps its
        short poll interval for this hub)."""
        if url is None:
            return
        raise AxisError("push_not_supported", "Trục VXP không hỗ trợ thông báo đẩy; hệ thống "
                        "sẽ hỏi trục định kỳ.", 400)
