"""Bodies that carry packages, in two forms.

JSON (``application/json``), the form every client may use: a package is a base64 string. A
package of a 200 KB PDF is ~400 KB of base64 in the request or the answer; ``json.dumps``
scans every character of it for escaping (≈ 1.4 ms per package here, more than the rest of a
``sendEdoc``) although base64 never needs escaping. :func:`dumps_with_blobs` serialises the
rest with ``json`` and splices the base64 text in with one join.

Binary (:data:`BLOBS_MEDIA_TYPE`), what :class:`~axis_connector.client.AxisClient` sends and
asks for: the same JSON with each package replaced by ``{"$blob": <length in bytes>}``, one
NUL byte (JSON text never holds one: control characters are escaped), then the packages'
bytes, in the order their markers appear. No base64 at either end and no 400 KB JSON strings
to scan: ~3 ms of CPU less per document across sender, hub and recipient (bench/exchange.py).
:func:`dumps_binary` and :func:`loads_binary`.
"""

from __future__ import annotations

import binascii
import json
import re
import secrets
from typing import Any

__all__ = ["BLOBS_MEDIA_TYPE", "Blob", "WireError", "b64decode", "dumps_binary", "dumps_with_blobs",
           "loads_binary"]

BLOBS_MEDIA_TYPE = "application/vnd.ioffice.axis-blobs"


class Blob:
    """Bytes to appear in the JSON document as a base64 string."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def dumps_with_blobs(payload: Any) -> bytes:
    """``json.dumps(payload, ensure_ascii=False).encode()``, where every :class:`Blob` becomes the
    base64 string of its bytes (standard alphabet, padded, no newlines)."""
    token = secrets.token_hex(8)
    blobs: list[bytes] = []

    def default(value: Any) -> Any:
        if isinstance(value, Blob):
            blobs.append(value.data)
            return f"{token}:{len(blobs) - 1}"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(payload, ensure_ascii=False, default=default).encode()
    if not blobs:
        return text
    # the markers are quoted JSON strings of our own random token: nothing else can match
    parts = re.split(rb'"' + token.encode() + rb':(\d+)"', text)
    out: list[bytes] = [parts[0]]
    for index in range(1, len(parts), 2):
        out += [b'"', binascii.b2a_base64(blobs[int(parts[index])], newline=False), b'"', parts[index + 1]]
    return b"".join(out)


def b64decode(text: str, *, strict: bool = False) -> bytes:
    """Base64 from a JSON string. ``strict``: only the alphabet and correct padding."""
    return binascii.a2b_base64(text, strict_mode=strict)


class WireError(ValueError):
    """A binary body that does not follow the format (its message says how)."""


def dumps_binary(payload: Any) -> tuple[bytes, str]:
    """The body and its media type: :data:`BLOBS_MEDIA_TYPE` if ``payload`` holds a
    :class:`Blob`, else plain JSON (``application/json``, as :func:`dumps_with_blobs`)."""
    blobs: list[bytes] = []

    def default(value: Any) -> Any:
        if isinstance(value, Blob):
            blobs.append(value.data)
            return {"$blob": len(value.data)}
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(payload, ensure_ascii=False, default=default).encode()
    if not blobs:
        return text, "application/json"
    return b"".join([text, b"\x00", *blobs]), BLOBS_MEDIA_TYPE


def loads_binary(body: bytes) -> Any:
    """The payload of a :func:`dumps_binary` body, each marker replaced by its bytes. Raises
    :class:`WireError` unless the JSON is valid and the markers' lengths account for every
    byte after the NUL exactly."""
    cut = body.find(b"\x00")
    if cut < 0:
        raise WireError("thiếu byte NUL ngăn phần JSON với phần dữ liệu")
    view = memoryview(body)
    offset = cut + 1

    def hook(obj: dict[str, Any]) -> Any:
        nonlocal offset
        if "$blob" not in obj:
            return obj
        length = obj["$blob"]
        if len(obj) != 1 or type(length) is not int or length < 0 or offset + length > len(body):
            raise WireError("dấu $blob không hợp lệ hoặc vượt quá phần dữ liệu")
        data = bytes(view[offset:offset + length])
        offset += length
        return data

    try:
        payload = json.loads(body[:cut], object_hook=hook)
    except WireError:
        raise
    except ValueError as exc:  # invalid JSON or UTF-8
        raise WireError(f"phần JSON không hợp lệ: {exc}") from None
    if offset != len(body):
        raise WireError(f"còn {len(body) - offset} byte không thuộc dấu $blob nào")
    return payload
