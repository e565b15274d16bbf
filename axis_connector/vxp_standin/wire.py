"""The VXP request checks, written from docs (``vxp-wire.md``) alone: headers, timestamp, HMAC.

Independent of :mod:`axis_connector.vxp` (the client) on purpose: the same reading of the spec
written twice is what makes the client's tests over HTTP mean something.

Readings of the spec made here (docs/vxp.md says the same):

- ``XroadVnpt-timestamp`` is ``ddMMyyyy'T'HHmmss+SSSS`` in Java ``SimpleDateFormat`` terms:
  ``+`` is a literal and ``SSSS`` the milliseconds written on four digits (``0042``), not a
  zone. The wall time is read in Vietnam time (UTC+7, ``TIMESTAMP_UTC_OFFSET_MINUTES``).
- ``XroadVnpt-sign-header`` holds every ``XroadVnpt-*`` header sent except the three that
  carry the signature itself (``sign-header``, ``sign-header-key``, ``hash-header``);
  ``hash-file`` is in it, which is how the HMAC covers the body.
- Header names compare without regard to case (HTTP), values exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import VxpError

__all__ = ["PREFIX", "SIGNATURE_HEADERS", "VERSION", "Caller", "check_hash_file", "check_request",
           "hash_file", "parse_timestamp"]

PREFIX = "XroadVnpt-"
VERSION = "3.0.201608"
SIGNATURE_HEADERS = frozenset({"sign-header", "sign-header-key", "hash-header"})
"""Suffixes (lowercase) of the headers that carry the signature and so are not in it."""
_TIMESTAMP = re.compile(r"(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{4})")


@dataclass(frozen=True, slots=True)
class Caller:
    """A request whose headers were checked: who sent it and its ``XroadVnpt-*`` headers."""

    system_id: str
    params: Mapping[str, str]
    """``XroadVnpt-<name>`` values by lowercase ``name``."""

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name.lower(), default)


def hash_file(body: bytes) -> str:
    """SHA-256 of ``body``, each byte as ``%x``: no zero padding (the SDK's quirk)."""
    return "".join(f"{b:x}" for b in hashlib.sha256(body).digest())


def parse_timestamp(text: str, utc_offset: dt.timedelta) -> dt.datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise VxpError("BAD_TIMESTAMP", f"XroadVnpt-timestamp {text!r} không đúng định dạng "
                       "ddMMyyyy'T'HHmmss+SSSS (ví dụ 03122026T143005+0042)")
    day, month, year, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        local = dt.datetime(year, month, day, hour, minute, second,
                            millis * 1000 if millis < 1000 else 0, tzinfo=dt.timezone(utc_offset))
    except ValueError:
        raise VxpError("BAD_TIMESTAMP",
                       f"XroadVnpt-timestamp {text!r} không phải một thời điểm có thật") from None
    return local.astimezone(dt.UTC)


def _text(value: str) -> str:
    """A header value as the client wrote it: WSGI hands over the bytes decoded as Latin-1."""
    return _wire(value).decode("utf-8", "replace")


def _wire(value: str) -> bytes:
    return value.encode("latin-1", "replace")


def _vxp_headers(headers: Mapping[str, str] | object) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers.items():  # type: ignore[attr-defined]
        if name.lower().startswith(PREFIX.lower()):
            found[name[len(PREFIX):].lower()] = value
    return found


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name.lower())
    if value is None or value == "":
        raise VxpError("MISSING_HEADER", f"thiếu header {PREFIX}{name}")
    return value


def _sign_header(text: str) -> dict[str, str]:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k.lower() for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise VxpError("BAD_SIGN_HEADER", f"{PREFIX}sign-header có tên header lặp lại")
        return dict(pairs)

    try:
        parsed = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError:
        raise VxpError("BAD_SIGN_HEADER", f"{PREFIX}sign-header không phải JSON") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise VxpError("BAD_SIGN_HEADER", f"{PREFIX}sign-header phải là đối tượng JSON tên header -> chuỗi")
    return parsed


