"""The input rule of :mod:`ioffice.text` applied to every request, and bounded integers in URLs.

Every form field, query argument and uploaded file name goes through :func:`ioffice.text.clean`
before a handler reads it: a refused character answers 422 naming the field, and the handler
sees the NFC form of the rest. Passwords are left exactly as typed (their hashes were made from
the bytes the user typed). ``<int:...>`` in a route is capped at :data:`ioffice.text.MAX_INT`:
beyond it the URL matches nothing (404) instead of reaching the database driver (500).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map

from ioffice.errors import DomainError
from ioffice.text import MAX_INT, UnsafeText, clean, parse_int, unsafe_message

# names users read in the message; any other field is named by its form name
LABELS = {
    "subject": "Trích yếu", "issuer_name": "Cơ quan ban hành", "issuer_code": "Mã cơ quan",
    "number": "Số", "notation": "Ký hiệu", "signer": "Người ký", "notes": "Ghi chú",
    "instruction": "Ý kiến chỉ đạo", "reason": "Lý do", "note": "Nội dung", "result": "Kết quả",
    "q": "Từ khóa", "name": "Tên", "full_name": "Họ và tên", "username": "Tên đăng nhập",
    "address": "Địa chỉ", "comment": "Ý kiến", "files": "Tên tệp", "file": "Tên tệp",
}
_UNTOUCHED = ("password", "mat_khau", "csrf_token")


class UnsafeInput(DomainError):
    status_code = 422

    def __init__(self, field: str, char: str) -> None:
        self.field = field
        label = LABELS.get(field, field)
        super().__init__(f"Trường «{label}» {unsafe_message(char)}")
        self.fields = {field: self.message}


class IdConverter(IntegerConverter):
    """Flask's ``int`` converter, bounded by what the database can hold."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_INT, signed: bool = False) -> None:
        cap = MAX_INT if max is None or max > MAX_INT else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=cap, signed=signed)


def arg_int(args: MultiDict, name: str, label: str) -> int | None:
    """An optional whole-number argument of a query string (a year, an id, a page cursor):
    None when absent or empty; refused (400, naming it) when garbage, negative or too large."""
    raw = args.get(name)
    if raw is None or not raw.strip():
        return None
    value = parse_int(raw)
    if value is None:
        raise DomainError(f"Tham số «{label}» không hợp lệ: phải là số nguyên dương.")
    return value


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (converters are bound when rules are added)."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_clean_request)


def _clean_request() -> None:
    request.args = _clean_fields(request.args)  # type: ignore[misc]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        request.form = _clean_fields(request.form)  # type: ignore[misc]
        for field, upload in request.files.items(multi=True):
            _clean_filename(field, upload)


def _clean_fields(fields: MultiDict) -> ImmutableMultiDict:
    cleaned = []
    for name, value in fields.items(multi=True):
        if not name.startswith(_UNTOUCHED) and not name.endswith("password"):
            value = _clean(name, value)
        cleaned.append((_clean(name, name), value))
    return ImmutableMultiDict(cleaned)


def _clean_filename(field: str, upload: FileStorage) -> None:
    if upload.filename:
        upload.filename = _clean(field, upload.filename)


def _clean(field: str, value: str) -> str:
    try:
        return clean(value)
    except UnsafeText as exc:
        raise UnsafeInput(field, exc.char) from None


def local_path(target: str | None, default: str) -> str:
    """``target`` when it is a path of this site (``/...``), else ``default``: a redirect after
    a form never leaves the site (``//host``, ``/\\host`` and ``scheme:`` are refused)."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and not urlsplit(target).netloc:
        return target
    return default
