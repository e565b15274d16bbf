"""A typed client for the axis hub's operations, signing every request.

    client = AxisClient("http://127.0.0.1:5100", "ubnd-camau", secret, timeout=10)
    sent = client.send_edoc(signed_package)                # SendResult(message_id, duplicate)
    for item in client.get_received_edoc_list():
        edoc = client.get_edoc(item.message_id)            # bytes checked against content_sha256
        ...store durably...
        client.update_status(item.message_id, "delivered")

Errors: :class:`AxisError` when the hub refuses (its ``code`` and ``message``),
:class:`AxisUnavailable` when it cannot be reached or answers with a server error, so the
caller knows what to retry.  The module depends on urllib3 only (no Flask, no SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import urllib3

from .signing import sign_headers
from .wire import BLOBS_MEDIA_TYPE, Blob, b64decode, dumps_binary, loads_binary

__all__ = [
    "AgencyInfo",
    "AxisClient",
    "AxisError",
    "AxisUnavailable",
    "Edoc",
    "ReceivedEdoc",
    "RecipientState",
    "SendResult",
    "SentEdoc",
    "StatusUpdate",
]

MessageType = Literal["edoc", "status"]
_ACCEPT = f"{BLOBS_MEDIA_TYPE}, application/json"


class AxisError(Exception):
    """The hub refused the request: ``code`` (stable, English), ``message`` (Vietnamese)."""

    def __init__(self, code: str, message: str, status: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


class AxisUnavailable(Exception):
    """The hub could not be reached, timed out or failed (5xx): try again later."""


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    duplicate: bool
    """True when the hub already had this package (same id as the first time)."""


@dataclass(frozen=True, slots=True)
class ReceivedEdoc:
    """A package waiting for the caller's agencies (``to``) until acknowledged."""

    message_id: str
    sender: str
    to: tuple[str, ...]
    document_id: str
    messagetype: MessageType
    status_code: str | None
    created_at: dt.datetime
    content_length: int
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Edoc:
    message_id: str
    sender: str
    document_id: str
    messagetype: MessageType
    status_code: str | None
    created_at: dt.datetime
    content_sha256: str
    package: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One acknowledgement for :meth:`AxisClient.update_statuses`."""

    message_id: str
    status: Literal["delivered", "failed"]
    reason: str = ""
    organ_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RecipientState:
    organ_id: str
    state: str
    """pending, forwarding, forwarded (accepted by the upstream axis), delivered or failed."""
    reason: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SentEdoc:
    message_id: str
    document_id: str
    messagetype: MessageType
    status_code: str | None
    created_at: dt.datetime
    recipients: tuple[RecipientState, ...]


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    organ_id: str
    name: str
    parent_id: str | None
    level: str
    email: str
    telephone: str
    address: str
    certificate_pem: str | None
    system_id: str


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class AxisClient:
    """One connected system talking to one hub. Thread-safe (urllib3 pool)."""

    def __init__(self, base_url: str, system_id: str, secret: str, timeout: float = 30.0,
                 *, pool: urllib3.PoolManager | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.system_id = system_id
        self._secret = secret
        self.timeout = timeout
        self._pool = pool or urllib3.PoolManager(retries=False)
        self._prefix = urllib3.util.parse_url(self.base_url).path or ""

    def __repr__(self) -> str:
        return f"AxisClient({self.base_url!r}, {self.system_id!r})"

    # -- transport ---------------------------------------------------------------------------------

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one operation; the answer's JSON, or AxisError / AxisUnavailable."""
        # packages (Blob) travel as raw bytes after the JSON (wire.py), and are asked for so
        body, content_type = dumps_binary(payload)
        path = f"{self._prefix}/api/{operation}"
        headers = {"Content-Type": content_type, "Accept": _ACCEPT,
                   **sign_headers(self._secret, "POST", path, self.system_id, body)}
        try:
            response = self._pool.request("POST", f"{self.base_url}/api/{operation}", body=body,
                                          headers=headers, timeout=self.timeout, retries=False)
        except urllib3.exceptions.HTTPError as exc:
            raise AxisUnavailable(f"{self.base_url}: {exc}") from exc
        try:
            if (response.headers.get("Content-Type") or "").startswith(BLOBS_MEDIA_TYPE):
                data = loads_binary(response.data)
            else:
                data = json.loads(response.data or b"{}")
        except ValueError:  # WireError included
            data = None
        if response.status >= 500 and response.status != 508:
            raise AxisUnavailable(f"{self.base_url}/api/{operation}: HTTP {response.status}")
        if not isinstance(data, dict):
            raise AxisUnavailable(f"{self.base_url}/api/{operation}: not JSON (HTTP {response.status})")
        if response.status >= 400:
            error = data.get("error") or {}
            details = {k: v for k, v in error.items() if k not in ("code", "message")}
            raise AxisError(str(error.get("code", "http_error")), str(error.get("message", "")),
                            response.status, details)
        return data

    # -- operations --------------------------------------------------------------------------------

    def send_edoc(self, package: bytes, messagetype: MessageType = "edoc", *,
                  to: Sequence[str] | None = None) -> SendResult:
        """Post a signed package. ``to`` limits delivery to some of its recipients."""
        payload: dict[str, Any] = {"messagetype": messagetype, "package": Blob(package)}
        if to is not None:
            payload["to"] = list(to)
        data = self.call("sendEdoc", payload)
        return SendResult(data["message_id"], bool(data["duplicate"]))

    def send_edocs(self, packages: Sequence[tuple[bytes, MessageType]]) -> list[SendResult | AxisError]:
        """Post several signed packages in one request (``sendEdocs``), in the order given:
        each a :class:`SendResult` or the :class:`AxisError` ``send_edoc`` would have raised
        for it alone. Raises AxisError / AxisUnavailable when the request as a whole fails."""
        if not packages:
            return []
        payload = {"items": [{"messagetype": kind, "package": Blob(data)}
                             for data, kind in packages]}
        items = self.call("sendEdocs", payload)["items"]
        if len(items) != len(packages):
            raise AxisUnavailable(f"{self.base_url}/api/sendEdocs: {len(items)} answers for "
                                  f"{len(packages)} packages")
        return [self._item_error(i["error"], i.get("status")) if "error" in i
                else SendResult(i["message_id"], bool(i["duplicate"])) for i in items]

    def get_received_edoc_list(self, messagetype: MessageType | None = None, *,
                               limit: int = 100) -> list[ReceivedEdoc]:
        payload: dict[str, Any] = {"limit": limit}
        if messagetype is not None:
            payload["messagetype"] = messagetype
        return [
            ReceivedEdoc(i["message_id"], i["from"], tuple(i["to"]), i["document_id"], i["messagetype"],
                         i["status_code"], _time(i["created_at"]), i["content_length"], i["content_sha256"])
            for i in self.call("getReceivedEdocList", payload)["items"]
        ]

    def get_edoc(self, message_id: str) -> Edoc:
        """Fetch one package; raises AxisUnavailable if the bytes do not match their hash."""
        return self._edoc(self.call("getEdoc", {"message_id": message_id}))

    def update_status(self, message_id: str, status: Literal["delivered", "failed"], *, reason: str = "",
                      organ_ids: Sequence[str] | None = None) -> tuple[RecipientState, ...]:
        """Acknowledge a package stored durably (delivered) or refuse it (failed, with a reason)."""
        payload: dict[str, Any] = {"message_id": message_id, "status": status, "reason": reason}
        if organ_ids is not None:
            payload["organ_ids"] = list(organ_ids)
        return tuple(self._recipient(r) for r in self.call("updateStatus", payload)["recipients"])

    def get_edocs(self, message_ids: Sequence[str]) -> list[Edoc | AxisError]:
        """Fetch several packages in one request (``getEdocs``), in the order asked: each an
        :class:`Edoc` (bytes checked against content_sha256) or the :class:`AxisError` that
        ``get_edoc`` would have raised for it. Raises AxisUnavailable if any arrived corrupted."""
        if not message_ids:
            return []
        out: list[Edoc | AxisError] = []
        for item in self.call("getEdocs", {"message_ids": list(message_ids)})["items"]:
            if "error" in item:
                out.append(self._item_error(item["error"]))
                continue
            out.append(self._edoc(item))
        return out

    @staticmethod
    def _edoc(item: dict[str, Any]) -> Edoc:
        """A package as ``getEdoc`` answers it (also each item of ``getEdocs``), its bytes checked
        against content_sha256."""
        package = item["package"]
        if not isinstance(package, bytes):  # a hub answering in JSON (base64)
            package = b64decode(package)
        if hashlib.sha256(package).hexdigest() != item["content_sha256"]:
            raise AxisUnavailable(f"package {item['message_id']} arrived corrupted (SHA-256 mismatch)")
        return Edoc(item["message_id"], item["from"], item["document_id"], item["messagetype"],
                    item["status_code"], _time(item["created_at"]), item["content_sha256"], package)

    def update_statuses(self, updates: Sequence[StatusUpdate]
                        ) -> list[tuple[RecipientState, ...] | AxisError]:
        """Several ``update_status`` in one request (``updateStatuses``), in the order given:
        each the recipients' states or the :class:`AxisError` for that update alone."""
        if not updates:
            return []
        payload = {"updates": [{"message_id": u.message_id, "status": u.status, "reason": u.reason,
                                **({"organ_ids": list(u.organ_ids)} if u.organ_ids is not None
                                   else {})}
                               for u in updates]}
        return [self._item_error(i["error"]) if "error" in i
                else tuple(self._recipient(r) for r in i["recipients"])
                for i in self.call("updateStatuses", payload)["items"]]

    @staticmethod
    def _item_error(error: dict[str, Any], status: int | None = None) -> AxisError:
        details = {k: v for k, v in error.items() if k not in ("code", "message")}
        if not isinstance(status, int):
            status = {"not_found": 404, "forbidden": 403}.get(str(error.get("code")), 400)
        return AxisError(str(error.get("code", "http_error")), str(error.get("message", "")), status,
                         details)

    def get_sent_edoc_list(self, *, since: dt.datetime | None = None, document_id: str | None = None,
                           limit: int = 100) -> list[SentEdoc]:
        payload: dict[str, Any] = {"limit": limit}
        if since is not None:
            payload["since"] = since.isoformat()
        if document_id is not None:
            payload["document_id"] = document_id
        return [
            SentEdoc(i["message_id"], i["document_id"], i["messagetype"], i["status_code"],
                     _time(i["created_at"]), tuple(self._recipient(r) for r in i["recipients"]))
            for i in self.call("getSentEdocList", payload)["items"]
        ]

    def get_agencies_list(self) -> list[AgencyInfo]:
        return [self._agency(a) for a in self.call("getAgenciesList", {})["items"]]

    def register_agency(self, organ_id: str, name: str, *, parent_id: str | None = None, level: str = "",
                        email: str = "", telephone: str = "", address: str = "",
                        certificate_pem: str | None = None, system_id: str | None = None) -> AgencyInfo:
        """Register (or update) an agency reached through this system (admins: through ``system_id``)."""
        payload = {"organ_id": organ_id, "name": name, "parent_id": parent_id, "level": level, "email": email,
                   "telephone": telephone, "address": address, "certificate_pem": certificate_pem,
                   "system_id": system_id}
        return self._agency(self.call("registerAgency", payload))

    def register_callback(self, url: str | None) -> None:
        """Ask for push notifications at ``url`` (None: polling only)."""
        self.call("registerCallback", {"url": url})

    @staticmethod
    def _recipient(r: dict[str, Any]) -> RecipientState:
        return RecipientState(r["organ_id"], r["state"], r["reason"], _time(r["updated_at"]))

    @staticmethod
    def _agency(a: dict[str, Any]) -> AgencyInfo:
        return AgencyInfo(a["organ_id"], a["name"], a["parent_id"], a["level"], a["email"], a["telephone"],
                          a["address"], a["certificate_pem"], a["system_id"])
