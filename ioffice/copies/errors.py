"""Domain errors of copies, each with a Vietnamese message the user can act on."""

from __future__ import annotations

from ioffice.errors import DomainError


class CopyError(DomainError):
    pass


class InvalidCopy(CopyError):
    """The request cannot be made as filled in (pages, leader, recipients, the original)."""

    status_code = 422


class WrongState(CopyError):
    status_code = 409
