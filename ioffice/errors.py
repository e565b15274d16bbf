"""Base of the domain errors: a message a clerk can act on, in Vietnamese."""


class DomainError(Exception):
    """An operation refused for a reason the user can understand and fix."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Also used for other agencies' records: they must look exactly like missing ones."""

    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Gone(DomainError):
    """A record that existed but whose content was destroyed (a document destroyed with its
    dossier): the message says by which decision."""

    status_code = 410
