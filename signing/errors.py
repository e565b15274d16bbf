"""Domain errors of the signing library.

Messages are in Vietnamese because a clerk reads them; the exception class tells the program
what happened.
"""

from __future__ import annotations

__all__ = [
    "CertificateRejected",
    "ChangesNotPermitted",
    "InvalidSignatureValue",
    "PendingSignatureError",
    "PinLocked",
    "PkiError",
    "SigningError",
    "WrongPin",
]


class SigningError(Exception):
    """Base class of every error raised by :mod:`signing`."""


class PkiError(SigningError):
    """The PKI directory is missing, damaged, or the passphrase is wrong."""


class CertificateRejected(SigningError):
    """The signer's certificate may not be used to sign now (revoked, expired, untrusted)."""


class ChangesNotPermitted(SigningError):
    """The document's certification (DocMDP) or a field lock forbids the new signature."""


class InvalidSignatureValue(SigningError):
    """A signature value sent by a browser or remote service does not verify."""


class PendingSignatureError(SigningError):
    """A pending two-phase signature is unknown, expired, already used, or bound elsewhere."""


class WrongPin(SigningError):
    """The PIN does not unlock the server-held key."""


class PinLocked(SigningError):
    """Too many wrong PINs: the server-held key is locked."""
