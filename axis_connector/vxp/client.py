"""A client for the national axis's own wire protocol (VXP), every operation of the SDK.

    client = VxpClient("https://vxp.example/api", "my-system-id", secret,
                       connect_timeout=5, read_timeout=60)
    doc_id = client.send_edoc(package, sender="000.00.00.G22", to=["000.00.00.H12"])
    for item in client.get_received_edoc_list("edoc"):
        package = client.get_edoc(item.doc_id)
        ...store durably...
        client.update_status(item.doc_id, "done")

Errors, as :mod:`axis_connector.client` raises them, so the exchange treats both hubs alike:
:class:`VxpError` (an :class:`~axis_connector.client.AxisError`) when the axis answers
``status=FAIL`` with its ``ErrorCode`` and ``ErrorDesc`` (kept as ``code`` and ``message``);
:class:`VxpUnavailable` (an :class:`~axis_connector.client.AxisUnavailable`) when it cannot be
reached, times out, answers a 5xx or something that is not a JSON object.

Retries as the SDK: up to ``attempts`` (3; 2 to 5) for every POST except sendEdoc, only when
the connection failed before an answer (refused, reset, closed); never after a timeout or a TLS
error, never on an answer. Timeouts are always set (the SDK sets none). urllib3 only.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
    TimeoutError,
)

from axis_connector.client import AxisError, AxisUnavailable

from .signing import sdk_hash_file, signed_headers

__all__ = [
    "VxpAgency",
    "VxpAgencyQD20",
    "VxpClient",
    "VxpError",
    "VxpReceived",
    "VxpSent",
    "VxpUnavailable",
    "VxpUnit",
    "code_mapping",
]

MessageType = Literal["edoc", "status"]
SERVICE_TYPE = "eDoc"
OCTET, JSON_TYPE = "application/octet-stream", "application/json"


class VxpError(AxisError):
    """The axis answered ``status=FAIL``: ``code`` is its ``ErrorCode``, ``message`` its own
    ``ErrorDesc`` (shown to the clerk as it came), ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, status: int, operation: str = "") -> None:
        super().__init__(code, message, status, {"operation": operation} if operation else None)
        self.operation = operation


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read whole: its status and body."""

    status: int
    data: bytes


class VxpUnavailable(AxisUnavailable):
    """The axis could not be reached, timed out, failed (5xx) or answered something that is
    not a JSON object: try again later."""


@dataclass(frozen=True, slots=True)
class VxpReceived:
    """One item of ``getReceivedEdocList``: a package waiting for one of this system's
    agencies until acknowledged with ``updateStatus``. The list carries no size and no hash."""

    doc_id: str
    sender: str
    to: tuple[str, ...]
    service_type: str
    message_type: str
    created_time: dt.datetime | None
    updated_time: dt.datetime | None
    status: str
    status_desc: str


@dataclass(frozen=True, slots=True)
class VxpSent:
    """One item of ``getSentEdocList``: a sent package and where it stands at the recipient."""

    sender_doc_id: str
    receiver_doc_id: str
    from_code: str
    to_code: str
    title: str
    notation: str
    sent_time: dt.datetime | None
    received_time: dt.datetime | None
    send_status: str
    send_status_desc: str
    receive_status: str
    receive_status_desc: str


@dataclass(frozen=True, slots=True)
class VxpAgency:
    """One agency of ``getAgenciesList``; ``pid`` is the parent's ``id`` (not its code)."""

    id: str
    pid: str
    code: str
    name: str
    mail: str
    old_code: str


@dataclass(frozen=True, slots=True)
class VxpAgencyQD20:
    """One agency of ``getAgenciesListQD20``: its Decision 20 ``code`` and the older code
    (``code102``) the same agency had, which older packages and systems still use."""

    id: str
    code: str
    name: str
    mail: str
    code102: str


@dataclass(frozen=True, slots=True)
class VxpUnit:
    """One unit of ``getSynchronizeUnit`` (the directory with its change history)."""

    id: str
    pid: str
    code: str
    name: str
    mail: str
    version: str
    center_code: str
    deleted: bool
    modify_date: dt.datetime | None
    is_agency: bool


def code_mapping(agencies: Sequence[VxpAgencyQD20]) -> tuple[dict[str, str], dict[str, str]]:
    """(Decision 20 code -> older code, older code -> Decision 20 code) from
    ``getAgenciesListQD20``; agencies without an older code are left out of both."""
    new_to_old: dict[str, str] = {}
    old_to_new: dict[str, str] = {}
    for agency in agencies:
        if agency.code and agency.code102:
            new_to_old[agency.code] = agency.code102
            old_to_new.setdefault(agency.code102, agency.code)
    return new_to_old, old_to_new