def check_request(headers: object, secrets: Mapping[str, str], *, now: dt.datetime,
                  max_skew: dt.timedelta, utc_offset: dt.timedelta) -> Caller:
    """Check every common header and the HMAC; return the caller or raise :class:`VxpError`.

    Order: presence, system, version, timestamp, content type, sign-header against the
    headers sent, sign-header-key, then the HMAC (the only step that needs the secret)."""
    raw = _vxp_headers(headers)
    params = {k: _text(v) for k, v in raw.items()}
    for name in ("systemid", "timestamp", "version", "Content-Type", "sign-header", "sign-header-key",
                 "hash-header"):
        _required(params, name)
    system_id = params["systemid"]
    secret = secrets.get(system_id)
    if secret is None:
        raise VxpError("UNKNOWN_SYSTEM", f"hệ thống {system_id!r} chưa được kết nối với trục")
    if params["version"] != VERSION:
        raise VxpError("BAD_VERSION", f"{PREFIX}version phải là {VERSION}, nhận {params['version']!r}")
    sent_at = parse_timestamp(params["timestamp"], utc_offset)
    if abs(now - sent_at) > max_skew:
        raise VxpError("STALE_TIMESTAMP", f"{PREFIX}timestamp lệch giờ trục quá "
                       f"{int(max_skew.total_seconds())} giây (giờ gửi {sent_at.isoformat()}, "
                       f"giờ trục {now.isoformat(timespec='seconds')})")
    plain_type = _text(headers.get("Content-Type", ""))  # type: ignore[attr-defined]
    if plain_type != params["content-type"]:
        raise VxpError("CONTENT_TYPE_MISMATCH", f"Content-Type {plain_type!r} khác "
                       f"{PREFIX}Content-Type {params['content-type']!r}")
    signed = _sign_header(params["sign-header"])
    signed_lower = {}
    for key, value in signed.items():
        if not key.lower().startswith(PREFIX.lower()):
            raise VxpError("BAD_SIGN_HEADER",
                           f"{PREFIX}sign-header chứa {key!r}: chỉ ký các header {PREFIX}*")
        signed_lower[key[len(PREFIX):].lower()] = value
    expected = {k: v for k, v in params.items() if k not in SIGNATURE_HEADERS}
    if signed_lower != expected:
        missing = sorted(set(expected) - set(signed_lower))
        extra = sorted(set(signed_lower) - set(expected))
        differ = sorted(k for k in set(expected) & set(signed_lower) if expected[k] != signed_lower[k])
        raise VxpError("BAD_SIGN_HEADER", f"{PREFIX}sign-header không khớp các header đã gửi "
                       f"(thiếu {missing}, thừa {extra}, khác giá trị {differ})")
    key_names = [n.strip().lower() for n in params["sign-header-key"].split(";")]
    if sorted(key_names) != sorted(signed_lower):
        raise VxpError("BAD_SIGN_HEADER_KEY", f"{PREFIX}sign-header-key phải liệt kê đúng các tên trong "
                       f"sign-header, không tiền tố, nối bằng ';' (nhận {params['sign-header-key']!r})")
    mac = hmac.new(secret.encode(), _wire(raw["sign-header"]), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), _wire(raw["hash-header"])):
        raise VxpError("BAD_HASH_HEADER", f"{PREFIX}hash-header (HMAC-SHA256 của sign-header) không đúng")
    return Caller(system_id, params)


def check_hash_file(caller: Caller, body: bytes) -> None:
    sent = _required(caller.params, "hash-file")
    if not hmac.compare_digest(sent.lower().encode(), hash_file(body).encode()):
        raise VxpError("BAD_HASH_FILE", f"{PREFIX}hash-file không khớp SHA-256 của thân yêu cầu "
                       "(mỗi byte viết %x, không thêm số 0 ở đầu)")
