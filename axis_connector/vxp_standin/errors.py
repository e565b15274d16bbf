"""The stand-in's refusals: one ``ErrorCode`` each (the real axis's codes are not public).

The table is ``ERRORS``: name -> (ErrorCode, HTTP status). docs/vxp.md lists it for readers.
"""

from __future__ import annotations

__all__ = ["ERRORS", "VxpError"]

ERRORS: dict[str, tuple[str, int]] = {
    "INTERNAL": ("1", 500),
    "MISSING_HEADER": ("101", 400),
    "UNKNOWN_SYSTEM": ("102", 401),
    "BAD_TIMESTAMP": ("103", 400),
    "STALE_TIMESTAMP": ("104", 401),
    "BAD_VERSION": ("105", 400),
    "CONTENT_TYPE_MISMATCH": ("106", 400),
    "BAD_SIGN_HEADER": ("107", 401),
    "BAD_SIGN_HEADER_KEY": ("108", 401),
    "BAD_HASH_HEADER": ("109", 401),
    "BAD_HASH_FILE": ("110", 400),
    "TOO_LARGE": ("111", 413),
    "BAD_PARAMETER": ("120", 400),
    "BAD_PACKAGE": ("121", 400),
    "FROM_NOT_YOURS": ("130", 403),
    "FROM_MISMATCH": ("131", 400),
    "NO_RECIPIENT": ("132", 400),
    "UNKNOWN_RECIPIENT": ("133", 400),
    "DOC_NOT_FOUND": ("140", 404),
    "AGENCY_TAKEN": ("150", 409),
    "AGENCY_NOT_FOUND": ("151", 404),
    "AGENCY_NOT_YOURS": ("152", 403),
    "UNKNOWN_OPERATION": ("160", 404),
    "METHOD_NOT_ALLOWED": ("161", 405),
}


class VxpError(Exception):
    """A refusal: answered ``{"status": "FAIL", "ErrorCode": code, "ErrorDesc": message}``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.code, self.http_status = ERRORS[name]