_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S",
                 "%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%d")


def _time(value: Any) -> dt.datetime | None:
    """A time as the axis writes it (ISO, ``yyyy/MM/dd HH:mm:ss``, ``dd/MM/yyyy ...`` or
    epoch milliseconds), aware (Vietnam time when it names no zone); None if unreadable."""
    from .signing import VIETNAM

    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    text = str(value).strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for fmt in _TIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(text[:19], fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _codes(value: Any) -> tuple[str, ...]:
    """``to`` as the axis may give it: a list, a JSON list as text, or codes separated by
    commas or semicolons."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = re.split(r"[,;\s\[\]\"]+", text)
        else:
            value = re.split(r"[,;]", text)
    if not isinstance(value, list | tuple):
        value = [value]
    return tuple(str(v).strip() for v in value if str(v).strip())


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class VxpClient:
    """One connected system (``system_id``) talking to the VXP at ``base_url``. Thread-safe
    (urllib3 pool of at most ``maxsize`` connections, 10 as the SDK)."""

    def __init__(self, base_url: str, system_id: str, secret: str, *,
                 connect_timeout: float = 10.0, read_timeout: float = 60.0, attempts: int = 3,
                 max_answer_bytes: int | None = None, maxsize: int = 10,
                 pool: urllib3.PoolManager | None = None) -> None:
        """``max_answer_bytes``: an answer longer than this is refused while it is read
        (``VxpError`` ``too_large``) instead of being held in memory whole."""
        if not 2 <= attempts <= 5:
            raise ValueError("attempts must be between 2 and 5 (as the SDK)")
        self.base_url = base_url.rstrip("/")
        self.system_id = system_id
        self._secret = secret
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.attempts = attempts
        self.max_answer_bytes = max_answer_bytes
        self._pool = pool or urllib3.PoolManager(maxsize=maxsize, retries=False)

    def __repr__(self) -> str:
        return f"VxpClient({self.base_url!r}, {self.system_id!r})"

    # -- transport ---------------------------------------------------------------------------------

    def request(self, operation: str, params: dict[str, str] | None = None, body: bytes = b"", *,
                method: str = "POST", content_type: str = JSON_TYPE,
                retry: bool = True) -> Answer:
        """Send one signed request; the raw answer (any HTTP status), or VxpUnavailable when
        no answer came. Headers are signed anew for each attempt (a fresh timestamp); only a
        failure before the answer began is retried."""
        url = f"{self.base_url}/{operation}"
        attempts = self.attempts if retry and method == "POST" else 1
        for attempt in range(1, attempts + 1):
            headers = signed_headers(self._secret, self.system_id, params or {},
                                     content_type=content_type)
            try:
                response = self._pool.request(method, url, body=body if method == "POST" else None,
                                              headers=headers, timeout=self.timeout, retries=False,
                                              preload_content=False)
            except (NewConnectionError, ProtocolError) as exc:
                # refused, reset, closed before an answer (NewConnectionError subclasses
                # ConnectTimeoutError in urllib3: this clause must come first)
                if attempt == attempts:
                    raise VxpUnavailable(f"{url}: {exc} ({attempts} lần thử)") from exc
                continue
            except (TimeoutError, ConnectTimeoutError, ReadTimeoutError, SSLError) as exc:
                raise VxpUnavailable(f"{url}: {exc}") from exc
            except HTTPError as exc:
                raise VxpUnavailable(f"{url}: {exc}") from exc
            return self._read(url, response)
        raise AssertionError("unreachable")

    def _read(self, url: str, response: urllib3.BaseHTTPResponse) -> Answer:
        done = False
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream(1 << 16):
                size += len(chunk)
                if self.max_answer_bytes is not None and size > self.max_answer_bytes:
                    raise VxpError("too_large", f"câu trả lời vượt {self.max_answer_bytes} byte",
                                   response.status, url.rsplit("/", 1)[-1])
                chunks.append(chunk)
            done = True
            return Answer(response.status, b"".join(chunks))
        except HTTPError as exc:  # timed out or cut while the answer was read
            raise VxpUnavailable(f"{url}: {exc}") from exc
        finally:
            if done:
                response.release_conn()
            else:  # the rest of the answer is not read: the connection cannot be reused
                response.close()

    def call(self, operation: str, params: dict[str, str] | None = None, body: bytes = b"", *,
             content_type: str = JSON_TYPE, retry: bool = True) -> dict[str, Any]:
        """One operation answered in JSON: the answer, or VxpError / VxpUnavailable. The HTTP
        status is ignored as the SDK ignores it, except that a 5xx is a transport failure."""
        response = self.request(operation, params, body, content_type=content_type, retry=retry)
        return self._answer(operation, response)

    def _answer(self, operation: str, response: Answer) -> dict[str, Any]:
        try:
            data = json.loads(response.data or b"")
        except ValueError:  # UnicodeDecodeError included
            data = None
        where = f"{self.base_url}/{operation}"
        if response.status >= 500:
            desc = f": {data.get('ErrorDesc')}" if isinstance(data, dict) and data.get("ErrorDesc") else ""
            raise VxpUnavailable(f"{where}: HTTP {response.status}{desc}")
        if not isinstance(data, dict):
            snippet = (response.data or b"")[:120].decode("utf-8", "replace")
            raise VxpUnavailable(f"{where}: câu trả lời không phải JSON (HTTP {response.status}): "
                                 f"{snippet!r}")
        status = _text(data.get("status")).strip().upper()
        code = _text(data.get("ErrorCode", "0" if status == "OK" else "")).strip()
        ok = status == "OK" if status else code == "0"
        if not ok:
            raise VxpError(code or "FAIL", _text(data.get("ErrorDesc")).strip(), response.status,
                           operation)
        return data

    @staticmethod
    def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
        items = data.get("data")
        if items is None:
            return []
        if not isinstance(items, list):
            raise VxpUnavailable(f"'data' không phải danh sách: {type(items).__name__}")
        return [i for i in items if isinstance(i, dict)]

    # -- documents and statuses --------------------------------------------------------------------

    def send_edoc(self, package: bytes, messagetype: MessageType = "edoc", *, sender: str,
                  to: Sequence[str] | None = None) -> str:
        """Post a package (a document, or a status package with ``messagetype="status"``);
        the axis's ``DocId``. Never retried here (as the SDK): a resend after a lost answer
        may be delivered twice, and the recipient's receipt is what dedupes (docs/exchange.md,
        "Idempotence of sendEdoc")."""
        body = package + b"\r\n"
        params = {"from": sender, "servicetype": SERVICE_TYPE, "messagetype": messagetype,
                  "hash-file": sdk_hash_file(body)}
        if to is not None:
            params["to"] = json.dumps(list(to), separators=(",", ":"))
        data = self.call("sendEdoc", params, body, content_type=OCTET, retry=False)
        doc_id = _text(data.get("DocId", data.get("docId"))).strip()
        if not doc_id:
            raise VxpUnavailable(f"{self.base_url}/sendEdoc: câu trả lời OK mà không có DocId")
        return doc_id

    def get_received_edoc_list(self, messagetype: MessageType = "edoc") -> list[VxpReceived]:
        """Every item waiting for this system (no paging)."""
        data = self.call("getReceivedEdocList", {"servicetype": SERVICE_TYPE,
                                                 "messagetype": messagetype})
        return [VxpReceived(_text(i.get("docId")), _text(i.get("from")), _codes(i.get("to")),
                            _text(i.get("serviceType")), _text(i.get("messageType")) or messagetype,
                            _time(i.get("created_time")), _time(i.get("updated_time")),
                            _text(i.get("status")), _text(i.get("status_desc")))
                for i in self._items(data) if _text(i.get("docId"))]

    def get_edoc(self, doc_id: str) -> bytes:
        """One package (``data``, base64, wrapped or not). Raises VxpError when ``data`` is
        missing or not base64, with ``code`` ``bad_package``: the caller refuses such an item."""
        try:
            data = self.call("getEdoc", {"docId": doc_id}, b"{}").get("data")
        except VxpError as exc:
            if exc.code != "too_large":
                raise
            raise VxpError("bad_package", f"getEdoc {doc_id}: {exc.message}", exc.status, "getEdoc") from exc
        if not isinstance(data, str) or not data.strip():
            raise VxpError("bad_package", f"getEdoc {doc_id}: không có dữ liệu gói tin", 200, "getEdoc")
        try:
            return binascii.a2b_base64(re.sub(r"\s+", "", data), strict_mode=True)
        except (binascii.Error, ValueError) as exc:  # ValueError: not ASCII
            raise VxpError("bad_package", f"getEdoc {doc_id}: dữ liệu không phải base64 ({exc})",
                           200, "getEdoc") from exc

    def download_edoc(self, doc_id: str) -> bytes:
        """One package as raw bytes (GET ``downloadEdoc``). An answer that is a JSON object
        with ``status=FAIL`` is the axis's refusal."""
        response = self.request("downloadEdoc", {"docId": doc_id}, method="GET")
        if response.status >= 500:
            raise VxpUnavailable(f"{self.base_url}/downloadEdoc: HTTP {response.status}")
        body = response.data or b""
        if body.lstrip()[:1] == b"{":
            self._answer("downloadEdoc", response)  # raises on FAIL
        return body

    def update_status(self, doc_id: str, status: Literal["done", "fail"]) -> None:
        """Acknowledge a pulled item: ``done`` once stored durably, ``fail`` once refused
        (the axis then stops offering it). Not a processing status."""
        if status not in ("done", "fail"):
            raise ValueError("status must be 'done' or 'fail'")
        self.call("updateStatus", {"docId": doc_id, "status": status}, b"{}")

    def get_sent_edoc_list(self, messagetype: MessageType = "edoc", *, doc_id: str = "") -> list[VxpSent]:
        data = self.call("getSentEdocList", {"servicetype": SERVICE_TYPE, "messagetype": messagetype,
                                             "docId": doc_id})
        return [VxpSent(_text(i.get("senderDocId")), _text(i.get("receiverDocId")),
                        _text(i.get("fromCode")), _text(i.get("toCode")), _text(i.get("title")),
                        _text(i.get("notation")), _time(i.get("sentTime")),
                        _time(i.get("receivedTime")), _text(i.get("sendStatus")),
                        _text(i.get("sendStatusDesc")), _text(i.get("receiveStatus")),
                        _text(i.get("receiveStatusDesc")))
                for i in self._items(data)]

    def count_received(self, messagetype: MessageType = "edoc") -> int:
        """``countReceiveEdoc`` (documents) or ``countReceiveStatus`` (statuses)."""
        operation = "countReceiveStatus" if messagetype == "status" else "countReceiveEdoc"
        data = self.call(operation, {"servicetype": SERVICE_TYPE, "messagetype": messagetype}, b"{}")
        try:
            return int(data.get("count", 0))
        except (TypeError, ValueError) as exc:
            raise VxpUnavailable(f"{operation}: count không phải số: {data.get('count')!r}") from exc

    # -- directory ---------------------------------------------------------------------------------

    def get_agencies_list(self) -> list[VxpAgency]:
        return [VxpAgency(_text(i.get("id")), _text(i.get("pid")), _text(i.get("code")),
                          _text(i.get("name")), _text(i.get("mail")), _text(i.get("oldCode")))
                for i in self._items(self.call("getAgenciesList")) if _text(i.get("code"))]

    def get_agencies_list_qd20(self, level: int | str = "") -> list[VxpAgencyQD20]:
        """The directory in Decision 20 codes with each agency's older code (``code102``);
        :func:`code_mapping` turns it into look-ups both ways."""
        data = self.call("getAgenciesListQD20", {"level": str(level)})
        return [VxpAgencyQD20(_text(i.get("id")), _text(i.get("code")), _text(i.get("name")),
                              _text(i.get("mail")), _text(i.get("code102")))
                for i in self._items(data) if _text(i.get("code"))]

    def get_synchronize_unit(self) -> list[VxpUnit]:
        return [VxpUnit(_text(i.get("id")), _text(i.get("pid")), _text(i.get("code")),
                        _text(i.get("name")), _text(i.get("mail")), _text(i.get("version")),
                        _text(i.get("centerCode")), _bool(i.get("deleted")),
                        _time(i.get("modifyDate")), _bool(i.get("isAgency")))
                for i in self._items(self.call("getSynchronizeUnit"))]

    def register_agency(self, code: str, name: str, *, pcode: str = "", id: str = "",
                        mail: str = "", mobile: str = "", fax: str = "") -> dict[str, Any]:
        """Register (or update) an agency; the axis's answer."""
        body = json.dumps({"id": id, "pcode": pcode, "code": code, "name": name, "mail": mail,
                           "mobile": mobile, "fax": fax}, ensure_ascii=False).encode()
        return self.call("registerAgency", {}, body)

    def delete_agency(self, code: str) -> None:
        self.call("deleteAgency", {"AgencyCode": code}, b"{}")
