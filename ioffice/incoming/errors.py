from __future__ import annotations

from typing import TYPE_CHECKING

from ioffice.errors import DomainError

if TYPE_CHECKING:
    from ioffice.incoming.models import IncomingDocument


class IncomingError(DomainError):
    pass


class InvalidInput(IncomingError):
    """Field-by-field problems; the form shows each next to its field."""

    status_code = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Thông tin chưa hợp lệ: " + "; ".join(fields.values()))
        self.fields = fields


class DuplicateSuspected(IncomingError):
    """The same document seems registered already; the clerk decides."""

    status_code = 409

    def __init__(self, matches: list[IncomingDocument]) -> None:
        first = matches[0]
        where = f"số đến {first.incoming_number}" if first.incoming_number else "đang chờ vào sổ"
        super().__init__(f"Văn bản {first.number_notation} của {first.issuer_name} có thể đã được "
                         f"tiếp nhận ({where}). Kiểm tra rồi xác nhận nếu vẫn muốn vào sổ.")
        self.matches = matches


class AlreadySubmitted(IncomingError):
    """The same registration form was submitted twice; the first one stands."""

    status_code = 409

    def __init__(self, document: IncomingDocument) -> None:
        super().__init__(f"Biểu mẫu này đã được gửi: văn bản đã vào sổ với số đến "
                         f"{document.incoming_number}.")
        self.document = document
