"""Parsing form input into service inputs; bad values become field errors, never crashes."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from ioffice.agencies.service import AgencyInput
from ioffice.text import MAX_INT

E = TypeVar("E", bound=enum.Enum)


class FormErrors(dict[str, str]):
    pass


@dataclass(frozen=True)
class Kept:
    """A refused form of a page, shown again: which form (``name``), what was typed, the
    errors. ``Kept.none()`` on a page shown normally."""

    name: str
    values: Any
    errors: dict[str, str]

    @classmethod
    def none(cls) -> Kept:
        return cls("", MultiDict(), {})

    def of(self, name: str) -> Any:
        """The typed values if ``name`` is the refused form, else None (use the defaults)."""
        return self.values if name == self.name else None


def text(form: MultiDict, name: str, max_len: int = 2000) -> str:
    return (form.get(name) or "").strip()[:max_len]


def parse_date(raw: str | None) -> dt.date | None:
    """A date as people type it here, dd/mm/yyyy (d/m/yyyy too), or ISO yyyy-mm-dd (what an
    ``<input type=date>`` and older links send); None if it is neither or no such day."""
    raw = (raw or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def date(form: MultiDict, name: str, errors: FormErrors, label: str) -> dt.date | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    value = parse_date(raw)
    if value is None:
        errors[name] = (f"{label} «{raw}» không phải là ngày hợp lệ: nhập theo dạng "
                        "ngày/tháng/năm, ví dụ 05/12/2026.")
    return value


def integer(form: MultiDict, name: str, errors: FormErrors, label: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[name] = f"{label} phải là số."
        return None
    if abs(value) > MAX_INT:  # no row has such a number; the database driver would fail
        errors[name] = f"{label} quá lớn."
        return None
    return value


def choice(form: MultiDict, name: str, enum_cls: type[E], default: E) -> E:
    raw = form.get(name)
    try:
        return enum_cls(raw) if raw else default
    except ValueError:
        return default


def agency_input(form: MultiDict) -> AgencyInput:
    """The agency form (create and edit). Values are kept whole: the service names a field that
    is too long instead of the form cutting it silently."""
    def raw(name: str) -> str:
        return (form.get(name) or "").strip()

    return AgencyInput(code=raw("code"), name=raw("name"), short_name=raw("short_name"),
                       parent_code=raw("parent_code") or None, address=raw("address"),
                       email=raw("email"), phone=raw("phone"), fax=raw("fax"),
                       website=raw("website"))
