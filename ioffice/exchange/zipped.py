"""Zipped attachments of received packages (rule ``zipped-attachment``, docs/edxml.md): other
producers zip files that are not office documents. The zip is stored as received; the PDFs in
it are read, within limits, only to judge their signatures for the clerk. Nothing is ever
written to disk, so an entry's name is never a path here, but a zip whose names try to be
(absolute, ``..``) is not opened at all: it was not made by an honest producer.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

__all__ = ["ZipLimits", "ZipListing", "is_zip", "read_zip", "stored_as_received"]

ZIP = "application/zip"
_OFFICE_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int = 200
    max_total_bytes: int = 100 * 1024 * 1024
    """Sum of the entries' declared (uncompressed) sizes."""
    max_pdf_bytes: int = 50 * 1024 * 1024
    """A PDF inside larger than this is listed, not read."""
    max_ratio: int = 200
    """Declared size over compressed size of one entry (a zip bomb's is in the thousands)."""


@dataclass(frozen=True, slots=True)
class ZipListing:
    names: tuple[str, ...] = ()
    pdfs: tuple[tuple[str, bytes], ...] = ()
    """The PDFs inside, read (name, bytes)."""
    problem: str = ""
    """Why the zip was not opened (Vietnamese); empty when it was."""
    skipped: tuple[str, ...] = field(default=())
    """PDFs inside that were listed but not read (encrypted, too large)."""


def is_zip(data: bytes) -> bool:
    """A zip by its bytes (``PK\\x03\\x04`` or an empty archive's ``PK\\x05\\x06``), whatever
    the producer named it or declared its type."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def stored_as_received(name: str, data: bytes) -> str | None:
    """The content type under which a received attachment that is not a PDF is stored as
    received, or None (a PDF, or a kind we do not store: refused as before). Judged by the
    bytes (a zip whose list of files can be read, or an OLE2 compound file: the older Office
    formats); the name's extension only tells an office file (.docx, .odt, .doc...) from a zip.
    The type is ours, from this list, never the producer's ``ContentType``. A file that only
    starts like a zip is refused, as a broken PDF is."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data.startswith(_OLE2):
        return _OFFICE_TYPES.get(extension, "application/x-ole-storage")
    if is_zip(data) and _listable(data):
        return _OFFICE_TYPES.get(extension, ZIP) if extension != "zip" else ZIP
    return None


def _listable(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            return True
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or any(ord(c) < 32 for c in name):
        return True
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


def read_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> ZipListing:
    """List a zip and read the PDFs in it, within ``limits``; never raises for a bad zip (the
    listing's ``problem`` says why it was not opened)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return ZipListing(problem="tệp nén hỏng, không đọc được danh sách tệp")
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            return ZipListing(problem=f"tệp nén chứa {len(infos)} tệp, vượt giới hạn {limits.max_entries}")
        names = tuple(info.filename for info in infos)
        unsafe = next((name for name in names if _unsafe_name(name)), None)
        if unsafe is not None:
            return ZipListing(names, problem=f"tên tệp trong tệp nén không an toàn: {unsafe!r}")
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            return ZipListing(names, problem=f"tổng dung lượng giải nén {total} byte vượt giới hạn "
                                             f"{limits.max_total_bytes} byte")
        bomb = next((info.filename for info in infos if info.file_size > 1024 * 1024
                     and info.file_size > limits.max_ratio * max(info.compress_size, 1)), None)
        if bomb is not None:
            return ZipListing(names, problem=f"tỷ lệ nén của {bomb!r} bất thường (nghi bom nén)")
        pdfs: list[tuple[str, bytes]] = []
        skipped: list[str] = []
        for info in infos:
            if info.is_dir() or not info.filename.lower().endswith(".pdf"):
                continue
            if info.flag_bits & 0x1 or info.file_size > limits.max_pdf_bytes:
                skipped.append(info.filename)
                continue
            try:
                # zipfile stops at the declared size and checks the CRC at the end
                with archive.open(info) as entry:
                    pdfs.append((info.filename, entry.read(limits.max_pdf_bytes + 1)))
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
                    EOFError):
                skipped.append(info.filename)
        return ZipListing(names, tuple(pdfs), skipped=tuple(skipped))
