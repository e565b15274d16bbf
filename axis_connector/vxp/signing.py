"""The request headers of the national axis's wire protocol (VXP), as its public Java SDK
builds them (``shared/spec/vxp-wire.md``, "Requests").

Every parameter of a call travels as a header ``XroadVnpt-<name>``; every call adds
``systemid``, ``timestamp``, ``version`` and ``Content-Type``. The request is authenticated by
an HMAC of the headers, not of the body:

* ``XroadVnpt-sign-header``: a compact JSON object of every ``XroadVnpt-<name>`` header sent
  and its value (the exact string is what is signed, so the receiver must not re-serialise it);
* ``XroadVnpt-sign-header-key``: the same names without the prefix, joined by ``;``;
* ``XroadVnpt-hash-header``: lowercase hex HMAC-SHA256(secret, that exact string).

Only ``XroadVnpt-hash-file`` (sendEdoc) covers the body: the SHA-256 of the body written with
each byte as ``%x`` (no zero padding), the SDK's quirk, reproduced by :func:`sdk_hash_file`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping

__all__ = [
    "HEADER_PREFIX",
    "VERSION",
    "VIETNAM",
    "hash_header",
    "sdk_hash_file",
    "sdk_timestamp",
    "signed_headers",
]

HEADER_PREFIX = "XroadVnpt-"
VERSION = "3.0.201608"
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
_AUTH_NAMES = ("sign-header", "sign-header-key", "hash-header")


def sdk_hash_file(body: bytes) -> str:
    """SHA-256 of ``body`` in hex, each byte as ``%x``: ``0x0a`` is written ``a``, ``0x00``
    ``0``. Not a faithful hex digest (two digests can share a text): the SDK's way, which the
    axis checks, so it is reproduced exactly."""
    return "".join(format(b, "x") for b in hashlib.sha256(body).digest())


def sdk_timestamp(now: dt.datetime | None = None) -> str:
    """``ddMMyyyy'T'HHmmss+SSSS`` in Vietnam time. In Java's SimpleDateFormat ``+`` is a
    literal and ``SSSS`` the milliseconds padded to four digits (it reads like a zone offset
    and is not one)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(VIETNAM)
    return f"{moment:%d%m%Y}T{moment:%H%M%S}+{moment.microsecond // 1000:04d}"


def hash_header(secret: str, sign_header: str) -> str:
    """Lowercase hex HMAC-SHA256 of the exact ``sign-header`` string."""
    return hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: str, system_id: str, params: Mapping[str, str], *,
                   content_type: str, now: dt.datetime | None = None) -> dict[str, str]:
    """Every header of one call: ``params`` (names without the prefix, in the order given),
    then systemid, timestamp, version and Content-Type, each as ``XroadVnpt-<name>``, and the
    three authentication headers over them; plus the plain ``Content-Type``."""
    values: dict[str, str] = {}
    for name, value in params.items():
        if name in _AUTH_NAMES:
            raise ValueError(f"{name} is computed, not a parameter")
        values[name] = str(value)
    values.update({"systemid": system_id, "timestamp": sdk_timestamp(now), "version": VERSION,
                   "Content-Type": content_type})
    prefixed = {HEADER_PREFIX + name: value for name, value in values.items()}
    sign_header = json.dumps(prefixed, separators=(",", ":"), ensure_ascii=True)
    return {
        **prefixed,
        "Content-Type": content_type,
        HEADER_PREFIX + "sign-header": sign_header,
        HEADER_PREFIX + "sign-header-key": ";".join(values),
        HEADER_PREFIX + "hash-header": hash_header(secret, sign_header),
    }
