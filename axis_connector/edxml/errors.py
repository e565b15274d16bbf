"""Errors raised while building, parsing, signing or verifying edXML packages."""

from __future__ import annotations

__all__ = ["EdxmlError", "SignatureError"]


class EdxmlError(ValueError):
    """A package (or the data for one) breaks the format.

    ``code`` is a stable English identifier for programs (``missing_element``,
    ``invalid_date``, ...), ``path`` the element path where the problem is
    (``/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId``) and
    ``detail`` a message in Vietnamese that a clerk or an integrator can act on.
    """

    def __init__(self, code: str, path: str, detail: str) -> None:
        self.code = code
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail} [{code}]" if path else f"{detail} [{code}]")


class SignatureError(EdxmlError):
    """The package's XML signature is missing, invalid, untrusted or not the sender's."""
