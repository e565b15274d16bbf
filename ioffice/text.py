"""Rules for text that comes in from outside: forms, query strings, API bodies.

Control characters (C0 other than tab, CR and LF) and the bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069) are refused: they hide or reorder what a clerk reads ("gdp.exe"
shown for "exe.pdg"), break exports and logs, and no Vietnamese text needs them. Text is
normalised to NFC, so "Nội vụ" typed with combining marks (NFD, as some macOS and mobile
keyboards send it) is stored and searched as the same string as the precomposed form.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_INT", "UnsafeText", "clean", "find_unsafe", "parse_int", "unsafe_message"]

# the largest integer every database column and parameter here can hold (SQLite INTEGER,
# PostgreSQL BIGINT); larger ones crashed the drivers (500) instead of finding nothing
MAX_INT = 2**63 - 1

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class UnsafeText(ValueError):
    """Text holding a character refused by :func:`clean`."""

    def __init__(self, char: str) -> None:
        super().__init__(f"U+{ord(char):04X}")
        self.char = char


def find_unsafe(value: str) -> str | None:
    """The first refused character of ``value``, or None."""
    match = _UNSAFE.search(value)
    return match.group() if match else None


def clean(value: str) -> str:
    """``value`` in NFC; raises :class:`UnsafeText` for a refused character."""
    char = find_unsafe(value)
    if char is not None:
        raise UnsafeText(char)
    return unicodedata.normalize("NFC", value)


def unsafe_message(char: str) -> str:
    """What the user reads for a refused character (without the field's name)."""
    kind = ("ký tự điều khiển hướng văn bản" if "\u202a" <= char <= "\u2069"
            else "ký tự điều khiển")
    return f"chứa {kind} không được phép (U+{ord(char):04X}). Hãy xóa ký tự đó rồi gửi lại."


def parse_int(raw: str | None) -> int | None:
    """A non-negative integer written in ASCII digits and no larger than :data:`MAX_INT`;
    None for anything else (empty, garbage, negative, huge)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_INT else None
