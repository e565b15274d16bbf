"""Placeholders for attachment text kept in files: a package's tree stays small, and what is
hashed or written is the tree's bytes with each placeholder replaced by its file's content."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["Splice"]

_COPY_CHUNK = 1 << 20


class Splice:
    """Random placeholders (``<token>x<n>``: letters and digits, the same in canonical XML and in
    serialised XML) standing for the content of files, in order of creation.

    The token is drawn per package, so the input cannot contain it.
    """

    __slots__ = ("_pattern", "files", "token")

    def __init__(self) -> None:
        self.token = "splice" + secrets.token_hex(16)
        self._pattern = re.compile(re.escape(self.token).encode() + rb"x(\d+)")
        self.files: list[Path] = []

    def add(self, path: Path) -> str:
        """A new placeholder for the content of ``path``."""
        self.files.append(path)
        return f"{self.token}x{len(self.files) - 1}"

    def feed(self, data: bytes, write: Callable[[bytes], object]) -> None:
        """``write`` ``data`` with each placeholder replaced by its file's content, in chunks."""
        parts = self._pattern.split(data)
        write(parts[0])
        for index in range(1, len(parts), 2):
            with open(self.files[int(parts[index])], "rb") as f:
                while chunk := f.read(_COPY_CHUNK):
                    write(chunk)
            write(parts[index + 1])

    def write(self, data: bytes, out: BinaryIO) -> None:
        """:meth:`feed` into a binary file."""
        parts = self._pattern.split(data)
        out.write(parts[0])
        for index in range(1, len(parts), 2):
            with open(self.files[int(parts[index])], "rb") as f:
                shutil.copyfileobj(f, out, _COPY_CHUNK)
            out.write(parts[index + 1])
