"""The request-signing scheme shared by the axis hub and its clients (HMAC-SHA256).

Every request carries four headers::

    X-Axis-System     the connected system's identifier
    X-Axis-Timestamp  Unix time in seconds when the request was made
    X-Axis-Nonce      a random string, never reused by that system
    X-Axis-Signature  hex HMAC-SHA256(secret, canonical request)

The canonical request is the lines ``METHOD``, ``path``, system, timestamp, nonce and
the hex SHA-256 of the body, joined with ``\\n``.  The hub refuses a timestamp outside its
window and a nonce it has already seen, so a captured request cannot be replayed.
Push notifications from the hub to a system's callback URL are signed the same way,
with the receiving system's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

__all__ = [
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "SYSTEM_HEADER",
    "TIMESTAMP_HEADER",
    "canonical_request",
    "sign_headers",
    "signature",
    "verify_signature",
]

SYSTEM_HEADER = "X-Axis-System"
TIMESTAMP_HEADER = "X-Axis-Timestamp"
NONCE_HEADER = "X-Axis-Nonce"
SIGNATURE_HEADER = "X-Axis-Signature"


def canonical_request(method: str, path: str, system_id: str, timestamp: str, nonce: str,
                      body: bytes) -> bytes:
    """The exact bytes that are signed."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, system_id, timestamp, nonce, body_hash)).encode()


def signature(secret: str, method: str, path: str, system_id: str, timestamp: str, nonce: str,
              body: bytes) -> str:
    message = canonical_request(method, path, system_id, timestamp, nonce, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_headers(secret: str, method: str, path: str, system_id: str, body: bytes,
                 *, now: float | None = None) -> dict[str, str]:
    """The four authentication headers for one request."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(18)
    return {
        SYSTEM_HEADER: system_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, system_id, timestamp, nonce, body),
    }


def verify_signature(secret: str, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Constant-time check of ``X-Axis-Signature`` (timestamp and nonce freshness are the caller's)."""
    expected = signature(
        secret,
        method,
        path,
        headers.get(SYSTEM_HEADER, ""),
        headers.get(TIMESTAMP_HEADER, ""),
        headers.get(NONCE_HEADER, ""),
        body,
    )
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))
