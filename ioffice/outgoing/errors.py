"""Domain errors of outgoing documents, each with a message the user can act on."""

from __future__ import annotations

from ioffice.errors import DomainError


class OutgoingError(DomainError):
    pass


class InvalidInput(OutgoingError):
    """Field-by-field problems; the form shows each next to its field."""

    status_code = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Thông tin chưa hợp lệ: " + "; ".join(fields.values()))
        self.fields = fields


class WrongState(OutgoingError):
    status_code = 409


class UnsafePdf(OutgoingError):
    """A PDF with JavaScript or embedded files: refused as a draft (see docs/outgoing.md)."""

    status_code = 422


class ConversionFailed(OutgoingError):
    """LibreOffice could not turn the DOCX into a PDF."""

    status_code = 422


class PersistedFailure(OutgoingError):
    """The operation was refused, but what it recorded must be kept: the caller COMMITS.

    A wrong PIN (the counter that locks the key after five), a browser signature that did not
    verify (the signing session is used up), are audited and must not roll back.
    """


class SignatureRefused(PersistedFailure):
    status_code = 400


class PinRefused(PersistedFailure):
    status_code = 400

    def __init__(self, message: str, *, locked: bool) -> None:
        super().__init__(message)
        self.locked = locked
