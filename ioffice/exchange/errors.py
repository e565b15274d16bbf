"""Domain errors of the exchange (Vietnamese messages a clerk can act on)."""

from __future__ import annotations

from ioffice.errors import DomainError


class ExchangeError(DomainError):
    pass


class ConfidentialRefused(ExchangeError):
    """Văn bản mật không được gửi qua trục liên thông."""

    def __init__(self, label: str) -> None:
        super().__init__(f"Văn bản có độ mật \"{label}\" không được gửi qua trục liên thông văn "
                         "bản; hãy gửi theo đường văn bản mật (giấy, giao trực tiếp).")


class UnknownRecipients(ExchangeError):
    status_code = 422

    def __init__(self, organ_ids: list[str]) -> None:
        super().__init__("Không tìm thấy cơ quan nhận trong danh bạ trục liên thông: "
                         + ", ".join(organ_ids) + ".")
        self.organ_ids = organ_ids


class NoHub(ExchangeError):
    def __init__(self, organ_id: str) -> None:
        super().__init__(f"Chưa cấu hình trục liên thông cho cơ quan {organ_id} "
                         "(IOFFICE_EXCHANGE_HUBS).")


class NotRetryable(ExchangeError):
    """Only a dead letter goes back into the queue: a pending package is already in it, a sent
    one has arrived at the axis."""

    status_code = 409


class AlreadyDecided(ExchangeError):
    status_code = 409


class InvalidCursor(ExchangeError):
    """A paging cursor that is not one of ours (the form field it came in is named)."""

    status_code = 422

    def __init__(self, field: str = "after") -> None:
        super().__init__("Con trỏ phân trang không hợp lệ; hãy tải lại từ trang đầu.")
        self.fields = {field: "Con trỏ phân trang không hợp lệ."}
