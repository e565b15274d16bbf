"""JSON bodies that carry packages in base64, without running ``json`` over the packages.

A package of a 200 KB PDF is ~400 KB of base64 in the request or the answer; ``json.dumps``
scans every character of it for escaping (≈ 1.4 ms per package here, more than the rest of a
``sendEdoc``) although base64 never needs escaping. :func:`dumps_with_blobs` serialises the
rest with ``json`` and splices the base64 text in with one join.
"""

from __future__ import annotations

import binascii
import json
import re
import secrets
from typing import Any

__all__ = ["Blob", "b64decode", "dumps_with_blobs"]


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
